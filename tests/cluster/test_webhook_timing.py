"""The run modes' Bot API session (JSON bodies), the webhook's Server-Timing header, the
emulator's per-update trace and the serving process's collector thresholds."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.telegram import TelegramAPIServer
from aiogram.methods import EditMessageText, SendDocument
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.cluster_tail import parts, server_timing
from bot.api_session import JsonBodySession
from bot.app import App, build_app
from bot.clock import VirtualClock
from bot.live import GC_THRESHOLDS, tune_collector
from bot.settings import load_settings
from bot.webhook_server import SECRET_HEADER, TIMING_HEADER, GcClock, build_webhook_app
from emulator.core import EmulatorCore
from emulator.server import EmulatorServer
from emulator.webhook import WebhookDelivery
from tests.cluster.harness import free_port
from tests.conftest import TEST_KEY
from tests.flows.recording_session import RecordingSession, make_bot, message_update

SECRET = "timing-Secret_1"
KEYBOARD = InlineKeyboardMarkup(
    inline_keyboard=[[InlineKeyboardButton(text="Пн 1 дек", callback_data="bd:2026-12-01")]]
)


def test_json_body_is_the_form_s_fields_as_json_values() -> None:
    session = JsonBodySession()
    bot = Bot("123:ABC", session=session, default=DefaultBotProperties(parse_mode="HTML"))
    method = EditMessageText(chat_id=7, message_id=3, text="Выберите день", reply_markup=KEYBOARD)
    body = session.json_body(bot, method)
    assert body == {
        "chat_id": 7,
        "message_id": 3,
        "text": "Выберите день",
        "parse_mode": "HTML",  # the bot's default, resolved as the form resolves it
        "reply_markup": {
            "inline_keyboard": [[{"text": "Пн 1 дек", "callback_data": "bd:2026-12-01"}]]
        },
    }
    form_fields = {f[0]["name"] for f in session.build_form_data(bot, method)._fields}
    assert set(body) == form_fields  # the same parameters the form would carry
    with_file = SendDocument(chat_id=7, document=BufferedInputFile(b"x", filename="a.txt"))
    assert session.json_body(bot, with_file) is None  # a file: aiogram's multipart


async def test_the_emulator_executes_json_requests_as_telegram_does() -> None:
    core = EmulatorCore()
    server = EmulatorServer(core)
    url = await server.start()
    session = JsonBodySession(api=TelegramAPIServer.from_base(url))
    bot = Bot(core.token, session=session, default=DefaultBotProperties(parse_mode="HTML"))
    try:
        await core.chat(4242)
        sent = await bot.send_message(4242, "<b>Запись</b> подтверждена", reply_markup=KEYBOARD)
        edited = await bot.edit_message_text(
            "Выберите <i>день</i>", chat_id=4242, message_id=sent.message_id
        )
        document = await bot.send_document(4242, BufferedInputFile(b"ics", filename="a.ics"))
    finally:
        await session.close()
        await server.stop()
    assert sent.text == "Запись подтверждена"  # HTML parsed: the default parse mode arrived
    assert sent.reply_markup is not None
    button = sent.reply_markup.inline_keyboard[0][0]
    assert (button.text, button.callback_data) == ("Пн 1 дек", "bd:2026-12-01")
    assert not isinstance(edited, bool) and edited.text == "Выберите день"
    assert document.document is not None and document.document.file_name == "a.ics"


@pytest.fixture
async def app(sqlite_engine: AsyncEngine, clock: VirtualClock) -> AsyncIterator[App]:
    settings = load_settings(webhook={"path": "/tg", "base_url": "https://bot.example.org"})
    application = build_app(
        settings, clock, encryption_key=TEST_KEY, engine=sqlite_engine, throttling=False
    )
    yield application
    await application.storage.close()


async def test_the_answer_says_where_the_update_s_time_went(app: App) -> None:
    webapp = build_webhook_app(
        app, make_bot(RecordingSession()), SECRET, handle_in_background=False
    )
    client: TestClient[Any, Any] = TestClient(TestServer(webapp))
    await client.start_server()
    try:
        resp = await client.post(
            "/tg", json=message_update(601, "/menu"), headers={SECRET_HEADER: SECRET}
        )
        header = resp.headers[TIMING_HEADER]
    finally:
        await client.close()
    assert resp.status == 200
    durations, proc = server_timing(header)
    assert set(durations) == {"read", "wait", "run", "gc"}
    assert durations["run"] > 0 and all(v >= 0 for v in durations.values())
    pid, _, busy = proc.partition("/")
    assert int(pid) > 0 and busy == "0"  # nothing else in hand


async def test_the_delivery_traces_each_update_when_asked() -> None:
    async def answer(_request: web.Request) -> web.Response:
        timing = 'read;dur=0.5, wait;dur=2.0, run;dur=7.5, gc;dur=1.0, proc;desc="12/3"'
        return web.json_response({}, headers={TIMING_HEADER: timing})

    webapp = web.Application()
    webapp.router.add_post("/telegram", answer)
    runner = web.AppRunner(webapp)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    core = EmulatorCore()
    core.webhook = {"url": f"http://127.0.0.1:{port}/telegram", "secret_token": SECRET}
    delivery = WebhookDelivery(core)
    delivery.trace = {}
    try:
        delivery.submit(message_update(77, "hi") | {"update_id": 5})
        await delivery.wait_idle(10)
    finally:
        await delivery.close()
        await runner.cleanup()
    trace = delivery.trace[5]
    assert trace.attempts == 1 and trace.queued <= trace.sent <= trace.answered <= trace.done
    trace.noticed = trace.done
    cut = parts(trace)
    assert (cut["read"], cut["wait"], cut["run"], cut["gc"]) == (0.5, 2.0, 7.5, 1.0)
    assert cut["total"] == pytest.approx(
        cut["queue"] + cut["net"] + 10.0 + cut["reply"] + cut["notice"]
    )


def test_a_serving_process_collects_less_often_and_counts_its_pauses() -> None:
    before = gc.get_threshold()
    clock = GcClock.installed()
    try:
        tune_collector()
        assert gc.get_threshold() == GC_THRESHOLDS
        assert GcClock.installed() is clock  # one per process
        was = clock.total
        gc.collect()
        assert clock.total > was
    finally:
        gc.set_threshold(*before)
