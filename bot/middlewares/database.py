"""A unit of work per update, with the current user loaded and staff rights attached.

Handlers receive, typed: ``uow``, ``user`` (None before /start; the
``Registered()`` guard narrows it), ``staff`` (a domain StaffMember or None),
``now`` (the app clock's moment, the same for the whole update) and, from the
Dispatcher's data, ``policy`` (domain/policy.py).

The update is the transaction. The handler's work (business rows and the FSM
state) commits when it returns — services never commit — and only then do its
replies go out (bot/middlewares/pending_replies.py), in the order it sent them.
Any exception rolls everything back and drops the replies, so a failed update
leaves no half-state and announces nothing; aiogram's errors middleware sits
outside this one, so flows/refusals.py answers a refusal after the rollback.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.fsm.context import FSMContext
from aiogram.types import TelegramObject
from aiogram.types import User as TgUser

from bot.middlewares.pending_replies import holding_replies
from bot.middlewares.update_attempt import mark_committed
from bot.policy import staff_member
from bot.settings import Settings
from storage.fsm import dialogue_key
from storage.uow import UnitOfWorkFactory


class DatabaseMiddleware(BaseMiddleware):
    def __init__(self, uow_factory: UnitOfWorkFactory, settings: Settings) -> None:
        self.uow_factory = uow_factory
        self.settings = settings

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        tg_user: TgUser | None = data.get("event_from_user")
        state: FSMContext | None = data.get("state")
        async with self.uow_factory() as uow:
            data["uow"] = uow
            # The account, its patients and (database FSM storage) the dialogue row in
            # one statement; the FSM middleware left the state to be read here, in the
            # update's transaction (bot/middlewares/fsm_state.py).
            key = dialogue_key(state)
            user = await uow.users.get(tg_user.id, dialogue=key) if tg_user else None
            if state is not None and "raw_state" not in data:
                data["raw_state"] = await state.get_state()
            if user is not None and user.unreachable and tg_user is not None:
                # Any update from them means they can hear us again (and what was held
                # for them goes out); committed now, whatever the handler does next.
                await uow.users.mark_reachable(tg_user.id, data["clock"].now())
                await uow.commit()
                user = await uow.users.get(tg_user.id)
            data["user"] = user
            data["staff"] = staff_member(self.settings, tg_user.id) if tg_user else None
            data["now"] = data["clock"].now()  # one "now" for the whole update
            with holding_replies() as replies:
                result = await handler(event, data)
            await uow.commit()
            mark_committed()
        # The transaction is over (on SQLite: the write lock released) and the connection
        # back in the pool — or, on the in-loop driver, kept idle for the next unit of work
        # (storage/uow.py IdleConnections) — before the first byte goes to Telegram.
        await replies.flush()
        if uow.after_replies:  # what waited for the replies (SqlUnitOfWork.after_reply)
            single = uow.after_replies_one_statement  # no BEGIN for one UPDATE
            async with self.uow_factory(single_statements=single) as later:
                for job in uow.after_replies:
                    await job(later)
                await later.commit()
        return result
