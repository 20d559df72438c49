"""Moscow-sized directory benchmark: are the three hot reads of finding a doctor fast enough?

Builds 660 clinics, 23,600 doctors and 14 days of slots (≈ 7.6 M, 30 % booked)
on SQLite (a file under /tmp, WAL, deleted afterwards) and, when a PostgreSQL URL
is given (``--pg URL`` or ``ZAPIS_TEST_PG_URL``), in a dedicated database
``zapis_bench`` that is dropped afterwards. Then it times, through the SAME
``DirectoryRepository`` methods the bot calls:

* ``earliest_10_free``  — earliest 10 free slots of a specialty in the region;
* ``clinic_doctors_nearest`` — a clinic's doctors of a specialty with each one's nearest slot;
* ``doctor_free_days``  — the calendar of a doctor's days with free slots (14 days);

and a bare ``SELECT 1`` round trip through the same engine and connection, so
the figures can be read as "query / SELECT 1" on any machine.

    .venv/bin/python bench/moscow.py                 # full size, SQLite (+ PostgreSQL if set)
    .venv/bin/python bench/moscow.py --scale 0.05    # quick
    .venv/bin/python bench/moscow.py --sqlite-only --queries 2000

Loading bypasses the ORM on purpose (sqlite3 executemany in one transaction,
asyncpg COPY on PostgreSQL), with the slot indexes dropped during the load and
rebuilt from storage/schema.py afterwards; the queries then run on exactly the
migrated schema.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot import lean_types as _lean_types  # noqa: F401, I001  (first, as `python -m bot` starts)

from sqlalchemy import text
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.schema import CreateIndex

from domain.directory import WorkDay, local_to_utc, slot_times
from storage.crypto import PersonalDataCipher
from storage.db import create_engine
from storage.demo_data import SPECIALTIES
from storage.schema import slots as slots_table
from storage.uow import UnitOfWorkFactory

TZ = "Europe/Moscow"
REGION = "msk"
DAYS = 14
FULL_CLINICS = 660
FULL_DOCTORS = 23_600
BOOKED_SHARE = 0.30
SLOT_MINUTES = 12
# Bench "now": a Monday morning in Moscow; the schedule starts that local day.
NOW = datetime(2026, 12, 7, 6, 30, tzinfo=UTC)  # 09:30 MSK
SPEC_WEIGHTS = {
    "therapist": 30,
    "pediatrician": 15,
    "surgeon": 6,
    "ophthalmologist": 6,
    "otolaryngologist": 6,
    "gynecologist": 7,
    "urologist": 4,
    "dentist": 8,
    "cardiologist": 5,
    "endocrinologist": 4,
    "neurologist": 5,
    "gastroenterologist": 4,
}
SLOT_COLUMNS = (
    "id",
    "role_id",
    "doctor_id",
    "clinic_id",
    "specialty_id",
    "region_id",
    "start_utc",
    "minutes",
    "kind",
    "status",
)
SLOT_INDEXES = [ix for ix in slots_table.indexes]
KEY = PersonalDataCipher.generate_key()


@dataclass
class World:
    clinics: list[tuple[Any, ...]]
    doctors: list[tuple[Any, ...]]
    roles: list[tuple[int, int, int, int]]  # role id, doctor, clinic, specialty
    schedules: list[tuple[Any, ...]]
    slot_count: int


def plan_world(scale: float, seed: int = 7) -> World:
    rng = random.Random(seed)
    n_clinics = max(1, round(FULL_CLINICS * scale))
    n_doctors = max(len(SPECIALTIES), round(FULL_DOCTORS * scale))
    streets = [
        "Тверская",
        "Профсоюзная",
        "Ленинский проспект",
        "Щёлковское шоссе",
        "Арбат",
        "Бутырская",
        "Варшавское шоссе",
        "Волгоградский проспект",
        "Мичуринский проспект",
    ]
    clinics = []
    for cid in range(1, n_clinics + 1):
        name = f"ГБУЗ «Городская поликлиника № {cid} ДЗМ»"
        address = f"г. Москва, {rng.choice(streets)}, д. {rng.randint(1, 180)}"
        clinics.append(
            (
                cid,
                REGION,
                name,
                address,
                "",
                "adult",
                "+7 (495) 000-00-00",
                "Пн–Пт 08:00–20:00",
                TZ,
                round(rng.uniform(3.5, 5.0), 1),
                f"{name} {address}".lower().replace("ё", "е"),
            )
        )
    codes = list(SPEC_WEIGHTS)
    weights = [SPEC_WEIGHTS[c] for c in codes]
    spec_id = {s["code"]: s["id"] for s in SPECIALTIES}
    doctors, roles = [], []
    for did in range(1, n_doctors + 1):
        doctors.append(
            (
                did,
                f"Врачов{did}",
                "Иван",
                "Иванович",
                "врач высшей категории",
                rng.randint(1, 40),
                0,
                0,
            )
        )
        # every specialty appears at least once, then by weight
        code = codes[did - 1] if did <= len(codes) else rng.choices(codes, weights)[0]
        roles.append((did, did, rng.randint(1, n_clinics), spec_id[code]))
    schedules = []
    sid = 0
    count = 0
    per_shift = {s: len(list(slot_times(_work(date(2026, 1, 5), s)))) for s in (0, 1)}
    first = NOW.astimezone(_zone()).date()
    for role_id, doctor_id, _c, _s in roles:
        for offset in range(DAYS):
            day = first + timedelta(days=offset)
            if day.weekday() == 6:
                continue
            shift = (day.toordinal() + doctor_id) % 2
            w = _work(day, shift)
            sid += 1
            schedules.append(
                (sid, role_id, day, w.start, w.end, w.break_start, w.break_end, SLOT_MINUTES)
            )
            count += per_shift[shift]
    return World(clinics, doctors, roles, schedules, count)


def _zone() -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(TZ)


def _work(day: date, shift: int) -> WorkDay:
    if shift == 0:
        return WorkDay(day, dtime(8), dtime(14), SLOT_MINUTES, dtime(11), dtime(11, 30))
    return WorkDay(day, dtime(14), dtime(20), SLOT_MINUTES, dtime(17), dtime(17, 30))


def iter_slots(world: World, *, as_text: bool, seed: int = 11) -> Iterator[tuple[Any, ...]]:
    """Every slot row in id order; datetimes as SQLAlchemy's SQLite text or naive datetimes."""
    rng = random.Random(seed)
    cache: dict[tuple[date, int], list[Any]] = {}
    roles = {r[0]: r for r in world.roles}
    slot_id = 0
    for _sid, role_id, day, *_rest in world.schedules:
        _r, doctor_id, clinic_id, specialty_id = roles[role_id]
        shift = (day.toordinal() + doctor_id) % 2
        starts = cache.get((day, shift))
        if starts is None:
            utc = [
                local_to_utc(day, t, TZ).replace(tzinfo=None) for t in slot_times(_work(day, shift))
            ]
            starts = [u.strftime("%Y-%m-%d %H:%M:%S.%f") for u in utc] if as_text else utc
            cache[(day, shift)] = starts
        for n, start in enumerate(starts):
            slot_id += 1
            status = "booked" if rng.random() < BOOKED_SHARE else "free"
            kind = "examination" if n % 3 == 2 else "consultation"
            yield (
                slot_id,
                role_id,
                doctor_id,
                clinic_id,
                specialty_id,
                REGION,
                start,
                SLOT_MINUTES,
                kind,
                status,
            )


def _holds(world: World, n: int) -> list[tuple[Any, ...]]:
    """Some unexpired holds of other users, so the "not held" check does real work."""
    rng = random.Random(3)
    ids = rng.sample(range(1, world.slot_count + 1), min(n, world.slot_count))
    return [
        (10_000_000 + i, sid, 1, (NOW + timedelta(minutes=5)).replace(tzinfo=None), "book")
        for i, sid in enumerate(ids)
    ]


def _base_rows(world: World) -> dict[str, tuple[list[str], list[tuple[Any, ...]]]]:
    return {
        "regions": (["id", "name_ru", "name_en", "tz"], [(REGION, "Москва", "Moscow", TZ)]),
        "specialties": (
            [
                "id",
                "code",
                "name_ru",
                "name_en",
                "referral_required",
                "min_age",
                "max_age",
                "sex",
                "prep_ru",
                "prep_en",
            ],
            [
                (
                    s["id"],
                    s["code"],
                    s["name_ru"],
                    s["name_en"],
                    s["referral_required"],
                    s["min_age"],
                    s["max_age"],
                    s["sex"],
                    s["prep_ru"],
                    s["prep_en"],
                )
                for s in SPECIALTIES
            ],
        ),
        "clinics": (
            [
                "id",
                "region_id",
                "name",
                "address",
                "district",
                "kind",
                "phone",
                "hours",
                "tz",
                "rating",
                "search_text",
            ],
            world.clinics,
        ),
        "doctors": (
            [
                "id",
                "surname",
                "name",
                "patronymic",
                "qualification",
                "experience_years",
                "rating_sum",
                "rating_count",
            ],
            world.doctors,
        ),
        "doctor_roles": (
            ["id", "doctor_id", "clinic_id", "specialty_id", "active"],
            [(*r, True) for r in world.roles],
        ),
        "schedules": (
            ["id", "role_id", "day", "start", "end", "break_start", "break_end", "slot_minutes"],
            world.schedules,
        ),
    }


def _sqlite_value(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(v, dtime):
        return v.strftime("%H:%M:%S.%f")
    if isinstance(v, date):
        return v.isoformat()
    return v


def load_sqlite(path: Path, world: World) -> None:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-1000000")
    db.execute("PRAGMA temp_store=MEMORY")
    for ix in SLOT_INDEXES:
        db.execute(f"DROP INDEX {ix.name}")
    db.execute("BEGIN")
    for table, (cols, rows) in _base_rows(world).items():
        quoted = ", ".join(f'"{c}"' for c in cols)
        q = f"INSERT INTO {table} ({quoted}) VALUES ({', '.join('?' * len(cols))})"
        db.executemany(q, ([_sqlite_value(v) for v in r] for r in rows))
    q = f"INSERT INTO slots ({', '.join(SLOT_COLUMNS)}) VALUES ({', '.join('?' * len(SLOT_COLUMNS))})"
    db.executemany(q, iter_slots(world, as_text=True))
    db.executemany(
        "INSERT INTO holds (user_id, slot_id, patient_id, expires_at, purpose) "
        "VALUES (?, ?, ?, ?, ?)",
        ([_sqlite_value(v) for v in h] for h in _holds(world, 2_000)),
    )
    db.execute("COMMIT")
    for ix in SLOT_INDEXES:
        db.execute(str(CreateIndex(ix).compile(dialect=sqlite_dialect.dialect())))
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


async def load_pg(engine: AsyncEngine, world: World) -> None:
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        apg: Any = raw.driver_connection
        for ix in SLOT_INDEXES:
            await apg.execute(f"DROP INDEX {ix.name}")
        for table, (cols, rows) in _base_rows(world).items():
            await apg.copy_records_to_table(table, records=rows, columns=cols)
        await apg.copy_records_to_table(
            "slots", records=iter_slots(world, as_text=False), columns=list(SLOT_COLUMNS)
        )
        await apg.copy_records_to_table(
            "holds",
            records=_holds(world, 2_000),
            columns=["user_id", "slot_id", "patient_id", "expires_at", "purpose"],
        )
        for ix in SLOT_INDEXES:
            pg = postgresql.dialect()  # type: ignore[no-untyped-call]
            await apg.execute(str(CreateIndex(ix).compile(dialect=pg)))
        await apg.execute("ANALYZE")
        await conn.commit()


@dataclass
class Result:
    name: str
    p50: float
    p95: float
    p99: float
    mean: float
    cpu: float  # this process's CPU per query (Python + the SQLite thread), immune to other load


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _time(name: str, n: int, warm: int, call: Callable[[int], Awaitable[Any]]) -> Result:
    for i in range(warm):
        await call(i)
    samples = []
    cpu = time.process_time()
    for i in range(n):
        t = time.perf_counter()
        await call(warm + i)
        samples.append((time.perf_counter() - t) * 1000)
    cpu_ms = (time.process_time() - cpu) * 1000 / n
    return Result(
        name,
        _pct(samples, 0.5),
        _pct(samples, 0.95),
        _pct(samples, 0.99),
        statistics.fmean(samples),
        cpu_ms,
    )


async def measure(engine: AsyncEngine, world: World, n: int) -> list[Result]:
    rng = random.Random(5)
    factory = UnitOfWorkFactory(engine, PersonalDataCipher(KEY))
    spec_ids = sorted({r[3] for r in world.roles})
    specs = [rng.choice(spec_ids) for _ in range(n * 2)]
    roles = [rng.choice(world.roles) for _ in range(n * 2)]
    warm = max(50, n // 10)
    results = []
    async with factory() as uow:
        d = uow.directory

        async def select_one(_i: int) -> Any:
            return (await uow.conn.execute(text("SELECT 1"))).scalar_one()

        async def earliest(i: int) -> Any:
            return await d.earliest_free(specs[i % len(specs)], REGION, NOW, limit=10)

        async def clinic_doctors(i: int) -> Any:
            _r, _d, clinic, spec = roles[i % len(roles)]
            return await d.doctors_in_clinic(clinic, spec, NOW)

        async def free_days(i: int) -> Any:
            _r, doctor, clinic, spec = roles[i % len(roles)]
            return await d.free_days(doctor, clinic, spec, NOW, TZ)

        results.append(await _time("SELECT 1 (baseline)", n, warm, select_one))
        results.append(await _time("earliest_10_free", n, warm, earliest))
        results.append(await _time("clinic_doctors_nearest", n, warm, clinic_doctors))
        results.append(await _time("doctor_free_days", n, warm, free_days))
        # sanity: the answers are real
        assert len(await earliest(0)) == 10
        assert await free_days(0)
    return results


async def counts(engine: AsyncEngine) -> dict[str, int]:
    out = {}
    async with engine.connect() as conn:
        for t in ("clinics", "doctors", "doctor_roles", "schedules", "slots"):
            out[t] = int((await conn.execute(text(f"SELECT count(*) FROM {t}"))).scalar_one())
        out["free slots"] = int(
            (
                await conn.execute(text("SELECT count(*) FROM slots WHERE status = 'free'"))
            ).scalar_one()
        )
    return out


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0]
    return f"{model}, {os.cpu_count()} cores (load average {load:.1f}), Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}"


def report(label: str, load_s: float, rows: dict[str, int], results: list[Result]) -> None:
    base = results[0].p50
    print(f"\n== {label} ==")
    print(f"load: {load_s:.1f} s; rows: " + ", ".join(f"{k} {v:,}" for k, v in rows.items()))
    print(
        f"{'metric':<26}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'mean ms':>9}"
        f"{'cpu ms':>9}{'query / SELECT 1 (p50)':>25}"
    )
    for r in results:
        print(
            f"{r.name:<26}{r.p50:>9.3f}{r.p95:>9.3f}{r.p99:>9.3f}{r.mean:>9.3f}"
            f"{r.cpu:>9.3f}{r.p50 / base:>25.1f}"
        )
    if label.startswith("SQLite"):
        worst = max(r.p95 for r in results[1:])
        print(
            f"target p95 <= 5 ms on SQLite: {'met' if worst <= 5 else 'MISSED'} "
            f"(worst p95 {worst:.3f} ms; load average now {os.getloadavg()[0]:.1f} "
            f"on {os.cpu_count()} cores)"
        )


async def run_sqlite(world: World, n: int, rss_users: int = 0, keep: bool = False) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="zapis-bench-", dir="/tmp"))
    try:
        path = tmp / "moscow.sqlite3"
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        await _upgrade(engine)
        await engine.dispose()
        t = time.perf_counter()
        load_sqlite(path, world)
        load_s = time.perf_counter() - t
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        try:
            rows = await counts(engine)
            size = sum(f.stat().st_size for f in tmp.iterdir()) / 2**20
            rows["file MiB"] = int(size)
            report("SQLite (file, WAL)", load_s, rows, await measure(engine, world, n))
        finally:
            await engine.dispose()
        if keep:  # --keep: a copy before any dialogue, to measure RSS again on (delete it yourself)
            shutil.copyfile(path, tmp / "pristine.sqlite3")
            print(
                f"kept: {tmp / 'pristine.sqlite3'} (RSS again on a copy of it: "
                f"{Path(__file__).name} --rss-child COPY --rss-key {KEY})",
                flush=True,
            )
        if rss_users:
            measure_rss(path, rss_users)
    finally:
        if keep:
            pass
        else:
            shutil.rmtree(tmp, ignore_errors=True)


async def _upgrade(engine: AsyncEngine) -> None:
    """Migrations, imported here: the RSS child (a bot process) never loads alembic."""
    from storage.migrate import upgrade

    await upgrade(engine)


def rss_kib() -> dict[str, int]:
    """VmRSS (now), VmHWM (peak), and of the resident pages now the anonymous ones (heap,
    Python objects, SQLite caches) and the file-backed ones (code of the interpreter and
    of the extension modules, memory-mapped files), KiB (Linux /proc)."""
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
            out[name] = int(value.split()[0])
    return out


async def rss_child(path: Path, users: int) -> None:
    """One bot process on the Moscow file: the app as bot/app.py builds it, whole dialogues
    (register + book, bench/dialogue.py's script) through its Dispatcher, the notifier
    sending the confirmations' files; then its resident memory."""
    from aiogram import Bot
    from aiogram.client.default import DefaultBotProperties
    from aiogram.enums import ParseMode

    import bench.dialogue as dl
    from bot.app import build_app
    from bot.clock import VirtualClock
    from bot.settings import load_settings

    before = rss_kib()
    url = f"sqlite+aiosqlite:///{path}"
    engine = create_engine(url)
    app = build_app(
        load_settings(database_url=url), VirtualClock(NOW), encryption_key=KEY, engine=engine,
        throttling=False,
    )  # fmt: skip
    session = dl.CountingSession()
    default = DefaultBotProperties(parse_mode=ParseMode.HTML)
    bot = Bot("7000000001:COUNTING" + "x" * 27, session=session, default=default)
    client = dl.CountingClient(session)
    app.attach_bot(bot)
    client.bot = bot
    bench = dl.Bench(app.dispatcher, bot, client, None)
    built = rss_kib()
    stats = dl.Stats()
    failed = 0
    for n in range(users):
        try:
            await bench.user(stats, dl.FIRST_USER + n, n)
        except RuntimeError as exc:  # a dialogue that did not go as scripted: counted
            failed += 1
            if failed == 1:
                print(f"  (a dialogue did not finish: {exc})", flush=True)
    talked = rss_kib()
    wall, cpu = time.perf_counter(), time.process_time()
    for job in app.jobs:
        await job.run(NOW + timedelta(minutes=1))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    after = rss_kib()
    await bot.session.close()
    await app.close()
    print(
        f"RSS of one bot process on the Moscow file: {after['VmRSS'] / 1024:.0f} MiB now, "
        f"peak {after['VmHWM'] / 1024:.0f} MiB (interpreter + imports before the app: "
        f"{before['VmRSS'] / 1024:.0f} MiB); {users} dialogues, {stats.booked} booked, "
        f"{failed} not finished; target <= 200 MB: "
        f"{'met' if after['VmHWM'] * 1024 <= 200e6 else 'NOT met'}",
        flush=True,
    )
    stages = {"imports": before, "app built": built, "after the dialogues": talked}
    stages["after the jobs"] = after
    print(
        "  RSS MiB: " + ", ".join(f"{k} {v['VmRSS'] / 1024:.0f}" for k, v in stages.items()),
        flush=True,
    )
    print(
        f"  the jobs (the notifier builds and sends the bookings' files): {wall:.2f} s, "
        f"{cpu:.2f} s of CPU; load average {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    print(
        "  of which anonymous / file-backed MiB: "
        + ", ".join(
            f"{k} {v.get('RssAnon', 0) / 1024:.0f} / {v.get('RssFile', 0) / 1024:.0f}"
            for k, v in stages.items()
        ),
        flush=True,
    )


def measure_rss(path: Path, users: int) -> None:
    """A fresh process (nothing of the loader's memory), as a deployed bot starts."""
    import subprocess

    done = subprocess.run(
        [sys.executable, __file__, "--rss-child", str(path), "--rss-users", str(users),
         "--rss-key", KEY],
        capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    print(done.stdout.strip() or done.stderr[-2000:], flush=True)


async def run_pg(url: str, world: World, n: int) -> None:
    name = "zapis_bench"
    admin = create_async_engine(url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_engine(make_url(url).set(database=name).render_as_string(False))
    try:
        await _upgrade(engine)
        t = time.perf_counter()
        await load_pg(engine, world)
        load_s = time.perf_counter() - t
        rows = await counts(engine)
        report("PostgreSQL", load_s, rows, await measure(engine, world, n))
    finally:
        await engine.dispose()
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


async def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--scale", type=float, default=1.0, help="fraction of Moscow (default 1)")
    ap.add_argument("--queries", type=int, default=2000, help="timed queries per metric")
    ap.add_argument("--sqlite-only", action="store_true")
    ap.add_argument(
        "--pg",
        default=os.environ.get("ZAPIS_TEST_PG_URL"),
        help="PostgreSQL URL (postgresql+asyncpg://...); default $ZAPIS_TEST_PG_URL",
    )
    ap.add_argument(
        "--rss-users", type=int, default=20, help="dialogues of the RSS process (0: no RSS)"
    )
    ap.add_argument("--keep", action="store_true", help="keep the SQLite file (path printed)")
    ap.add_argument("--rss-child", help=argparse.SUPPRESS)
    ap.add_argument("--rss-key", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.rss_child:
        global KEY
        KEY = args.rss_key
        await rss_child(Path(args.rss_child), args.rss_users)
        return 0
    world = plan_world(args.scale)
    print(f"machine: {machine()}")
    print(
        f"world: scale {args.scale}, {len(world.clinics):,} clinics, {len(world.doctors):,} "
        f"doctors, {DAYS} days, {world.slot_count:,} slots ({BOOKED_SHARE:.0%} booked); "
        f"{args.queries} timed queries per metric; now = {NOW.isoformat()}"
    )
    await run_sqlite(world, args.queries, args.rss_users, args.keep)
    if args.pg and not args.sqlite_only:
        await run_pg(args.pg, world, args.queries)
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
