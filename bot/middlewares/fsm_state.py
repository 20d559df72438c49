"""aiogram's FSM middleware without its read: the dialogue state is read in the unit of work.

aiogram's ``FSMContextMiddleware`` takes the per-user event lock and reads the
user's state (``raw_state``) before any of our middlewares run: on the database
storage that read was a connection of its own (checkout, SELECT, return) ahead
of the update's transaction. This one takes the same lock and gives handlers the
same ``state`` context, and leaves ``raw_state`` to bot/middlewares/database.py,
which reads the dialogue row inside the update's unit of work — on SQLite in the
same statement as the account (storage/repos/users.py ``get``) — after the lock
and after ``BEGIN``: the state a handler sees is the one its transaction saw.

The lock also skips an update delivered again after it was done (Telegram
retries a webhook that answered too late): storage/update_once.py.

Lock order stays "user lock, then the database": the unit of work opens inside
the lock, as before, so two updates of one user never wait for each other while
one holds SQLite's write lock.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeGuard, cast

from aiogram import Bot, Dispatcher
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.fsm.middleware import FSMContextMiddleware
from aiogram.types import TelegramObject, Update

from storage.update_once import UpdateOnce

log = logging.getLogger("zapis.update")


class StateReadLater(FSMContextMiddleware):
    """The FSM middleware (lock + ``state``); ``raw_state`` is filled in by the unit of work."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        context = self.resolve_event_context(cast(Bot, data["bot"]), data)
        data["fsm_storage"] = self.storage
        isolation = self.events_isolation
        if context and isinstance(event, Update) and self._skips_repeats(isolation):
            async with isolation.once(context.key, event.update_id) as fresh:
                if not fresh:
                    log.info(
                        "update %s: delivered again after it was done; skipped", event.update_id
                    )
                    return UNHANDLED
                data["state"] = context
                return await handler(event, data)
        if context:
            async with isolation.lock(key=context.key):
                data["state"] = context
                return await handler(event, data)
        return await handler(event, data)

    _checked: tuple[object, bool] | None = None

    def _skips_repeats(self, isolation: object) -> TypeGuard[UpdateOnce]:
        """``isinstance(isolation, UpdateOnce)``, asked once per isolation object: a check
        against a runtime Protocol walks the protocol's members each time (~20 µs)."""
        checked = self._checked
        if checked is None or checked[0] is not isolation:
            checked = self._checked = (isolation, isinstance(isolation, UpdateOnce))
        return checked[1]


def read_state_later(dp: Dispatcher) -> None:
    """Put :class:`StateReadLater` where the Dispatcher registered aiogram's FSM middleware
    (same place in the chain: after the errors and user-context middlewares)."""
    old = dp.fsm
    new = StateReadLater(old.storage, old.events_isolation, old.strategy)
    chain = list(dp.update.outer_middleware)
    for middleware in chain:
        dp.update.outer_middleware.unregister(middleware)
    for middleware in chain:
        dp.update.outer_middleware.register(new if middleware is old else middleware)
    dp.fsm = new  # (the shutdown hook registered for the old one closes the same storage)
