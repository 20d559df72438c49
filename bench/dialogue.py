"""Whole booking dialogues through the real Dispatcher, beside a bare aiogram echo.

    .venv/bin/python bench/dialogue.py [--users 200] [--concurrency 16]
                                       [--sync normal|full|both] [--session emulator|counting|both]
                                       [--profile] [--quick]

Every simulated user registers (/start, language, consent, contact, name,
birth date, sex, SNILS, policy, skip e-mail) and then books a therapist
(«Записаться к врачу» → specialty → clinic → doctor → day → time →
«Подтвердить»), one Update at a time through ``dp.feed_update`` of the app
``bot.app.build_app`` builds (throttling off), on a SQLite file (WAL, and
``synchronous`` NORMAL as storage/db.py sets, or FULL) seeded with the demo
world. Buttons are pressed with the callback_data the bot actually sent,
read from the chat the way a Telegram client would.

Two bot sessions: the in-process Telegram emulator (emulator, which
validates and keeps every message) and a minimal ``CountingSession`` that
answers each request with the smallest valid result (its cost is almost
nothing, so the figures are the Dispatcher + our code + storage).

The echo baseline is a fresh Dispatcher with one ``@router.message()`` echo
handler fed the same kind of updates through the same session. Latency is
the time of one ``feed_update`` call (building the Update is outside it).
Sequential: one update at a time. Concurrent: ``--concurrency`` users at
once, each its own dialogue; throughput = updates / wall time.

The measured users run in ``--rounds`` rounds, each followed by as many echo
updates: the booking/echo ratio judged is the median of the rounds' ratios
(each compares figures of the same seconds), the pooled one is printed beside it.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import platform
import pstats
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot import lean_types as _lean_types  # noqa: F401, I001  (first, as `python -m bot` starts)

from aiogram import Bot, Dispatcher, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.base import BaseSession
from aiogram.enums import ParseMode
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import (
    Chat,
    Document,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardMarkup,
    Update,
    User,
)
from sqlalchemy import event

from bot.app import App, build_app, settle_heap
from bot.live import tune_collector
from bot.clock import VirtualClock
from bot.settings import load_settings
from domain.validators import format_snils, luhn_check_digit, snils_checksum
from emulator import markup as mk
from emulator.client import SimulatedUsers, own_phone
from emulator.core import EmulatorCore
from emulator.lookup import Lookup
from emulator.session import EmulatorSession
from storage.crypto import PersonalDataCipher
from storage.db import create_engine

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # 12:00 in Moscow, as the flow tests
FIRST_USER = 3_000_000
TARGET_RATIO = 0.1  # booking/echo throughput (issue 8 "Fast")
TARGET_P99_MS = 20.0  # booking p99, sequential
TARGET_STEP_P50_MS = 1.5  # every booking step's p50, «Подтвердить» included
TARGET_CONCURRENT_P99_MS = 100.0  # booking p99 with --concurrency users at once
TARGET_SQL_PER_STEP = 6.0  # statements per booking update, on average


# --------------------------------------------------------------------------- identities


def snils_for(n: int) -> str:
    """A valid SNILS unique to user n (bodies above 001-001-998 carry a checksum)."""
    body = f"{200_000_000 + n * 7:09d}"
    return format_snils(body + f"{snils_checksum(body):02d}")


def policy_for(n: int) -> str:
    body = f"{770_000_000_000_000 + n * 13:015d}"
    return body + luhn_check_digit(body)


# --------------------------------------------------------------------------- a client's view


class Client:
    """What the simulated users see and send: update JSON in, buttons out."""

    def build(self, update: dict[str, Any]) -> Update:
        return Update.model_validate(update, context={"bot": self.bot})

    bot: Bot

    async def text(self, uid: int, text: str) -> dict[str, Any]:
        raise NotImplementedError

    async def contact(self, uid: int) -> dict[str, Any]:
        raise NotImplementedError

    async def press(self, uid: int, label: str) -> dict[str, Any]:
        """A button by its exact label: a reply button sends its text, an inline one a query."""
        raise NotImplementedError

    async def press_prefix(self, uid: int, prefix: str, pick: int) -> dict[str, Any]:
        """The ``pick``-th (mod count) inline button whose callback_data starts with prefix."""
        raise NotImplementedError

    def last_text(self, uid: int) -> str:
        raise NotImplementedError

    def reset_log(self) -> None:
        return None


def choose(datas: list[str], prefix: str, pick: int, what: str) -> str:
    found = [d for d in datas if d.startswith(prefix)]
    if prefix == "bd:":  # doctors: not «any doctor» (0), not the pager (negative)
        found = [d for d in found if not d.startswith(("bd:0", "bd:-"))]
    if not found:
        raise RuntimeError(f"no {prefix!r} button for {what}; buttons: {datas}")
    return found[pick % len(found)]


class EmulatorClient(Client):
    def __init__(self, core: EmulatorCore) -> None:
        self.core = core
        self.users = SimulatedUsers(core, "ru")
        self.find = Lookup(core)

    async def text(self, uid: int, text: str) -> dict[str, Any]:
        return await self.users.message(uid, text=text)

    async def contact(self, uid: int) -> dict[str, Any]:
        return await self.users.contact(uid)

    async def press(self, uid: int, label: str) -> dict[str, Any]:
        chat = await self.core.chat(uid)
        found = self.find.button(chat, "press", label, 0)
        if isinstance(found, str):
            raise RuntimeError(f"@{uid}: {found}")
        stored, button, inline = found
        if not inline:
            return await self.users.message(uid, text=str(button["text"]))
        assert stored is not None
        return await self.users.callback(uid, chat, stored, str(button["callback_data"]))

    async def press_prefix(self, uid: int, prefix: str, pick: int) -> dict[str, Any]:
        chat = await self.core.chat(uid)
        stored = self.find.newest_inline(chat)
        if stored is None:
            raise RuntimeError(f"@{uid}: no inline keyboard")
        datas = [str(b["callback_data"]) for row in mk.inline_rows(stored.markup) for b in row
                 if b.get("callback_data")]  # fmt: skip
        data = choose(datas, prefix, pick, f"@{uid} {self.last_text(uid)[:80]!r}")
        return await self.users.callback(uid, chat, stored, data)

    def last_text(self, uid: int) -> str:
        stored = self.find.newest_out(uid)
        if stored is None:
            return ""
        return str(stored.message.get("text") or stored.message.get("caption") or "")

    def reset_log(self) -> None:
        self.core.drain()
        # Keep the chats short: a client only needs the newest messages.
        for chat in self.core.chats.values():
            if len(chat.messages) > 12:
                for message_id in sorted(chat.messages)[:-12]:
                    del chat.messages[message_id]


class CountingSession(BaseSession):
    """The cheapest valid Bot API: counts requests, remembers each chat's newest screen."""

    def __init__(self) -> None:
        super().__init__()
        self.requests = 0
        self.next_id: dict[int, int] = defaultdict(lambda: 1)
        self.screens: dict[int, Message] = {}  # newest message with an inline keyboard
        self.last: dict[int, str] = {}
        self.reply_labels: dict[int, list[str]] = {}
        self.bot_user = User(id=7000000001, is_bot=True, first_name="Zapis")

    async def close(self) -> None:
        return None

    def _message(self, chat_id: int, message_id: int | None = None, **content: Any) -> Message:
        if message_id is None:
            message_id = self.next_id[chat_id]
            self.next_id[chat_id] += 1
        return Message(
            message_id=message_id,
            date=NOW,
            chat=Chat(id=chat_id, type="private"),
            from_user=self.bot_user,
            **content,
        )

    def _remember(self, chat_id: int, message: Message, markup: Any) -> Message:
        if isinstance(markup, ReplyKeyboardMarkup):
            self.reply_labels[chat_id] = [b.text for row in markup.keyboard for b in row]
        if isinstance(markup, InlineKeyboardMarkup):
            self.screens[chat_id] = message
        elif self.screens.get(chat_id) is not None and (
            self.screens[chat_id].message_id == message.message_id
        ):
            del self.screens[chat_id]
        self.last[chat_id] = message.text or message.caption or ""
        return message

    async def make_request(
        self, bot: Bot, method: TelegramMethod[TelegramType], timeout: int | None = None
    ) -> TelegramType:
        self.requests += 1
        name = method.__api_method__
        chat_id = getattr(method, "chat_id", None)
        result: Any
        if name == "sendMessage":
            markup = method.reply_markup  # type: ignore[attr-defined]
            inline = markup if isinstance(markup, InlineKeyboardMarkup) else None
            msg = self._message(chat_id, text=method.text, reply_markup=inline)  # type: ignore[arg-type,attr-defined]
            result = self._remember(chat_id, msg, markup)  # type: ignore[arg-type]
        elif name == "editMessageText":
            markup = method.reply_markup  # type: ignore[attr-defined]
            msg = self._message(chat_id, method.message_id, text=method.text, reply_markup=markup)  # type: ignore[arg-type,attr-defined]
            result = self._remember(chat_id, msg, markup)  # type: ignore[arg-type]
        elif name == "editMessageReplyMarkup":
            msg = self._message(chat_id, method.message_id, text=self.last.get(chat_id) or ".")  # type: ignore[arg-type,attr-defined]
            result = self._remember(chat_id, msg, method.reply_markup)  # type: ignore[arg-type,attr-defined]
        elif name == "sendDocument":
            doc = Document(file_id="f", file_unique_id="f")
            msg = self._message(chat_id, document=doc, caption=method.caption)  # type: ignore[arg-type,attr-defined]
            result = self._remember(chat_id, msg, None)  # type: ignore[arg-type]
        elif name in ("answerCallbackQuery", "deleteMessage", "setMyCommands"):
            result = True
        else:
            raise RuntimeError(f"CountingSession: unexpected {name}")
        return result  # type: ignore[no-any-return]

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        raise NotImplementedError
        yield b""  # pragma: no cover


class CountingClient(Client):
    def __init__(self, session: CountingSession) -> None:
        self.session = session
        self.update_id = 0
        self.message_id: dict[int, int] = defaultdict(lambda: 100_000)
        self.queries = 0

    def _user(self, uid: int) -> dict[str, Any]:
        return {"id": uid, "is_bot": False, "first_name": f"User{uid}", "language_code": "ru"}

    def _update(self, **body: Any) -> dict[str, Any]:
        self.update_id += 1
        return {"update_id": self.update_id, **body}

    async def _message(self, uid: int, **content: Any) -> dict[str, Any]:
        self.message_id[uid] += 1
        message = {
            "message_id": self.message_id[uid],
            "from": self._user(uid),
            "chat": {"id": uid, "type": "private", "first_name": f"User{uid}"},
            "date": int(NOW.timestamp()),
            **content,
        }
        return self._update(message=message)

    async def text(self, uid: int, text: str) -> dict[str, Any]:
        return await self._message(uid, text=text)

    async def contact(self, uid: int) -> dict[str, Any]:
        contact = {"phone_number": own_phone(uid), "first_name": f"User{uid}", "user_id": uid}
        return await self._message(uid, contact=contact)

    def _callback(self, uid: int, data: str) -> dict[str, Any]:
        screen = self.session.screens.get(uid)
        if screen is None:
            raise RuntimeError(f"@{uid}: no inline keyboard")
        self.queries += 1
        query = {
            "id": f"q{self.queries}",
            "from": self._user(uid),
            "message": screen.model_dump(mode="json", by_alias=True, exclude_none=True),
            "chat_instance": str(uid),
            "data": data,
        }
        return self._update(callback_query=query)

    def _inline(self, uid: int) -> list[tuple[str, str]]:
        screen = self.session.screens.get(uid)
        markup = screen.reply_markup if screen else None
        if not isinstance(markup, InlineKeyboardMarkup):
            return []
        return [(b.text, b.callback_data or "") for row in markup.inline_keyboard for b in row]

    async def press(self, uid: int, label: str) -> dict[str, Any]:
        for text, data in self._inline(uid):
            if text == label and data:
                return self._callback(uid, data)
        if label in self.session.reply_labels.get(uid, []):
            return await self.text(uid, label)
        raise RuntimeError(f"@{uid}: no button [{label}] in {self._inline(uid)}")

    async def press_prefix(self, uid: int, prefix: str, pick: int) -> dict[str, Any]:
        datas = [d for _t, d in self._inline(uid) if d]
        data = choose(datas, prefix, pick, f"@{uid} {self.last_text(uid)[:80]!r}")
        return self._callback(uid, data)

    def last_text(self, uid: int) -> str:
        return self.session.last.get(uid, "")


# --------------------------------------------------------------------------- the dialogue

Step = tuple[str, str, Callable[[Client, int, int], Awaitable[dict[str, Any]]]]


def onboarding_steps() -> list[Step]:
    return [
        ("onboarding", "/start", lambda c, u, n: c.text(u, "/start")),
        ("onboarding", "language", lambda c, u, n: c.press(u, "Русский")),
        ("onboarding", "consent", lambda c, u, n: c.press(u, "Согласен")),
        ("onboarding", "contact", lambda c, u, n: c.contact(u)),
        ("onboarding", "name", lambda c, u, n: c.text(u, "Иванов Иван Иванович")),
        ("onboarding", "birth date", lambda c, u, n: c.text(u, "12.04.1985")),
        ("onboarding", "sex", lambda c, u, n: c.press(u, "Мужской")),
        ("onboarding", "snils", lambda c, u, n: c.text(u, snils_for(n))),
        ("onboarding", "policy", lambda c, u, n: c.text(u, policy_for(n))),
        ("onboarding", "skip e-mail", lambda c, u, n: c.press(u, "Пропустить")),
    ]


def booking_steps() -> list[Step]:
    return [
        ("booking", "menu: book", lambda c, u, n: c.press(u, "Записаться к врачу")),
        ("booking", "specialty", lambda c, u, n: c.press(u, "Терапевт")),
        ("booking", "clinic", lambda c, u, n: c.press_prefix(u, "bc:", n)),
        ("booking", "doctor", lambda c, u, n: c.press_prefix(u, "bd:", n // 3)),
        ("booking", "day", lambda c, u, n: c.press_prefix(u, "by:", n // 7)),
        ("booking", "time", lambda c, u, n: c.press_prefix(u, "bt:", n // 5)),
        ("booking", "confirm", lambda c, u, n: c.press_prefix(u, "bk:", 0)),
    ]


CHECKS = {"skip e-mail": "Учётная запись создана", "time": "Проверьте данные записи"}
CONFIRMED = "Вы записаны"
TAKEN = "уже заняли"


class SqlCounter:
    """Statements and their time inside the driver (the aiosqlite thread), per step."""

    def __init__(self) -> None:
        self.count: dict[str, int] = defaultdict(int)
        self.seconds: dict[str, float] = defaultdict(float)
        self.slow: dict[str, float] = defaultdict(float)  # statement text -> time
        self.step = "-"
        self._started: dict[int, float] = {}
        self.trace: dict[str, list[str]] = {}  # --sql-trace: the newest update's statements

    def attach(self, engine: Any) -> None:
        event.listen(engine.sync_engine, "before_cursor_execute", self._before)
        event.listen(engine.sync_engine, "after_cursor_execute", self._after)

    def _before(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self._started[id(cursor)] = time.perf_counter()

    def _after(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        spent = time.perf_counter() - self._started.pop(id(cursor), time.perf_counter())
        self.count[self.step] += 1
        self.seconds[self.step] += spent
        self.slow[" ".join(statement.split())[:150]] += spent
        if self.trace is not None and self.step != "-":
            self.trace.setdefault(self.step, []).append(" ".join(statement.split())[:160])

    def new_update(self) -> None:
        """Forget the statements traced for this step: the trace shows its newest update."""
        self.trace.pop(self.step, None)


SQL: SqlCounter | None = None
TRACE = False  # --sql-trace


@dataclass
class Stats:
    lat: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    per_step: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    # CPU seconds of this process per update (time.process_time): what our code costs,
    # much less moved than wall time by other jobs on a shared machine.
    cpu: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    booked: int = 0
    taken: int = 0
    wall: float = 0.0

    def add(self, phase: str, step: str, seconds: float, cpu: float = float("nan")) -> None:
        self.lat[phase].append(seconds)
        self.lat["whole"].append(seconds)
        self.per_step[step].append(seconds)
        self.cpu[step].append(cpu)
        self.cpu[phase].append(cpu)


class Bench:
    def __init__(
        self,
        dp: Dispatcher,
        bot: Bot,
        client: Client,
        profiler: cProfile.Profile | None,
        profile_skip: tuple[str, ...] = (),
    ):
        self.profile_skip = profile_skip
        self.dp = dp
        self.bot = bot
        self.client = client
        self.profiler = profiler

    async def feed(self, stats: Stats, phase: str, step: str, update: dict[str, Any]) -> None:
        parsed = self.client.build(update)
        profiler = self.profiler
        if phase != "booking" or step in self.profile_skip:
            profiler = None
        if SQL is not None:
            SQL.step = step if phase != "echo" else "-"
            SQL.new_update()
        cpu = time.process_time()
        started = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        await self.dp.feed_update(self.bot, parsed)
        if profiler is not None:
            profiler.disable()
        stats.add(phase, step, time.perf_counter() - started, time.process_time() - cpu)

    async def user(self, stats: Stats, uid: int, n: int) -> None:
        client = self.client
        for phase, step, make in onboarding_steps() + booking_steps():
            await self.feed(stats, phase, step, await make(client, uid, n))
            text = client.last_text(uid)
            if step in CHECKS and CHECKS[step] not in text:
                if step == "time" and TAKEN in text:
                    stats.taken += 1
                    return
                raise RuntimeError(f"@{uid} after {step}: expected {CHECKS[step]!r}, got {text!r}")
        text = client.last_text(uid)
        if CONFIRMED in text:
            stats.booked += 1
        elif TAKEN in text:
            stats.taken += 1
        else:
            raise RuntimeError(f"@{uid} after confirm: got {text!r}")


# --------------------------------------------------------------------------- worlds


@dataclass
class World:
    app: App
    bot: Bot
    client: Client
    session_kind: str
    folder: tempfile.TemporaryDirectory[str]

    async def close(self) -> None:
        await self.bot.session.close()
        await self.app.close()
        self.folder.cleanup()


async def make_world(synchronous: str, session_kind: str, driver: str = "inloop") -> World:
    folder = tempfile.TemporaryDirectory(prefix="zapis-bench-dialogue-")
    url = f"sqlite+aiosqlite:///{Path(folder.name) / 'dialogue.sqlite3'}"
    engine = create_engine(url, inloop=driver == "inloop")
    if synchronous == "full":

        @event.listens_for(engine.sync_engine, "connect")
        def _full(dbapi_connection: Any, _record: Any) -> None:  # after storage/db.py's own
            dbapi_connection.execute("PRAGMA synchronous=FULL")

    # Imported here: bench/moscow.py's RSS child (a bot process) uses this module and
    # a bot process never loads alembic or the demo builder.
    from storage.demo import seed_demo
    from storage.migrate import upgrade

    await upgrade(engine)
    key = PersonalDataCipher.generate_key()
    await seed_demo(engine, PersonalDataCipher(key), NOW)
    settings = load_settings(database_url=url, sqlite_driver=driver)
    clock = VirtualClock(NOW)
    app = build_app(settings, clock, encryption_key=key, engine=engine, throttling=False)
    settle_heap()  # as bot/live.py's prepare_app does for a serving process,
    tune_collector()  # with the collector's thresholds a serving process runs with
    if SQL is not None:
        SQL.attach(engine)
    default = DefaultBotProperties(parse_mode=ParseMode.HTML)
    client: Client
    if session_kind == "emulator":
        core = EmulatorCore(now=clock.now)  # no history store: nothing but the app on the DB
        bot = Bot(core.token, session=EmulatorSession(core), default=default)
        client = EmulatorClient(core)
    else:
        session = CountingSession()
        bot = Bot("7000000001:COUNTING" + "x" * 27, session=session, default=default)
        client = CountingClient(session)
    app.attach_bot(bot)
    client.bot = bot
    return World(app, bot, client, session_kind, folder)


def echo_dispatcher() -> Dispatcher:
    dp = Dispatcher()
    router = Router()

    @router.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "…")

    dp.include_router(router)
    return dp


# --------------------------------------------------------------------------- runs


async def run_dialogues(
    world: World,
    users: range,
    concurrency: int,
    profiler: cProfile.Profile | None = None,
    profile_skip: tuple[str, ...] = (),
) -> Stats:
    bench = Bench(world.app.dispatcher, world.bot, world.client, profiler, profile_skip)
    stats = Stats()
    queue = list(users)
    started = time.perf_counter()

    async def worker() -> None:
        while queue:
            n = queue.pop(0)
            await bench.user(stats, FIRST_USER + n, n)
            if n % 50 == 0:
                world.client.reset_log()

    await asyncio.gather(*(worker() for _ in range(max(1, concurrency))))
    stats.wall = time.perf_counter() - started
    world.client.reset_log()
    return stats


async def run_echo(world: World, updates: int, concurrency: int, first: int) -> Stats:
    dp = echo_dispatcher()
    bench = Bench(dp, world.bot, world.client, None)
    stats = Stats()
    per_user = 17  # as many updates as one booking dialogue
    users = max(1, updates // per_user)
    queue = list(range(users))
    started = time.perf_counter()

    async def worker() -> None:
        while queue:
            n = queue.pop(0)
            uid = FIRST_USER + first + n
            for i in range(per_user):
                await bench.feed(stats, "echo", "echo", await world.client.text(uid, f"echo {i}"))
            if n % 50 == 0:
                world.client.reset_log()

    await asyncio.gather(*(worker() for _ in range(max(1, concurrency))))
    stats.wall = time.perf_counter() - started
    world.client.reset_log()
    return stats


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def rate(values: list[float], wall: float | None) -> float:
    spent = wall if wall is not None else sum(values)
    return len(values) / spent if spent else float("nan")


def machine(tag: str) -> str:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{tag}: {cpu}, {os.cpu_count()} cores, load average {load}"


def interpreter() -> str:
    """Which CPython build runs the bench: the same code measured ~15 % apart on one VM
    under a pyenv build (libpython shared, no PGO) and Debian's statically linked one
    (README, sixth session), and the echo gained more than the bot, so a figure
    without its interpreter is not comparable."""
    base = Path(sys.base_prefix, "bin", f"python{sys.version_info[0]}.{sys.version_info[1]}")
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return f"python {platform.python_version()} ({base})"
    shared = next((line.split()[-1] for line in maps.splitlines() if "libpython" in line), None)
    linked = f"libpython shared: {shared}" if shared else "libpython static"
    return f"python {platform.python_version()} ({base}, {linked})"


def rounds_of(users: range, rounds: int) -> list[range]:
    """The measured users in ``rounds`` consecutive slices (at least one user each)."""
    count = max(1, min(rounds, len(users)))
    size, extra = divmod(len(users), count)
    parts, start = [], users.start
    for i in range(count):
        stop = start + size + (1 if i < extra else 0)
        parts.append(range(start, stop))
        start = stop
    return parts


def merge(into: Stats, part: Stats) -> None:
    """Pool one round's figures into the run's (walls add: the rounds ran one after another)."""
    for source, target in (
        (part.lat, into.lat),
        (part.per_step, into.per_step),
        (part.cpu, into.cpu),
    ):
        for key, values in source.items():
            target[key].extend(values)
    into.booked += part.booked
    into.taken += part.taken
    into.wall += part.wall


def report(
    label: str,
    stats: Stats,
    echo: Stats,
    sequential: bool,
    out: list[str],
    round_ratios: list[float] | None = None,
) -> dict[str, float]:
    """One block of figures; returns the headline numbers (for the summary).

    With ``round_ratios`` (the booking/echo ratio of each interleaved round) the
    RESULT line judges their median: pooled, one slow spell in either half moves the
    ratio of two figures taken at different seconds; the pooled ratio is printed too.
    """
    wall = None if sequential else stats.wall
    echo_wall = None if sequential else echo.wall
    echo_rate = rate(echo.lat["echo"], echo_wall)
    head: dict[str, float] = {}
    mode = "sequential" if sequential else "concurrent"
    out.append(f"## {label} — {mode}")
    out.append(f"{'part':<12} {'updates':>8} {'upd/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'ratio':>6}")
    for part in ("booking", "whole", "onboarding", "echo"):
        values = echo.lat["echo"] if part == "echo" else stats.lat[part]
        if part in ("booking", "whole", "onboarding"):
            # Concurrent: the share of the wall time each part took is not separable,
            # so parts are rated by their own latency sum scaled to the whole run.
            if wall is not None:
                part_wall = wall * sum(values) / max(sum(stats.lat["whole"]), 1e-9)
                r = rate(values, part_wall)
            else:
                r = rate(values, None)
        else:
            r = echo_rate
        ratio = r / echo_rate if echo_rate else float("nan")
        out.append(
            f"{part:<12} {len(values):>8} {r:>9.0f} {pct(values, 0.5):>8.2f} "
            f"{pct(values, 0.99):>8.2f} {ratio:>6.2f}"
        )
        head[f"{part}_rate"] = r
        head[f"{part}_p50"] = pct(values, 0.5)
        head[f"{part}_p99"] = pct(values, 0.99)
        head[f"{part}_ratio"] = ratio
    out.append(f"booked {stats.booked}, lost the race («уже заняли») {stats.taken}")
    if sequential:
        out.extend(step_table(stats))
        worst = max(statistics.median(stats.per_step[s]) * 1000 for s in BOOKING_STEPS)
        verdict_step = verdict(worst <= TARGET_STEP_P50_MS)
        out.append(f"slowest booking step p50 {worst:.2f} ms (target ≤ {TARGET_STEP_P50_MS}: "
                   f"{verdict_step})")  # fmt: skip
        if SQL is not None:
            per = sum(SQL.count[s] for s in BOOKING_STEPS) / max(len(stats.lat["booking"]), 1)
            out.append(f"SQL statements per booking update {per:.1f} "
                       f"(target ≤ {TARGET_SQL_PER_STEP:.0f}: {verdict(per <= TARGET_SQL_PER_STEP)})")  # fmt: skip
    target_p99 = TARGET_P99_MS if sequential else TARGET_CONCURRENT_P99_MS
    if round_ratios:
        pooled = head["booking_ratio"]
        head["booking_ratio"] = statistics.median(round_ratios)
        listed = ", ".join(f"{r:.3f}" for r in round_ratios)
        out.append(f"booking/echo by interleaved round: {listed}; median "
                   f"{head['booking_ratio']:.3f}, pooled {pooled:.3f}")  # fmt: skip
    out.append(
        f"RESULT {label} {mode}: booking/echo ratio {head['booking_ratio']:.3f} "
        f"(target ≥ {TARGET_RATIO}: {verdict(head['booking_ratio'] >= TARGET_RATIO)}); "
        f"booking p99 {head['booking_p99']:.2f} ms (target ≤ {target_p99:.0f}: "
        f"{verdict(head['booking_p99'] <= target_p99)}); whole/echo ratio {head['whole_ratio']:.3f}"
    )
    return head


BOOKING_STEPS = [name for _phase, name, _make in booking_steps()]


def verdict(met: bool) -> str:
    return "MET" if met else "NOT met"


def step_table(stats: Stats) -> list[str]:
    """p50/p99 and SQL statements of each step (sequential run)."""
    lines = [f"{'step':<14} {'n':>5} {'p50 ms':>8} {'p99 ms':>8} {'CPU p50':>8} {'SQL/upd':>8}"]
    for name, values in stats.per_step.items():
        sql = f"{SQL.count[name] / len(values):8.1f}" if SQL is not None else f"{'-':>8}"
        lines.append(
            f"{name:<14} {len(values):>5} {pct(values, 0.5):>8.2f} {pct(values, 0.99):>8.2f} "
            f"{pct(stats.cpu[name], 0.5):>8.2f} {sql}"
        )
    lines.append(
        f"{'booking':<14} {len(stats.cpu['booking']):>5} {pct(stats.lat['booking'], 0.5):>8.2f} "
        f"{pct(stats.lat['booking'], 0.99):>8.2f} {pct(stats.cpu['booking'], 0.5):>8.2f}"
    )
    return lines


async def one_config(
    synchronous: str, session_kind: str, args: argparse.Namespace, out: list[str], driver: str
) -> None:
    label = f"SQLite driver={driver}, synchronous={synchronous.upper()}, session={session_kind}"
    for sequential in (True, False):
        if not sequential and args.concurrency <= 1:
            continue
        world = await make_world(synchronous, session_kind, driver)
        try:
            # Warm-up (not measured): imports, statement caches, the first connections.
            await run_dialogues(world, range(10_000, 10_000 + args.warmup), 1)
            await run_echo(world, 17 * args.warmup, 1, 20_000)
            if SQL is not None:  # count the measured users only
                SQL.count.clear()
                SQL.seconds.clear()
                SQL.slow.clear()
            conc = 1 if sequential else args.concurrency
            profiler = cProfile.Profile() if (args.profile and sequential) else None
            stats, echo = Stats(), Stats()
            ratios: list[float] = []
            for part in rounds_of(range(args.users), args.rounds):
                # Interleaved: each round's dialogues, then as many echo updates, so a
                # ratio compares two figures of the same seconds (the machine's speed moves).
                one = await run_dialogues(world, part, conc, profiler, tuple(args.profile_skip))
                one_echo = await run_echo(world, len(one.lat["whole"]), conc, 30_000 + part[0])
                ratios.append(report(label, one, one_echo, sequential, [])["booking_ratio"])
                merge(stats, one)
                merge(echo, one_echo)
            report(label, stats, echo, sequential, out, ratios)
            if profiler is not None:
                out.append(profile_text(profiler, args.profile_top))
                if args.profile_out:
                    profiler.dump_stats(args.profile_out)
            if SQL is not None and sequential:
                out.append(sql_text(SQL, stats))
            print("\n".join(out), flush=True)
            out.clear()
        finally:
            await world.close()


def sql_text(sql: SqlCounter, stats: Stats) -> str:
    lines = ["## SQL statements per update (sequential run, after the warm-up)"]
    for step, values in stats.per_step.items():
        n = len(values)
        lines.append(
            f"{step:<14} {sql.count[step] / n:6.1f} statements, "
            f"{sql.seconds[step] / n * 1000:6.2f} ms in the driver"
        )
    if TRACE:
        for step, statements in sql.trace.items():
            lines.append(f"{step}: {len(statements)} statements")
            lines.extend(f"    {text}" for text in statements)
    lines.append("costliest statements (total seconds):")
    for text, spent in sorted(sql.slow.items(), key=lambda kv: -kv[1])[:12]:
        lines.append(f"  {spent:7.3f}  {text}")
    sql.count.clear()
    sql.seconds.clear()
    sql.slow.clear()
    sql.trace.clear()
    return "\n".join(lines)


def profile_text(profiler: cProfile.Profile, top: int) -> str:
    buffer = io.StringIO()
    stats = pstats.Stats(profiler, stream=buffer)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    text = buffer.getvalue()
    root = str(Path(__file__).resolve().parent.parent) + "/"
    return "## profile of the booking updates (sequential)\n" + text.replace(root, "")


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--sync", choices=("normal", "full", "both"), default="both")
    parser.add_argument("--session", choices=("emulator", "counting", "both"), default="both")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument(
        "--rounds",
        type=int,
        default=5,
        help="interleave the measured users' dialogues and the echo in this many rounds",
    )
    parser.add_argument("--profile", action="store_true", help="cProfile the booking updates")
    parser.add_argument("--profile-top", type=int, default=30)
    parser.add_argument(
        "--profile-skip", action="append", default=[], help="a step not to profile (confirm)"
    )
    parser.add_argument("--profile-out", help="also write the cProfile stats to this file")
    parser.add_argument(
        "--driver",
        choices=("inloop", "aiosqlite", "both"),
        default="both",
        help="SQLite driver (storage/sqlite_inloop.py or aiosqlite's worker thread)",
    )
    parser.add_argument("--quick", action="store_true", help="one config, small run (smoke test)")
    parser.add_argument("--sql", action="store_true", help="count statements per step")
    parser.add_argument(
        "--sql-trace", action="store_true", help="also print each step's statements (last user)"
    )
    args = parser.parse_args(argv)
    if args.sql_trace:
        global TRACE
        TRACE = args.sql = True
    if args.sql:
        global SQL
        SQL = SqlCounter()
    if args.quick:
        args.sync, args.session, args.warmup = "normal", "counting", 1
        args.driver = "inloop" if args.driver == "both" else args.driver
        args.concurrency = min(args.concurrency, max(2, args.users))
    print(machine("machine at start"), flush=True)
    print(f"{interpreter()}, users {args.users}, concurrency "
          f"{args.concurrency}, warm-up users {args.warmup}", flush=True)  # fmt: skip
    syncs = ("normal", "full") if args.sync == "both" else (args.sync,)
    sessions = ("counting", "emulator") if args.session == "both" else (args.session,)
    drivers = ("aiosqlite", "inloop") if args.driver == "both" else (args.driver,)
    out: list[str] = []
    for driver in drivers:
        for synchronous in syncs:
            for session_kind in sessions:
                await one_config(synchronous, session_kind, args, out, driver)
    print(machine("machine at end"), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
