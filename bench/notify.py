"""Notifier throughput: claim + render + send of due outbox rows, beside a bare send rate.

    python -m bench.notify [--rows 100000] [--pg URL] [--limited 3000] [--repeat 3]
    python -m bench.notify --rows 20000 [--pg URL] --profile FILE   # cProfile of one round

1. ``--rows`` due «booked» notifications (each renders an appointment with
   doctor, clinic and specialty) on SQLite, and on PostgreSQL when ``--pg``
   is given: the real Notifier (rate limiter off) sends them through an
   in-process EmulatorSession; printed beside a bare ``bot.send_message``
   loop through the same kind of session in the same run. ``--repeat`` rounds
   of (bare, SQLite, PostgreSQL) in turn, medians printed: wall rates on a
   shared machine swing with the others' load, so the CPU µs per row of this
   process (the in-process emulator included, as in the bare send) is printed
   beside them. Like bench/dialogue.py, it runs with the serving process's collector
   settings (bot/live.py: the start-up heap frozen, GC_THRESHOLDS).
2. ``--limited`` rows with the limiter on (30/s) through the HTTP emulator
   with Telegram's limits switched on: achieved rate and the number of 429s.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot.app import settle_heap
from bot.i18n import build_i18n
from bot.live import tune_collector
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


@dataclass
class Run:
    """One measured run: rows per second of wall time and CPU µs per row of this process
    (the in-process emulator's share included, as in the bare send)."""

    rate: float
    cpu_us: float
    sent: int


async def bare_rate(n: int) -> Run:
    core = EmulatorCore()
    bot = Bot(core.token, session=EmulatorSession(core))
    started, cpu = time.perf_counter(), time.process_time()
    for i in range(n):
        await bot.send_message(100_000 + i, f"Напоминание № {i}")
    run = Run(n / (time.perf_counter() - started), (time.process_time() - cpu) / n * 1e6, n)
    await bot.session.close()
    return run


async def outbox_rate(
    db_url: str | None, rows: int, profile: cProfile.Profile | None = None
) -> Run:
    now = datetime.now(UTC)
    name = None
    if db_url is None:
        tmp = tempfile.mkdtemp(prefix="zapis-bench-notify-")
        engine = create_engine(f"sqlite+aiosqlite:///{Path(tmp) / 'n.sqlite3'}")
        await upgrade(engine)
    else:
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
        started, cpu = time.perf_counter(), time.process_time()
        if profile is not None:  # the notifier's run only (not the world's setup)
            profile.enable()
        try:
            stats = await notifier.run(now, max_batches=10_000)
        finally:
            if profile is not None:
                profile.disable()
        elapsed = time.perf_counter() - started
        cpu_us = (time.process_time() - cpu) / max(stats.sent, 1) * 1e6
        await bot.session.close()
        return Run(stats.sent / elapsed, cpu_us, stats.sent)
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


def _median(runs: list[Run]) -> Run:
    by_rate = sorted(runs, key=lambda r: r.rate)
    by_cpu = sorted(r.cpu_us for r in runs)
    mid = len(runs) // 2
    return Run(by_rate[mid].rate, by_cpu[mid], by_rate[mid].sent)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--pg", help="postgresql+asyncpg://… (a server to create a database on)")
    parser.add_argument("--limited", type=int, default=3000)
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="rounds of bare, SQLite, PostgreSQL in turn; medians printed (a shared machine)",
    )
    parser.add_argument(
        "--profile",
        metavar="FILE",
        help="instead: one outbox round (PostgreSQL with --pg, else SQLite) under cProfile, "
        "the notifier's run only; stats written to FILE, the top printed",
    )
    args = parser.parse_args()
    # The notifier runs inside a serving process, which bot/live.py's prepare_app starts
    # with the start-up heap frozen and the collector's serving thresholds: without them
    # the bench paid ~4 full collections per 20,000-row round that production does not
    # (~40 µs per row, bench/README-notify.md pass 5). The bare send runs with them too.
    settle_heap()
    tune_collector()
    if args.profile:
        await outbox_rate(args.pg, min(args.rows, 2000))  # warm-up: imports, caches
        profile = cProfile.Profile()
        run = await outbox_rate(args.pg, args.rows, profile)
        profile.dump_stats(args.profile)
        print(f"{run.sent:,} rows, {run.cpu_us:.0f} µs CPU per row (profiled)")
        pstats.Stats(profile).sort_stats("tottime").print_stats(30)
        return

    runs: dict[str, list[Run]] = {"bare": [], "sqlite": [], "pg": []}
    for _ in range(args.repeat):  # alternated, so a burst of load hits all alike
        runs["bare"].append(await bare_rate(min(args.rows, 20_000)))
        runs["sqlite"].append(await outbox_rate(None, args.rows))
        if args.pg:
            runs["pg"].append(await outbox_rate(args.pg, args.rows))
    bare = _median(runs["bare"])
    print(
        f"bare bot.send_message via EmulatorSession: {bare.rate:,.0f}/s, "
        f"{bare.cpu_us:.0f} µs CPU per send (median of {args.repeat})"
    )
    for key, label in (("sqlite", "SQLite"), ("pg", "PostgreSQL")):
        if not runs[key]:
            continue
        run = _median(runs[key])
        print(
            f"{label}: {run.sent:,} notifications claimed+rendered+sent: {run.rate:,.0f}/s "
            f"({run.rate / bare.rate:.0%} of bare), {run.cpu_us:.0f} µs CPU per row "
            f"({bare.cpu_us / run.cpu_us:.0%} of bare's CPU rate); "
            f"all rounds: {', '.join(f'{r.rate:,.0f}/s' for r in runs[key])}"
        )
    if args.limited:
        rate, sent, refused = await limited_rate(args.limited)
        print(
            f"limiter on (30/s) via HTTP emulator with Telegram limits: {sent:,} sent, "
            f"{rate:.1f}/s, 429 answers: {refused}"
        )
    print(f"load average: {' '.join(os.getloadavg().__repr__().strip('()').split(', '))}")


if __name__ == "__main__":
    asyncio.run(main())
