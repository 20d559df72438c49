"""Regression: the in-process transport ignored the bot's default parse mode (issue 7, item 13).

aiogram resolves ``DefaultBotProperties(parse_mode=ParseMode.HTML)`` to the
``ParseMode.HTML`` enum; the in-process session handed the enum to the core,
which read ``str(enum)`` = ``"ParseMode.HTML"`` as no parse mode and accepted
«врач < 1 ставки», which Telegram (and the HTTP transport) refuse with 400
"can't parse entities". Flow tests run on the in-process transport, so they
could not see a staff reason that silenced a patient's notice.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import BufferedInputFile

from emulator.core import EmulatorCore
from emulator.harness import ConsoleWorld
from emulator.server import EmulatorServer
from emulator.session import EmulatorSession, wire_value

CHAT = 1001
HTML = DefaultBotProperties(parse_mode=ParseMode.HTML)
STAFF_REASONS = ["врач < 1 ставки", "<3", "</code>"]


@pytest.fixture(params=["session", "http"])
async def html_bot(request: pytest.FixtureRequest) -> AsyncIterator[Bot]:
    core = EmulatorCore()
    server = None
    if request.param == "session":
        bot = Bot(core.token, session=EmulatorSession(core), default=HTML)
    else:
        server = EmulatorServer(core)
        url = await server.start()
        session = AiohttpSession(api=TelegramAPIServer.from_base(url))
        bot = Bot(core.token, session=session, default=HTML)
    yield bot
    await bot.session.close()
    if server is not None:
        await server.stop()


@pytest.mark.parametrize("reason", STAFF_REASONS)
async def test_default_html_parse_mode_refuses_unescaped_text(html_bot: Bot, reason: str) -> None:
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await html_bot.send_message(CHAT, f"Приём отменён: {reason}")


async def test_default_html_parse_mode_applies_to_edits_and_captions(html_bot: Bot) -> None:
    sent = await html_bot.send_message(CHAT, "<b>Запись</b> &lt;3")
    assert sent.text == "Запись <3"  # parsed as HTML, as Telegram shows it
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await html_bot.edit_message_text("a < b", chat_id=CHAT, message_id=sent.message_id)
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await html_bot.send_document(CHAT, BufferedInputFile(b"x", "a.ics"), caption="<3")
    plain = await html_bot.send_message(CHAT, "a < b", parse_mode=None)  # explicit opt-out
    assert plain.text == "a < b"


async def test_explicit_enum_parse_mode_travels_as_its_value() -> None:
    assert wire_value({"parse_mode": ParseMode.HTML, "x": [ParseMode.MARKDOWN_V2]}) == {
        "parse_mode": "HTML",
        "x": ["MarkdownV2"],
    }


async def test_console_world_in_process_refuses_like_telegram(tmp_path: Path) -> None:
    """The world flow tests use (in-process transport) answers as the HTTP one does."""
    world = await ConsoleWorld.start(
        db_url=f"sqlite+aiosqlite:///{tmp_path / 'w.sqlite3'}",
        now=datetime(2026, 12, 1, 6, 0, tzinfo=UTC),
        transport="session",
        seed=False,
    )
    try:
        with pytest.raises(TelegramBadRequest, match="can't parse entities"):
            await world.bot.send_message(CHAT, "врач < 1 ставки")
    finally:
        await world.close()
