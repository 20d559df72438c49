"""Leaving a step: a main-menu button, a command or another section's button ends it.

Without this, a step waiting for typed text (a relative's name, a ticket's text,
a certificate's answer, a staff member's reason) stayed open after the user
went elsewhere, and the next thing they typed — a question for the FAQ, say —
was taken as that step's answer.

- A menu button or a command: this router comes first (flows/__init__.py); it
  clears the dialogue state and lets the section's own handler answer the same
  update (SkipHandler).
- An inline button: ``EndStepOnForeignPress``, an inner middleware on every
  flow router (``watch``), sees which router's handler took the press
  (aiogram's ``event_router``). A press handled outside the routers of the
  current typed step (``TYPED_STEPS``) ends the step before the handler runs.
  One table, one mechanism: a new typed step adds one line here (a test fails
  for a StatesGroup that is in neither ``TYPED_STEPS`` nor ``BUTTON_STEPS``).

An unfinished registration is kept: /menu, the menu's buttons and old buttons
do not throw away what the person typed. The wizard's button steps (booking,
wait list) are not typed steps: text there only gets a hint (flows/step_hints.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiogram import BaseMiddleware, F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import StatesGroup
from aiogram.types import Message, TelegramObject

from flows import (
    booking,
    certificates,
    certificates_mine,
    documents,
    family_add,
    family_edit,
    profile,
    reviews,
    staff,
    staff_certificates,
    staff_move,
    staff_tickets,
    staff_visits,
    tickets,
)
from flows.onboarding import Onboarding
from flows.ui import menu as menu_ui
from flows.waitlist import WaitListSteps
from flows.wizard import BookingStates, StaffMoveStates

router = Router(name="navigation")

# A typed step → the routers whose buttons continue it (its own «Подтвердить», «Назад» …).
TYPED_STEPS: tuple[tuple[type[StatesGroup], tuple[Router, ...]], ...] = (
    (family_add.AddRelative, (family_add.router,)),
    (family_edit.EditRelative, (family_edit.router,)),
    (profile.ProfileEdit, (profile.router,)),
    (tickets.TicketSteps, (tickets.router,)),
    (reviews.ReviewSteps, (reviews.router,)),
    (documents.DocStates, (documents.router,)),
    (certificates.CertStates, (certificates.router,)),
    (certificates_mine.CertAnswer, (certificates_mine.router,)),
    (staff.StaffStates, (staff.router,)),
    (StaffMoveStates, (staff_move.router, booking.router)),  # the move's reason, then its summary
    (staff_tickets.StaffTicketSteps, (staff_tickets.router,)),
    (staff_certificates.StaffCertStates, (staff_certificates.router,)),
    (staff_visits.StaffResult, (staff_visits.router,)),
)
# Steps answered with buttons (typed text gets a hint or is kept): a press elsewhere keeps them.
BUTTON_STEPS: tuple[type[StatesGroup], ...] = (Onboarding, BookingStates, WaitListSteps)

_SECTION: dict[str, frozenset[str]] = {
    name: frozenset(r.name for r in routers)
    for group, routers in TYPED_STEPS
    for name in group.__all_states_names__
}


def continues_step(raw_state: str | None, router_name: str) -> bool:
    """Does a press handled by this router leave the current step open?"""
    section = _SECTION.get(raw_state or "")
    return section is None or router_name in section


class EndStepOnForeignPress(BaseMiddleware):
    """Ends a typed step when another section's button is pressed (before its handler runs).

    The clear is part of the update's transaction: a press refused as stale
    rolls back and the step stays, as if nothing was pressed.
    """

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        taken_by: Router | None = data.get("event_router")
        state: FSMContext | None = data.get("state")
        raw_state: str | None = data.get("raw_state")
        ended = taken_by is not None and not continues_step(raw_state, taken_by.name)
        if ended and state is not None:
            await state.clear()
        return await handler(event, data)


def watch(routers: Iterable[Router]) -> None:
    """Put the press check on each flow router (once: module routers serve several apps)."""
    for each in routers:
        observer = each.callback_query
        if not any(isinstance(m, EndStepOnForeignPress) for m in observer.middleware):
            observer.middleware(EndStepOnForeignPress())


@router.message(F.text.func(menu_ui.is_navigation))
async def leave_any_step(message: Message, state: FSMContext, raw_state: str | None) -> None:
    if raw_state is not None and raw_state not in Onboarding.__all_states_names__:
        await state.clear()
    raise SkipHandler
