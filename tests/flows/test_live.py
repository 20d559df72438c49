"""The real run modes end to end, with an in-process Bot API session instead of Telegram.

Checks the start-up order (migrations, webhook/commands, scheduler), that the
webhook server really listens and checks the secret, and a clean shutdown.
"""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiogram import Bot
from aiogram.methods import DeleteWebhook, GetUpdates, SetMyCommands, SetWebhook

from bot import live
from bot.app import App
from bot.settings import Settings, load_settings
from tests.conftest import TEST_KEY
from tests.flows.recording_session import RecordingSession, make_bot, message_update

SECRET = "live-Secret_1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _settings(tmp_path: Path, **extra: Any) -> Settings:
    return load_settings(
        bot_token="1:x",
        encryption_key=TEST_KEY,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'live.sqlite3'}",
        **extra,
    )


@pytest.fixture
def session(monkeypatch: pytest.MonkeyPatch) -> RecordingSession:
    rec = RecordingSession()

    def fake_make_bot(settings: Settings) -> Bot:
        return make_bot(rec)

    monkeypatch.setattr(live, "make_bot", fake_make_bot)
    return rec


async def _wait_for(predicate: Any, timeout: float = 10.0) -> None:
    for _ in range(int(timeout / 0.02)):
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached in time")


def _commands_by_language(session: RecordingSession) -> dict[str | None, list[str]]:
    return {
        c.language_code: [cmd.description for cmd in c.commands]
        for c in session.calls
        if isinstance(c, SetMyCommands)
    }


async def test_polling_starts_and_stops(
    tmp_path: Path, session: RecordingSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings(tmp_path)
    built: list[App] = []
    real_prepare = live.prepare_app

    async def capture(s: Settings) -> App:
        app = await real_prepare(s)
        built.append(app)
        return app

    monkeypatch.setattr(live, "prepare_app", capture)
    task = asyncio.create_task(live.run_polling(settings))
    await _wait_for(lambda: any(isinstance(c, GetUpdates) for c in session.calls))
    assert isinstance(session.calls[0], DeleteWebhook)
    commands = _commands_by_language(session)
    assert commands["ru"][0] == "Начать или продолжить регистрацию"
    assert commands["en"][0] == "Start or continue registration"
    assert commands[None] == commands["ru"]  # the default language is Russian
    assert (tmp_path / "live.sqlite3").exists()  # migrations ran first

    await built[0].dispatcher.stop_polling()  # what SIGINT/SIGTERM do
    assert await asyncio.wait_for(task, 10) == 0


async def test_webhook_serves_and_checks_the_secret(
    tmp_path: Path, session: RecordingSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = _free_port()
    settings = _settings(
        tmp_path,
        webhook={
            "host": "127.0.0.1",
            "port": port,
            "path": "/tg",
            "base_url": "https://bot.example.org",
            "secret_token": SECRET,
        },
    )
    stop = asyncio.Event()

    async def wait_for_stop() -> None:
        await stop.wait()

    monkeypatch.setattr(live, "_wait_for_signal", wait_for_stop)
    task = asyncio.create_task(live.run_webhook(settings))
    hooks: list[SetWebhook] = []

    def registered() -> bool:
        hooks[:] = [c for c in session.calls if isinstance(c, SetWebhook)]
        return bool(hooks)

    await _wait_for(registered)
    assert hooks[0].url == "https://bot.example.org/tg"
    assert hooks[0].secret_token == SECRET
    assert "message" in (hooks[0].allowed_updates or [])
    # Blocked/unblocked and "added to a group" arrive only when asked for (issue 7.1, 7.12).
    assert "my_chat_member" in (hooks[0].allowed_updates or [])

    url = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as http:
        for _ in range(100):  # the site starts right after setWebhook
            try:
                async with http.get(url + "/healthz") as resp:
                    if resp.status == 200:
                        break
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.05)
        async with http.post(url + "/tg", json=message_update(700, "/menu")) as resp:
            assert resp.status == 401
        async with http.post(
            url + "/tg", json=message_update(700, "/menu"), headers={live.SECRET_HEADER: SECRET}
        ) as resp:
            assert resp.status == 200
    await _wait_for(lambda: any("/start" in t for t in session.texts()))

    stop.set()
    assert await asyncio.wait_for(task, 10) == 0
