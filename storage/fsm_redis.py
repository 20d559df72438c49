"""Dialogue state in Redis for several processes: one read and one write per update.

aiogram's RedisStorage talks to Redis on every call: the FSM middleware's
``get_state``, each handler's ``get_data``, ``set_state`` and ``set_data`` —
about eight round trips per update with the chat lock, each a socket write
that on a loaded 2-core machine costs more CPU than the command itself
(bench/cluster.py counts them). :class:`BufferedRedisStorage` keeps the same
keys and the same encrypted values (a dialogue in flight survives the
upgrade), but inside an *attempt* of an update (opened by
bot/middlewares/update_attempt.py):

- the state and the data are read once, together: by :class:`ChatLock` in
  the same round trip that takes the chat's lock (a Lua script: SET NX, then
  MGET), or by one ``MGET``; the attempt adopts that read;
- writes are kept and applied together only when the attempt succeeded —
  after the update's transaction committed — in one script with the
  lock's release. An update that failed and rolled back leaves the dialogue
  as it was, like the database storage does, so it can be replayed (a
  connection lost before the commit) or answered with a message without a
  half-moved dialogue.

Two round trips per update instead of about eight. Outside an attempt (the
error handler, jobs) every call goes to Redis at once, as before. The lock is
storage/chat_lock.py.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import KeyBuilder, StorageKey
from aiogram.fsm.storage.redis import RedisStorage
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from storage.crypto import PersonalDataCipher

log = logging.getLogger("zapis.fsm")

# As storage/fsm.py writes them: the same values, either storage reads them. New values
# are sealed (AES-GCM, ~4 µs); Fernet values written before are still read.
ENCRYPTED = "fernet:"
SEALED = "gcm:"


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
# Under a ChatLock: the dialogue read with the lock, and the succeeded attempts, written
# with the lock's release.
_locked_read: ContextVar[dict[str, str | None] | None] = ContextVar(
    "zapis_fsm_locked_read", default=None
)
_deferred: ContextVar[list[Attempt] | None] = ContextVar("zapis_fsm_deferred", default=None)
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
        outside = _locked_read.get() or _outside.get()
        _outside.set(None)
        if previous is None and outside is not None:
            attempt.read.update(outside)
            attempt.view.update(outside)
        _attempt.set(attempt)
        return attempt

    def end(self) -> None:
        _attempt.set(None)

    async def apply(self, attempt: Attempt) -> None:
        """The attempt's writes, in one round trip (MULTI: all or none) — or, under a
        ChatLock, with the lock's release in its round trip."""
        _attempt.set(None)
        if not attempt.dirty:
            return
        deferred = _deferred.get()
        if deferred is not None:
            deferred.append(attempt)
            locked = _locked_read.get()
            if locked is not None:  # read back as written until the release writes it
                locked.update({k: attempt.view[k] for k in attempt.dirty})
            return
        async with self.redis.pipeline(transaction=True) as pipe:
            self.queue_writes(pipe, attempt)
            await pipe.execute()

    def queue_writes(self, pipe: Pipeline, attempt: Attempt) -> None:
        for key, value, ttl in self.writes(attempt):
            if value is None:
                pipe.delete(key)
            else:
                pipe.set(key, value, ex=ttl)

    def writes(self, attempt: Attempt) -> list[tuple[str, str | None, int | None]]:
        """The attempt's writes as (key, value to store or None to delete, seconds to
        live or None): what a pipeline or storage/chat_lock.py's release script sends."""
        found: list[tuple[str, str | None, int | None]] = []
        for key in sorted(attempt.dirty):
            value = attempt.view[key]
            if value is None:
                found.append((key, None, None))
            elif key.endswith(":data"):
                found.append((key, self._seal(value), _seconds(self.data_ttl)))
            else:
                found.append((key, value, _seconds(self.state_ttl)))
        return found

    # ----- reads --------------------------------------------------------------------------
    def _keys(self, key: StorageKey) -> tuple[str, str]:
        return self.key_builder.build(key, "state"), self.key_builder.build(key, "data")

    async def _read(self, key: StorageKey, which: int) -> str | None:
        keys = self._keys(key)
        attempt = _attempt.get()
        if attempt is not None and keys[which] in attempt.view:
            return attempt.view[keys[which]]
        locked = _locked_read.get()
        if attempt is None and locked is not None and keys[which] in locked:
            return locked[keys[which]]  # read with the chat's lock (ChatLock), still held
        state, data = await self.redis.mget(keys)
        found = self.opened(keys, state, data)
        if attempt is not None:
            for k, v in found.items():
                attempt.read.setdefault(k, v)
                attempt.view.setdefault(k, v)
        else:
            _outside.set(found)
        return found[keys[which]]

    def opened(self, keys: tuple[str, str], state: Any, data: Any) -> dict[str, str | None]:
        return {keys[0]: _text(state), keys[1]: self._open(_text(data))}

    def prefetched(self, keys: tuple[str, str], state: Any, data: Any) -> Token[Any]:
        """The dialogue as ChatLock read it with the lock: no read needs a trip while the
        lock is held (nothing else writes it meanwhile). Reset by the lock's release."""
        return _locked_read.set(self.opened(keys, state, data))

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
            _forget_locked(self._keys(key)[0])
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
            _forget_locked(self._keys(key)[1])
            await super().set_data(key, data)
            return
        name = self._keys(key)[1]
        attempt.view[name] = json.dumps(dict(data), ensure_ascii=False) if data else None
        attempt.dirty.add(name)

    # ----- the values, as storage/fsm.py's encrypted_json writes them ---------------------
    def _seal(self, text: str) -> str:
        return SEALED + self.cipher.seal(text)

    def _open(self, raw: str | None) -> str | None:
        if raw is None:
            return raw
        if raw.startswith(SEALED):
            return self.cipher.unseal(raw[len(SEALED) :])
        if raw.startswith(ENCRYPTED):
            return self.cipher.decrypt(raw[len(ENCRYPTED) :]) or "{}"
        return raw

    def _dumps(self, data: Any) -> str:
        return self._seal(json.dumps(data, ensure_ascii=False))

    def _loads(self, raw: Any) -> Any:
        return json.loads(self._open(_text(raw)) or "{}")


def _forget_locked(name: str) -> None:
    """Written directly (outside an attempt, e.g. by the error handler): read it anew."""
    locked = _locked_read.get()
    if locked is not None:
        locked.pop(name, None)


def _seconds(ttl: Any) -> int | None:
    """aiogram's TTL setting (None, seconds or a timedelta) as whole seconds."""
    if ttl is None:
        return None
    seconds = int(ttl.total_seconds()) if hasattr(ttl, "total_seconds") else int(ttl)
    return seconds if seconds > 0 else None


def _text(value: bytes | str | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


def buffered_redis_storage(
    url: str, key_builder: KeyBuilder, cipher: PersonalDataCipher
) -> BufferedRedisStorage:
    return BufferedRedisStorage(Redis.from_url(url), key_builder, cipher)


def defer_writes() -> tuple[list[Attempt], Token[Any]]:
    """Until :func:`end_deferral`: a succeeded attempt's writes are kept in the returned
    list for the caller (storage/chat_lock.py) to send with its release."""
    deferred: list[Attempt] = []
    return deferred, _deferred.set(deferred)


def end_deferral(scope: Token[Any]) -> None:
    _deferred.reset(scope)


def forget_locked_read(read: Token[Any]) -> None:
    """The lock is released: what it read is no longer sure."""
    _locked_read.reset(read)
