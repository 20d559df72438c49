"""Guard filters: who may reach a handler, decided once, injected typed.

``Registered()`` passes a registered account on as ``user: User`` (never
None in the handler); ``Staff()`` passes clinic staff on as ``staff:
StaffMember``. Put a guard after the filters that recognise the update (the
callback's class, the button text): when those matched but the guard does not,
the guard raises a refusal (NotRegistered / Stale / NotStaff) that
flows/refusals.py answers — so an old button of a deleted account is told it is
out of date and a section typed before /start is told to register, and no later
handler (the catch-all) answers the same update a second time.
"""

from __future__ import annotations

from typing import Any

from aiogram.filters import Filter
from aiogram.types import CallbackQuery, Message, TelegramObject

from domain.errors import NotRegistered, NotStaff, Stale
from domain.models import StaffMember, User, is_registered


class Registered(Filter):
    """The account finished onboarding and is active; injects ``user``."""

    async def __call__(self, event: TelegramObject, user: User | None = None) -> dict[str, Any]:
        if is_registered(user):
            return {"user": user}
        if isinstance(event, CallbackQuery):
            raise Stale
        raise NotRegistered


class Staff(Filter):
    """The sender is clinic staff (settings); injects ``staff``."""

    async def __call__(
        self, event: Message | CallbackQuery, staff: StaffMember | None = None
    ) -> dict[str, Any]:
        if staff is not None:
            return {"staff": staff}
        if isinstance(event, CallbackQuery):
            raise Stale
        raise NotStaff
