"""Shared fixtures: engines on SQLite (always) and PostgreSQL (when ZAPIS_TEST_PG_URL is set).

Each PostgreSQL test gets a database of its own (created and dropped here), so
several test runs on one server never see each other's rows.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.clock import VirtualClock
from storage.crypto import PersonalDataCipher
from storage.db import create_engine
from storage.migrate import upgrade
from storage.uow import UnitOfWorkFactory

PG_URL = os.environ.get("ZAPIS_TEST_PG_URL")
REDIS_URL = os.environ.get("ZAPIS_TEST_REDIS_URL")
TEST_KEY = "tR0xJ9l3b0h2Xx2mO3VbqQmQ0rW5mF8sVf0h8Lx1c2E="
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

requires_pg = pytest.mark.skipif(PG_URL is None, reason="ZAPIS_TEST_PG_URL is not set")
requires_redis = pytest.mark.skipif(REDIS_URL is None, reason="ZAPIS_TEST_REDIS_URL is not set")


@pytest.fixture
def cipher() -> PersonalDataCipher:
    return PersonalDataCipher(TEST_KEY)


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(NOW)


async def make_sqlite_engine(tmp_path: Path, *, inloop: bool | None = None) -> AsyncEngine:
    """inloop: None = the default driver (ZAPIS_SQLITE_DRIVER, else in-loop)."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'test.sqlite3'}", inloop=inloop)
    await upgrade(engine)
    return engine


async def make_pg_engine() -> tuple[AsyncEngine, str]:
    assert PG_URL is not None
    name = f"zapis_t_{secrets.token_hex(6)}"
    admin = create_async_engine(PG_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    engine = create_engine(make_url(PG_URL).set(database=name).render_as_string(False))
    await upgrade(engine)
    return engine, name


async def drop_pg_database(name: str) -> None:
    assert PG_URL is not None
    admin = create_async_engine(PG_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=requires_pg)])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A migrated, empty database on each engine the suite can reach.

    A module may add "sqlite-aiosqlite" (SQLite through aiosqlite's worker
    thread, whatever the default driver) with
    ``pytest.mark.parametrize("engine", [...], indirect=True)``.
    """
    if request.param in ("sqlite", "sqlite-aiosqlite"):
        inloop = False if request.param == "sqlite-aiosqlite" else None
        eng = await make_sqlite_engine(tmp_path, inloop=inloop)
        yield eng
        await eng.dispose()
    else:
        eng, name = await make_pg_engine()
        yield eng
        await eng.dispose()
        await drop_pg_database(name)


@pytest.fixture
async def sqlite_engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    eng = await make_sqlite_engine(tmp_path)
    yield eng
    await eng.dispose()


@pytest.fixture
def uow_factory(engine: AsyncEngine, cipher: PersonalDataCipher) -> UnitOfWorkFactory:
    return UnitOfWorkFactory(engine, cipher)
