"""An update delivered again is not processed again.

Telegram sends an update again when the webhook did not answer 2xx in time —
also when the first delivery is still running and will commit (a slow
PostgreSQL, a process stalled by the machine): without a check the user's
text would be a second ticket message, a second relative's request, a second
answer. So the chat's lock (taken for every update anyway) also tells whether
this update_id was already done, and an update that finished — or committed
and then failed on a reply — is remembered as done when the lock is released.

- one process (SQLite, polling or one webhook): remembered in memory
  (:class:`OnceInProcess`); a retry reaches the same process;
- several processes (Redis): a marker key checked in the same Lua script that
  takes the chat's lock and written with its release (storage/chat_lock.py),
  so it costs no round trip of its own.

An update that failed before its commit is *not* remembered: its retry must
run (nothing of it was kept). Markers live for :data:`DONE_SECONDS` — a retry
after a timeout comes within seconds or minutes; a day's worth of ids at a
city's rate would be gigabytes of Redis.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from contextvars import ContextVar
from types import TracebackType
from typing import Protocol, runtime_checkable

from aiogram.fsm.storage.base import BaseEventIsolation, StorageKey

DONE_SECONDS = 3600
IN_PROCESS_LIMIT = 50_000  # ids remembered by one process (a few MiB at most)

# Set by :func:`note_committed` (bot/middlewares/database.py after the update's commit).
_committed: ContextVar[list[bool] | None] = ContextVar("zapis_once_committed", default=None)


def note_committed() -> None:
    """The update's transaction committed: it is done even if a reply fails afterwards."""
    box = _committed.get()
    if box is not None:
        box[0] = True


@asynccontextmanager
async def watching(box: list[bool]) -> AsyncIterator[None]:
    """Sets ``box[0]`` when the block finished, or committed before it failed: done."""
    token = _committed.set(box)
    try:
        yield
        box[0] = True
    finally:
        _committed.reset(token)


@runtime_checkable
class UpdateOnce(Protocol):
    """A chat lock that also skips an update already done (yields False for it)."""

    def once(self, key: StorageKey, update_id: int) -> AbstractAsyncContextManager[bool]: ...


class OnceInProcess(BaseEventIsolation):
    """One update of a chat at a time in one process, plus the ids of the updates it has
    done. Unlike aiogram's SimpleEventIsolation (one lock per chat kept for ever — its own
    TODO), a chat's lock is dropped when nobody holds or waits for it: a process that has
    seen a city's chats does not keep a lock for each."""

    def __init__(self, limit: int = IN_PROCESS_LIMIT, seconds: float = DONE_SECONDS) -> None:
        self.limit = limit
        self.seconds = seconds
        self._done: OrderedDict[tuple[int, int], float] = OrderedDict()
        self._locks: dict[StorageKey, tuple[asyncio.Lock, list[int]]] = {}

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncIterator[None]:
        entry = self._locks.get(key)
        if entry is None:
            entry = self._locks[key] = (asyncio.Lock(), [0])
        lock, users = entry
        users[0] += 1
        try:
            async with lock:
                yield
        finally:
            users[0] -= 1
            if users[0] == 0:
                del self._locks[key]

    async def close(self) -> None:
        self._locks.clear()

    def _seen(self, key: tuple[int, int], now: float) -> bool:
        while self._done:  # drop the expired (oldest first)
            oldest, at = next(iter(self._done.items()))
            if now - at < self.seconds and len(self._done) <= self.limit:
                break
            del self._done[oldest]
        return key in self._done

    def once(self, key: StorageKey, update_id: int) -> _Once:
        return _Once(self, key, update_id)


class _Once:
    """:meth:`OnceInProcess.once` as one object rather than three nested generator
    context managers (the lock, the check, :func:`watching`): every update enters it,
    and each generator-based manager costs a few microseconds of the update."""

    __slots__ = ("box", "done_key", "entry", "key", "owner", "token")

    def __init__(self, owner: OnceInProcess, key: StorageKey, update_id: int) -> None:
        self.owner = owner
        self.key = key
        self.done_key = (key.bot_id, update_id)
        self.box: list[bool] | None = None

    async def __aenter__(self) -> bool:
        locks = self.owner._locks
        entry = locks.get(self.key)
        if entry is None:
            entry = locks[self.key] = (asyncio.Lock(), [0])
        self.entry = entry
        entry[1][0] += 1
        try:
            await entry[0].acquire()
        except BaseException:
            self._leave()
            raise
        if self.owner._seen(self.done_key, time.monotonic()):
            return False
        self.box = [False]
        self.token = _committed.set(self.box)
        return True

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        box = self.box
        try:
            if box is not None:
                _committed.reset(self.token)
                if exc_type is None:
                    box[0] = True
                if box[0]:  # finished, or committed before it failed: done
                    self.owner._done[self.done_key] = time.monotonic()
        finally:
            self.entry[0].release()
            self._leave()

    def _leave(self) -> None:
        users = self.entry[1]
        users[0] -= 1
        if users[0] == 0:
            del self.owner._locks[self.key]
