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

log = logging.getLogger("zapis.fsm")

# The lease of a chat's lock. Telegram sends a chat's next update only after the previous
# one was answered, so the lock matters only when an update is sent again while its first
# delivery still runs (a timeout) or its process died holding the lock. Shorter than the
# webhook's timeout (the emulator's 15 s; Telegram's is longer), so a retry that finds a
# dead process's lock gets it in time instead of timing out and being sent a third time.
CHAT_LOCK_SECONDS = 10.0

# Take the lock and read the chat's dialogue in one round trip (nothing is read without it).
_ACQUIRE = """
if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {1, redis.call('mget', KEYS[2], KEYS[3])}
end
return {0}
"""
# Release only our own lock (a lease that ran out may be someone else's now).
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""
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
        name = self.key_builder.build(key, "lock")
        state_key, data_key = (
            self.key_builder.build(key, "state"),
            self.key_builder.build(key, "data"),
        )
        token = secrets.token_hex(16)
        unreachable_since: float | None = None
        while True:
            try:
                got = await self.redis.eval(
                    _ACQUIRE, 3, name, state_key, data_key, token, int(self.lease * 1000)
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
            if got[0] == 1:
                break
            await asyncio.sleep(_RETRY_PAUSE)
        read = None
        if self.storage is not None:
            read = self.storage.prefetched((state_key, data_key), *got[1])
        deferred, scope = defer_writes()
        try:
            yield None
        finally:
            end_deferral(scope)
            if read is not None:
                forget_locked_read(read)
            if not await self._release(name, token, deferred):
                log.warning(
                    "chat lock %s was gone at its release: the update outlasted the %ss "
                    "lease, or Redis lost it (a restart)",
                    name,
                    self.lease,
                )

    async def _release(self, name: str, token: str, deferred: list[Attempt]) -> bool:
        """The update's dialogue writes and the release, in one round trip; False if the
        lock was no longer ours. Redis unreachable here is logged, not raised: the update
        is done (committed, answered) — only where the dialogue stands was not kept, and
        the user's next tap meets «out of date» or the previous step, not an error for
        work that was done."""
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                if self.storage is not None:
                    for attempt in deferred:
                        self.storage.queue_writes(pipe, attempt)
                pipe.eval(_RELEASE, 1, name, token)
                return bool((await pipe.execute())[-1])
        except (RedisConnectionError, RedisTimeoutError) as exc:
            log.warning(
                "chat lock %s: Redis unreachable at the release (%s); the dialogue's new "
                "step was not kept",
                name,
                type(exc).__name__,
            )
            return True

    async def close(self) -> None:
        return None
