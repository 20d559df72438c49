"""Dialogue state in Redis for several processes: one read and one write per update.

aiogram's RedisStorage talks to Redis on every call: the FSM middleware's
``get_state``, each handler's ``get_data``, ``set_state`` and ``set_data`` —
about eight round trips per update with the chat lock, each a socket write
that on a loaded 2-core machine costs more CPU than the command itself
(bench/cluster.py counts them). :class:`BufferedRedisStorage` keeps the same
keys and the same encrypted values (a dialogue in flight survives the
upgrade), but inside an *attempt* of an update (opened by
bot/middlewares/update_attempt.py):

- the first read fetches the state and the data in one ``MGET``; the FSM
  middleware's read, made just before the attempt opens, is adopted by it;
- writes are kept and applied together (one pipelined ``MULTI``) only when
  the attempt succeeded — after the update's transaction committed. An
  update that failed and rolled back leaves the dialogue as it was, like the
  database storage does, so it can be replayed (a connection lost before the
  commit) or answered with a message without a half-moved dialogue.

Outside an attempt (the error handler, jobs) every call goes to Redis at once,
as before. :class:`ChatLock` is the per-chat isolation across processes with a
lease short enough that a process killed while holding it does not stall the
chat for long (aiogram's default keeps it for 60 s).
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseEventIsolation, KeyBuilder, StorageKey
from aiogram.fsm.storage.redis import RedisStorage
from redis.asyncio import Redis
from redis.asyncio.lock import Lock
from redis.exceptions import LockError

from storage.crypto import PersonalDataCipher

log = logging.getLogger("zapis.fsm")

ENCRYPTED = "fernet:"  # as storage/fsm.py writes it: the same values, either storage reads them
# The lease of a chat's lock. Telegram sends a chat's next update only after the previous
# one was answered, so the lock matters only when an update is sent again while its first
# delivery still runs (a timeout) or its process died holding the lock. Shorter than the
# webhook's timeout (the emulator's 15 s; Telegram's is longer), so a retry that finds a
# dead process's lock gets it in time instead of timing out and being sent a third time.
CHAT_LOCK_SECONDS = 10.0


@dataclass
class Attempt:
    """One attempt of one update: what it read (raw, decrypted) and what it wrote."""

    read: dict[str, str | None] = field(default_factory=dict)
    view: dict[str, str | None] = field(default_factory=dict)
    dirty: set[str] = field(default_factory=set)

    def again(self) -> Attempt:
        """A fresh attempt of the same update: its reads kept, its writes forgotten."""
        return Attempt(read=dict(self.read), view=dict(self.read))


_attempt: ContextVar[Attempt | None] = ContextVar("zapis_fsm_attempt", default=None)
# The newest read made outside an attempt (the FSM middleware's): adopted by the next one.
_outside: ContextVar[dict[str, str | None] | None] = ContextVar("zapis_fsm_outside", default=None)


class BufferedRedisStorage(RedisStorage):
    """aiogram's RedisStorage, encrypted, read once and written once per update attempt."""

    def __init__(self, redis: Redis, key_builder: KeyBuilder, cipher: PersonalDataCipher):
        self.cipher = cipher
        super().__init__(
            redis, key_builder=key_builder, json_dumps=self._dumps, json_loads=self._loads
        )

    # ----- the update's attempt (bot/middlewares/update_attempt.py) -----------------------
    def begin(self, previous: Attempt | None = None) -> Attempt:
        attempt = previous.again() if previous is not None else Attempt()
        outside = _outside.get()
        _outside.set(None)
        if previous is None and outside is not None:
            attempt.read.update(outside)
            attempt.view.update(outside)
        _attempt.set(attempt)
        return attempt

    def end(self) -> None:
        _attempt.set(None)

    async def apply(self, attempt: Attempt) -> None:
        """The attempt's writes, in one round trip (MULTI: all or none)."""
        _attempt.set(None)
        if not attempt.dirty:
            return
        async with self.redis.pipeline(transaction=True) as pipe:
            for key in sorted(attempt.dirty):
                value = attempt.view[key]
                if value is None:
                    pipe.delete(key)
                elif key.endswith(":data"):
                    pipe.set(key, self._seal(value), ex=self.data_ttl)
                else:
                    pipe.set(key, value, ex=self.state_ttl)
            await pipe.execute()

    # ----- reads --------------------------------------------------------------------------
    def _keys(self, key: StorageKey) -> tuple[str, str]:
        return self.key_builder.build(key, "state"), self.key_builder.build(key, "data")

    async def _read(self, key: StorageKey, which: int) -> str | None:
        keys = self._keys(key)
        attempt = _attempt.get()
        if attempt is not None and keys[which] in attempt.view:
            return attempt.view[keys[which]]
        state, data = await self.redis.mget(keys)
        found = {keys[0]: _text(state), keys[1]: self._open(_text(data))}
        if attempt is not None:
            for k, v in found.items():
                attempt.read.setdefault(k, v)
                attempt.view.setdefault(k, v)
        else:
            _outside.set(found)
        return found[keys[which]]

    async def get_state(self, key: StorageKey) -> str | None:
        return await self._read(key, 0)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        raw = await self._read(key, 1)
        if raw is None:
            return {}
        loaded: dict[str, Any] = json.loads(raw)
        return loaded

    # ----- writes -------------------------------------------------------------------------
    async def set_state(self, key: StorageKey, state: str | State | None = None) -> None:
        attempt = _attempt.get()
        if attempt is None:
            _outside.set(None)
            await super().set_state(key, state)
            return
        value = state.state if isinstance(state, State) else state
        name = self._keys(key)[0]
        attempt.view[name] = value
        attempt.dirty.add(name)

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        attempt = _attempt.get()
        if attempt is None:
            _outside.set(None)
            await super().set_data(key, data)
            return
        name = self._keys(key)[1]
        attempt.view[name] = json.dumps(dict(data), ensure_ascii=False) if data else None
        attempt.dirty.add(name)

    # ----- the values, as storage/fsm.py's encrypted_json writes them ---------------------
    def _seal(self, text: str) -> str:
        return ENCRYPTED + (self.cipher.encrypt(text) or "")

    def _open(self, raw: str | None) -> str | None:
        if raw is not None and raw.startswith(ENCRYPTED):
            return self.cipher.decrypt(raw[len(ENCRYPTED) :]) or "{}"
        return raw

    def _dumps(self, data: Any) -> str:
        return self._seal(json.dumps(data, ensure_ascii=False))

    def _loads(self, raw: Any) -> Any:
        return json.loads(self._open(_text(raw)) or "{}")


def _text(value: bytes | str | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


def buffered_redis_storage(
    url: str, key_builder: KeyBuilder, cipher: PersonalDataCipher
) -> BufferedRedisStorage:
    return BufferedRedisStorage(Redis.from_url(url), key_builder, cipher)


class ChatLock(BaseEventIsolation):
    """One update of a chat at a time across processes: a Redis lock with a short lease.

    A lease that ran out before the update ended (an update slower than the lease) is
    logged, not raised: the update was processed, and raising here would answer the
    user with an error for work that was done.
    """

    def __init__(
        self, redis: Redis, key_builder: KeyBuilder, *, lease: float = CHAT_LOCK_SECONDS
    ) -> None:
        self.redis = redis
        self.key_builder = key_builder
        self.lease = lease

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncIterator[None]:
        name = self.key_builder.build(key, "lock")
        lock = Lock(self.redis, name, timeout=self.lease)
        await lock.acquire()
        try:
            yield None
        finally:
            try:
                await lock.release()
            except LockError:
                log.warning("chat lock %s: the update outlasted its %ss lease", name, self.lease)

    async def close(self) -> None:
        return None
