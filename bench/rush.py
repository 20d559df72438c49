"""Rush benchmark: N users try to book M slots at once through the real booking service.

    .venv/bin/python bench/rush.py                      # 10,000 users, 1,000 slots, SQLite file (WAL)
    .venv/bin/python bench/rush.py --pg postgresql+asyncpg://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/rush.py --users 300 --slots 30   # the smoke size
    .venv/bin/python bench/rush.py --pg URL --processes 3   # issue 12: 3 processes at once

Each user (own account, own patient, created in bulk beforehand) picks a
random slot and calls ``domain.booking.book`` in its own unit of work (own
connection and transaction); a lost race (SlotTaken) is answered by tapping
one of the three alternatives offered, up to ``--retries`` times, as a
patient would. Prints bookings/s, attempts/s, the number of appointments
(must equal the number of slots), errors (must be 0) and the invariant
check. Baseline in the same process: as many trivial single-row UPDATE
transactions through the same engine and concurrency, printed as a ratio.
On PostgreSQL a fresh database is created and dropped.

``--processes N`` (PostgreSQL): the users are split over N worker processes
(each its own engine and pool, as N bot processes would be); each starts,
connects and then waits for one "go" so the measured time is the rush alone,
from "go" to the last worker's result.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event, insert, text  # noqa: E402
from sqlalchemy.engine import Connection, make_url  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine  # noqa: E402

from domain import booking  # noqa: E402
from domain.errors import SlotTaken  # noqa: E402
from storage.crypto import PersonalDataCipher  # noqa: E402
from storage.db import create_engine  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.schema import (  # noqa: E402
    clinics,
    doctor_roles,
    doctors,
    patients,
    regions,
    slots,
    specialties,
    users,
)
from storage.uow import UnitOfWorkFactory  # noqa: E402
from tests.storage.invariants import invariant_violations  # noqa: E402

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SLOTS_PER_DOCTOR = 20
CHUNK = 2000


def _naive(moment: datetime) -> datetime:
    return moment.replace(tzinfo=None)


async def seed(engine: AsyncEngine, n_users: int, n_slots: int) -> list[int]:
    """One region, clinic and specialty; n_slots/20 doctors; users with a patient each."""
    n_doctors = max(1, -(-n_slots // SLOTS_PER_DOCTOR))
    created = _naive(NOW)
    async with engine.begin() as conn:
        await conn.execute(
            insert(regions).values(id="msk", name_ru="Москва", name_en="Moscow", tz="Europe/Moscow")
        )
        await conn.execute(
            insert(clinics).values(
                id=1, region_id="msk", name="ГП №1", address="ул. 1", tz="Europe/Moscow"
            )
        )
        await conn.execute(
            insert(specialties).values(
                id=1, code="therapist", name_ru="Терапевт", name_en="Therapist"
            )
        )
        await conn.execute(
            insert(doctors),
            [{"id": d, "surname": f"Врач{d}", "name": "Пётр"} for d in range(1, n_doctors + 1)],
        )
        await conn.execute(
            insert(doctor_roles),
            [
                {"id": d, "doctor_id": d, "clinic_id": 1, "specialty_id": 1}
                for d in range(1, n_doctors + 1)
            ],
        )
        slot_rows = []
        for i in range(n_slots):
            doctor = i // SLOTS_PER_DOCTOR + 1
            start = NOW + timedelta(days=2, minutes=20 * (i % SLOTS_PER_DOCTOR))
            slot_rows.append(
                {
                    "id": i + 1,
                    "role_id": doctor,
                    "doctor_id": doctor,
                    "clinic_id": 1,
                    "specialty_id": 1,
                    "region_id": "msk",
                    "start_utc": _naive(start),
                    "minutes": 20,
                }
            )
        for k in range(0, len(slot_rows), CHUNK):
            await conn.execute(insert(slots), slot_rows[k : k + CHUNK])
        user_ids = list(range(100_001, 100_001 + n_users))
        for k in range(0, n_users, CHUNK):
            part = user_ids[k : k + CHUNK]
            await conn.execute(
                insert(users), [{"id": u, "created_at": created, "level": "standard"} for u in part]
            )
            await conn.execute(
                insert(patients),
                [
                    {
                        "id": u - 100_000,
                        "owner_user_id": u,
                        "relation": "self",
                        "created_at": created,
                    }
                    for u in part
                ],
            )
    return user_ids


async def rush(
    factory: UnitOfWorkFactory,
    user_ids: list[int],
    n_slots: int,
    concurrency: int,
    retries: int,
    seed_value: int,
) -> tuple[Counter[str], float]:
    rnd = random.Random(seed_value)
    first_choice = {u: rnd.randint(1, n_slots) for u in user_ids}
    policy = booking.BookingPolicy()
    gate = asyncio.Semaphore(concurrency)
    outcome: Counter[str] = Counter()

    async def one_user(user_id: int) -> None:
        slot_id = first_choice[user_id]
        for _ in range(retries + 1):
            outcome["attempts"] += 1
            async with gate, factory() as uow:
                try:
                    await booking.book(uow, NOW, user_id, user_id - 100_000, slot_id, policy)
                    await uow.commit()  # the entrypoint commits (services never do)
                except SlotTaken as taken:
                    outcome["taken"] += 1
                    if not taken.alternatives:
                        outcome["gave_up"] += 1
                        return
                    slot_id = rnd.choice(taken.alternatives)
                    continue
                except Exception as exc:
                    outcome[f"error:{type(exc).__name__}"] += 1
                    outcome["errors"] += 1
                    return
            outcome["booked"] += 1
            return
        outcome["gave_up"] += 1

    started = time.perf_counter()
    cpu = time.process_time()
    times = os.times()
    await asyncio.gather(*(one_user(u) for u in user_ids))
    outcome["cpu_ms"] += round((time.process_time() - cpu) * 1000)
    outcome["cpu_sys_ms"] += round((os.times().system - times.system) * 1000)
    return outcome, time.perf_counter() - started


def count_statements(engine: AsyncEngine, outcome: Counter[str]) -> Callable[[], None]:
    """Statements sent and transactions begun (each a round trip to PostgreSQL, beside the
    pool's one-round-trip ping per checkout), counted into ``outcome`` until the returned
    function is called."""

    def statement(*_: object) -> None:
        outcome["statements"] += 1

    def begin(conn: Connection) -> None:
        # (A read outside any transaction, AUTOCOMMIT, sends no BEGIN: not counted.)
        if conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            outcome["transactions"] += 1

    event.listen(engine.sync_engine, "before_cursor_execute", statement)
    event.listen(engine.sync_engine, "begin", begin)

    def stop() -> None:
        event.remove(engine.sync_engine, "before_cursor_execute", statement)
        event.remove(engine.sync_engine, "begin", begin)

    return stop


async def baseline(engine: AsyncEngine, count: int, concurrency: int, user_ids: list[int]) -> float:
    """``count`` one-row UPDATE transactions at the same concurrency; seconds taken.

    Each touches a different user's row (no hot row: on PostgreSQL one shared
    row would measure lock queueing, not the cost of a transaction).
    """
    gate = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with gate, engine.connect() as conn:
            await conn.execute(
                text("UPDATE users SET locale = 'ru' WHERE id = :id"),
                {"id": user_ids[i % len(user_ids)]},
            )
            await conn.commit()

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(count)))
    return time.perf_counter() - started


async def count_appointments(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        value = await conn.scalar(
            text("SELECT COUNT(*) FROM appointments WHERE status IN ('pending', 'confirmed')")
        )
        await conn.rollback()
    return int(value or 0)


async def worker(args: argparse.Namespace) -> int:
    """One of --processes: its share of the users, after a "go" line on stdin."""
    first, count = (int(x) for x in args.worker.split(":"))
    # As many connections as attempts in flight, no overflow: N workers hold exactly
    # N × concurrency connections (see README-rush.md «Connection pools»).
    engine = create_engine(
        args.url, pool_size=args.concurrency, max_overflow=0, pre_ping=args.pre_ping
    )
    factory = UnitOfWorkFactory(engine, PersonalDataCipher(PersonalDataCipher.generate_key()))
    warm = [await engine.connect() for _ in range(args.concurrency)]  # the pool open
    for conn in warm:
        await conn.close()
    print("ready", flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.readline)
    user_ids = list(range(100_001 + first, 100_001 + first + count))
    pending: Counter[str] = Counter()
    count_statements(engine, pending)
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
    outcome, seconds = await rush(
        factory, user_ids, args.slots, args.concurrency, args.retries, args.seed + first
    )
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(f"{args.profile}.{first}")
    outcome.update(pending)
    print(json.dumps({"outcome": dict(outcome), "seconds": seconds}), flush=True)
    # The connections stay open until the parent has read their backends' CPU.
    await loop.run_in_executor(None, sys.stdin.readline)
    await engine.dispose()
    return 0


async def rush_processes(
    url: str, args: argparse.Namespace, concurrency: int
) -> tuple[Counter[str], float]:
    """The users split over ``args.processes`` worker processes, started together."""
    n = args.processes
    share = -(-args.users // n)
    procs = []
    for i in range(n):
        first, count = i * share, min(share, args.users - i * share)
        procs.append(
            await asyncio.create_subprocess_exec(
                sys.executable,
                __file__,
                "--worker",
                f"{first}:{count}",
                "--url",
                url,
                "--slots",
                str(args.slots),
                "--concurrency",
                str(concurrency),
                "--retries",
                str(args.retries),
                "--seed",
                str(args.seed),
                *(["--pre-ping"] if args.pre_ping else []),
                *(["--profile", args.profile] if args.profile else []),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
            )
        )
    for proc in procs:
        assert proc.stdout is not None
        line = await proc.stdout.readline()
        if line.strip() != b"ready":  # its traceback went to our stderr
            raise RuntimeError(f"worker did not start: {line!r}")
    backends = await backend_pids(url)
    pg_cpu = backends_cpu(backends)
    started = time.perf_counter()
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write(b"go\n")
        await proc.stdin.drain()
    total: Counter[str] = Counter()
    for proc in procs:
        assert proc.stdout is not None
        line = await proc.stdout.readline()
        if not line.strip():  # a worker that died: say why instead of a JSON error
            await proc.wait()
            raise RuntimeError(f"worker failed with exit code {proc.returncode}")
        result = json.loads(line)
        total.update(result["outcome"])
    seconds = time.perf_counter() - started
    total["pg_cpu_ms"] = round((backends_cpu(backends) - pg_cpu) * 1000)
    total["pg_backends"] = len(backends)
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write(b"bye\n")
        await proc.stdin.drain()
        await proc.wait()
    return total, seconds


async def backend_pids(url: str) -> list[int]:
    """The PostgreSQL server processes serving this database (the workers' connections)."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                text(
                    "SELECT pid FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
            pids = [int(r.pid) for r in rows]
            await conn.rollback()
    finally:
        await engine.dispose()
    return pids


def backends_cpu(pids: list[int]) -> float:
    """User + system CPU seconds of these processes so far (/proc, same machine only)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (clock ticks)
    return total / os.sysconf("SC_CLK_TCK")


async def main(args: argparse.Namespace) -> int:
    if args.worker:
        return await worker(args)
    pg_name = None
    if args.pg:
        pg_name = f"zapis_rush_{secrets.token_hex(4)}"
        admin = create_async_engine(args.pg, isolation_level="AUTOCOMMIT")
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{pg_name}"'))
        await admin.dispose()
        url = make_url(args.pg).set(database=pg_name).render_as_string(False)
        concurrency = args.concurrency or 10
        label = "PostgreSQL"
    else:
        path = Path(args.db) if args.db else Path(tempfile.mkdtemp()) / "rush.sqlite3"
        if path.exists():
            path.unlink()
        url = f"sqlite+aiosqlite:///{path}"
        concurrency = args.concurrency or 4
        label = f"SQLite file (WAL) {path}, driver {args.driver}"
    engine = create_engine(
        url,
        pool_size=concurrency,
        max_overflow=0,
        inloop=args.driver == "inloop",
        pre_ping=args.pre_ping,
    )
    try:
        await upgrade(engine)
        t0 = time.perf_counter()
        user_ids = await seed(engine, args.users, args.slots)
        print(f"engine: {label}; concurrency {concurrency}")
        print(f"seeded {args.users} users, {args.slots} slots in {time.perf_counter() - t0:.2f} s")
        factory = UnitOfWorkFactory(engine, PersonalDataCipher(PersonalDataCipher.generate_key()))
        if args.processes > 1 and pg_name is not None:
            outcome, seconds = await rush_processes(url, args, concurrency)
            print(f"through {args.processes} processes, {concurrency} connections each")
        else:
            outcome = Counter()
            stop = count_statements(engine, outcome)
            found, seconds = await rush(
                factory, user_ids, args.slots, concurrency, args.retries, args.seed
            )
            stop()
            outcome.update(found)
        appointments = await count_appointments(engine)
        violations = await invariant_violations(engine)
        print(f"rush done in {seconds:.2f} s; measuring the baseline ...", flush=True)
        base_seconds = await baseline(engine, outcome["attempts"], concurrency, user_ids)
    finally:
        await engine.dispose()
        if pg_name is not None:
            admin = create_async_engine(args.pg, isolation_level="AUTOCOMMIT")
            async with admin.connect() as conn:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))
            await admin.dispose()

    attempts = outcome["attempts"]
    attempts_rate = attempts / seconds
    base_rate = attempts / base_seconds
    print(f"rush: {seconds:.2f} s ({'within' if seconds <= 10 else 'OVER'} 10 s)")
    print(f"attempts: {attempts} (taken {outcome['taken']}, gave up {outcome['gave_up']})")
    print(f"appointments: {appointments} (slots {args.slots})")
    print(f"errors: {outcome['errors']}")
    for key, value in sorted(outcome.items()):
        if key.startswith("error:"):
            print(f"  {key}: {value}")
    print(f"invariants: {violations if violations else 'ok'}")
    print(f"bookings/s: {outcome['booked'] / seconds:.0f}")
    print(f"attempts/s: {attempts_rate:.0f}")
    ping = 1 if args.pre_ping else 0
    trips = (outcome["statements"] + 2 * outcome["transactions"]) / attempts + ping
    print(
        f"per attempt: {outcome['statements'] / attempts:.2f} statements in "
        f"{outcome['transactions'] / attempts:.2f} transactions "
        f"({'+1 pool ping' if ping else 'no pool ping'}): {trips:.2f} round trips; "
        f"{outcome['cpu_ms'] / attempts:.2f} ms CPU in the bench process(es) "
        f"(of which system {outcome['cpu_sys_ms'] / attempts:.2f} ms)"
    )
    if outcome["pg_backends"]:
        print(
            f"PostgreSQL: {outcome['pg_cpu_ms'] / attempts:.2f} ms CPU per attempt in its "
            f"{outcome['pg_backends']} backends of this database "
            f"({outcome['pg_cpu_ms'] / 1000:.1f} s in all; WAL writer etc. not counted)"
        )
    retries = attempts - args.users
    print(f"retries of an offered alternative: {retries} ({retries / args.users:.2f} per user)")
    print(f"baseline one-row UPDATE transactions/s: {base_rate:.0f}")
    print(f"ratio attempts/baseline: {attempts_rate / base_rate:.2f}")
    ok = appointments == args.slots and outcome["errors"] == 0 and not violations
    print("RESULT: " + ("OK" if ok else "FAIL"))
    return 0 if ok else 1


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--slots", type=int, default=1_000)
    parser.add_argument("--pg", help="PostgreSQL URL (a fresh database is created on it)")
    parser.add_argument("--db", help="SQLite file path (default: a temporary file)")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=0,
        help="attempts (connections) in flight per process (default: SQLite 4, PostgreSQL 10)",
    )
    parser.add_argument(
        "--driver",
        choices=("inloop", "aiosqlite"),
        default="inloop",
        help="SQLite driver: in the loop thread (storage/sqlite_inloop.py) or aiosqlite",
    )
    parser.add_argument("--retries", type=int, default=5, help="alternatives tried per user")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--processes", type=int, default=1, help="worker processes (PostgreSQL)")
    parser.add_argument(
        "--pre-ping",
        action="store_true",
        help="the pool's ping before every checkout (storage/db.py's default; off here as in "
        "the bot's run modes, bot/live.py: a dropped connection retries the update instead)",
    )
    parser.add_argument(
        "--profile",
        metavar="FILE",
        help="--processes: cProfile each worker's rush, stats dumped to FILE.<first user>",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)  # FIRST:COUNT, internal
    parser.add_argument("--url", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse())))
