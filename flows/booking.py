"""«Записаться к врачу» and the wizard's shared buttons (also of a reschedule and a staff move).

Every handler is the same four lines: parse the callback → check it against
the draft and the user's own patients (a forged or outdated id raises Stale,
answered by flows/refusals.py) → the next draft → ``wizard.render``. The steps
themselves (what each loads and shows) are declared once in flows/wizard.py.
The time and the confirm buttons serve all three wizards; the mode of the draft
picks the hold and the confirm action (a booking here, a reschedule in
flows/appointments_move.py, a registrar's move in flows/staff_move.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from aiogram import F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from domain import booking
from domain.directory import local_date
from domain.errors import SlotTaken, Stale
from domain.flow_ports import SectionsUnitOfWork
from domain.models import User
from domain.policy import Policy
from flows import appointments_move, staff_move
from flows.booking_common import therapist_code_for
from flows.booking_draft import STEP_NAMES, BookingDraft
from flows.guards import Registered
from flows.ui import menu as menu_ui
from flows.ui.callbacks import (
    BkBack,
    BkClinic,
    BkClinicPage,
    BkConfirm,
    BkDay,
    BkDoctor,
    BkDoctorPage,
    BkJump,
    BkPatient,
    BkSlot,
    BkSpec,
    BkSpecPage,
    Noop,
    day_code,
)
from flows.ui.format import local
from flows.ui.i18n import gettext as _
from flows.waitlist import WaitListSteps, ask_to_join
from flows.wizard import BookingStates, Wizard, render
from flows.wizard_loaders import Actor, Ctx, own_patient
from flows.wizard_outcomes import (
    OWN_SCREEN,
    choose_specialty,
    confirm_booking,
    refusal_screen,
    repeated_confirm,
    taken,
)
from flows.wizard_ports import WizardUoW

__all__ = ["BookingStates", "router"]

router = Router(name="booking")


def _booking(draft: BookingDraft) -> BookingDraft:
    """Steps only a booking has (patient, specialty, clinic): other wizards' presses are stale."""
    if draft.mode != "book":
        raise Stale
    return draft


@router.message(F.text == menu_ui.BOOK, Registered())
async def start(
    message: Message, user: User, uow: WizardUoW, now: datetime, policy: Policy, state: FSMContext
) -> None:
    patients = await uow.users.patients_of(user.id)
    if not patients:
        await message.answer(_("Please finish registration first: send /start."))
        return
    draft = BookingDraft(multi=len(patients) > 1)
    if len(patients) == 1:
        draft = draft.at("specialty", patient_id=patients[0].id)
    await render(message, Ctx(uow, now, policy, Actor(user.id)), state, draft)


@router.message(StateFilter(BookingStates), F.text.func(menu_ui.is_navigation))
async def leave_on_navigation(message: Message, state: FSMContext) -> None:
    """Another main-menu section or a command ends the wizard: text typed later is not
    taken as an answer to one of its steps. The section's own handler then runs."""
    await state.clear()
    raise SkipHandler


@router.callback_query(Noop.filter())
async def noop(query: CallbackQuery, callback_data: Noop) -> None:
    if callback_data.why == "day":
        await query.answer(_("No free time on this day."))
    elif callback_data.why == "past":
        await query.answer(_("This day has passed."))
    elif callback_data.why == "later":
        await query.answer(_("This day is not open for booking yet."))
    else:
        await query.answer()


@router.callback_query(BkPatient.filter(), Wizard())
async def on_patient(
    query: CallbackQuery, callback_data: BkPatient, state: FSMContext, draft: BookingDraft, ctx: Ctx
) -> None:
    patient = await own_patient(ctx, _booking(draft), callback_data.patient_id)
    chosen = BookingDraft(multi=draft.multi, step="specialty", patient_id=patient.id)
    await render(query, ctx, state, chosen)


@router.callback_query(BkSpecPage.filter(), Wizard())
async def on_spec_page(
    query: CallbackQuery,
    callback_data: BkSpecPage,
    state: FSMContext,
    draft: BookingDraft,
    ctx: Ctx,
) -> None:
    next_draft = _booking(draft).at("specialty", spec_page=callback_data.page)
    await render(query, ctx, state, next_draft)


@router.callback_query(BkSpec.filter(), Wizard())
async def on_spec(
    query: CallbackQuery, callback_data: BkSpec, state: FSMContext, draft: BookingDraft, ctx: Ctx
) -> None:
    patient = await own_patient(ctx, _booking(draft), draft.patient_id)
    spec = await ctx.uow.directory.specialty(callback_data.specialty_id)
    if spec is None:
        raise Stale
    await choose_specialty(query, ctx, state, draft, patient, spec)


@router.callback_query(BkClinicPage.filter(), Wizard())
async def on_clinic_page(
    query: CallbackQuery,
    callback_data: BkClinicPage,
    state: FSMContext,
    draft: BookingDraft,
    ctx: Ctx,
) -> None:
    next_draft = _booking(draft).at("clinic", clinic_page=callback_data.page)
    await render(query, ctx, state, next_draft)


@router.message(StateFilter(BookingStates.clinic), F.text, menu_ui.not_navigation, Wizard())
async def on_search(message: Message, state: FSMContext, draft: BookingDraft, ctx: Ctx) -> None:
    """Text typed at the clinic step searches names and addresses."""
    words = (message.text or "").strip()
    if not words or draft.mode != "book":
        raise SkipHandler  # the step's hint (flows/step_hints.py)
    next_draft = draft.at("clinic", query=words[:64], clinic_page=0)
    await render(message, ctx, state, next_draft)


@router.callback_query(BkClinic.filter(), Wizard())
async def on_clinic(
    query: CallbackQuery, callback_data: BkClinic, state: FSMContext, draft: BookingDraft, ctx: Ctx
) -> None:
    next_draft = _booking(draft).at(
        "doctor", clinic_id=callback_data.clinic_id, doctor_id=None, doctor_page=0
    )
    await render(query, ctx, state, next_draft)


@router.callback_query(BkDoctorPage.filter(), Wizard())
async def on_doctor_page(
    query: CallbackQuery,
    callback_data: BkDoctorPage,
    state: FSMContext,
    draft: BookingDraft,
    ctx: Ctx,
) -> None:
    next_draft = _booking(draft).at("doctor", doctor_page=callback_data.page)
    await render(query, ctx, state, next_draft)


@router.callback_query(BkDoctor.filter(), Wizard())
async def on_doctor(
    query: CallbackQuery, callback_data: BkDoctor, state: FSMContext, draft: BookingDraft, ctx: Ctx
) -> None:
    """A doctor's calendar (0: any doctor's earliest times — a booking's choice only)."""
    doctor_id = callback_data.doctor_id
    if draft.mode == "staff" or (doctor_id == 0 and draft.mode != "book"):
        raise Stale  # the registrar moves a visit within its doctor's own time
    next_draft = draft.at("day", doctor_id=doctor_id, day=None, slot_page=0)
    await render(query, ctx, state, next_draft)


@router.callback_query(BkDay.filter(), Wizard())
async def on_day(
    query: CallbackQuery, callback_data: BkDay, state: FSMContext, draft: BookingDraft, ctx: Ctx
) -> None:
    """A day's times (or another page of them) of the doctor whose calendar is on screen."""
    if callback_data.doctor_id != draft.doctor_id:
        raise Stale
    next_draft = draft.at("slot", day=callback_data.day, slot_page=callback_data.page)
    await render(query, ctx, state, next_draft)


@router.callback_query(BkSlot.filter(), Wizard())
async def on_slot(
    query: CallbackQuery, callback_data: BkSlot, state: FSMContext, draft: BookingDraft, ctx: Ctx
) -> None:
    """A time: hold it for the summary (a booking, a reschedule) or ask the registrar why."""
    patient = await own_patient(ctx, draft, callback_data.patient_id)
    slot = await ctx.slot(callback_data.slot_id)
    clinic = await ctx.uow.directory.clinic(slot.clinic_id) if slot else None
    if slot is None or clinic is None:
        raise Stale
    if draft.mode == "staff":
        await staff_move.check_slot(ctx, draft, slot)
    else:
        rescheduling = draft.mode == "move"
        if rescheduling:
            await appointments_move.check_slot(ctx, draft, slot)
        try:
            await booking.hold_slot(
                ctx.uow,
                ctx.now,
                ctx.actor.user_id,
                patient.id,
                slot.id,
                ctx.policy.booking,
                rescheduling=rescheduling,
            )
        except SlotTaken as lost:
            await taken(query, ctx, draft, patient.id, lost)
            return
        except OWN_SCREEN as refused:
            spec = await ctx.uow.directory.specialty(slot.specialty_id)
            await refusal_screen(query, ctx, draft, refused, patient, spec)
            return
    chosen = draft.at(
        "reason" if draft.mode == "staff" else "summary",
        patient_id=patient.id,
        slot_id=slot.id,
        specialty_id=slot.specialty_id,
        clinic_id=slot.clinic_id,
        doctor_id=slot.doctor_id,
        day=day_code(local(slot.start, clinic.tz).date()),
    )
    await render(query, ctx, state, chosen)


@router.callback_query(BkConfirm.filter(), Wizard())
async def on_confirm(
    query: CallbackQuery, callback_data: BkConfirm, state: FSMContext, draft: BookingDraft, ctx: Ctx
) -> None:
    """«Подтвердить»: the mode's confirm action (book, reschedule, the registrar's move).

    Only the summary on screen confirms: an older summary (the dialogue moved on, went
    back, or was left for another section) or a forged press from another step is a
    stale button — else a reschedule's summary, once its draft was gone, booked a new
    visit, and a time could be booked without its summary and hold. A second tap after
    the booking is answered with the visit it made."""
    patient = await own_patient(ctx, draft, callback_data.patient_id)
    if (
        draft.step != "summary"
        or draft.slot_id != callback_data.slot_id
        or draft.patient_id != patient.id
    ):
        if draft.mode == "book" and await repeated_confirm(
            query, ctx, patient, callback_data.slot_id
        ):
            return
        raise Stale
    if draft.mode == "staff":
        await staff_move.confirm(query, ctx, state, draft, callback_data.slot_id)
    elif draft.mode == "move":
        await appointments_move.confirm(query, ctx, state, draft, patient, callback_data.slot_id)
    else:
        await confirm_booking(query, ctx, state, draft, patient, callback_data.slot_id)


@router.callback_query(BkBack.filter(), Wizard())
async def on_back(
    query: CallbackQuery, callback_data: BkBack, state: FSMContext, draft: BookingDraft, ctx: Ctx
) -> None:
    to = callback_data.to
    target = draft.back_to(to) if to in STEP_NAMES else None
    if target is None:
        raise Stale
    if draft.slot_id is not None and draft.mode != "staff":
        await booking.release_hold(ctx.uow, ctx.actor.user_id)  # leaving the summary frees its time
    await render(query, ctx, state, target)


@router.callback_query(BkJump.filter(), Registered(), Wizard())
async def on_jump(
    query: CallbackQuery,
    callback_data: BkJump,
    user: User,
    state: FSMContext,
    draft: BookingDraft,
    ctx: Ctx,
) -> None:
    to = callback_data.to
    if to == "doctors" and draft.mode == "move":  # another doctor of the visit's specialty
        await render(query, ctx, state, draft.at("doctor", doctor_page=0))
        return
    _booking(draft)
    if to == "waitlist":
        await state.set_state(WaitListSteps.period)  # typed text gets that step's hint
        await ask_to_join(
            query,
            cast(SectionsUnitOfWork, ctx.uow),  # the same SqlUnitOfWork, seen by the wait list
            user,
            patient_id=draft.patient_id or 0,
            specialty_id=draft.specialty_id or 0,
            clinic_id=draft.clinic_id or 0,
            doctor_id=draft.doctor_id or 0,
        )
    elif to == "therapist":
        patient = await own_patient(ctx, draft, draft.patient_id)
        code = therapist_code_for(patient, local_date(ctx.now, ctx.policy.home_tz))
        spec = await ctx.uow.directory.specialty_by_code(code)
        if spec is None:
            raise Stale
        await choose_specialty(query, ctx, state, draft, patient, spec)
    elif to == "clinics":
        await render(query, ctx, state, draft.at("clinic", query=None, clinic_page=0))
    else:
        raise Stale
