"""compose.yaml cannot run on the CI machines (no Docker); these checks keep it honest:
the image is the Dockerfile's, the commands are ours, every ZAPIS_ name is a setting,
the port and health path are the ones the webhook mode serves, the proxy knows the bots."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from bot.__main__ import build_parser
from bot.settings import Settings
from tests.unit.test_settings_documented import fields

yaml = pytest.importorskip("yaml", reason="PyYAML is a dev dependency (pyproject.toml)")

ROOT = Path(__file__).resolve().parents[2]
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
BOTS = sorted(name for name in SERVICES if name.startswith("bot-"))


def dockerfile_env() -> set[str]:
    return set(re.findall(r"\b(ZAPIS_[A-Z_]+)=", DOCKERFILE))


def test_three_bots_postgres_redis_and_one_address() -> None:
    assert BOTS == ["bot-1", "bot-2", "bot-3"]
    assert {"postgres", "redis", "proxy", "migrate"} <= set(SERVICES)
    for name, service in SERVICES.items():
        for needed in service.get("depends_on", {}):
            assert needed in SERVICES, f"{name} depends on an unknown service {needed}"
        if name != "migrate":
            assert "healthcheck" in service, f"{name} has no health check"


def test_bots_are_the_dockerfile_image_in_webhook_mode() -> None:
    modes = {a.dest: a for a in build_parser()._subparsers._group_actions}["command"].choices  # type: ignore[union-attr]
    assert "ZAPIS_MODE" in dockerfile_env()
    assert 'exec python -m bot \\"$ZAPIS_MODE' in DOCKERFILE  # CMD: the mode named
    for name in [*BOTS, "migrate"]:
        service = SERVICES[name]
        assert service["build"] == "."
        assert (ROOT / "Dockerfile").is_file()
    for name in BOTS:
        env = SERVICES[name]["environment"]
        assert env["ZAPIS_MODE"] in modes and env["ZAPIS_MODE"] == "webhook"
        assert "command" not in SERVICES[name], "the Dockerfile's CMD (migrate, then the mode)"
    command = SERVICES["migrate"]["command"]
    assert command[:3] == ["python", "-m", "bot"]
    build_parser().parse_args(command[3:])  # a command the CLI knows


def test_every_zapis_name_is_a_setting_or_the_dockerfile_mode() -> None:
    known = {f"ZAPIS_{name}" for name in fields(Settings)} | dockerfile_env()
    for name in [*BOTS, "migrate"]:
        for key in SERVICES[name]["environment"]:
            assert key in known, f"{name}: {key} is read by nothing"


def test_port_health_path_and_services_match_the_code() -> None:
    env = SERVICES["bot-1"]["environment"]
    assert f"EXPOSE {env['ZAPIS_WEBHOOK__PORT']}" in DOCKERFILE
    assert env["ZAPIS_DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert "@postgres:" in env["ZAPIS_DATABASE_URL"]
    assert env["ZAPIS_REDIS_URL"].startswith("redis://redis:")
    live = (ROOT / "bot" / "webhook_server.py").read_text(encoding="utf-8")
    assert 'add_get("/healthz"' in live
    assert "/healthz" in " ".join(SERVICES["bot-1"]["healthcheck"]["test"])
    nginx = COMPOSE["configs"]["nginx"]["content"]
    for name in BOTS:
        assert f"server {name}:{env['ZAPIS_WEBHOOK__PORT']}" in nginx
    assert "proxy_next_upstream error;" in nginx  # never re-runs an update a bot took
    assert "least_conn;" in nginx  # the fewest in flight, like bot/cluster/proxy.py
