"""The booking wizard as declared steps: each step = a loader + a pure renderer, one table.

The shape is aiogram_dialog's «state + getter + window»: a step has its FSM
state (what typed text means there, flows/step_hints.py), a loader that
fetches what the screen shows from the unit of work once, and a renderer
(flows/booking_views.py) that turns the draft and that view into text and an
InlineKeyboardBuilder markup with no I/O. Three wizards run through the one
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
row and the loaders below, which raise Stale for any id in the draft that is
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

from domain import booking
from domain.directory import local_date
from domain.errors import (
    CancelWindowClosed,
    DomainError,
    InvalidTransition,
    NotOwner,
    NotRegistered,
    Stale,
)
from domain.models import Appointment, Patient, StaffMember, User, is_registered
from domain.policy import Policy
from flows import booking_views as views
from flows.booking_common import Event, load_details, show
from flows.booking_draft import DRAFT_KEY, BookingDraft, StepName
from flows.ui.callbacks import day_from_code
from flows.ui.pager import PER_PAGE, clamp
from flows.wizard_ports import WizardUoW

DEFAULT_REGION = "msk"
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
class Actor:
    """Who drives the wizard: a patient's account, or clinic staff (``clinics`` they cover)."""

    user_id: int  # Telegram id: holds and «your own held time is free for you»
    clinics: tuple[int, ...] | None = None


@dataclass(frozen=True, slots=True)
class Ctx:
    """One press: the update's unit of work, its moment, the rules and the actor."""

    uow: WizardUoW
    now: datetime
    policy: Policy
    actor: Actor

    @property
    def looks(self) -> views.Looks:
        return views.Looks(self.policy.home_tz, self.policy.booking.hold_minutes)


@dataclass(frozen=True, slots=True)
class Step(Generic[V]):
    state: State
    load: Callable[[Ctx, BookingDraft], Awaitable[V]]
    render: Callable[[BookingDraft, V, views.Looks], views.Screen]


class Wizard(Filter):
    """Guard of the wizard's buttons: loads the draft and the actor its mode needs.

    A booking or a reschedule is driven by a registered account, a registrar's
    move by staff; anything else is a stale button (NotRegistered for text).
    Injects ``draft`` (an empty booking when none is stored) and ``actor``.
    """

    async def __call__(
        self,
        event: Message | CallbackQuery,
        state: FSMContext,
        user: User | None = None,
        staff: StaffMember | None = None,
    ) -> dict[str, Any]:
        draft = await load(state) or BookingDraft()
        if draft.mode == "staff":
            if staff is None or event.from_user is None:
                raise Stale
            return {"draft": draft, "actor": Actor(event.from_user.id, staff.clinics)}
        if is_registered(user):
            return {"draft": draft, "actor": Actor(user.id)}
        raise Stale if isinstance(event, CallbackQuery) else NotRegistered


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


# --------------------------------------------------------------------------- ownership


async def own_patient(ctx: Ctx, draft: BookingDraft, patient_id: int | None) -> Patient:
    """The patient a press names: the account's own (self or a relative) for a booking; for
    a move, the moved visit's patient (the draft took it from the visit, checked at start)."""
    if draft.mode != "book" and patient_id != draft.patient_id:
        raise Stale
    patient = await ctx.uow.users.patient(patient_id) if patient_id else None
    if patient is None:
        raise Stale
    if draft.mode == "book" and patient.owner_user_id != ctx.actor.user_id:
        raise Stale
    return patient


async def moving_visit(ctx: Ctx, draft: BookingDraft) -> Appointment | None:
    """The visit a move works on, checked on every step: the account's own (reschedule) or
    one of the staff member's clinics, still upcoming and active. None for a booking."""
    if draft.mode == "book":
        return None
    return await visit_to_move(ctx, draft.appointment_id or 0)


async def visit_to_move(ctx: Ctx, appointment_id: int) -> Appointment:
    """A visit the actor may move: not theirs → Stale; past or inactive → its refusal."""
    clinics = ctx.actor.clinics
    if clinics is None:
        try:
            visit = await booking.get_owned_appointment(ctx.uow, ctx.actor.user_id, appointment_id)
        except NotOwner:
            raise Stale from None
        refusal = not_movable(visit, ctx.now)
        if refusal is not None:
            raise refusal
        return visit
    found = await ctx.uow.appointments.get(appointment_id)
    if found is None or found.clinic_id not in clinics or not_movable(found, ctx.now):
        raise Stale  # the registrar's list shows upcoming visits of their clinics only
    return found


def not_movable(visit: Appointment, now: datetime) -> DomainError | None:
    """Why a visit cannot be moved any more (no longer active, or already begun), if so."""
    if not visit.status.active:
        return InvalidTransition(f"appointment {visit.id} is {visit.status}")
    if visit.start <= now:
        return CancelWindowClosed()
    return None


# --------------------------------------------------------------------------- loaders


async def _patients(ctx: Ctx, draft: BookingDraft) -> list[Patient]:
    return await ctx.uow.users.patients_of(ctx.actor.user_id)


async def _specialties(ctx: Ctx, draft: BookingDraft) -> views.SpecialtiesView:
    patient = await own_patient(ctx, draft, draft.patient_id)
    return views.SpecialtiesView(patient, await ctx.uow.directory.specialties())


async def _pick(ctx: Ctx, draft: BookingDraft) -> tuple[Patient, Any, Any]:
    """Patient, specialty and clinic of the draft (clinic None before it is chosen)."""
    patient = await own_patient(ctx, draft, draft.patient_id)
    directory = ctx.uow.directory
    spec = await directory.specialty(draft.specialty_id or 0)
    clinic = await directory.clinic(draft.clinic_id) if draft.clinic_id else None
    if spec is None or (draft.clinic_id and clinic is None):
        raise Stale
    return patient, spec, clinic


async def _clinics(ctx: Ctx, draft: BookingDraft) -> views.ClinicsView:
    patient, spec, _clinic = await _pick(ctx, draft)

    async def page_of(page: int) -> Any:
        return await ctx.uow.directory.clinics_for_specialty(
            draft.region or DEFAULT_REGION,
            spec.id,
            query=draft.query,
            attached_clinic_id=patient.attached_clinic_id,
            offset=page * PER_PAGE,
            limit=PER_PAGE,
        )

    wanted = max(draft.clinic_page, 0)
    found = await page_of(wanted)
    page, pages = clamp(wanted, found.total)
    if page != wanted:  # past the last page (the list shrank): the last page
        found = await page_of(page)
    return views.ClinicsView(patient, spec, found.items, found.total, page, pages)


async def _doctors(ctx: Ctx, draft: BookingDraft) -> views.DoctorsView:
    await moving_visit(ctx, draft)
    _patient, spec, clinic = await _pick(ctx, draft)
    if clinic is None:
        raise Stale
    cards = await ctx.uow.directory.doctors_in_clinic(
        clinic.id, spec.id, ctx.now, for_user_id=ctx.actor.user_id
    )
    return views.DoctorsView(clinic, spec, cards)


async def _calendar(ctx: Ctx, draft: BookingDraft) -> views.CalendarView:
    moving = await moving_visit(ctx, draft)
    _patient, spec, clinic = await _pick(ctx, draft)
    directory, user_id = ctx.uow.directory, ctx.actor.user_id
    if clinic is None or draft.doctor_id is None:
        raise Stale
    today = local_date(ctx.now, clinic.tz)
    if draft.doctor_id == 0 and draft.mode == "book":  # any doctor: the earliest times
        found = await directory.earliest_free(
            spec.id, clinic.region_id, ctx.now, limit=PER_PAGE, clinic_id=clinic.id,
            for_user_id=user_id,
        )  # fmt: skip
        names: dict[int, str] = {}
        for slot in found:
            if slot.doctor_id not in names:
                doc = await directory.doctor(slot.doctor_id)
                names[slot.doctor_id] = doc.surname if doc else ""
        earliest = tuple((slot, names[slot.doctor_id]) for slot in found)
        return views.CalendarView(clinic, spec, today, earliest=earliest)
    doctor = await directory.doctor(draft.doctor_id)
    if doctor is None or not await directory.has_role(doctor.id, clinic.id, spec.id):
        raise Stale
    free = await directory.free_days(
        doctor.id, clinic.id, spec.id, ctx.now, clinic.tz, for_user_id=user_id
    )
    nearest = None
    if draft.mode != "staff":  # the doctor's card says the nearest free time
        cards = await directory.doctors_in_clinic(clinic.id, spec.id, ctx.now, for_user_id=user_id)
        nearest = next((c.nearest for c in cards if c.doctor.id == doctor.id), None)
    return views.CalendarView(clinic, spec, today, doctor, nearest, tuple(free), moving=moving)


async def _day(ctx: Ctx, draft: BookingDraft) -> views.SlotsView:
    moving = await moving_visit(ctx, draft)
    _patient, spec, clinic = await _pick(ctx, draft)
    doctor = await ctx.uow.directory.doctor(draft.doctor_id or 0)
    if clinic is None or doctor is None or not draft.day:
        raise Stale
    try:
        day = day_from_code(draft.day)
    except ValueError:
        raise Stale from None
    slots = await ctx.uow.directory.free_slots_on_day(
        doctor.id, clinic.id, spec.id, day, clinic.tz, ctx.now, for_user_id=ctx.actor.user_id
    )
    if moving is not None:
        slots = [s for s in slots if s.id != moving.slot_id]
    return views.SlotsView(doctor, clinic, day, slots, moving)


async def _nothing(ctx: Ctx, draft: BookingDraft) -> None:
    await moving_visit(ctx, draft)


async def _summary(ctx: Ctx, draft: BookingDraft) -> views.SummaryView:
    moving = await moving_visit(ctx, draft)
    patient = await own_patient(ctx, draft, draft.patient_id)
    slot = await ctx.uow.directory.slot(draft.slot_id or 0)
    details = await load_details(ctx.uow, patient, slot=slot) if slot else None
    if details is None:
        raise Stale
    return views.SummaryView(details, moving)


STEPS: dict[StepName, Step[Any]] = {
    "patient": Step(BookingStates.patient, _patients, views.patients_screen),
    "specialty": Step(BookingStates.specialty, _specialties, views.specialties_screen),
    "clinic": Step(BookingStates.clinic, _clinics, views.clinics_screen),
    "doctor": Step(BookingStates.doctor, _doctors, views.doctors_screen),
    "day": Step(BookingStates.day, _calendar, views.calendar_screen),
    "slot": Step(BookingStates.slot, _day, views.slots_screen),
    "reason": Step(StaffMoveStates.reason, _nothing, views.reason_screen),
    "summary": Step(BookingStates.summary, _summary, views.summary_screen),
}


async def alternatives(ctx: Ctx, slot_ids: tuple[int, ...]) -> list[tuple[Any, str, str]]:
    """«Это время уже заняли»: the nearest alternatives with their zone and doctor."""
    found = []
    directory = ctx.uow.directory
    for slot_id in slot_ids[:3]:
        slot = await directory.slot(slot_id)
        clinic = await directory.clinic(slot.clinic_id) if slot else None
        doctor = await directory.doctor(slot.doctor_id) if slot else None
        if slot is not None and clinic is not None and doctor is not None:
            found.append((slot, clinic.tz, doctor.surname))
    return found
