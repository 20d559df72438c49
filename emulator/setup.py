"""Building one console world: database, key, demo data, clock, app, emulator, Bot.

Shared by the CLI (emulator.console) and the pytest harness
(emulator.harness), so both run exactly the same thing.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import App, build_app
from bot.clock import VirtualClock
from bot.keys import encryption_key as encryption_key
from bot.ratelimit import RateLimiter
from bot.settings import Settings, StaffMember, load_settings
from emulator.core import EmulatorCore
from emulator.persistence import SqlHistoryStore, create_tables, get_meta, set_meta
from emulator.server import EmulatorServer
from emulator.session import EmulatorSession
from emulator.store import StoredMessage
from emulator.wall import SimulatedWall
from storage.db import create_engine
from storage.migrate import upgrade

log = logging.getLogger("zapis.console")
CLOCK_KEY = "console_clock"


def interactive_db_url() -> str:
    """The persistent database of interactive sessions, under the user's data folder."""
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return f"sqlite+aiosqlite:///{base / 'zapis' / 'console.sqlite3'}"


def temporary_db_url() -> tuple[str, tempfile.TemporaryDirectory[str]]:
    folder = tempfile.TemporaryDirectory(prefix="zapis-console-")
    return f"sqlite+aiosqlite:///{Path(folder.name) / 'console.sqlite3'}", folder


def demo_staff() -> dict[int, StaffMember]:
    try:
        from storage.demo import DEMO_STAFF
    except ImportError:  # the demo world is optional for the emulator itself
        return {}
    return {int(uid): StaffMember.model_validate(v) for uid, v in DEMO_STAFF.items()}


@dataclass
class World:
    settings: Settings
    engine: AsyncEngine
    clock: VirtualClock
    app: App
    core: EmulatorCore
    bot: Bot
    server: EmulatorServer | None
    seeded: bool

    async def save_clock(self) -> None:
        await set_meta(self.engine, CLOCK_KEY, self.clock.now().isoformat())

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.core.flush()
            await self.save_clock()
        await self.bot.session.close()
        if self.server is not None:
            await self.server.stop()
        await self.app.close()


async def build_world(
    db_url: str,
    now: datetime | None,
    *,
    seed: bool = True,
    transport: str = "http",
    settings_overrides: dict[str, Any] | None = None,
    demo_history: bool = False,
) -> World:
    """``settings_overrides``: Settings fields over the environment (tests: e.g.
    ``{"limits": {"no_show_restriction": True}}``). ``demo_history``: on a freshly
    seeded database, also the demo patient 5001 with past visits (the interactive
    console only: it takes the first appointment numbers, which scripts expect)."""
    settings = load_settings(**{**(settings_overrides or {}), "database_url": db_url})
    settings.staff = {**settings.staff, **demo_staff()}
    key = encryption_key(settings, db_url)
    engine = create_engine(db_url)
    try:
        await upgrade(engine, encryption_key=key)
        await create_tables(engine)  # the emulator's own (emulator/persistence.py)
        start = now or datetime.now(UTC)
        stored = await get_meta(engine, CLOCK_KEY)
        if stored:
            start = max(start, datetime.fromisoformat(stored))
        clock = VirtualClock(start)
        seeded = False
        if seed:
            seeded = await _seed(engine, key, clock.now())
            if seeded and demo_history:
                await _seed_history(engine, key, clock.now())
        # The notifier paces its sends on the emulated world's wall clock: its waits are
        # skipped, and the emulator's limits judge on the same clock (emulator/wall.py).
        wall = SimulatedWall()
        pacing = RateLimiter(monotonic=wall.monotonic, sleep=wall.sleep)
        app = build_app(
            settings, clock, encryption_key=key, engine=engine, throttling=False, pacing=pacing
        )
    except BaseException:
        await engine.dispose()
        raise
    store = SqlHistoryStore(engine, StoredMessage.from_payload)
    core = EmulatorCore(now=clock.now, store=store, wall=wall)
    server: EmulatorServer | None = None
    default = DefaultBotProperties(parse_mode=ParseMode.HTML)
    if transport == "http":
        server = EmulatorServer(core)
        url = await server.start()
        session = AiohttpSession(api=TelegramAPIServer.from_base(url))
        bot = Bot(core.token, session=session, default=default)
    elif transport == "session":
        bot = Bot(core.token, session=EmulatorSession(core), default=default)
    else:
        raise ValueError(f"unknown transport {transport!r} (http or session)")
    app.attach_bot(bot)
    world = World(settings, engine, clock, app, core, bot, server, seeded)
    await world.save_clock()
    return world


async def _seed(engine: AsyncEngine, key: str, now: datetime) -> bool:
    try:
        from storage.demo import seed_demo
    except ImportError:
        return False
    from storage.crypto import PersonalDataCipher

    return await seed_demo(engine, PersonalDataCipher(key), now)


async def _seed_history(engine: AsyncEngine, key: str, now: datetime) -> bool:
    try:
        from storage.demo_history import seed_demo_history
    except ImportError:
        return False
    from storage.crypto import PersonalDataCipher

    return await seed_demo_history(engine, PersonalDataCipher(key), now)
