"""The booking wizard as declared steps: each step = a loader + a pure renderer, one table.

The shape is aiogram_dialog's «state + getter + window»: a step has its FSM
state (what typed text means there, flows/step_hints.py), a loader that
fetches what the screen shows from the unit of work once, and a renderer
(flows/booking_views.py) that turns the draft and that view into text and an
InlineKeyboardMarkup with no I/O. Three wizards run through the one
table ``STEPS``: a booking (patient → specialty → clinic → doctor → day →
time → summary), the patient's reschedule and the registrar's move (both start
at the visit's calendar: day → time → [reason] → summary). They differ only in
their start (flows/appointments_move.py, flows/staff_move.py) and their
confirm action (flows/booking.py ``on_confirm``).

Own table, not aiogram_dialog: not measured (it is not a dependency). It would
add a stack of intents to every user's FSM row, route each press through its
own callback encoding (our prefixes and the forged-callback tests go), and put
the ownership checks inside its getters and on_click callbacks — while a
dozen lines here do the same with our SafeCallback range checks, our one FSM
row and the loaders (flows/wizard_loaders.py), which raise Stale for any id in the draft that is
not the user's (or not of the staff member's clinics).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from aiogram.filters import Filter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from domain.errors import NotRegistered, Stale
from domain.models import StaffMember, User, is_registered
from domain.policy import Policy
from flows import booking_views as views
from flows import wizard_loaders as loaders
from flows.booking_common import Event, show
from flows.booking_draft import DRAFT_KEY, BookingDraft, StepName
from flows.wizard_loaders import Actor, Ctx, Looks
from flows.wizard_ports import WizardUoW

V = TypeVar("V")


class BookingStates(StatesGroup):
    """Where typed text lands while a step is on screen (the clinic step searches it)."""

    patient = State()
    specialty = State()
    clinic = State()
    doctor = State()
    day = State()
    slot = State()
    summary = State()


class StaffMoveStates(StatesGroup):
    reason = State()  # the registrar types the reason the patient will be told


@dataclass(frozen=True, slots=True)
class Step(Generic[V]):
    state: State
    load: Callable[[Ctx, BookingDraft], Awaitable[V]]
    render: Callable[[BookingDraft, V, Looks], views.Screen]


class Wizard(Filter):
    """Guard of the wizard's buttons: loads the draft and the actor its mode needs.

    A booking or a reschedule is driven by a registered account, a registrar's
    move by staff; anything else is a stale button (NotRegistered for text).
    Injects ``draft`` (an empty booking when none is stored) and ``ctx``.
    """

    async def __call__(
        self,
        event: Message | CallbackQuery,
        state: FSMContext,
        uow: WizardUoW,
        now: datetime,
        policy: Policy,
        user: User | None = None,
        staff: StaffMember | None = None,
    ) -> dict[str, Any]:
        draft = await load(state) or BookingDraft()
        if draft.mode == "staff":
            if staff is None or event.from_user is None:
                raise Stale
            actor = Actor(event.from_user.id, staff.clinics)
        elif is_registered(user):
            actor = Actor(user.id)
        else:
            raise Stale if isinstance(event, CallbackQuery) else NotRegistered
        return {"draft": draft, "ctx": Ctx(uow, now, policy, actor)}


async def load(state: FSMContext) -> BookingDraft | None:
    return BookingDraft.load((await state.get_data()).get(DRAFT_KEY))


async def render(event: Event, ctx: Ctx, state: FSMContext, draft: BookingDraft) -> None:
    """Show the draft's step: load once, render, remember the draft and the step's state."""
    step = STEPS[draft.step]
    view = await step.load(ctx, draft)
    text, markup = step.render(draft, view, ctx.looks)
    await state.set_state(step.state)
    await state.update_data({DRAFT_KEY: draft.dump()})
    await show(event, text, markup)


STEPS: dict[StepName, Step[Any]] = {
    "patient": Step(BookingStates.patient, loaders.load_patients, views.patients_screen),
    "specialty": Step(BookingStates.specialty, loaders.load_specialties, views.specialties_screen),
    "clinic": Step(BookingStates.clinic, loaders.load_clinics, views.clinics_screen),
    "doctor": Step(BookingStates.doctor, loaders.load_doctors, views.doctors_screen),
    "day": Step(BookingStates.day, loaders.load_calendar, views.calendar_screen),
    "slot": Step(BookingStates.slot, loaders.load_day, views.slots_screen),
    "reason": Step(StaffMoveStates.reason, loaders.load_nothing, views.reason_screen),
    "summary": Step(BookingStates.summary, loaders.load_summary, views.summary_screen),
}
