"""Settings from the environment, and start-up refusing bad configuration with one clear line."""

from __future__ import annotations

import os
import subprocess
from datetime import time
from pathlib import Path

import pytest

from bot.settings import DEFAULT_DB_URL, ConfigError, Settings, load_settings, require
from tests import prefork
from tests.conftest import TEST_KEY

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No ZAPIS_ variable of the developer's shell and no .env file leak into these tests."""
    for name in list(os.environ):
        if name.startswith("ZAPIS_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_defaults() -> None:
    s = load_settings()
    assert s.bot_token is None
    assert s.database_url == DEFAULT_DB_URL
    assert s.redis_url is None
    assert s.encryption_key is None
    assert s.default_tz == "Europe/Moscow"
    assert s.default_locale == "ru"
    assert s.staff == {}
    assert s.reminder_offsets_minutes == [1440, 120]
    assert (s.quiet_hours.start, s.quiet_hours.end) == (time(22, 0), time(8, 0))
    assert s.limits.hold_minutes == 5
    assert s.webhook.port == 8080


def test_env_parsing_flat_nested_and_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZAPIS_BOT_TOKEN", "123:abc")
    monkeypatch.setenv("ZAPIS_ENCRYPTION_KEY", TEST_KEY)
    monkeypatch.setenv("ZAPIS_DATABASE_URL", "postgresql+asyncpg://u@h/db")
    monkeypatch.setenv("ZAPIS_REDIS_URL", "redis://localhost:6379/1")
    monkeypatch.setenv("ZAPIS_DEFAULT_TZ", "Asia/Novosibirsk")
    monkeypatch.setenv("ZAPIS_DEFAULT_LOCALE", "en")
    monkeypatch.setenv("ZAPIS_LIMITS__HOLD_MINUTES", "7")
    monkeypatch.setenv("ZAPIS_LIMITS__THROTTLE_PER_SECOND", "2.5")
    monkeypatch.setenv("ZAPIS_QUIET_HOURS__START", "23:30")
    monkeypatch.setenv("ZAPIS_WEBHOOK__PORT", "8443")
    monkeypatch.setenv("ZAPIS_WEBHOOK__SECRET_TOKEN", "abc_DEF-1")
    monkeypatch.setenv(
        "ZAPIS_STAFF",
        '{"9001": {"clinics": [1, 2], "role": "registrar"}, "9002": {"clinics": [3], "role": "doctor"}}',
    )
    monkeypatch.setenv("ZAPIS_REMINDER_OFFSETS_MINUTES", "[120, 1440, 120]")
    s = load_settings()
    assert s.bot_token is not None and s.bot_token.get_secret_value() == "123:abc"
    assert "123:abc" not in repr(s)  # secrets never show up in logs of the settings
    assert s.encryption_key is not None and s.encryption_key.get_secret_value() == TEST_KEY
    assert s.database_url.startswith("postgresql+asyncpg://")
    assert s.redis_url == "redis://localhost:6379/1"
    assert s.default_tz == "Asia/Novosibirsk"
    assert s.default_locale == "en"
    assert s.limits.hold_minutes == 7
    assert s.limits.throttle_per_second == 2.5
    assert s.limits.daily_booking_cap == 6  # untouched nested defaults stay
    assert s.quiet_hours.start == time(23, 30)
    assert s.webhook.port == 8443
    assert s.webhook.secret_token is not None
    assert s.staff[9001].clinics == [1, 2] and s.staff[9001].role == "registrar"
    assert s.staff[9002].role == "doctor"
    assert s.reminder_offsets_minutes == [1440, 120]


@pytest.mark.parametrize(
    ("env", "value", "named"),
    [
        ("ZAPIS_LIMITS__HOLD_MINUTES", "abc", "ZAPIS_LIMITS__HOLD_MINUTES"),
        ("ZAPIS_LIMITS__HOLD_MINUTES", "0", "ZAPIS_LIMITS__HOLD_MINUTES"),
        ("ZAPIS_DEFAULT_TZ", "Mars/Olympus", "ZAPIS_DEFAULT_TZ"),
        ("ZAPIS_DEFAULT_LOCALE", "de", "ZAPIS_DEFAULT_LOCALE"),
        ("ZAPIS_DATABASE_URL", "sqlite:///x.db", "ZAPIS_DATABASE_URL"),
        ("ZAPIS_STAFF", "{not json", "ZAPIS_STAFF"),
        ("ZAPIS_STAFF", '{"9001": {"clinics": [], "role": "registrar"}}', "ZAPIS_STAFF"),
        ("ZAPIS_STAFF", '{"9001": {"clinics": [1], "role": "janitor"}}', "ZAPIS_STAFF"),
        ("ZAPIS_REMINDER_OFFSETS_MINUTES", "[0]", "ZAPIS_REMINDER_OFFSETS_MINUTES"),
        ("ZAPIS_QUIET_HOURS__START", "25:00", "ZAPIS_QUIET_HOURS__START"),
        ("ZAPIS_WEBHOOK__PORT", "70000", "ZAPIS_WEBHOOK__PORT"),
    ],
)
def test_bad_values_name_the_setting(
    monkeypatch: pytest.MonkeyPatch, env: str, value: str, named: str
) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    message = str(info.value)
    assert named in message
    assert "\n" not in message


def test_require_names_the_missing_setting() -> None:
    s = Settings()
    with pytest.raises(ConfigError, match="ZAPIS_BOT_TOKEN"):
        require(s, "bot_token")
    with pytest.raises(ConfigError, match="ZAPIS_ENCRYPTION_KEY"):
        require(load_settings(bot_token="1:x"), "bot_token", "encryption_key")


def _run_bot(tmp_path: Path, mode: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ZAPIS_")}
    clean["PYTHONPATH"] = str(ROOT)
    clean["ZAPIS_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}"
    clean.update(env)
    # a fresh process per start, forked from one that imported the command line once
    return prefork.run_bot([mode], env=clean, cwd=tmp_path, timeout=60)


@pytest.mark.parametrize(
    ("mode", "env", "named"),
    [
        ("polling", {}, "ZAPIS_BOT_TOKEN"),
        (
            "polling",
            {"ZAPIS_BOT_TOKEN": "1:x", "ZAPIS_LIMITS__HOLD_MINUTES": "many"},
            "ZAPIS_LIMITS__HOLD_MINUTES",
        ),
        (
            "polling",
            {"ZAPIS_BOT_TOKEN": "1:x", "ZAPIS_DEFAULT_TZ": "Europe/Atlantis"},
            "ZAPIS_DEFAULT_TZ",
        ),
        ("polling", {"ZAPIS_BOT_TOKEN": "1:x"}, "ZAPIS_ENCRYPTION_KEY"),
        ("webhook", {"ZAPIS_ENCRYPTION_KEY": TEST_KEY}, "ZAPIS_BOT_TOKEN"),
        (
            "webhook",
            {"ZAPIS_BOT_TOKEN": "1:x", "ZAPIS_ENCRYPTION_KEY": TEST_KEY},
            "ZAPIS_WEBHOOK__BASE_URL",
        ),
        (
            "webhook",
            {
                "ZAPIS_BOT_TOKEN": "1:x",
                "ZAPIS_ENCRYPTION_KEY": TEST_KEY,
                "ZAPIS_WEBHOOK__BASE_URL": "https://bot.example.org",
            },
            "ZAPIS_WEBHOOK__SECRET_TOKEN",
        ),
    ],
)
def test_start_up_stops_with_one_clear_line(
    tmp_path: Path, mode: str, env: dict[str, str], named: str
) -> None:
    result = _run_bot(tmp_path, mode, **env)
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert named in lines[0]
    assert "Traceback" not in result.stderr
    assert "1:x" not in result.stderr
