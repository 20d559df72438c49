"""One update, one attempt — and one more when the database connection died before commit.

Sits just outside bot/middlewares/database.py (the unit of work), so an
attempt is: open the unit of work, run the handler, commit, send the replies.

- **Replay after a lost connection** (issue 12: PostgreSQL restarted, failed
  over, or ``pg_terminate_backend``): when the update failed because its
  connection was gone (SQLAlchemy marks the error ``connection_invalidated``)
  and no COMMIT had been sent yet, nothing of it reached the database and none
  of its replies went out (they wait for the commit), so it is run once more
  on a fresh connection — the user sees the answer, not an error. A failure
  at or after the COMMIT is in doubt (it may have committed): never replayed,
  the error handler tells the user with an error code as before.
- **Dialogue state written after the commit** (Redis, storage/fsm_redis.py):
  the attempt's dialogue writes are applied together only when it succeeded;
  a failed attempt leaves the dialogue where it was — which is also what
  makes the replay safe.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from aiogram import BaseMiddleware
from aiogram.fsm.storage.base import BaseStorage
from aiogram.types import TelegramObject, Update
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.update_once import note_committed

if TYPE_CHECKING:
    from storage.fsm_redis import Attempt


@runtime_checkable
class BufferedDialogues(Protocol):
    """A dialogue storage that keeps an update's writes until it succeeded.

    storage/fsm_redis.py's BufferedRedisStorage; a Protocol, so a process on
    SQLite never imports the Redis client (5 MiB) for this check.
    """

    def begin(self, previous: Attempt | None = None) -> Attempt: ...

    def end(self) -> None: ...

    async def apply(self, attempt: Attempt) -> None: ...


log = logging.getLogger("zapis.update")

# Set by the engine's "commit" event (fired before COMMIT is sent) within an attempt.
_committing: ContextVar[list[bool] | None] = ContextVar("zapis_committing", default=None)


# The update's own transaction committed (set by bot/middlewares/database.py): from then
# on its dialogue writes are kept whatever fails after (a refused reply, an after-reply job).
_committed: ContextVar[list[bool] | None] = ContextVar("zapis_update_committed", default=None)


def mark_committed() -> None:
    """The update's transaction is committed: its dialogue step must be kept."""
    box = _committed.get()
    if box is not None:
        box[0] = True
    note_committed()  # and a repeated delivery of it is skipped (storage/update_once.py)


def _on_commit(_conn: Any) -> None:
    box = _committing.get()
    if box is not None:
        box[0] = True


def lost_before_commit(exc: BaseException, committing: bool) -> bool:
    """The connection was gone and nothing was committed: safe to run the update again."""
    return isinstance(exc, DBAPIError) and exc.connection_invalidated and not committing


class UpdateAttempt(BaseMiddleware):
    def __init__(self, engine: AsyncEngine, storage: BaseStorage) -> None:
        # Several apps may share one engine (tests): one listener is enough.
        if not event.contains(engine.sync_engine, "commit", _on_commit):
            event.listen(engine.sync_engine, "commit", _on_commit)
        self.storage = storage if isinstance(storage, BufferedDialogues) else None

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        try:
            return await self._attempt(handler, event, data, None)
        except DBAPIError as exc:
            if not lost_before_commit(exc, getattr(exc, "zapis_committing", True)):
                raise
            update_id = event.update_id if isinstance(event, Update) else None
            log.warning(
                "update %s: database connection lost before commit (%s); running it again",
                update_id,
                type(exc.orig).__name__ if exc.orig is not None else type(exc).__name__,
            )
            return await self._attempt(handler, event, data, getattr(exc, "zapis_attempt", None))

    async def _attempt(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
        previous: Any,
    ) -> Any:
        box = [False]
        token = _committing.set(box)
        committed = [False]
        committed_token = _committed.set(committed)
        attempt = self.storage.begin(previous) if self.storage is not None else None
        try:
            result = await handler(event, data)
        except BaseException as exc:
            if isinstance(exc, DBAPIError):
                exc.zapis_committing = box[0]  # type: ignore[attr-defined]
                exc.zapis_attempt = attempt  # type: ignore[attr-defined]
            if committed[0] and attempt is not None and self.storage is not None:
                # Committed, then a reply was refused (or an after-reply job failed): the
                # database has the new step, so the dialogue must have it too.
                try:
                    await self.storage.apply(attempt)
                except Exception as apply_error:  # the original error is the one to raise
                    log.warning(
                        "dialogue step of a committed update not kept: %s",
                        type(apply_error).__name__,
                    )
            raise
        finally:
            _committing.reset(token)
            _committed.reset(committed_token)
            if self.storage is not None:
                self.storage.end()
        if attempt is not None and self.storage is not None:
            await self.storage.apply(attempt)
        return result
