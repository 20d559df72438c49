"""What each step of the booking wizard loads, and who may load it.

A loader fetches everything its screen shows from the unit of work once, into
one of the view dataclasses below, which the pure renderers of
flows/booking_views.py turn into text and buttons; flows/wizard.py pairs them
in its step table. Every loader checks the draft's ids again: the patient is
the account's own (or the moved visit's), the visit is the user's or of the
staff member's clinics — anything else raises Stale.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from domain import booking
from domain.directory import DoctorCard, local_date
from domain.errors import CancelWindowClosed, DomainError, InvalidTransition, NotOwner, Stale
from domain.models import Appointment, Clinic, Doctor, Patient, Slot, Specialty
from domain.policy import Policy
from flows.booking_common import load_details
from flows.booking_draft import BookingDraft
from flows.ui.callbacks import day_from_code
from flows.ui.format import Details
from flows.ui.pager import PER_PAGE, clamp
from flows.wizard_ports import WizardUoW

DEFAULT_REGION = "msk"


@dataclass(frozen=True, slots=True)
class Looks:
    """What every renderer may read besides the draft and its view."""

    home_tz: str
    hold_minutes: int


@dataclass(frozen=True, slots=True)
class SpecialtiesView:
    patient: Patient
    specialties: list[Specialty]


@dataclass(frozen=True, slots=True)
class ClinicsView:
    patient: Patient
    specialty: Specialty
    clinics: list[Clinic]
    total: int
    page: int
    pages: int


@dataclass(frozen=True, slots=True)
class DoctorsView:
    clinic: Clinic
    specialty: Specialty
    cards: list[DoctorCard]


@dataclass(frozen=True, slots=True)
class CalendarView:
    clinic: Clinic
    specialty: Specialty
    today: date
    doctor: Doctor | None = None  # None: «any doctor», the earliest times below
    nearest: Slot | None = None
    free: tuple[date, ...] = ()
    earliest: tuple[tuple[Slot, str], ...] = ()  # (slot, doctor's surname)
    moving: Appointment | None = None


@dataclass(frozen=True, slots=True)
class SlotsView:
    doctor: Doctor
    clinic: Clinic
    day: date
    slots: list[Slot]
    moving: Appointment | None = None


@dataclass(frozen=True, slots=True)
class SummaryView:
    details: Details
    moving: Appointment | None = None


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
    # What this press has read already: the handler's checks and the next step's loader
    # ask for the same patient and slot, and each is fetched once.
    seen: dict[tuple[str, int], Any] = field(default_factory=dict, compare=False)

    @property
    def looks(self) -> Looks:
        return Looks(self.policy.home_tz, self.policy.booking.hold_minutes)

    async def patient(self, patient_id: int) -> Patient | None:
        if ("patient", patient_id) not in self.seen:
            self.seen["patient", patient_id] = await self.uow.users.patient(patient_id)
        found: Patient | None = self.seen["patient", patient_id]
        return found

    async def slot(self, slot_id: int) -> Slot | None:
        if ("slot", slot_id) not in self.seen:
            self.seen["slot", slot_id] = await self.uow.directory.slot(slot_id)
        found: Slot | None = self.seen["slot", slot_id]
        return found


# --------------------------------------------------------------------------- ownership


async def own_patient(ctx: Ctx, draft: BookingDraft, patient_id: int | None) -> Patient:
    """The patient a press names: the account's own (self or a relative) for a booking; for
    a move, the moved visit's patient (the draft took it from the visit, checked at start)."""
    if draft.mode != "book" and patient_id != draft.patient_id:
        raise Stale
    patient = await ctx.patient(patient_id) if patient_id else None
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
    key = ("visit", draft.appointment_id or 0)
    if key not in ctx.seen:  # the handler's check and the step's loader: read once
        ctx.seen[key] = await visit_to_move(ctx, draft.appointment_id or 0)
    visit: Appointment = ctx.seen[key]
    return visit


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


async def load_patients(ctx: Ctx, draft: BookingDraft) -> list[Patient]:
    return await ctx.uow.users.patients_of(ctx.actor.user_id)


async def load_specialties(ctx: Ctx, draft: BookingDraft) -> SpecialtiesView:
    patient = await own_patient(ctx, draft, draft.patient_id)
    return SpecialtiesView(patient, await ctx.uow.directory.specialties())


async def _pick(ctx: Ctx, draft: BookingDraft) -> tuple[Patient, Specialty, Clinic | None]:
    """Patient, specialty and clinic of the draft (clinic None before it is chosen)."""
    patient = await own_patient(ctx, draft, draft.patient_id)
    directory = ctx.uow.directory
    spec = await directory.specialty(draft.specialty_id or 0)
    clinic = await directory.clinic(draft.clinic_id) if draft.clinic_id else None
    if spec is None or (draft.clinic_id and clinic is None):
        raise Stale
    return patient, spec, clinic


async def load_clinics(ctx: Ctx, draft: BookingDraft) -> ClinicsView:
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
    return ClinicsView(patient, spec, found.items, found.total, page, pages)


async def load_doctors(ctx: Ctx, draft: BookingDraft) -> DoctorsView:
    await moving_visit(ctx, draft)
    _patient, spec, clinic = await _pick(ctx, draft)
    if clinic is None:
        raise Stale
    cards = await ctx.uow.directory.doctors_in_clinic(
        clinic.id, spec.id, ctx.now, for_user_id=ctx.actor.user_id
    )
    return DoctorsView(clinic, spec, cards)


async def load_calendar(ctx: Ctx, draft: BookingDraft) -> CalendarView:
    moving = await moving_visit(ctx, draft)
    _patient, spec, clinic = await _pick(ctx, draft)
    directory, user_id = ctx.uow.directory, ctx.actor.user_id
    if clinic is None or draft.doctor_id is None:
        raise Stale
    today = local_date(ctx.now, clinic.tz)
    if draft.doctor_id == 0 and draft.mode == "book":  # any doctor: the earliest times
        found = await directory.earliest_free(
            spec.id,
            clinic.region_id,
            ctx.now,
            limit=PER_PAGE,
            clinic_id=clinic.id,
            for_user_id=user_id,
        )
        names: dict[int, str] = {}
        for slot in found:
            if slot.doctor_id not in names:
                doc = await directory.doctor(slot.doctor_id)
                names[slot.doctor_id] = doc.surname if doc else ""
        earliest = tuple((slot, names[slot.doctor_id]) for slot in found)
        return CalendarView(clinic, spec, today, earliest=earliest)
    doctor = await directory.doctor(draft.doctor_id)
    if doctor is None:
        raise Stale
    nearest = None
    if draft.mode != "staff":  # the doctor's card says the nearest free time
        # The clinic's active doctors of the specialty: the doctor being among them is
        # the same check as has_role (an active role here), without a statement of its own.
        cards = await directory.doctors_in_clinic(clinic.id, spec.id, ctx.now, for_user_id=user_id)
        card = next((c for c in cards if c.doctor.id == doctor.id), None)
        if card is None:
            raise Stale
        nearest = card.nearest
    elif not await directory.has_role(doctor.id, clinic.id, spec.id):
        raise Stale
    free = await directory.free_days(
        doctor.id, clinic.id, spec.id, ctx.now, clinic.tz, for_user_id=user_id
    )
    return CalendarView(clinic, spec, today, doctor, nearest, tuple(free), moving=moving)


async def load_day(ctx: Ctx, draft: BookingDraft) -> SlotsView:
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
    if moving is not None and draft.mode == "staff":  # not offered, then refused at «Подтвердить»
        clash = ctx.uow.appointments.overlapping
        slots = [s for s in slots if await clash(moving.patient_id, s.start, s.minutes, moving.id) is None]  # fmt: skip
    return SlotsView(doctor, clinic, day, slots, moving)


async def load_nothing(ctx: Ctx, draft: BookingDraft) -> None:
    await moving_visit(ctx, draft)


async def load_summary(ctx: Ctx, draft: BookingDraft) -> SummaryView:
    moving = await moving_visit(ctx, draft)
    patient = await own_patient(ctx, draft, draft.patient_id)
    slot = await ctx.slot(draft.slot_id or 0)
    details = await load_details(ctx.uow, patient, slot=slot) if slot else None
    if details is None:
        raise Stale
    return SummaryView(details, moving)


async def alternatives(ctx: Ctx, slot_ids: tuple[int, ...]) -> list[tuple[Slot, str, str]]:
    """«Это время уже заняли»: the nearest alternatives with their zone and doctor."""
    found: list[tuple[Slot, str, str]] = []
    directory = ctx.uow.directory
    for slot_id in slot_ids[:3]:
        slot = await directory.slot(slot_id)
        clinic = await directory.clinic(slot.clinic_id) if slot else None
        doctor = await directory.doctor(slot.doctor_id) if slot else None
        if slot is not None and clinic is not None and doctor is not None:
            found.append((slot, clinic.tz, doctor.surname))
    return found
