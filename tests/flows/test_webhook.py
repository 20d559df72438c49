"""Webhook mode: the secret header is checked before anything reaches the Dispatcher; an
update that cannot be parsed or processed is answered 200 and logged once; /healthz."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiogram.methods import AnswerCallbackQuery, SendMessage
from aiogram.types import TelegramObject
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.app import App, build_app
from bot.clock import VirtualClock
from bot.live import (
    SECRET_HEADER,
    ReplyInWebhookAnswer,
    WebhookReply,
    _webhook_reply,
    build_webhook_app,
    check_webhook_settings,
    webhook_url,
)
from bot.settings import ConfigError, load_settings
from tests.conftest import REDIS_URL, TEST_KEY, requires_redis
from tests.flows.recording_session import (
    RecordingSession,
    callback_update,
    make_bot,
    message_update,
)

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


# ---- issue 7.10: updates aiogram cannot parse; issue 7.18: /healthz checks what it serves ----

GUIDE = (
    Path(__file__).resolve().parents[1]
    / "fixtures"
    / "telegram-updates"
    / "telegram-official-webhooks-guide.json"
)
ERROR_ID = re.compile(r"\(error id [0-9a-f]{8}\)")


def guide_updates() -> list[dict[str, Any]]:
    """Telegram's own webhook-guide examples (fields aiogram requires are missing)."""
    return [entry["update"] for entry in json.loads(GUIDE.read_text())]


def error_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


async def _wait_until(predicate: Callable[[], bool]) -> None:
    for _ in range(300):
        if predicate():
            return
        await asyncio.sleep(0.01)


@pytest.mark.parametrize("background", [False, True], ids=["inline", "background"])
async def test_unparsable_updates_from_telegrams_guide_get_200_and_one_log_line_each(
    app: App, caplog: pytest.LogCaptureFixture, background: bool
) -> None:
    session = RecordingSession()
    client = await _client(app, session, background=background)
    examples = guide_updates()
    assert len(examples) == 13
    try:
        with caplog.at_level(logging.INFO):
            for raw in examples:
                resp = await client.post("/tg", json=raw, headers={SECRET_HEADER: SECRET})
                assert resp.status == 200, raw  # a 500 makes Telegram resend it forever
            resp = await client.post("/tg", data=b"{not json", headers={SECRET_HEADER: SECRET})
            assert resp.status == 200
            # ... and the next good update is processed as usual.
            resp = await client.post(
                "/tg", json=message_update(504, "/menu"), headers={SECRET_HEADER: SECRET}
            )
            assert resp.status == 200
            await _wait_until(lambda: bool(session.calls))
    finally:
        await client.close()
    lines = error_lines(caplog)
    assert len(lines) == len(examples) + 1, lines  # once each, nothing else at ERROR
    assert all(line.startswith("cannot parse update") and ERROR_ID.search(line) for line in lines)
    assert "update 10000 " in lines[0] and "message.chat.type" in lines[0]
    assert not any(r.exc_info for r in caplog.records)  # no traceback for a probe to flood
    assert session.texts() == ["Сначала зарегистрируйтесь: отправьте /start."]


async def test_an_exception_in_a_background_update_is_logged_not_left_in_the_task(
    app: App, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    loop_errors: list[dict[str, Any]] = []
    loop = asyncio.get_running_loop()
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, ctx: loop_errors.append(ctx))

    async def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("the error handler itself failed")

    monkeypatch.setattr(app.dispatcher, "feed_update", broken)
    session = RecordingSession()
    client = await _client(app, session, background=True)
    try:
        with caplog.at_level(logging.INFO):
            resp = await client.post(
                "/tg", json=message_update(505, "/menu"), headers={SECRET_HEADER: SECRET}
            )
            assert resp.status == 200
            await _wait_until(lambda: bool(error_lines(caplog)))
    finally:
        await client.close()
        gc.collect()  # "Task exception was never retrieved" is reported when the task is freed
        await asyncio.sleep(0)
        loop.set_exception_handler(previous)
    lines = error_lines(caplog)
    assert len(lines) == 1 and lines[0].startswith("cannot process update"), lines
    assert ERROR_ID.search(lines[0])
    assert loop_errors == []


async def _health(app: App) -> tuple[int, str]:
    client: TestClient[Any, Any] = TestClient(
        TestServer(build_webhook_app(app, make_bot(RecordingSession()), SECRET))
    )
    await client.start_server()
    try:
        resp = await client.get("/healthz")
        return resp.status, await resp.text()
    finally:
        await client.close()


async def test_healthz_is_503_when_the_database_is_down(app: App) -> None:
    assert await _health(app) == (200, "ok")
    working = app.engine
    app.engine = create_async_engine("postgresql+asyncpg://nobody@127.0.0.1:9/none")
    try:
        assert await _health(app) == (503, "database unavailable")
    finally:
        await app.engine.dispose()
        app.engine = working


@pytest.mark.parametrize(
    ("redis_url", "expected"),
    [
        ("redis://127.0.0.1:9/0", (503, "redis unavailable")),
        pytest.param(REDIS_URL, (200, "ok"), marks=requires_redis, id="redis-up"),
    ],
    ids=["redis-down", "redis-up"],
)
async def test_healthz_checks_the_configured_redis(
    sqlite_engine: AsyncEngine, clock: VirtualClock, redis_url: str, expected: tuple[int, str]
) -> None:
    settings = load_settings(redis_url=redis_url)
    application = build_app(
        settings, clock, encryption_key=TEST_KEY, engine=sqlite_engine, throttling=False
    )
    try:
        assert await _health(application) == expected
    finally:
        await application.storage.close()


async def test_a_callback_answer_rides_in_the_webhook_answer(app: App) -> None:
    """Telegram executes a method given in the webhook's 200: the answerCallbackQuery that
    ends an update goes there (as JSON), not as a request of its own."""
    session = RecordingSession()
    client = await _client(app, session, background=False)
    try:
        update = callback_update(601, "zz:1")  # a button of no dialogue: «out of date»
        resp = await client.post("/tg", json=update, headers={SECRET_HEADER: SECRET})
        assert resp.status == 200
        assert resp.content_type == "application/json"
        body = json.loads(await resp.text())
    finally:
        await client.close()
    assert body["method"] == "answerCallbackQuery"
    assert body["callback_query_id"] == update["callback_query"]["id"]
    assert body["text"] == "Эта кнопка устарела."
    assert session.calls == []  # nothing else was sent


async def test_a_held_answer_keeps_its_place_before_what_follows_it() -> None:
    """Only the last reply may ride in the answer: a method after a held
    answerCallbackQuery sends the held one first, in the order the handler sent them."""
    session = RecordingSession()
    bot = make_bot(session)
    bot.session.middleware(ReplyInWebhookAnswer())
    reply = WebhookReply()
    token = _webhook_reply.set(reply)
    try:
        first = AnswerCallbackQuery(callback_query_id="q1")
        assert await bot(first) is True
        assert session.calls == [] and reply.method is first
        await bot(SendMessage(chat_id=5, text="after"))
        assert [type(m).__name__ for m in session.calls] == ["AnswerCallbackQuery", "SendMessage"]
        assert reply.method is None
        last = AnswerCallbackQuery(callback_query_id="q2")
        await bot(last)
        assert reply.method is last  # the last one: for the webhook's answer
        reply.open = False  # the update is over: a late send goes out by itself
        await bot(AnswerCallbackQuery(callback_query_id="q3"))
        assert len(session.calls) == 3
    finally:
        _webhook_reply.reset(token)
    await bot(AnswerCallbackQuery(callback_query_id="q4"))  # outside any update: sent
    assert len(session.calls) == 4


async def test_background_mode_answers_with_an_empty_body_and_sends_everything(app: App) -> None:
    session = RecordingSession()
    client = await _client(app, session, background=True)
    try:
        resp = await client.post(
            "/tg", json=callback_update(602, "zz:1"), headers={SECRET_HEADER: SECRET}
        )
        assert resp.status == 200
        assert json.loads(await resp.text()) == {}
        for _ in range(200):
            if session.calls:
                break
            await asyncio.sleep(0.01)
    finally:
        await client.close()
    assert [type(m).__name__ for m in session.calls] == ["AnswerCallbackQuery"]
