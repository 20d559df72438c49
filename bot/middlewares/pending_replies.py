"""Replies wait for the commit: what a handler sends goes out only after its update's
transaction is durable, and never when it rolled back.

Why: the update is the transaction (bot/middlewares/database.py). A reply sent
before the commit could announce a booking that a later refusal, a crash or a
lost race then rolls back; and on SQLite (one writer, ``BEGIN IMMEDIATE``,
storage/db.py) a transaction that waits on Telegram holds the write lock for
every other user meanwhile. So while an update's unit of work is open
(:func:`holding_replies`, entered by DatabaseMiddleware) this Bot session
middleware queues each Bot API method instead of sending it and answers the
handler with a placeholder — handlers never read what a send returns — and
DatabaseMiddleware sends the queue, in order, right after the commit
(:meth:`PendingReplies.flush`). On an exception the queue is dropped with the
transaction and the errors routers answer instead (they run outside the unit of
work, so they send at once).

Methods whose answer a handler needs (``get*``: getFile, getChat, getMe…) are not
queued; they go out at once, inside the transaction — do them before writing.
Jobs (notifier, wait list) and the middlewares before DatabaseMiddleware send
outside any unit of work: nothing is queued for them.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.methods import Response, TelegramMethod

log = logging.getLogger("zapis.replies")

# What a queued method "returns" to the handler: handlers never use send results.
PLACEHOLDER = True


@dataclass
class PendingReplies:
    """The Bot API methods an update's handler sent, in order, waiting for the commit."""

    items: list[tuple[Bot, TelegramMethod[Any]]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.items)

    async def flush(self) -> None:
        """Send everything in order. «message is not modified» (a double tap edited it
        first) is nothing; another refusal by Telegram does not stop the replies after
        it and is raised at the end, for the errors handler (the data are committed)."""
        items, self.items = self.items, []
        first_error: TelegramAPIError | None = None
        for bot, method in items:
            try:
                await bot(method)
            except TelegramBadRequest as exc:
                if "not modified" in str(exc):
                    continue
                log.warning("reply %s refused: %s", method.__api_method__, exc)
                first_error = first_error or exc
            except TelegramAPIError as exc:
                log.warning("reply %s refused: %s", method.__api_method__, exc)
                first_error = first_error or exc
        if first_error is not None:
            raise first_error

    def drop(self) -> None:
        self.items.clear()


_pending: ContextVar[PendingReplies | None] = ContextVar("zapis_pending_replies", default=None)


class holding_replies:  # (lower case: used as the function it was, ``with holding_replies()``)
    """Queue this task's Bot API sends until the block ends (DatabaseMiddleware flushes).

    A class rather than ``contextlib.contextmanager``: entered on every update, and a
    generator-based context manager costs ~3 µs more."""

    __slots__ = ("replies", "token")
    replies: PendingReplies
    token: Token[PendingReplies | None]

    def __enter__(self) -> PendingReplies:
        self.replies = PendingReplies()
        self.token = _pending.set(self.replies)
        return self.replies

    def __exit__(self, *exc: object) -> None:
        _pending.reset(self.token)


def pending_replies() -> PendingReplies | None:
    """The queue of the update being handled in this task, if any (tests, diagnostics)."""
    return _pending.get()


class HoldRepliesUntilCommit(BaseRequestMiddleware):
    """Installed on every Bot by App.attach_bot (bot/app_state.py)."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[Any],
        bot: Bot,
        method: TelegramMethod[Any],
    ) -> Response[Any]:
        replies = _pending.get()
        if replies is None or method.__api_method__.startswith("get"):
            return await make_request(bot, method)
        replies.items.append((bot, method))
        return PLACEHOLDER  # type: ignore[return-value]
