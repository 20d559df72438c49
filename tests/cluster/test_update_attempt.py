"""An update's attempt (bot/middlewares/update_attempt.py) and the Redis dialogue state
it buffers (storage/fsm_redis.py): one read and one write per update, nothing written
by a failed attempt, one replay when the connection died before the commit."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiogram.fsm.storage.base import DefaultKeyBuilder, StorageKey
from aiogram.types import Update
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.middlewares.update_attempt import UpdateAttempt
from storage.chat_lock import ChatLock
from storage.crypto import PersonalDataCipher
from storage.fsm import encrypted_json
from storage.fsm_redis import BufferedRedisStorage
from storage.uow import SqlUnitOfWork
from tests.cluster.harness import RedisServer
from tests.conftest import (
    REDIS_URL,
    TEST_KEY,
    drop_pg_database,
    make_pg_engine,
    make_sqlite_engine,
    requires_pg,
    requires_redis,
)

KEY = StorageKey(bot_id=42, chat_id=7, user_id=7)
UPDATE = Update(update_id=1)


@pytest.fixture
async def storage() -> AsyncIterator[BufferedRedisStorage]:
    assert REDIS_URL is not None
    prefix = f"zapis_test_{secrets.token_hex(6)}"
    keys = DefaultKeyBuilder(prefix=prefix, with_bot_id=True, with_destiny=True)
    made = BufferedRedisStorage(Redis.from_url(REDIS_URL), keys, PersonalDataCipher(TEST_KEY))
    yield made
    found = [k async for k in made.redis.scan_iter(match=f"{prefix}:*")]
    if found:
        await made.redis.delete(*found)
    await made.close()


def count_commands(redis: Redis) -> list[str]:
    """The commands sent one by one (a pipeline is one round trip, not counted here)."""
    sent: list[str] = []
    original = redis.execute_command

    async def counting(*args: Any, **options: Any) -> Any:
        sent.append(str(args[0]))
        return await original(*args, **options)

    redis.execute_command = counting  # type: ignore[method-assign]
    return sent


@requires_redis
async def test_an_update_reads_the_dialogue_once_and_writes_it_once_after_success(
    storage: BufferedRedisStorage,
) -> None:
    await storage.set_state(KEY, "Form:name")  # outside an attempt: written at once
    await storage.set_data(KEY, {"name": "Анна"})
    sent = count_commands(storage.redis)

    assert await storage.get_state(KEY) == "Form:name"  # the FSM middleware's read
    attempt = storage.begin()  # adopts that read: state and data came in one MGET
    assert await storage.get_data(KEY) == {"name": "Анна"}
    await storage.set_state(KEY, "Form:birth_date")
    await storage.update_data(KEY, {"birth": "1990-01-02"})
    assert await storage.get_state(KEY) == "Form:birth_date"  # its own writes, read back
    assert sent == ["MGET"]
    storage.end()
    await storage.apply(attempt)  # one MULTI … EXEC

    assert sent == ["MGET"]
    assert await storage.get_state(KEY) == "Form:birth_date"
    assert await storage.get_data(KEY) == {"name": "Анна", "birth": "1990-01-02"}
    # Stored as storage/fsm.py's Redis storage stores it: encrypted, readable by either.
    raw = await storage.redis.get(storage.key_builder.build(KEY, "data"))
    assert raw.startswith(b"gcm:") and "Анна".encode() not in raw
    _dumps, loads = encrypted_json(PersonalDataCipher(TEST_KEY))
    assert loads(raw) == {"name": "Анна", "birth": "1990-01-02"}


@requires_redis
async def test_a_failed_attempt_leaves_the_dialogue_where_it_was(
    storage: BufferedRedisStorage,
) -> None:
    await storage.set_state(KEY, "Form:name")
    attempt = storage.begin()
    await storage.set_state(KEY, None)
    await storage.set_data(KEY, {"half": "written"})
    storage.end()  # the update raised: no apply
    again = storage.begin(attempt)  # its replay sees what the first attempt read
    assert await storage.get_state(KEY) == "Form:name"
    assert await storage.get_data(KEY) == {}
    storage.end()
    assert await storage.get_state(KEY) == "Form:name"
    assert again.dirty == set()


@requires_redis
async def test_the_chat_lock_lease_runs_out_so_a_dead_holder_does_not_stall_the_chat(
    storage: BufferedRedisStorage,
) -> None:
    lock = ChatLock(storage.redis, storage.key_builder, lease=0.3)
    name = storage.key_builder.build(KEY, "lock")
    await storage.redis.set(name, "a killed process's token", px=300)  # never released
    async with lock.lock(KEY):  # waits for the lease, not for ever
        assert await storage.redis.get(name) != b"a killed process's token"
    assert await storage.redis.get(name) is None


def lost(invalidated: bool = True) -> DBAPIError:
    return DBAPIError("SELECT 1", {}, ConnectionError("gone"), connection_invalidated=invalidated)


@pytest.fixture
async def sqlite(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = await make_sqlite_engine(tmp_path)
    yield engine
    await engine.dispose()


async def test_an_update_whose_connection_died_before_commit_runs_once_more(
    sqlite: AsyncEngine,
) -> None:
    from storage.fsm import DatabaseStorage

    attempt = UpdateAttempt(sqlite, DatabaseStorage(sqlite))
    calls = 0

    async def handler(_event: Any, _data: dict[str, Any]) -> str:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise lost()
        return "answered"

    assert await attempt(handler, UPDATE, {}) == "answered"
    assert calls == 2


async def test_no_replay_once_a_commit_was_sent_or_for_other_errors(sqlite: AsyncEngine) -> None:
    from storage.fsm import DatabaseStorage

    attempt = UpdateAttempt(sqlite, DatabaseStorage(sqlite))
    calls = 0

    async def committed_then_lost(_event: Any, _data: dict[str, Any]) -> None:
        nonlocal calls
        calls += 1
        async with sqlite.connect() as conn:
            await conn.execute(text("SELECT 1"))
            await conn.commit()  # in doubt from here: it may have committed
        raise lost()

    with pytest.raises(DBAPIError):
        await attempt(committed_then_lost, UPDATE, {})
    assert calls == 1

    async def refused(_event: Any, _data: dict[str, Any]) -> None:
        nonlocal calls
        calls += 1
        raise lost(invalidated=False)  # e.g. a constraint: running it again changes nothing

    with pytest.raises(DBAPIError):
        await attempt(refused, UPDATE, {})
    assert calls == 2


@requires_pg
async def test_a_terminated_session_fails_the_update_with_the_connection_error() -> None:
    """What the replay needs from the unit of work: the lost connection's own error (not
    PendingRollbackError from the clean-up), and the connection handed back."""
    engine, name = await make_pg_engine()
    try:
        uow = SqlUnitOfWork(engine, PersonalDataCipher(TEST_KEY))
        with pytest.raises(DBAPIError) as failed:
            async with uow:
                pid = await uow.conn.scalar(text("SELECT pg_backend_pid()"))
                async with engine.connect() as admin:
                    await admin.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
                    await admin.commit()
                await uow.conn.execute(text("SELECT 1"))
        assert failed.value.connection_invalidated
        assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    finally:
        await engine.dispose()
        await drop_pg_database(name)


@requires_pg
async def test_without_pre_ping_one_dropped_connection_renews_the_whole_pool() -> None:
    """Why bot/live.py turns the ping at each checkout off: after the sessions were cut,
    the first update fails (and is run again by UpdateAttempt); every later checkout gets
    a fresh connection, not the next dead one."""
    from storage.db import create_engine

    admin_engine, name = await make_pg_engine()
    engine = create_engine(admin_engine.url.render_as_string(hide_password=False), pre_ping=False)
    try:
        held = [await engine.connect() for _ in range(3)]  # three pooled connections
        for conn in held:
            await conn.execute(text("SELECT 1"))
            await conn.close()
        async with admin_engine.connect() as admin:
            await admin.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :db AND pid <> pg_backend_pid()"
                ),
                {"db": name},
            )
            await admin.commit()
        failed = 0
        for _ in range(4):
            try:
                async with engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
            except DBAPIError as exc:
                assert exc.connection_invalidated
                failed += 1
        assert failed == 1
    finally:
        await engine.dispose()
        await admin_engine.dispose()
        await drop_pg_database(name)


@requires_redis
async def test_with_the_chat_lock_an_update_is_two_round_trips(
    storage: BufferedRedisStorage,
) -> None:
    """Lock + read in one Lua script, the writes + the release in one more."""
    await storage.set_state(KEY, "Form:name")
    await storage.set_data(KEY, {"name": "Анна"})
    lock = ChatLock(storage.redis, storage.key_builder, storage=storage)
    sent = count_commands(storage.redis)
    async with lock.lock(KEY):  # as aiogram's FSM middleware does
        assert await storage.get_state(KEY) == "Form:name"
        attempt = storage.begin()
        assert await storage.get_data(KEY) == {"name": "Анна"}
        await storage.set_state(KEY, None)
        await storage.set_data(KEY, {})
        storage.end()
        await storage.apply(attempt)
        assert sent == ["EVAL"]  # taken and read in one; nothing written yet
    assert sent == ["EVAL", "EVAL"]  # the writes went with the release: one script
    assert await storage.get_state(KEY) is None and await storage.get_data(KEY) == {}
    assert await storage.redis.get(storage.key_builder.build(KEY, "lock")) is None


async def test_a_redis_restart_is_waited_for_at_the_lock_and_not_raised_at_the_release(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Issue 12: an update arriving while Redis restarts waits for it (then goes on, on
    whatever dialogue the new Redis has); one whose release meets a dead Redis was done
    (committed, answered): a warning, not an error for the user."""
    if not RedisServer.available():
        pytest.skip("redis-server is not installed")
    server = RedisServer()
    await server.start()
    keys = DefaultKeyBuilder(prefix="zapis_test", with_bot_id=True, with_destiny=True)
    storage = BufferedRedisStorage(Redis.from_url(server.url), keys, PersonalDataCipher(TEST_KEY))
    lock = ChatLock(storage.redis, keys, storage=storage)
    try:
        await storage.set_state(KEY, "Form:name")
        async with lock.lock(KEY):
            await server.stop()  # gone while the update runs
        assert "Redis unreachable at the release" in caplog.text

        async def back_soon() -> None:
            await asyncio.sleep(0.5)
            await server.start()

        restarting = asyncio.create_task(back_soon())
        async with lock.lock(KEY):  # waits for it instead of failing the update
            assert restarting.done()
            assert await storage.get_state(KEY) is None  # a Redis without persistence
    finally:
        await storage.close()
        await server.stop()


@requires_redis
async def test_a_committed_update_keeps_its_dialogue_step_when_a_reply_is_refused(
    storage: BufferedRedisStorage, sqlite: AsyncEngine
) -> None:
    """The database has the new step (committed), then Telegram refused the reply: the
    Redis dialogue must move with it; an update that failed before its commit must not."""
    from bot.middlewares.update_attempt import mark_committed

    attempt = UpdateAttempt(sqlite, storage)
    await storage.set_state(KEY, "Booking:summary")

    async def refused_before_commit(_event: Any, _data: dict[str, Any]) -> None:
        await storage.set_state(KEY, "Booking:done")
        raise RuntimeError("query is too old")

    with pytest.raises(RuntimeError):
        await attempt(refused_before_commit, UPDATE, {})
    assert await storage.get_state(KEY) == "Booking:summary"

    async def refused_after_commit(_event: Any, _data: dict[str, Any]) -> None:
        await storage.set_state(KEY, "Booking:done")
        mark_committed()  # what bot/middlewares/database.py does after uow.commit()
        raise RuntimeError("query is too old")

    with pytest.raises(RuntimeError):
        await attempt(refused_after_commit, UPDATE, {})
    assert await storage.get_state(KEY) == "Booking:done"


@requires_redis
async def test_a_slow_update_keeps_its_chat_and_a_lost_lease_writes_nothing(
    storage: BufferedRedisStorage,
) -> None:
    """The lease is renewed while the update runs; a holder whose lock is gone anyway
    (Redis lost it) must not overwrite what the chat's newer holder wrote."""
    lock = ChatLock(storage.redis, storage.key_builder, storage=storage, lease=0.3)
    name = storage.key_builder.build(KEY, "lock")
    async with lock.lock(KEY):
        await asyncio.sleep(0.8)  # longer than the lease: renewed, still ours
        assert await storage.redis.get(name) is not None
    assert await storage.redis.get(name) is None

    await storage.set_state(KEY, "Newer:step")
    async with lock.lock(KEY):
        attempt = storage.begin()
        await storage.set_state(KEY, "Old:step")
        await storage.apply(attempt)  # deferred to the release
        await storage.redis.set(name, "another process's token", px=5000)  # lease lost
    assert await storage.get_state(KEY) == "Newer:step"
    await storage.redis.delete(name)
