"""``python -m bot cluster --processes 3`` (``./dev.sh cluster``): a scaled bot to talk to.

The production topology on one machine, with the emulator in Telegram's place:

    you ⇄ emulated Telegram (python -m emulator.cluster, Bot API on :8081)
             │ webhook (retries, per-chat order)
             ▼
          proxy (:8090, this process; fewest in flight first)
             ├──▶ python -m bot webhook (:8091) ─┐
             ├──▶ python -m bot webhook (:8092) ─┼─▶ PostgreSQL (data, outbox) + Redis (FSM)
             └──▶ python -m bot webhook (:8093) ─┘

Steps: check ZAPIS_DATABASE_URL (PostgreSQL) and ZAPIS_REDIS_URL answer; migrate;
load the demo world into an empty database; start the emulator (in the
foreground: it reads what you type); start the proxy and the N bot processes
(logs in .cluster/bot-N.log); stop everything when the emulator exits (Ctrl-D).
This module only starts processes by name — it imports nothing of the emulator
(the layers: emulator above bot).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import secrets
import sys
from datetime import UTC, datetime
from pathlib import Path

from bot.cluster.processes import Cluster, ClusterConfig
from bot.settings import ConfigError, Settings, StartupError
from bot.startup import step

DEFAULT_LOG_DIR = Path(".cluster")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--processes", type=int, default=3, help="bot processes (default 3)")
    parser.add_argument("--api-port", type=int, default=8081, help="the emulated Bot API")
    parser.add_argument("--proxy-port", type=int, default=8090, help="the one webhook address")
    parser.add_argument(
        "--reuse-port",
        action="store_true",
        help="no proxy: the processes share --proxy-port themselves (SO_REUSEPORT)",
    )
    parser.add_argument("--lang", default="ru", help="the simulated users' app language")


async def check_services(settings: Settings) -> None:
    """PostgreSQL and Redis answer, before anything is started."""
    if not settings.database_url.startswith("postgresql"):
        raise ConfigError(
            "configuration error: the cluster needs PostgreSQL: set ZAPIS_DATABASE_URL="
            "postgresql+asyncpg://user@host:5432/db (SQLite is for one process)"
        )
    if not settings.redis_url:
        raise ConfigError(
            "configuration error: the cluster needs Redis for dialogue state shared by the "
            "processes: set ZAPIS_REDIS_URL=redis://127.0.0.1:6379/0"
        )
    from redis.asyncio import Redis

    async with step("cannot use the database (ZAPIS_DATABASE_URL)"):
        await create_database_if_missing(settings.database_url)
    redis = Redis.from_url(settings.redis_url)
    try:
        async with step("cannot reach Redis (ZAPIS_REDIS_URL)"):
            await redis.ping()
    finally:
        await redis.aclose()


async def create_database_if_missing(url: str) -> bool:
    """A newcomer's first run: the database named in the URL is created (True) if absent."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url
    from sqlalchemy.ext.asyncio import create_async_engine

    parsed = make_url(url)
    name = parsed.database or "postgres"
    admin = create_async_engine(
        parsed.set(database="postgres").render_as_string(hide_password=False),
        isolation_level="AUTOCOMMIT",
    )
    try:
        async with admin.connect() as conn:
            found = await conn.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            )
            if found:
                return False
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
            return True
    finally:
        await admin.dispose()


async def prepare_database(settings: Settings, key: str) -> bool:
    """Migrate and seed the demo world (only into an empty database); True if seeded."""
    from storage.crypto import PersonalDataCipher
    from storage.db import create_engine
    from storage.demo import seed_demo
    from storage.demo_history import seed_demo_history
    from storage.migrate import upgrade

    engine = create_engine(settings.database_url)
    try:
        async with step("cannot use the database (ZAPIS_DATABASE_URL)"):
            await upgrade(engine, encryption_key=key)
        now = datetime.now(UTC)
        seeded = await seed_demo(engine, PersonalDataCipher(key), now)
        if seeded:  # @5001, registered with past visits, as the interactive console has her
            await seed_demo_history(engine, PersonalDataCipher(key), now)
        return seeded
    finally:
        await engine.dispose()


def demo_staff_env() -> dict[str, str]:
    """The demo's staff accounts (as the console has them), for every process."""
    try:
        from storage.demo import DEMO_STAFF
    except ImportError:
        return {}
    return {"ZAPIS_STAFF": json.dumps({str(k): v for k, v in DEMO_STAFF.items()})}


async def run_cluster(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import resolve_encryption_key

    if args.processes < 1:
        raise ConfigError("configuration error: --processes must be at least 1")
    logging.getLogger("alembic").setLevel(logging.WARNING)  # not a line per migration here
    await check_services(settings)
    key = resolve_encryption_key(settings, dev_key_file=DEFAULT_LOG_DIR / "encryption.key")
    seeded = await prepare_database(settings, key)
    print("demo world loaded" if seeded else "database already has data; left as it is")
    assert settings.redis_url is not None
    token = f"7000000001:CLUSTER-{secrets.token_hex(12)}"
    api_url = f"http://127.0.0.1:{args.api_port}"
    emulator = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "emulator.cluster",
        "--port",
        str(args.api_port),
        "--token",
        token,
        "--lang",
        args.lang,
    )  # inherits the terminal: it prints the chat and reads what you type
    config = ClusterConfig(
        database_url=settings.database_url,
        redis_url=settings.redis_url,
        encryption_key=key,
        bot_token=token,
        telegram_api_url=api_url,
        secret=secrets.token_urlsafe(24),
        base_port=args.proxy_port + 1,
        log_dir=DEFAULT_LOG_DIR,
        log_level=settings.log_level,
        extra_env=demo_staff_env(),
    )
    if args.reuse_port:
        cluster = Cluster(config, args.processes, shared_port=args.proxy_port)
    else:
        cluster = Cluster(config, args.processes, proxy_port=args.proxy_port)
    emulator_done = asyncio.create_task(emulator.wait())
    starting = asyncio.create_task(cluster.start())
    try:
        await asyncio.wait({emulator_done, starting}, return_when=asyncio.FIRST_COMPLETED)
        if not starting.done():  # you quit (Ctrl-D) before every process was up
            starting.cancel()
            with contextlib.suppress(BaseException):
                await starting
            return await emulator_done
        try:
            starting.result()
        except RuntimeError as exc:  # a process did not come up: its log says why
            raise StartupError(f"start-up error: {exc}") from None
        print(
            f"{args.processes} bot processes "
            f"{'sharing' if args.reuse_port else 'behind'} "
            f"http://127.0.0.1:{args.proxy_port}/telegram "
            f"(pids {', '.join(map(str, cluster.pids()))}; logs in {DEFAULT_LOG_DIR}/). "
            "Kill one (kill -9 PID) and keep talking: the others answer.\n"
            "Try @5001 (a registered demo patient) then /menu — or /start to register "
            "as yourself (@1001).",
            flush=True,
        )
        return await emulator_done
    finally:
        if emulator.returncode is None:
            emulator.terminate()
            with contextlib.suppress(Exception):
                await emulator.wait()
        await cluster.stop()
