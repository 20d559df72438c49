"""ZAPIS_SOURCES and ZAPIS_GORZDRAV__*: which region books where, read from the environment."""

from __future__ import annotations

import pytest

from bot.settings import ConfigError, load_settings
from bot.sources.wiring import gorzdrav_region


def test_sources_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZAPIS_SOURCES", '{"spb": "gorzdrav", "msk": "local"}')
    monkeypatch.setenv("ZAPIS_GORZDRAV__BASE_URL", "http://127.0.0.1:8081/api/v2")
    monkeypatch.setenv("ZAPIS_GORZDRAV__CLINICS", '["44", "45"]')
    settings = load_settings()
    assert gorzdrav_region(settings) == "spb"
    assert settings.gorzdrav.base_url == "http://127.0.0.1:8081/api/v2"
    assert settings.gorzdrav.clinics == ["44", "45"]
    assert settings.gorzdrav.requests_per_second == 3.0


def test_default_is_local_only() -> None:
    assert gorzdrav_region(load_settings()) is None


def test_unknown_source_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZAPIS_SOURCES", '{"spb": "mosgorzdrav"}')
    with pytest.raises(ConfigError, match="ZAPIS_SOURCES"):
        load_settings()
