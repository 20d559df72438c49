"""ConsoleWorld: the console's engine, usable from pytest and from the CLI.

A world is a database with the demo data, the real app (Dispatcher, flows,
storage, jobs) on a virtual clock, and the emulated Telegram. ``run`` and
``line`` take console script lines (docs/console.md) and return the transcript.
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
from emulator import script as sc
from emulator import transcript as tr
from emulator.client import SimulatedUsers
from emulator.core import EmulatorCore
from emulator.files import FileSaver
from emulator.groups import open_group
from emulator.jobs import JobRunner
from emulator.lookup import Lookup, WorldView
from emulator.options import option_help
from emulator.setup import World, build_world, temporary_db_url

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


class ConsoleWorld(WorldView):
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
        self.chat_id: int | None = None  # a group the user's lines go to (!chat); None: private
        self.files: FileSaver | None = None  # --files DIR
        self._notes: list[str] = []  # printed after the line's echo
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
        files_dir: str | None = None,
        demo_history: bool = False,
    ) -> ConsoleWorld:
        """``files_dir``: save every file the bot sends there (``--files``);
        ``demo_history``: the demo patient 5001 with past visits (``--demo-history``)."""
        tmp = None
        if db_url is None:
            db_url, tmp = temporary_db_url()
        world = await build_world(
            db_url,
            now,
            seed=seed,
            transport=transport,
            settings_overrides=settings_overrides,
            demo_history=demo_history,
        )
        self = cls(world, lang=lang, strict=strict, debug=debug)
        self._tmp = tmp
        self.files = FileSaver(files_dir) if files_dir else None
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
        new.user_id, new.chat_id, new.files = self.user_id, self.chat_id, self.files
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
        out.extend(self._notes)
        self._notes.clear()
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
            lines = tr.event_lines(event, debug=self.debug, saved=self._save_file(event))
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

    def _save_file(self, event: Any) -> str | None:
        """--files: write the file a sent message carries; its saved path."""
        attached = tr.file_of(event.message) if event.message is not None else None
        if self.files is None or event.kind != "sent" or attached is None:
            return None
        stored = self.emulator.files.get(attached[0])
        return None if stored is None else self.files.save(attached[1], stored.data)

    @property
    def current_chat(self) -> int:
        """Where the current user's lines go: a group after ``!chat``, else their private chat."""
        return self.user_id if self.chat_id is None else self.chat_id

    async def _feed(self, update: dict[str, Any]) -> None:
        chat = self.emulator.chats.get(self.current_chat)
        if chat is not None and not chat.bot_member:  # Telegram delivers nothing to a non-member
            self._notes.append(f"  (not delivered: the bot is not in {chat.chat_id})")
            return
        await self.app.dispatcher.feed_update(
            self.bot, Update.model_validate(update, context={"bot": self.bot})
        )

    async def _carry_out(self, line: sc.Line, out: list[str]) -> str | None:
        uid, where = self.user_id, self.chat_id
        if line.kind == "invalid":
            return line.arg
        if line.kind == "user":
            self.user_id, self.chat_id = line.number, None
            return None
        if line.kind == "text":
            await self._feed(await self.users.message(uid, where, text=line.arg))
        elif line.kind in ("press", "press_part", "press_index"):
            return await self._press(line)
        elif line.kind == "contact":
            phone = line.arg or None
            await self._feed(await self.users.contact(uid, phone, line.number or None, where))
        elif line.kind == "chat":
            return await self._switch_chat(line, out)
        elif line.kind == "help":
            out.extend(sc.help_lines(option_help()))
        elif line.kind == "callback":
            chat = await self.emulator.chat(self.current_chat)
            stored = self.find.newest_inline(chat)
            if stored is None:
                return "no message with an inline keyboard to send a callback from"
            await self._feed(await self.users.callback(uid, chat, stored, line.arg))
        elif line.kind in ("file", "photo"):
            return await self._upload(line)
        elif line.kind == "clock":
            return await self._clock(line.arg, out)
        elif line.kind == "jobs":
            return await self._jobs(line.arg)
        elif line.kind == "expect":
            text = self.last_text(self.current_chat)
            if line.arg not in text:
                return (
                    f"expected {line.arg!r} in the last message to @{self.current_chat}, "
                    f"got {text!r}"
                )
        return None

    async def _switch_chat(self, line: sc.Line, out: list[str]) -> str | None:
        """``!chat``: the first line to a group adds the bot, as a member's client would."""
        if line.arg == "private":
            self.chat_id = None
            return None
        try:
            chat = await open_group(self.emulator, line.number, line.arg)
        except ValueError as exc:
            return str(exc)
        self.chat_id = chat.chat_id
        if not chat.bot_member:
            out.append(f"  + the bot joined {chat.chat_id}")
            await self._feed(self.users.bot_added(self.user_id, chat))
        return None

    async def _press(self, line: sc.Line) -> str | None:
        uid, where = self.user_id, self.chat_id
        chat = await self.emulator.chat(self.current_chat)
        found = self.find.button(chat, line.kind, line.arg, line.number)
        if isinstance(found, str):
            return found
        stored, button, inline = found
        if not inline:
            if button.get("request_contact"):
                await self._feed(await self.users.contact(uid, chat_id=where))
                return None
            if any(button.get(k) for k in ("request_location", "request_poll", "web_app",
                                           "request_users", "request_chat")):  # fmt: skip
                return f"the console cannot press [{button['text']}] (not supported)"
            await self._feed(await self.users.message(uid, where, text=str(button["text"])))
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
        photo = line.kind == "photo"
        update = await self.users.upload(self.user_id, path.name, data, photo, self.chat_id)
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

    async def _jobs(self, name: str) -> str | None:
        """``!jobs [NAME]``: the jobs' next tick, now, without moving the clock (e.g. the
        notifier sending a new booking's .ics and PDF from the outbox)."""
        try:
            return await self.jobs.run_now(name)
        except ValueError as exc:
            return str(exc)

    def local_now(self) -> datetime:
        """The virtual clock in the bot's default time zone."""
        return self.clock.now().astimezone(ZoneInfo(self.world.settings.default_tz))
