"""Outcomes of the booking wizard that have a screen of their own, not a pop-up.

A refusal with the way forward (another time, the visit in the way to move or
cancel, the therapist, other specialties), «this time was just taken» with the
nearest alternatives, and the booking's confirmation. Every other refusal
escapes the handler and flows/refusals.py answers it (the update rolls back).
"""

from __future__ import annotations

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery

from domain import booking, rules
from domain.directory import local_date
from domain.errors import (
    AgeSexRestricted,
    AlreadyBooked,
    DailyCapReached,
    DomainError,
    NoShowRestricted,
    ReferralRequired,
    SlotTaken,
    SlotUnavailable,
    VisitOverlaps,
)
from domain.models import Appointment, AppointmentStatus, Patient, Specialty
from domain.notifications import reminder_items
from domain.schedule_source import RemoteRefused
from flows import booking_views as views
from flows.booking_common import (
    Event,
    load_details,
    mark_confirmed_in_chat,
    refusal_text,
    show,
    therapist_code_for,
)
from flows.booking_draft import DRAFT_KEY, BookingDraft
from flows.ui.callbacks import ApCancel, ApMove, BkBack, BkJump
from flows.ui.format import current_locale, details_text
from flows.ui.i18n import gettext as _
from flows.ui.keyboards import button
from flows.ui.reply import close_summary
from flows.wizard import render
from flows.wizard_loaders import DEFAULT_REGION, Ctx, alternatives

# Refusals answered with a screen that shows the way forward (the rest go to refusals.py).
OWN_SCREEN = (
    VisitOverlaps,
    AlreadyBooked,
    ReferralRequired,
    AgeSexRestricted,
    DailyCapReached,
    NoShowRestricted,
    SlotUnavailable,
    RemoteRefused,
)


async def precheck(ctx: Ctx, patient: Patient, spec: Specialty) -> DomainError | None:
    """Refuse early (at the specialty) what hold_slot would refuse later: age/sex, referral,
    one active appointment per specialty (named, with «move» / «cancel»). The take
    checks them all again."""
    today = local_date(ctx.now, ctx.policy.home_tz)
    appointments = ctx.uow.appointments
    try:
        rules.check_age_sex(patient, spec, today)
        if spec.referral_required:
            referral = await appointments.usable_referral(patient.id, spec.id, today)
            rules.check_referral(spec, patient.id, referral, today)
        if ctx.policy.booking.one_active_per_specialty:
            existing = await appointments.active_for_specialty(patient.id, spec.id, ctx.now)
            rules.check_one_active(int(existing is not None), True, existing)
    except DomainError as exc:  # the rules speak in exceptions; here they are an answer
        return exc
    return None


async def choose_specialty(
    event: Event,
    ctx: Ctx,
    state: FSMContext,
    draft: BookingDraft,
    patient: Patient,
    spec: Specialty,
) -> None:
    """The specialty chosen: its refusal now, or the clinics of the patient's region."""
    refused = await precheck(ctx, patient, spec)
    if refused is not None:
        await refusal_screen(event, ctx, draft, refused, patient, spec)
        return
    region = DEFAULT_REGION
    if patient.attached_clinic_id is not None:
        clinic = await ctx.uow.directory.clinic(patient.attached_clinic_id)
        region = clinic.region_id if clinic is not None else region
    chosen = draft.at(
        "clinic",
        specialty_id=spec.id,
        region=region,
        query=None,
        clinic_page=0,
        clinic_id=None,
        doctor_id=None,
    )
    await render(event, ctx, state, chosen)


async def refusal_screen(
    event: Event,
    ctx: Ctx,
    draft: BookingDraft,
    error: DomainError,
    patient: Patient | None,
    spec: Specialty | None = None,
    *,
    new: bool = False,
) -> None:
    """A refusal in words plus the way forward (the therapist, other specialties; the
    visit in the way can be moved or cancelled right here)."""
    rows = []
    visit = error.clash if isinstance(error, VisitOverlaps) else None
    if isinstance(error, AlreadyBooked):
        visit = error.existing
    if isinstance(error, VisitOverlaps):  # the doctor and day stay chosen: back to their times
        rows.append([button(_("Choose another time"), BkBack(to="slot"))])
    elif isinstance(error, SlotUnavailable) and draft.mode == "book" and draft.doctor_id:
        # The time passed or was closed (the day too, perhaps): the doctor's calendar again.
        rows.append([button(_("Choose another time"), BkBack(to="day"))])
    if visit is not None:
        rows.append(
            [
                button(_("Reschedule"), ApMove(a=visit.appointment_id)),
                button(
                    _("Cancel appointment"), ApCancel(appointment_id=visit.appointment_id, step=0)
                ),
            ]
        )
    if draft.mode != "book":  # a move: back to the calendar
        if not isinstance(error, VisitOverlaps):
            rows.append([button(_("Back"), BkBack(to="day"))])
    elif patient is not None:
        code = therapist_code_for(patient, local_date(ctx.now, ctx.policy.home_tz))
        if visit is None and (spec is None or spec.code != code):
            other = await ctx.uow.directory.specialty_by_code(code)
            if other is not None:
                label = _("Book: {specialty}").format(specialty=other.name(current_locale()))
                rows.append([button(label, BkJump(to="therapist"))])
        rows.append([button(_("Other specialties"), BkBack(to="specialty"))])
    await show(event, refusal_text(error, spec, patient), views.markup(rows), new=new)


async def taken(
    event: Event, ctx: Ctx, draft: BookingDraft, patient_id: int, lost: SlotTaken
) -> None:
    """The time went to someone else meanwhile: the nearest alternatives, in a new message."""
    found = await alternatives(ctx, lost.alternatives)
    text, markup = views.taken_screen(draft, patient_id, found)
    await show(event, text, markup, new=True)


async def confirm_booking(
    query: CallbackQuery,
    ctx: Ctx,
    state: FSMContext,
    draft: BookingDraft,
    patient: Patient,
    slot_id: int,
) -> None:
    """A booking's «Подтвердить»: take the held time; a second tap answers with that booking."""
    uow, now, home_tz = ctx.uow, ctx.now, ctx.policy.home_tz
    try:
        # The new visit's .ics and PDF go out through the outbox (bot/notify_render.py
        # «booking_files»), queued with its other rows: building them here would cost
        # «Подтвердить» ~40 ms, twenty times any other step.
        appointment, created = await booking.book_once(
            uow, now, ctx.actor.user_id, patient.id, slot_id, ctx.policy.booking, files=True
        )
    except SlotTaken as lost:
        await taken(query, ctx, draft, patient.id, lost)
        return
    except OWN_SCREEN as refused:
        slot = await uow.directory.slot(slot_id)
        spec = await uow.directory.specialty(slot.specialty_id) if slot else None
        await refusal_screen(query, ctx, draft, refused, patient, spec)
        return
    await state.set_state(None)
    await state.update_data({DRAFT_KEY: None})
    details = await load_details(uow, patient, appointment=appointment)
    await close_summary(query.message, views.hold_line(draft.mode, ctx.policy.booking.hold_minutes))
    number = appointment.number
    if details is None:
        await show(query, _("Booked. Appointment number: {number}").format(number=number), new=True)
        return
    if not created:  # a second tap on «Подтвердить»: the booking it already made
        await _already_booked(query, ctx, patient, appointment)
        return
    text = _("Booked! Appointment number: {number}").format(number=number)
    text += "\n\n" + details_text(details, home_tz)
    rules = ctx.policy.booking
    reminders = reminder_items(
        appointment,
        list(rules.reminder_offsets_minutes),
        now,
        tz=details.clinic.tz,
        quiet=rules.quiet,
    )
    if reminders:  # (a visit booked an hour ahead gets none: do not promise them)
        text += "\n\n" + _(
            "You will get reminders before the visit. To move or cancel it, open «My appointments»."
        )
    else:
        text += "\n\n" + _("To move or cancel the visit, open «My appointments».")
    await show(query, text, new=True)
    await mark_confirmed_in_chat(uow, appointment, now)


async def repeated_confirm(query: CallbackQuery, ctx: Ctx, patient: Patient, slot_id: int) -> bool:
    """A booking's «Подтвердить» pressed again once its summary is gone (the first tap
    booked and closed it): answer with the visit it booked and True; False when this
    patient holds no active visit at that time (the press is a stale button)."""
    for appointment in await ctx.uow.appointments.list_for_owner(ctx.actor.user_id, ctx.now):
        if (
            appointment.slot_id == slot_id
            and appointment.patient_id == patient.id
            and AppointmentStatus(appointment.status).active
        ):
            await _already_booked(query, ctx, patient, appointment)
            return True
    return False


async def _already_booked(
    query: CallbackQuery, ctx: Ctx, patient: Patient, appointment: Appointment
) -> None:
    details = await load_details(ctx.uow, patient, appointment=appointment)
    text = _("You are already booked for this time. Appointment number: {number}").format(
        number=appointment.number
    )
    if details is not None:
        text += "\n\n" + details_text(details, ctx.policy.home_tz)
    await show(query, text, new=True)
