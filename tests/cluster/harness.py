"""A real cluster for tests and bench/cluster.py: N bot processes, proxy, emulated Telegram.

The bot processes are ``python -m bot webhook`` exactly as deployed; this
process plays Telegram (emulator.cluster.TelegramSide: the Bot API server and
webhook delivery with Telegram's retries and per-chat order) and the users.
Users are created registered (account + own patient, encrypted with the
tests' key) so the runs spend their updates on booking, cancelling and moving.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import secrets
import shutil
import socket
import tempfile
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.cluster.processes import Cluster, ClusterConfig
from emulator.cluster import TelegramSide
from storage.crypto import PersonalDataCipher
from storage.demo import seed_demo
from storage.migrate import upgrade
from storage.schema import patients, users
from tests.conftest import TEST_KEY, drop_pg_database, make_pg_engine
from tests.storage.builders import sealed_person

BOOK = "Записаться к врачу"
MY_APPOINTMENTS = "Мои записи"
CONFIRMED = "Вы записаны"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_ports(n: int) -> int:
    """The first of ``n`` consecutive free ports (bot processes listen on base + i)."""
    for _ in range(50):
        # Below Linux's ephemeral range (32768+), where port-0 listeners and outgoing
        # connections would take a port between this check and the process's bind.
        base = random.randint(20_000, 32_000 - n)
        try:
            for port in range(base, base + n):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
    raise RuntimeError("no free port range")


class RedisServer:
    """A redis-server of the test's own, on its own port, without persistence —
    so a restart loses every dialogue state, the worst case."""

    def __init__(self) -> None:
        self.port = free_port()
        self.proc: asyncio.subprocess.Process | None = None
        self.dir = tempfile.mkdtemp(prefix="zapis-redis-")

    @staticmethod
    def available() -> bool:
        return shutil.which("redis-server") is not None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            "redis-server",
            "--port",
            str(self.port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            self.dir,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        async with asyncio.timeout(10):
            while True:
                with contextlib.suppress(OSError):
                    _r, w = await asyncio.open_connection("127.0.0.1", self.port)
                    w.close()
                    return
                await asyncio.sleep(0.05)

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()


@dataclass
class ClusterRun:
    side: TelegramSide
    cluster: Cluster
    engine: AsyncEngine
    db_name: str
    outcomes: Counter[str] = field(default_factory=Counter)

    async def add_users(self, first: int, n: int) -> list[int]:
        """``n`` registered users (account, consent, own patient) from id ``first``."""
        now = datetime.now(UTC).replace(tzinfo=None)
        ids = list(range(first, first + n))
        person = sealed_person("Иванов", "Иван", date(1985, 4, 12))
        async with self.engine.begin() as conn:
            await conn.execute(
                insert(users),
                [
                    {
                        "id": u,
                        "created_at": now,
                        "consent_at": now,
                        "locale": "ru",
                        "level": "standard",
                    }
                    for u in ids
                ],
            )
            await conn.execute(
                insert(patients),
                [
                    {
                        "owner_user_id": u,
                        "relation": "self",
                        "sex": "M",
                        "created_at": now,
                        **person,
                    }
                    for u in ids
                ],
            )
        return ids


@contextlib.asynccontextmanager
async def running_cluster(
    redis_url: str | None,
    processes: int = 3,
    *,
    log_dir: Path | None = None,
    sqlite_path: Path | None = None,
    profile_dir: Path | None = None,
    reuse_port: bool = False,
    extra_env: dict[str, str] | None = None,
) -> AsyncIterator[ClusterRun]:
    """A fresh PostgreSQL database with the demo world, the emulated Telegram, N processes.

    ``sqlite_path`` (bench/cluster.py's single-process figure): that SQLite file instead,
    and dialogue state in it too when ``redis_url`` is None. ``reuse_port``: the processes
    share one port (SO_REUSEPORT) instead of the round-robin proxy.
    """
    name = ""
    if sqlite_path is not None:
        from storage.db import create_engine

        engine = create_engine(f"sqlite+aiosqlite:///{sqlite_path}")
    else:
        engine, name = await make_pg_engine()
    side = TelegramSide(
        token=f"7000000001:TEST-{secrets.token_hex(8)}", keep_events=False, history_limit=None
    )
    cluster: Cluster | None = None
    try:
        await upgrade(engine, encryption_key=TEST_KEY)
        await seed_demo(engine, PersonalDataCipher(TEST_KEY), datetime.now(UTC))
        api = await side.start()
        config = ClusterConfig(
            database_url=engine.url.render_as_string(hide_password=False),
            redis_url=redis_url or "",
            encryption_key=TEST_KEY,
            bot_token=side.core.token,
            telegram_api_url=api,
            secret=secrets.token_urlsafe(16),
            base_port=(base := free_ports(processes + 1)),
            log_dir=log_dir or Path(tempfile.mkdtemp(prefix="zapis-cluster-logs-")),
            profile_dir=profile_dir,
            extra_env=dict(extra_env or {}),
        )
        shared = base + processes if reuse_port else None
        cluster = Cluster(config, processes, shared_port=shared)
        await cluster.start()
        await side.wait_for_webhook(10)
        yield ClusterRun(side, cluster, engine, name)
    finally:
        if cluster is not None:
            # A test's end need not wait for a graceful stop; a profile is written at exit.
            await cluster.stop(timeout=30 if profile_dir else 3)
        await side.stop()
        await engine.dispose()
        if name:
            await drop_pg_database(name)


# --------------------------------------------------------------------------- the users


async def book(side: TelegramSide, uid: int, n: int) -> str:
    await side.text(uid, BOOK)
    await side.press(uid, "Терапевт")
    await side.press_data(uid, "bc:", n)
    await side.press_data(uid, "bd:", n // 3, skip=("bd:0", "bd:-"))
    await side.press_data(uid, "by:", n // 7)
    await side.press_data(uid, "bt:", n // 5)
    await side.press(uid, "Подтвердить")
    return "booked" if CONFIRMED in side.last_text(uid) else "not booked"


async def cancel(side: TelegramSide, uid: int) -> str:
    await side.text(uid, MY_APPOINTMENTS)
    await side.press_data(uid, "ao:", 0)
    await side.press(uid, "Отменить запись")
    await side.press(uid, "Да, отменить")
    return "cancelled" if "отменена" in side.last_text(uid) else "not cancelled"


async def move(side: TelegramSide, uid: int, n: int) -> str:
    await side.text(uid, MY_APPOINTMENTS)
    await side.press_data(uid, "ao:", 0)
    await side.press(uid, "Перенести")  # the booking wizard at the visit's calendar
    await side.press_data(uid, "by:", n + 1)
    await side.press_data(uid, "bt:", n)
    await side.press(uid, "Подтвердить")
    return "moved" if "Запись перенесена" in side.last_text(uid) else "not moved"


async def one_user(run: ClusterRun, uid: int, n: int, *, again: int = 0) -> None:
    """Book; then a third cancel and a third move. A step the bot did not offer
    (a lost race, a dialogue cut by a fault) ends the user's run — counted, not
    raised — or, with ``again``, makes the user start over from the menu (as a
    person would), that many times."""
    side, out = run.side, run.outcomes
    step = "book"
    try:
        out[await book(side, uid, n)] += 1
        if n % 3 == 0:
            step = "cancel"
            out[await cancel(side, uid)] += 1
        elif n % 3 == 1:
            step = "move"
            out[await move(side, uid, n)] += 1
    except LookupError:
        out[f"stopped in {step}"] += 1
        if again > 0:
            out["started over"] += 1
            await one_user(run, uid, n + 1, again=again - 1)
    except TimeoutError:
        out[f"timed out in {step}"] += 1


async def run_users(
    run: ClusterRun, ids: list[int], concurrency: int = 100, *, again: int = 0
) -> None:
    gate = asyncio.Semaphore(concurrency)

    async def go(n: int, uid: int) -> None:
        async with gate:
            await one_user(run, uid, n, again=again)

    await asyncio.gather(*(go(n, uid) for n, uid in enumerate(ids)))


# --------------------------------------------------------------------------- the checks


async def check_after(run: ClusterRun, ids: list[int], *, in_flight: int = 0) -> list[str]:
    """What must hold after any fault; returns the violations (empty: all good).

    ``in_flight``: how many confirmations may arrive twice (a process killed after
    its commit and before its answer: Telegram's retry runs the update again).
    """
    problems: list[str] = []
    side = run.side
    await side.delivery.wait_idle(60)
    lost = side.delivery.submitted_ids - side.delivery.delivered_ids
    if lost:
        problems.append(f"updates never answered 2xx: {len(lost)}")
    for uid in ids:
        for message in side.texts(uid):
            if "Traceback" in message or "Error:" in message:
                problems.append(f"@{uid} saw {message[:120]!r}")
    return problems + await check_database(run, ids, in_flight=in_flight)


async def check_database(run: ClusterRun, ids: list[int], *, in_flight: int = 0) -> list[str]:
    """What must hold in the database at any moment, even while users are still booking:
    no slot twice, every booking's confirmation row sent or pending (not failed, not
    lost), no confirmation said twice beyond ``in_flight``, no lease left hanging."""
    from tests.storage.invariants import invariant_violations

    problems: list[str] = []
    side = run.side
    violations = await invariant_violations(run.engine)
    if violations:
        problems.append(f"booking invariants: {violations}")
    async with run.engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT a.number, a.user_id, o.state, o.last_error FROM appointments a "
                    "LEFT JOIN outbox o ON o.idem_key = CONCAT('appt', CHR(58), a.id, CHR(58), 'booked') "
                    "WHERE a.user_id BETWEEN :lo AND :hi"
                ),
                {"lo": min(ids), "hi": max(ids)},
            )
        ).all()
        stuck = await conn.scalar(
            text(
                "SELECT COUNT(*) FROM outbox WHERE state = 'pending' AND claimed_until IS NOT NULL"
                " AND claimed_until < now() AT TIME ZONE 'UTC' - interval '5 minutes'"
            )
        )
    twice = 0
    for number, uid, state, last_error in rows:
        if state is None:
            continue  # the new appointment of a move: confirmed by the move's own notice
        if state not in ("sent", "pending", "cancelled"):
            problems.append(f"{number}: its confirmation row is {state!r} ({last_error})")
        in_chat = sum(1 for m in side.texts(uid) if number in m and CONFIRMED in m)
        if in_chat > 1:
            twice += 1
    if twice > in_flight:
        problems.append(f"{twice} confirmations said twice (at most {in_flight} in flight)")
    if stuck:
        problems.append(f"{stuck} outbox rows claimed by a lease long over")
    return problems
