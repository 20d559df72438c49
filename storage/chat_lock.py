"""One update of a chat at a time across the processes of a cluster: a Redis lock.

Telegram sends a chat's next update only after the previous one was answered,
so the lock matters only when an update is sent again while its first delivery
still runs (a timeout) or its process died holding the lock — hence a short
lease (aiogram's RedisEventIsolation keeps it for 60 s, and a chat whose
process was killed waited that long). With the buffered dialogue storage
(storage/fsm_redis.py) the lock also carries the dialogue: taken and read in
one round trip, written and released in one more.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiogram.fsm.storage.base import BaseEventIsolation, KeyBuilder, StorageKey
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from storage.fsm_redis import (
    Attempt,
    BufferedRedisStorage,
    defer_writes,
    end_deferral,
    forget_locked_read,
)
from storage.update_once import DONE_SECONDS, watching

log = logging.getLogger("zapis.fsm")

# The lease of a chat's lock. Telegram sends a chat's next update only after the previous
# one was answered, so the lock matters only when an update is sent again while its first
# delivery still runs (a timeout) or its process died holding the lock. Shorter than the
# webhook's timeout (the emulator's 15 s; Telegram's is longer), so a retry that finds a
# dead process's lock gets it in time instead of timing out and being sent a third time.
CHAT_LOCK_SECONDS = 10.0

# Take the lock and read the chat's dialogue in one round trip (nothing is read without it);
# with a fourth key, an update already done (its marker, storage/update_once.py) is {2}:
# checked in the same step as the take, so a retry waiting for the lock sees the marker
# its first delivery wrote with the release.
_ACQUIRE = """
if #KEYS == 4 and redis.call('exists', KEYS[4]) == 1 then
  return {2}
end
if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {1, redis.call('mget', KEYS[2], KEYS[3])}
end
return {0}
"""
# Release only our own lock (a lease that ran out may be someone else's now), and write
# the update's dialogue only while it is ours: a holder whose lease ran out must not
# overwrite the step a newer holder wrote. KEYS: the lock, then the written keys; ARGV:
# the token, then per written key "s"/"d" (set/delete), the value, seconds to live (0: none).
_RELEASE = """
if redis.call('get', KEYS[1]) ~= ARGV[1] then
  return 0
end
for i = 2, #KEYS do
  local at = 2 + (i - 2) * 3
  if ARGV[at] == 'd' then
    redis.call('del', KEYS[i])
  elseif tonumber(ARGV[at + 2]) > 0 then
    redis.call('set', KEYS[i], ARGV[at + 1], 'EX', ARGV[at + 2])
  else
    redis.call('set', KEYS[i], ARGV[at + 1])
  end
end
return redis.call('del', KEYS[1])
"""
# Extend our own lease while the update runs (an update slower than the lease keeps its
# chat), up to LOCK_HOLD_MAX in all (a hung update does not hold a chat for ever).
_EXTEND = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
LOCK_HOLD_MAX = 60.0  # aiogram's RedisEventIsolation lease: the longest a chat waits
_RETRY_PAUSE = 0.05
# How long an update waits for Redis to come back before it fails (told to the user).
REDIS_WAIT = 5.0
_UNREACHABLE_PAUSE = 0.2


class ChatLock(BaseEventIsolation):
    """One update of a chat at a time across processes: a Redis lock with a short lease.

    With the storage: the lock is taken and the dialogue read in one round trip, and
    the update's dialogue writes go with the release in one more — two per update in
    all. A lock gone at the release (an update slower than the lease, a Redis restart)
    is logged, not raised: the update was processed, and raising here would answer
    the user with an error for work that was done.
    """

    def __init__(
        self,
        redis: Redis,
        key_builder: KeyBuilder,
        *,
        storage: BufferedRedisStorage | None = None,
        lease: float = CHAT_LOCK_SECONDS,
    ) -> None:
        self.redis = redis
        self.key_builder = key_builder
        self.storage = storage
        self.lease = lease

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncIterator[None]:
        async with self._held(key, None) as fresh:
            assert fresh
            yield None

    @asynccontextmanager
    async def once(self, key: StorageKey, update_id: int) -> AsyncIterator[bool]:
        """The lock, unless this update was already done (then False, no lock held)."""
        async with self._held(key, done_key(self.key_builder, key, update_id)) as fresh:
            yield fresh

    @asynccontextmanager
    async def _held(self, key: StorageKey, done: str | None) -> AsyncIterator[bool]:
        name = self.key_builder.build(key, "lock")
        state_key, data_key = (
            self.key_builder.build(key, "state"),
            self.key_builder.build(key, "data"),
        )
        keys = (name, state_key, data_key) if done is None else (name, state_key, data_key, done)
        token = secrets.token_hex(16)
        unreachable_since: float | None = None
        while True:
            try:
                got = await self.redis.eval(
                    _ACQUIRE, len(keys), *keys, token, int(self.lease * 1000)
                )
            except (RedisConnectionError, RedisTimeoutError):
                # Redis restarting (a failover, a deploy): the update waits a moment and
                # goes on rather than failing; after REDIS_WAIT the error handler tells
                # the user (and nothing of the update has run yet).
                now = asyncio.get_running_loop().time()
                unreachable_since = unreachable_since or now
                if now - unreachable_since > REDIS_WAIT:
                    raise
                await asyncio.sleep(_UNREACHABLE_PAUSE)
                continue
            if got[0] == 2:
                yield False  # done before: a repeated delivery
                return
            if got[0] == 1:
                break
            await asyncio.sleep(_RETRY_PAUSE)
        read = None
        deferred, scope = defer_writes()
        keeper = asyncio.create_task(self._keep(name, token))
        box = [False]
        try:
            if self.storage is not None:
                read = self.storage.prefetched((state_key, data_key), *got[1])
            async with watching(box):
                yield True
        finally:
            keeper.cancel()
            end_deferral(scope)
            if read is not None:
                forget_locked_read(read)
            marker = done if done is not None and box[0] else None
            if not await self._release(name, token, deferred, marker):
                # (No key in the log: it carries the chat's Telegram id.)
                log.warning(
                    "a chat lock was gone at its release: the update outlasted %ss, or "
                    "Redis lost it (a restart); its dialogue step was not written",
                    LOCK_HOLD_MAX,
                )

    async def _keep(self, name: str, token: str) -> None:
        """Renew the lease every third of it while the update runs, up to LOCK_HOLD_MAX."""
        held = 0.0
        step = self.lease / 3
        while held + step < LOCK_HOLD_MAX:
            await asyncio.sleep(step)
            held += step
            try:
                await self.redis.eval(_EXTEND, 1, name, token, int(self.lease * 1000))
            except (RedisConnectionError, RedisTimeoutError):
                continue  # Redis restarting: the release will tell

    async def _release(
        self, name: str, token: str, deferred: list[Attempt], done: str | None = None
    ) -> bool:
        """The update's dialogue writes and the release, in one round trip; False if the
        lock was no longer ours. Redis unreachable here is logged, not raised: the update
        is done (committed, answered) — only where the dialogue stands was not kept, and
        the user's next tap meets «out of date» or the previous step, not an error for
        work that was done."""
        writes: dict[str, tuple[str | None, int | None]] = {}
        if self.storage is not None:
            for attempt in deferred:  # a later attempt's write of a key wins
                for key, value, ttl in self.storage.writes(attempt):
                    writes[key] = (value, ttl)
        if done is not None:  # the update is done: a repeated delivery is skipped
            writes[done] = ("1", DONE_SECONDS)
        args: list[str | int] = [token]
        for value, ttl in writes.values():
            args += ["d", "", 0] if value is None else ["s", value, ttl or 0]
        try:
            released = await self.redis.eval(_RELEASE, 1 + len(writes), name, *writes, *args)
            return bool(released)
        except (RedisConnectionError, RedisTimeoutError) as exc:
            log.warning(
                "chat lock: Redis unreachable at the release (%s); the dialogue's new "
                "step was not kept",
                type(exc).__name__,
            )
            return True

    async def close(self) -> None:
        return None


def done_key(key_builder: KeyBuilder, key: StorageKey, update_id: int) -> str:
    """The marker of a done update: per bot (update ids are the bot's), beside its chat's
    keys under the storage's prefix."""
    chat = key_builder.build(key, "lock")
    prefix = chat.split(":", 1)[0]
    return f"{prefix}:update:{key.bot_id}:{update_id}"
