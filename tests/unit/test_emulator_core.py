"""The emulator answers like Telegram, identically through both transports."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramNotFound,
    TelegramRetryAfter,
)
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from emulator.core import EmulatorCore
from emulator.ratelimit import RateLimiter
from emulator.server import EmulatorServer
from emulator.session import EmulatorSession

CHAT = 1001


@pytest.fixture(params=["session", "http"])
async def tg(request: pytest.FixtureRequest) -> AsyncIterator[tuple[EmulatorCore, Bot]]:
    core = EmulatorCore()
    if request.param == "session":
        bot = Bot(core.token, session=EmulatorSession(core))
        yield core, bot
        await bot.session.close()
        return
    server = EmulatorServer(core)
    url = await server.start()
    bot = Bot(core.token, session=AiohttpSession(api=TelegramAPIServer.from_base(url)))
    yield core, bot
    await bot.session.close()
    await server.stop()


def kb(*data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=f"b{i}", callback_data=d)] for i, d in enumerate(data)
        ]
    )


async def test_send_and_ids(tg: tuple[EmulatorCore, Bot]) -> None:
    core, bot = tg
    me = await bot.get_me()
    assert me.is_bot and me.id == core.bot_id
    first = await bot.send_message(CHAT, "hello", reply_markup=kb("a"))
    second = await bot.send_message(CHAT, "<b>bold</b> &amp; plain", parse_mode="HTML")
    assert (first.message_id, second.message_id) == (1, 2)
    assert second.text == "bold & plain"
    assert first.reply_markup is not None
    assert first.reply_markup.inline_keyboard[0][0].callback_data == "a"
    assert [e.kind for e in core.drain()] == ["sent", "sent"]


async def test_text_limits(tg: tuple[EmulatorCore, Bot]) -> None:
    _core, bot = tg
    await bot.send_message(CHAT, "я" * 4096)
    await bot.send_message(CHAT, "<b>" + "a" * 4096 + "</b>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(CHAT, "я" * 4097)
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(CHAT, "<b></b>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(CHAT, "Иванов <Иван>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(CHAT, "1 < 2", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="caption is too long"):
        await bot.send_document(CHAT, BufferedInputFile(b"x", "a.txt"), caption="c" * 1025)


async def test_callback_data_and_button_limits(tg: tuple[EmulatorCore, Bot]) -> None:
    _core, bot = tg
    await bot.send_message(CHAT, "ok", reply_markup=kb("x" * 64, "я" * 32))
    for data in ("x" * 65, "я" * 33):
        with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
            await bot.send_message(CHAT, "no", reply_markup=kb(data))
    hundred = [[InlineKeyboardButton(text=str(i), callback_data=str(i)) for i in range(10)]] * 10
    await bot.send_message(CHAT, "100", reply_markup=InlineKeyboardMarkup(inline_keyboard=hundred))
    with pytest.raises(TelegramBadRequest, match="reply markup is too long"):
        await bot.send_message(
            CHAT,
            "101",
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[*hundred, [InlineKeyboardButton(text="x", callback_data="x")]]
            ),
        )


async def test_edits_and_deletes(tg: tuple[EmulatorCore, Bot]) -> None:
    core, bot = tg
    sent = await bot.send_message(CHAT, "one", reply_markup=kb("a"))
    edited = await bot.edit_message_text("two", chat_id=CHAT, message_id=sent.message_id)
    assert not isinstance(edited, bool)
    assert edited.text == "two" and edited.reply_markup is None  # no markup given: removed
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text("two", chat_id=CHAT, message_id=sent.message_id)
    await bot.edit_message_reply_markup(
        chat_id=CHAT, message_id=sent.message_id, reply_markup=kb("b")
    )
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=CHAT, message_id=99)
    assert await bot.delete_message(CHAT, sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(CHAT, sent.message_id)
    assert [e.kind for e in core.drain()][-4:] == ["edited", "refused", "deleted", "refused"]


async def test_reply_keyboard_state(tg: tuple[EmulatorCore, Bot]) -> None:
    core, bot = tg
    menu = ReplyKeyboardMarkup(keyboard=[[KeyboardButton(text="Menu")]])
    sent = await bot.send_message(CHAT, "menu", reply_markup=menu)
    assert sent.reply_markup is None  # Telegram does not echo reply keyboards
    chat = await core.chat(CHAT)
    assert chat.reply_keyboard is not None and chat.reply_keyboard_id == sent.message_id
    await bot.send_message(CHAT, "gone", reply_markup=ReplyKeyboardRemove())
    assert chat.reply_keyboard is None


async def test_callback_answers(tg: tuple[EmulatorCore, Bot]) -> None:
    core, bot = tg
    core.open_queries["q1"] = CHAT
    assert await bot.answer_callback_query("q1", text="done")
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query("q1")
    answers = [e for e in core.drain() if e.kind == "answer"]
    assert answers[0].text == "done" and answers[0].chat_id == CHAT


async def test_files(tg: tuple[EmulatorCore, Bot]) -> None:
    _core, bot = tg
    sent = await bot.send_document(CHAT, BufferedInputFile(b"BEGIN:VCALENDAR", "visit.ics"))
    assert sent.document is not None
    assert (sent.document.file_name, sent.document.file_size) == ("visit.ics", 15)
    photo = await bot.send_photo(CHAT, BufferedInputFile(b"\x89PNG....", "p.png"))
    assert photo.photo is not None
    again = await bot.send_document(CHAT, sent.document.file_id)  # resend by file_id
    assert again.document is not None and again.document.file_id == sent.document.file_id
    file = await bot.get_file(sent.document.file_id)
    assert file.file_path is not None
    data = await bot.download_file(file.file_path)
    assert data is not None and data.read() == b"BEGIN:VCALENDAR"
    with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
        await bot.send_document(CHAT, "no-such-file-id")
    with pytest.raises(TelegramEntityTooLarge):
        await bot.send_document(CHAT, BufferedInputFile(b"0" * (50 * 1024 * 1024 + 1), "big.bin"))


async def test_file_names_arrive_as_sent(tg: tuple[EmulatorCore, Bot]) -> None:
    """The server's one-match reading of a form field (emulator.server.field_of) and
    aiohttp's parser, for names it does not take (non-ASCII, quotes, %), agree."""
    _core, bot = tg
    for name in ("visit.ics", "Запись к врачу.pdf", 'a"b;c.txt', "100%.txt", "x*y.ics"):
        sent = await bot.send_document(CHAT, BufferedInputFile(b"data", name), caption="c")
        assert sent.document is not None and sent.document.file_name == name
        assert sent.caption == "c"


async def test_multipart_bodies_read_as_aiohttp_reads_them() -> None:
    """emulator.server.form_data (one pass over the bytes) against aiohttp's reader, on
    bodies aiohttp's client writes; what it does not take is left to aiohttp's reader."""
    import aiohttp
    from aiohttp import MultipartReader, StreamReader
    from aiohttp.base_protocol import BaseProtocol

    from emulator.server import form_data

    class Sink:
        def __init__(self) -> None:
            self.chunks: list[bytes] = []

        async def write(self, data: bytes) -> None:
            self.chunks.append(bytes(data))

    async def aiohttp_fields(body: bytes, ctype: str) -> list[tuple[str, str | None, bytes]]:
        loop = asyncio.get_running_loop()
        stream = StreamReader(BaseProtocol(loop), 2**16, loop=loop)
        stream.feed_data(body)
        stream.feed_eof()
        reader = MultipartReader({"Content-Type": ctype}, stream)
        out = []
        while (part := await reader.next()) is not None:
            assert isinstance(part, aiohttp.BodyPartReader) and part.name is not None
            out.append((part.name, part.filename, bytes(await part.read(decode=True))))
        return out

    form = aiohttp.FormData(quote_fields=False)
    form.add_field("chat_id", "1001")
    form.add_field("caption", "Запись: «терапевт»\r\n--x")
    form.add_field("document", b"\r\n--\r\nBEGIN:VCALENDAR\r\n\r\n", filename='Запись "1".ics')
    form.add_field("thumbnail", b"", filename="t.jpg")
    payload = form()
    sink = Sink()
    await payload.write(sink)  # type: ignore[arg-type]
    body, ctype = b"".join(sink.chunks), payload.content_type
    ours = form_data(body, ctype)
    assert ours == await aiohttp_fields(body, ctype)
    assert ours is not None and [f[0] for f in ours] == [
        "chat_id",
        "caption",
        "document",
        "thumbnail",
    ]
    assert form_data(body[:-10], ctype) is None  # no closing line: aiohttp's reader decides
    assert form_data(body, "multipart/form-data") is None  # no boundary


async def test_unknown_method_is_not_ignored(tg: tuple[EmulatorCore, Bot]) -> None:
    _core, bot = tg
    with pytest.raises(TelegramNotFound):
        await bot.send_dice(CHAT)


async def test_blocked_user(tg: tuple[EmulatorCore, Bot]) -> None:
    core, bot = tg
    core.blocked.add(2002)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(2002, "reminder")
    await bot.send_message(CHAT, "others still get messages")


async def test_rate_limits(tg: tuple[EmulatorCore, Bot]) -> None:
    core, bot = tg
    now = [0.0]
    core.set_rate_limits(True, RateLimiter(monotonic=lambda: now[0]))
    for _ in range(3):  # a small burst to one chat passes
        await bot.send_message(CHAT, "burst")
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(CHAT, "too fast")
    assert caught.value.retry_after >= 1
    now[0] += 1.0  # one a second, sustained
    await bot.send_message(CHAT, "after a second")
    now[0] += 10.0
    for chat in range(3000, 3030):  # 30 a second overall ...
        await bot.send_message(chat, "broadcast")
    with pytest.raises(TelegramRetryAfter):  # ... and not one more
        await bot.send_message(4000, "broadcast")
    core.set_rate_limits(False)
    await bot.send_message(4000, "limits off")


async def test_commands_and_webhook(tg: tuple[EmulatorCore, Bot]) -> None:
    from aiogram.types import BotCommand

    core, bot = tg
    assert await bot.delete_webhook()
    assert await bot.set_my_commands([BotCommand(command="start", description="Start")])
    assert [c.command for c in await bot.get_my_commands()] == ["start"]
    with pytest.raises(TelegramBadRequest):
        await bot.set_my_commands([BotCommand(command="Bad Command", description="x")])
    assert core.commands


async def test_benchmark_mode_keeps_memory_flat() -> None:
    core = EmulatorCore(keep_events=False, history_limit=5)
    bot = Bot(core.token, session=EmulatorSession(core))
    for i in range(20):
        await bot.send_message(CHAT, f"m{i}")
    chat = await core.chat(CHAT)
    assert len(chat.messages) == 5 and not core.events and not core.pending.upserts
    assert (await bot.send_message(CHAT, "next")).message_id == 21
    await bot.session.close()
