"""Webhook mode: the secret header is checked before anything reaches the Dispatcher."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiogram.types import TelegramObject
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import App, build_app
from bot.clock import VirtualClock
from bot.live import SECRET_HEADER, build_webhook_app, check_webhook_settings, webhook_url
from bot.settings import ConfigError, load_settings
from tests.conftest import TEST_KEY
from tests.flows.recording_session import RecordingSession, make_bot, message_update

SECRET = "s3cr3t-Token_42"


@pytest.fixture
async def app(sqlite_engine: AsyncEngine, clock: VirtualClock) -> AsyncIterator[App]:
    settings = load_settings(webhook={"path": "/tg", "base_url": "https://bot.example.org"})
    application = build_app(
        settings, clock, encryption_key=TEST_KEY, engine=sqlite_engine, throttling=False
    )
    seen: list[int] = []

    async def count(
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        seen.append(1)
        return await handler(event, data)

    application.dispatcher.update.outer_middleware(count)
    application.dispatcher["seen_updates"] = seen
    yield application
    await application.storage.close()


async def _client(app: App, session: RecordingSession, *, background: bool) -> TestClient[Any, Any]:
    webapp = build_webhook_app(app, make_bot(session), SECRET, handle_in_background=background)
    client: TestClient[Any, Any] = TestClient(TestServer(webapp))
    await client.start_server()
    return client


async def test_missing_and_wrong_secret_are_refused_before_the_dispatcher(app: App) -> None:
    session = RecordingSession()
    client = await _client(app, session, background=False)
    try:
        update = message_update(501, "/menu")
        for headers in (
            {},
            {SECRET_HEADER: "wrong"},
            {SECRET_HEADER: SECRET + "x"},
            {SECRET_HEADER: SECRET[:-1]},
            {SECRET_HEADER: ""},
        ):
            resp = await client.post("/tg", json=update, headers=headers)
            assert resp.status == 401, headers
        # A non-ASCII header must not crash the comparison (500) — still 401.
        resp = await client.post("/tg", json=update, headers={SECRET_HEADER: "секрет"})
        assert resp.status == 401
    finally:
        await client.close()
    assert app.dispatcher["seen_updates"] == []
    assert session.calls == []


async def test_right_secret_is_processed(app: App) -> None:
    session = RecordingSession()
    client = await _client(app, session, background=False)
    try:
        resp = await client.post(
            "/tg", json=message_update(502, "/menu"), headers={SECRET_HEADER: SECRET}
        )
        assert resp.status == 200
        health = await client.get("/healthz")
        assert health.status == 200
    finally:
        await client.close()
    assert app.dispatcher["seen_updates"] == [1]
    # An unregistered user is told to /start (Russian: Telegram language ru).
    assert session.texts() == ["Сначала зарегистрируйтесь: отправьте /start."]


async def test_background_mode_answers_then_processes(app: App) -> None:
    session = RecordingSession()
    client = await _client(app, session, background=True)
    try:
        resp = await client.post(
            "/tg", json=message_update(503, "/menu"), headers={SECRET_HEADER: SECRET}
        )
        assert resp.status == 200
        for _ in range(200):
            if session.calls:
                break
            await asyncio.sleep(0.01)
    finally:
        await client.close()
    assert session.texts() == ["Сначала зарегистрируйтесь: отправьте /start."]


def test_webhook_settings_are_checked() -> None:
    ok = load_settings(
        webhook={"base_url": "https://bot.example.org/", "path": "/tg", "secret_token": SECRET}
    )
    assert check_webhook_settings(ok) == SECRET
    assert webhook_url(ok) == "https://bot.example.org/tg"
    with pytest.raises(ConfigError, match="ZAPIS_WEBHOOK__BASE_URL"):
        check_webhook_settings(
            load_settings(webhook={"base_url": "http://x", "secret_token": SECRET})
        )
    for bad in (None, "", "has space", "x" * 257, "ключ"):
        settings = load_settings(webhook={"base_url": "https://x.org", "secret_token": bad})
        with pytest.raises(ConfigError, match="ZAPIS_WEBHOOK__SECRET_TOKEN"):
            check_webhook_settings(settings)


async def test_empty_secret_is_never_accepted(app: App) -> None:
    with pytest.raises(ConfigError, match="ZAPIS_WEBHOOK__SECRET_TOKEN"):
        build_webhook_app(app, make_bot(RecordingSession()), "")
