"""ConsoleWorld: the console's engine, usable from pytest and from the CLI.

A world is a database with the demo data, the real app (Dispatcher, flows,
storage, jobs) on a virtual clock, and the emulated Telegram. ``run`` and
``line`` take console script lines (CONSOLE.md) and return the transcript.
In strict mode a line that cannot be carried out raises :class:`ScriptError`
whose message starts with ``!!``.
"""

from __future__ import annotations

import logging
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import Bot
from aiogram.types import Update

from bot.app import App
from bot.clock import VirtualClock
from bot.emulator import markup as mk
from bot.emulator import script as sc
from bot.emulator import transcript as tr
from bot.emulator.client import SimulatedUsers
from bot.emulator.core import EmulatorCore
from bot.emulator.jobs import JobRunner
from bot.emulator.lookup import Lookup
from bot.emulator.setup import World, build_world, temporary_db_url

__all__ = ["ConsoleWorld", "ScriptError"]


class ScriptError(Exception):
    """A line could not be carried out; str() is the ``!!`` line."""


class _ErrorLog(logging.Handler):
    """Collects the unhandled errors the app's error handler logs during a line."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class ConsoleWorld:
    app: App
    bot: Bot
    emulator: EmulatorCore
    clock: VirtualClock

    def __init__(self, world: World, *, lang: str, strict: bool, debug: bool) -> None:
        self.world = world
        self.app, self.bot, self.emulator, self.clock = (
            world.app,
            world.bot,
            world.core,
            world.clock,
        )
        self.strict = strict
        self.debug = debug
        self.user_id = 1001
        self.users = SimulatedUsers(world.core, lang)
        self.find = Lookup(world.core)
        self.jobs = JobRunner(world.app.jobs, world.clock)
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._options: dict[str, Any] = {}
        self.base_dir: Path | None = None  # where !file / !photo also look (the script's folder)
        self._errors = _ErrorLog()
        logging.getLogger("zapis").addHandler(self._errors)

    @classmethod
    async def start(
        cls,
        *,
        db_url: str | None = None,
        now: datetime | None = None,
        lang: str = "ru",
        strict: bool = True,
        debug: bool = False,
        seed: bool = True,
        transport: str = "session",
        settings_overrides: dict[str, Any] | None = None,
    ) -> ConsoleWorld:
        tmp = None
        if db_url is None:
            db_url, tmp = temporary_db_url()
        world = await build_world(
            db_url, now, seed=seed, transport=transport, settings_overrides=settings_overrides
        )
        self = cls(world, lang=lang, strict=strict, debug=debug)
        self._tmp = tmp
        self._options = {
            "lang": lang,
            "strict": strict,
            "debug": debug,
            "transport": transport,
            "settings_overrides": settings_overrides,
        }
        return self

    async def restart(self) -> ConsoleWorld:
        """Stop this world as a bot restart would, and start a new one on the same database.

        Users, dialogue states, chat history and the clock carry over; the
        temporary folder (if any) now belongs to the new world.
        """
        tmp, self._tmp = self._tmp, None
        await self.close()
        options: dict[str, Any] = dict(self._options)
        new = await ConsoleWorld.start(db_url=self.db_url, now=self.clock.now(), **options)
        new._tmp = tmp
        new.user_id = self.user_id
        return new

    @property
    def db_url(self) -> str:
        return self.world.settings.database_url

    async def close(self) -> None:
        logging.getLogger("zapis").removeHandler(self._errors)
        await self.world.close()
        if self._tmp is not None:
            self._tmp.cleanup()

    # ----- running lines --------------------------------------------------------------------
    async def run(self, script: str) -> str:
        out = [await self.line(raw) for raw in script.splitlines()]
        return "\n".join(text for text in out if text)

    async def line(self, raw: str) -> str:
        """Carry out one script line; the transcript of it (echo + what the bot did)."""
        parsed = sc.parse(raw)
        if parsed.kind == "noop":
            return ""
        out = [tr.echo(self.user_id, raw.strip())]
        self._errors.records.clear()
        failure: str | None = None
        try:
            failure = await self._carry_out(parsed, out)
        finally:
            await self.emulator.flush()
        failure = failure or self._check_events(out)
        if failure is not None:
            out.append(f"!! {failure}")
            if self.strict:
                raise ScriptError("\n".join(out))
        return "\n".join(out)

    def _check_events(self, out: list[str]) -> str | None:
        events = self.emulator.drain()
        refused = None
        for event in events:
            lines = tr.event_lines(event, debug=self.debug)
            if event.kind == "refused":
                refused = (
                    refused or f"the emulator refused {event.method}: {event.status} {event.text}"
                )
                continue  # reported as the failure (strict) or below
            out.extend(lines)
        if refused is not None and not self.strict:
            out.append(f"!! {refused}")
            refused = None
        if refused is None and self._errors.records:
            return f"the bot failed: {self._errors.records[0].getMessage()}"
        return refused

    async def _feed(self, update: dict[str, Any]) -> None:
        await self.app.dispatcher.feed_update(
            self.bot, Update.model_validate(update, context={"bot": self.bot})
        )

    async def _carry_out(self, line: sc.Line, out: list[str]) -> str | None:
        uid = self.user_id
        if line.kind == "invalid":
            return line.arg
        if line.kind == "user":
            self.user_id = line.number
            return None
        if line.kind == "text":
            await self._feed(await self.users.message(uid, text=line.arg))
        elif line.kind in ("press", "press_part", "press_index"):
            return await self._press(line)
        elif line.kind == "contact":
            phone = line.arg or None
            await self._feed(await self.users.contact(uid, phone, line.number or None))
        elif line.kind == "callback":
            chat = await self.emulator.chat(uid)
            stored = self.find.newest_inline(chat)
            if stored is None:
                return "no message with an inline keyboard to send a callback from"
            await self._feed(await self.users.callback(uid, chat, stored, line.arg))
        elif line.kind in ("file", "photo"):
            return await self._upload(line)
        elif line.kind == "clock":
            return await self._clock(line.arg, out)
        elif line.kind == "expect":
            text = self.last_text(uid)
            if line.arg not in text:
                return f"expected {line.arg!r} in the last message to @{uid}, got {text!r}"
        return None

    async def _press(self, line: sc.Line) -> str | None:
        uid = self.user_id
        chat = await self.emulator.chat(uid)
        found = self.find.button(chat, line.kind, line.arg, line.number)
        if isinstance(found, str):
            return found
        stored, button, inline = found
        if not inline:
            if button.get("request_contact"):
                await self._feed(await self.users.contact(uid))
                return None
            if any(button.get(k) for k in ("request_location", "request_poll", "web_app",
                                           "request_users", "request_chat")):  # fmt: skip
                return f"the console cannot press [{button['text']}] (not supported)"
            await self._feed(await self.users.message(uid, text=str(button["text"])))
            return None
        data = button.get("callback_data")
        if data is None:
            return f"[{button['text']}] is not a callback button ({', '.join(button)})"
        assert stored is not None
        await self._feed(await self.users.callback(uid, chat, stored, str(data)))
        return None

    async def _upload(self, line: sc.Line) -> str | None:
        path = Path(line.arg).expanduser()
        if not path.is_file() and self.base_dir is not None:
            path = self.base_dir / line.arg  # relative to the script's folder
        if not path.is_file():
            return f"no such file {line.arg}"
        data = path.read_bytes()
        update = await self.users.upload(self.user_id, path.name, data, line.kind == "photo")
        await self._feed(update)
        return None

    async def _clock(self, arg: str, out: list[str]) -> str | None:
        try:
            target = self.jobs.target(arg, self.world.settings.default_tz)
        except ValueError as exc:
            return str(exc)
        failure = None
        async for error in self.jobs.advance(target):
            await self.emulator.flush()
            problem = self._check_events(out)
            failure = failure or error or problem
        await self.world.save_clock()
        out.append(f"  ⏱ {self.local_now():%Y-%m-%d %H:%M %Z}")
        return failure

    def local_now(self) -> datetime:
        """The virtual clock in the bot's default time zone."""
        return self.clock.now().astimezone(ZoneInfo(self.world.settings.default_tz))

    # ----- looking at the world -------------------------------------------------------------
    def last_text(self, user_id: int | None = None) -> str:
        """The newest bot message (text or caption) in that user's chat; "" if none."""
        stored = self.find.newest_out(user_id or self.user_id)
        if stored is None:
            return ""
        return str(stored.message.get("text") or stored.message.get("caption") or "")

    def buttons(self, user_id: int | None = None) -> list[list[tuple[str, str | None]]]:
        """Inline buttons of the newest bot message: rows of (label, callback_data)."""
        stored = self.find.newest_out(user_id or self.user_id)
        rows = mk.inline_rows(stored.markup if stored else None)
        return [[(str(b["text"]), b.get("callback_data")) for b in row] for row in rows]

    def reply_keyboard(self, user_id: int | None = None) -> list[list[str]]:
        """Labels of the chat's current reply keyboard (empty when none or removed)."""
        chat = self.emulator.chats.get(user_id or self.user_id)
        rows = mk.reply_rows(chat.reply_keyboard if chat else None)
        return [[str(b["text"]) for b in row] for row in rows]

    def last_file(self, user_id: int | None = None) -> tuple[str, bytes] | None:
        """(filename, bytes) of the newest document or photo the bot sent to that user."""
        return self.find.newest_file(user_id or self.user_id)
