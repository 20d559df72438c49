"""Notifier throughput: claim + render + send of due outbox rows, beside a bare send rate.

    python -m bench.notify [--rows 100000] [--pg URL] [--limited 3000]

1. ``--rows`` due «booked» notifications (each renders an appointment with
   doctor, clinic and specialty) on SQLite, and on PostgreSQL when ``--pg``
   is given: the real Notifier (rate limiter off) sends them through an
   in-process EmulatorSession; printed beside a bare ``bot.send_message``
   loop through the same kind of session in the same run.
2. ``--limited`` rows with the limiter on (30/s) through the HTTP emulator
   with Telegram's limits switched on: achieved rate and the number of 429s.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot.i18n import build_i18n
from bot.notifier import Notifier
from bot.ratelimit import RateLimiter
from emulator.core import EmulatorCore
from emulator.server import EmulatorServer
from emulator.session import EmulatorSession
from storage.crypto import PersonalDataCipher
from storage.db import create_engine
from storage.migrate import upgrade
from storage.uow import UnitOfWorkFactory
from tests.conftest import TEST_KEY, drop_pg_database, make_pg_engine
from tests.notify_world import bulk_booked, make_world


async def bare_rate(n: int) -> float:
    core = EmulatorCore()
    bot = Bot(core.token, session=EmulatorSession(core))
    started = time.perf_counter()
    for i in range(n):
        await bot.send_message(100_000 + i, f"Напоминание № {i}")
    rate = n / (time.perf_counter() - started)
    await bot.session.close()
    return rate


async def outbox_rate(db_url: str | None, rows: int) -> tuple[float, int]:
    now = datetime.now(UTC)
    name = None
    if db_url is None:
        tmp = tempfile.mkdtemp(prefix="zapis-bench-notify-")
        engine = create_engine(f"sqlite+aiosqlite:///{Path(tmp) / 'n.sqlite3'}")
        await upgrade(engine)
    else:
        import os

        os.environ["ZAPIS_TEST_PG_URL"] = db_url
        import tests.conftest as conftest

        conftest.PG_URL = db_url
        engine, name = await make_pg_engine()
    try:
        await make_world(engine, now)
        await bulk_booked(engine, now, rows)
        core = EmulatorCore()
        bot = Bot(core.token, session=EmulatorSession(core))
        notifier = Notifier(
            uow_factory=UnitOfWorkFactory(engine, PersonalDataCipher(TEST_KEY)),
            i18n=build_i18n("ru"),
            bot=bot,
            limiter=RateLimiter(enabled=False),
            batch_size=1000,
            concurrency=1,
        )
        started = time.perf_counter()
        stats = await notifier.run(now, max_batches=10_000)
        elapsed = time.perf_counter() - started
        await bot.session.close()
        return stats.sent / elapsed, stats.sent
    finally:
        await engine.dispose()
        if name is not None:
            await drop_pg_database(name)


async def limited_rate(rows: int) -> tuple[float, int, int]:
    now = datetime.now(UTC)
    tmp = tempfile.mkdtemp(prefix="zapis-bench-notify-")
    engine = create_engine(f"sqlite+aiosqlite:///{Path(tmp) / 'l.sqlite3'}")
    await upgrade(engine)
    await make_world(engine, now)
    await bulk_booked(engine, now, rows)
    core = EmulatorCore()
    core.set_rate_limits(True)
    server = EmulatorServer(core)
    api = await server.start()
    session = AiohttpSession(api=TelegramAPIServer.from_base(api))
    bot = Bot(core.token, session=session)
    notifier = Notifier(
        uow_factory=UnitOfWorkFactory(engine, PersonalDataCipher(TEST_KEY)),
        i18n=build_i18n("ru"),
        bot=bot,
        limiter=RateLimiter(30, 1.0),
        batch_size=500,
        concurrency=8,
    )
    started = time.perf_counter()
    stats = await notifier.run(now, max_batches=100)
    elapsed = time.perf_counter() - started
    refused = sum(1 for e in core.events if e.kind == "refused" and e.status == 429)
    await session.close()
    await server.stop()
    await engine.dispose()
    return stats.sent / elapsed, stats.sent, refused


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--pg", help="postgresql+asyncpg://… (a server to create a database on)")
    parser.add_argument("--limited", type=int, default=3000)
    args = parser.parse_args()

    bare = await bare_rate(min(args.rows, 20_000))
    print(f"bare bot.send_message via EmulatorSession: {bare:,.0f}/s")
    rate, sent = await outbox_rate(None, args.rows)
    print(
        f"SQLite: {sent:,} notifications claimed+rendered+sent: {rate:,.0f}/s ({rate / bare:.0%} of bare)"
    )
    if args.pg:
        rate, sent = await outbox_rate(args.pg, args.rows)
        print(f"PostgreSQL: {sent:,} notifications: {rate:,.0f}/s ({rate / bare:.0%} of bare)")
    if args.limited:
        rate, sent, refused = await limited_rate(args.limited)
        print(
            f"limiter on (30/s) via HTTP emulator with Telegram limits: {sent:,} sent, "
            f"{rate:.1f}/s, 429 answers: {refused}"
        )


if __name__ == "__main__":
    asyncio.run(main())
