"""/staff for clinic staff (settings.staff): cancel a doctor's visits with a reason, mark visits.

«Отменить приём»: a doctor of the staff member's clinics (those with upcoming
visits) → a day or all upcoming days → the reason, typed → confirm → every
affected appointment is cancelled by the clinic; each patient gets an urgent
message with the reason and the three nearest alternatives (bot/notifier.py).
The cancelled slots and the rest of those days of the doctor become 'blocked':
the day is off, so nobody can book it and the wait list is not offered it.
«Перенести приём»: one visit to another free time of the same doctor (flows/staff_move.py).
«Отметить визит»: visits of the last day → completed / no-show.
Every id from a button is re-checked against the staff member's clinics; a
forged one gets «Эта кнопка устарела».

The /staff command and its menu are flows/staff_home.py's, a doctor's visits by
day and the closing of those days flows/staff_days.py's; the cancel and mark
screens stay here with the reason step, whose buttons flows/navigation.py finds
in this router (TYPED_STEPS).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from domain import booking
from domain.errors import DomainError, NotOwner, Stale
from domain.flow_ports import SectionsUnitOfWork
from domain.models import AppointmentStatus, StaffMember
from flows.booking_common import show
from flows.guards import Staff
from flows.staff_common import StMenu, staff_menu_markup, visit_label
from flows.staff_days import close_days, doctor_visits, visits_on_day
from flows.staff_home import staff_home_markup
from flows.ui.callbacks import day_code, day_from_code
from flows.ui.format import fmt_day, local
from flows.ui.i18n import gettext as _
from flows.ui.menu import not_navigation
from flows.ui.safe_callback import SafeCallback

router = Router(name="staff")

MAX_REASON = 300


class StDoc(SafeCallback, prefix="sd"):
    doctor_id: int


class StDay(SafeCallback, prefix="sy"):
    doctor_id: int
    day: int  # YYYYMMDD, 0 = all upcoming days


class StGo(SafeCallback, prefix="sg"):
    doctor_id: int
    day: int


class StVisit(SafeCallback, prefix="sv"):
    appointment_id: int


class StMark(SafeCallback, prefix="sk"):
    appointment_id: int
    outcome: str  # c = completed, n = no-show


class StaffStates(StatesGroup):
    reason = State()


@router.callback_query(StMenu.filter(F.to == "cancel"), Staff())
async def on_cancel_menu(
    query: CallbackQuery,
    state: FSMContext,
    staff: StaffMember,
    uow: SectionsUnitOfWork,
    now: datetime,
) -> None:
    await state.clear()  # «Назад» from the reason or its confirmation ends that step
    doctors = await uow.staff.doctors_with_visits(staff.clinics, now)
    if not doctors:
        await show(query, _("No upcoming visits in your clinics."), staff_home_markup())
        return
    keyboard = InlineKeyboardBuilder()
    for doctor_id, name, count in doctors:
        label = _("{doctor} — {count} visits").format(doctor=name, count=count)
        keyboard.button(text=label, callback_data=StDoc(doctor_id=doctor_id))
    keyboard.button(text=_("Back"), callback_data=StMenu(to="home"))
    keyboard.adjust(1)
    await show(
        query, _("Whose visits are to be cancelled? Choose the doctor."), keyboard.as_markup()
    )


@router.callback_query(StMenu.filter(F.to == "mark"), Staff())
async def on_mark_menu(
    query: CallbackQuery,
    state: FSMContext,
    staff: StaffMember,
    uow: SectionsUnitOfWork,
    now: datetime,
) -> None:
    await state.clear()
    visits = await uow.staff.visits(
        staff.clinics, after=now - timedelta(days=1), before=now, limit=30
    )
    if not visits:
        await show(
            query, _("No visits to mark: none started in the last 24 hours."), staff_home_markup()
        )
        return
    keyboard = InlineKeyboardBuilder()
    for visit in visits:
        keyboard.button(text=visit_label(visit), callback_data=StVisit(appointment_id=visit.id))
    keyboard.button(text=_("Back"), callback_data=StMenu(to="home"))
    keyboard.adjust(1)
    await show(query, _("Which visit?"), keyboard.as_markup())


@router.callback_query(StMenu.filter(), Staff())
async def on_menu(query: CallbackQuery, state: FSMContext) -> None:
    """«Назад» to the staff menu (and any other target: the menu too).

    The staff menu's buttons are handled by this router, the reason step's own, so
    flows/navigation.py does not end the step for them: the menu ends it here, or the
    next thing typed would still be taken as a cancellation reason."""
    await state.clear()
    await show(query, _("Clinic staff: what would you like to do?"), staff_home_markup())


@router.callback_query(StDoc.filter(), Staff())
async def on_doctor(
    query: CallbackQuery,
    callback_data: StDoc,
    staff: StaffMember,
    uow: SectionsUnitOfWork,
    now: datetime,
) -> None:
    doctor_id = callback_data.doctor_id
    visits = await doctor_visits(uow, staff, doctor_id, now)
    if not visits:
        raise Stale  # another clinic's doctor, or nothing left to cancel
    days = sorted({local(v.start, v.tz).date() for v in visits})
    keyboard = InlineKeyboardBuilder()
    for d in days[:14]:
        label = _("{day} — {count} visits").format(
            day=fmt_day(d), count=len(visits_on_day(visits, d))
        )
        keyboard.button(text=label, callback_data=StDay(doctor_id=doctor_id, day=day_code(d)))
    keyboard.button(
        text=_("All upcoming days — {count} visits").format(count=len(visits)),
        callback_data=StDay(doctor_id=doctor_id, day=0),
    )
    keyboard.button(text=_("Back"), callback_data=StMenu(to="cancel"))
    keyboard.adjust(1)
    await show(
        query,
        _("{doctor}: which day's visits are to be cancelled?").format(doctor=visits[0].doctor_name),
        keyboard.as_markup(),
    )


@router.callback_query(StDay.filter(), Staff())
async def on_day(
    query: CallbackQuery,
    callback_data: StDay,
    state: FSMContext,
    staff: StaffMember,
    uow: SectionsUnitOfWork,
    now: datetime,
) -> None:
    day = day_from_code(callback_data.day) if callback_data.day else None  # checked by SafeCallback
    visits = await doctor_visits(uow, staff, callback_data.doctor_id, now)
    chosen = visits_on_day(visits, day)
    if not chosen:
        raise Stale
    await state.set_state(StaffStates.reason)
    await state.update_data(staff_d=callback_data.doctor_id, staff_day=callback_data.day)
    keyboard = InlineKeyboardBuilder()  # «Назад» ends the step (on_cancel_menu clears it)
    keyboard.button(text=_("Back"), callback_data=StMenu(to="cancel"))
    await show(
        query,
        _(
            "{count} visits will be cancelled. Type the reason the patients will see, "
            "for example: «врач заболел»."
        ).format(count=len(chosen)),
        keyboard.as_markup(),
    )


_REASON_STEP = (StateFilter(StaffStates.reason), not_navigation)  # /staff, /menu leave the step


@router.message(*_REASON_STEP, F.text, Staff())
async def on_reason(
    message: Message,
    state: FSMContext,
    staff: StaffMember,
    uow: SectionsUnitOfWork,
    now: datetime,
) -> None:
    reason = (message.text or "").strip()
    if not reason or len(reason) > MAX_REASON:
        await message.answer(_("Please type the reason as text (up to 300 characters)."))
        return
    stored = await state.get_data()
    await state.update_data(staff_reason=reason)
    doctor_id, day = int(stored.get("staff_d", 0)), int(stored.get("staff_day", 0))
    visits = await doctor_visits(uow, staff, doctor_id, now)
    chosen = visits_on_day(visits, day_from_code(day) if day else None)
    if not chosen:
        await state.clear()
        await message.answer(_("Nothing left to cancel."), reply_markup=staff_menu_markup())
        return
    when = fmt_day(local(chosen[0].start, chosen[0].tz).date()) if day else _("all upcoming days")
    keyboard = InlineKeyboardBuilder()
    keyboard.button(text=_("Confirm"), callback_data=StGo(doctor_id=doctor_id, day=day))
    keyboard.button(text=_("Back"), callback_data=StMenu(to="cancel"))
    keyboard.adjust(1)
    await message.answer(
        _(
            "Cancel {count} visits of {doctor} ({when})?\nReason: {reason}\n"
            "Every patient will be told the reason and offered the nearest free times."
        ).format(count=len(chosen), doctor=chosen[0].doctor_name, when=when, reason=reason),
        reply_markup=keyboard.as_markup(),
        parse_mode=None,
    )


@router.message(*_REASON_STEP, Staff())
async def on_reason_bad(message: Message) -> None:
    await message.answer(_("Please type the reason as text (up to 300 characters)."))


@router.callback_query(StGo.filter(), Staff())
async def on_go(
    query: CallbackQuery,
    callback_data: StGo,
    state: FSMContext,
    staff: StaffMember,
    uow: SectionsUnitOfWork,
    now: datetime,
) -> None:
    stored = await state.get_data()
    reason = str(stored.get("staff_reason") or "")
    if (
        not reason
        or int(stored.get("staff_d", -1)) != callback_data.doctor_id
        or int(stored.get("staff_day", -1)) != callback_data.day
    ):
        raise Stale
    day = day_from_code(callback_data.day) if callback_data.day else None  # checked by SafeCallback
    chosen = visits_on_day(await doctor_visits(uow, staff, callback_data.doctor_id, now), day)
    done = 0
    for visit in chosen:
        try:
            await booking.cancel_by_clinic(
                uow, now, query.from_user.id, staff.clinics, visit.id, reason, block_slot=True
            )
            done += 1
        except DomainError:  # one visit changed meanwhile (refused before any write): skip it
            continue
    await close_days(uow, staff, callback_data.doctor_id, chosen, now)
    await state.clear()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(
            _(
                "Cancelled {count} visits. Notices to the patients are queued; "
                "/staff lists any that Telegram refuses to deliver."
            ).format(count=done),
            reply_markup=staff_menu_markup(),
        )


@router.callback_query(StVisit.filter(), Staff())
async def on_visit(
    query: CallbackQuery, callback_data: StVisit, staff: StaffMember, uow: SectionsUnitOfWork
) -> None:
    appointment = await uow.appointments.get(callback_data.appointment_id)
    if appointment is None or appointment.clinic_id not in staff.clinics:
        raise Stale
    keyboard = InlineKeyboardBuilder()
    keyboard.button(
        text=_("Visit took place"), callback_data=StMark(appointment_id=appointment.id, outcome="c")
    )
    keyboard.button(
        text=_("No-show"), callback_data=StMark(appointment_id=appointment.id, outcome="n")
    )
    keyboard.button(text=_("Back"), callback_data=StMenu(to="mark"))
    keyboard.adjust(2, 1)
    await show(
        query,
        _("Visit № {number}: did the patient come?").format(number=appointment.number),
        keyboard.as_markup(),
    )


OUTCOMES = {"c": AppointmentStatus.COMPLETED, "n": AppointmentStatus.NO_SHOW}


@router.callback_query(StMark.filter(F.outcome.in_(OUTCOMES)), Staff())
async def on_mark(
    query: CallbackQuery,
    callback_data: StMark,
    staff: StaffMember,
    uow: SectionsUnitOfWork,
    now: datetime,
) -> None:
    status = OUTCOMES[callback_data.outcome]
    try:
        appointment = await booking.mark_visit(
            uow, now, query.from_user.id, staff.clinics, callback_data.appointment_id, status
        )
    except NotOwner:
        raise Stale from None
    text = (
        _("Visit № {number} marked as completed.")
        if status is AppointmentStatus.COMPLETED
        else _("Visit № {number} marked as a no-show.")
    )
    await show(query, text.format(number=appointment.number), staff_home_markup())
