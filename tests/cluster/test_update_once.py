"""A webhook update delivered again after it was done is skipped (storage/update_once.py):
Telegram resends an update whose answer came too late, also when the first delivery went
on and committed. The marker rides on the chat lock's two round trips."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import pytest
from aiogram.fsm.storage.base import DefaultKeyBuilder, StorageKey
from redis.asyncio import Redis

from storage.chat_lock import ChatLock, done_key
from storage.crypto import PersonalDataCipher
from storage.fsm_redis import BufferedRedisStorage
from storage.update_once import DONE_SECONDS, OnceInProcess, UpdateOnce, note_committed
from tests.conftest import REDIS_URL, TEST_KEY, requires_redis

KEY = StorageKey(bot_id=42, chat_id=7, user_id=7)


@pytest.fixture
async def redis_lock() -> AsyncIterator[ChatLock]:
    assert REDIS_URL is not None
    prefix = f"zapis_test_{secrets.token_hex(6)}"
    keys = DefaultKeyBuilder(prefix=prefix, with_bot_id=True, with_destiny=True)
    storage = BufferedRedisStorage(Redis.from_url(REDIS_URL), keys, PersonalDataCipher(TEST_KEY))
    yield ChatLock(storage.redis, keys, storage=storage)
    found = [k async for k in storage.redis.scan_iter(match=f"{prefix}:*")]
    if found:
        await storage.redis.delete(*found)
    await storage.close()


async def _runs(
    lock: UpdateOnce, update_id: int, *, fail: bool = False, commit: bool = False
) -> bool:
    """Whether the update's handler ran (as bot/middlewares/fsm_state.py calls it)."""
    ran = False
    try:
        async with lock.once(KEY, update_id) as fresh:
            if fresh:
                ran = True
                if commit:
                    note_committed()  # what bot/middlewares/database.py does after COMMIT
                if fail:
                    raise RuntimeError("a reply refused")
    except RuntimeError:
        pass
    return ran


async def _contract(lock: UpdateOnce) -> None:
    assert await _runs(lock, 1)
    assert not await _runs(lock, 1)  # delivered again after it was done: skipped
    assert await _runs(lock, 2)  # the chat's next update runs

    assert await _runs(lock, 3, fail=True)  # failed before its commit: nothing was kept,
    assert await _runs(lock, 3)  # so the retry runs it
    assert not await _runs(lock, 3)

    assert await _runs(lock, 4, fail=True, commit=True)  # committed, then a reply failed:
    assert not await _runs(lock, 4)  # done — the retry must not do it twice

    # The retry arrives while the first delivery still runs (its answer timed out): it
    # waits for the chat's lock, then finds the update done.
    started = asyncio.Event()
    finish = asyncio.Event()
    order: list[str] = []

    async def first() -> None:
        async with lock.once(KEY, 5) as fresh:
            assert fresh
            started.set()
            await finish.wait()
            order.append("first done")

    async def retry() -> None:
        await started.wait()
        async with lock.once(KEY, 5) as fresh:
            order.append("retry ran" if fresh else "retry skipped")

    running = [asyncio.create_task(first()), asyncio.create_task(retry())]
    await asyncio.sleep(0.2)
    assert order == []  # the retry waits for the lock
    finish.set()
    await asyncio.gather(*running)
    assert order == ["first done", "retry skipped"]


async def test_in_one_process_an_update_done_is_not_run_again() -> None:
    await _contract(OnceInProcess())


async def test_in_one_process_a_chat_lock_is_dropped_when_nobody_needs_it() -> None:
    once = OnceInProcess()
    for chat in range(100):
        async with once.once(StorageKey(bot_id=42, chat_id=chat, user_id=chat), chat):
            assert len(once._locks) == 1
    assert once._locks == {}  # aiogram's SimpleEventIsolation would hold 100 locks here
    inside = 0
    most = 0

    async def update(n: int) -> None:
        nonlocal inside, most
        async with once.lock(KEY):
            inside += 1
            most = max(most, inside)
            await asyncio.sleep(0.01)
            inside -= 1

    await asyncio.gather(*(update(n) for n in range(5)))
    assert most == 1 and once._locks == {}  # still one at a time, then nothing kept


async def test_in_one_process_a_waiter_cancelled_at_the_lock_leaves_nothing_behind() -> None:
    """An update cancelled while it waits for its chat (the process stopping, a timeout)
    neither keeps the chat's lock entry nor takes the lock from the one holding it."""
    once = OnceInProcess()
    holding = asyncio.Event()
    release = asyncio.Event()

    async def holder() -> None:
        async with once.once(KEY, 1) as fresh:
            assert fresh
            holding.set()
            await release.wait()

    async def waiter() -> None:
        async with once.once(KEY, 2):
            raise AssertionError("ran while the chat was held")

    first = asyncio.create_task(holder())
    await holding.wait()
    second = asyncio.create_task(waiter())
    await asyncio.sleep(0.05)
    second.cancel()
    with pytest.raises(asyncio.CancelledError):
        await second
    assert once._locks[KEY][1] == [1]  # only the holder counted
    release.set()
    await first
    assert once._locks == {}
    assert await _runs(once, 2)  # the cancelled update was not remembered as done
    assert not await _runs(once, 1)


def test_in_one_process_the_memory_is_bounded_and_expires() -> None:
    once = OnceInProcess(limit=3, seconds=10)
    for n in range(5):
        once._done[(1, n)] = 100.0
    assert not once._seen((1, 0), 101.0)  # the oldest beyond the limit were dropped
    assert once._seen((1, 4), 101.0)
    assert len(once._done) == 3
    assert not once._seen((1, 4), 111.0)  # and after `seconds`, all of them
    assert not once._done


@requires_redis
async def test_across_processes_an_update_done_is_not_run_again(redis_lock: ChatLock) -> None:
    await _contract(redis_lock)
    # Per bot: another bot's update 1 is another update.
    other = StorageKey(bot_id=43, chat_id=7, user_id=7)
    async with redis_lock.once(other, 1) as fresh:
        assert fresh


@requires_redis
async def test_the_marker_expires_and_costs_no_round_trip(redis_lock: ChatLock) -> None:
    sent: list[str] = []
    original = redis_lock.redis.execute_command

    async def counting(*args: object, **options: object) -> object:
        sent.append(str(args[0]))
        return await original(*args, **options)

    redis_lock.redis.execute_command = counting  # type: ignore[method-assign]
    async with redis_lock.once(KEY, 77):
        pass
    assert sent == ["EVAL", "EVAL"]  # the lock with the check, the release with the mark
    marker = done_key(redis_lock.key_builder, KEY, 77)
    ttl = await redis_lock.redis.ttl(marker)
    assert 0 < ttl <= DONE_SECONDS
    async with redis_lock.once(KEY, 77) as fresh:
        assert not fresh
    assert sent[3:] == [
        "EVAL"
    ]  # (after the TTL read) a skipped retry: one round trip, no lock left behind
    assert await redis_lock.redis.get(redis_lock.key_builder.build(KEY, "lock")) is None
