"""«Мои записи»: upcoming (and past) appointments of the user and relatives, one card
each with «Отменить запись», «Перенести» and the .ics/PDF files.

Every appointment id from a callback goes through ``booking.get_owned_appointment``
(NotOwner → «Эта кнопка устарела», nothing changes). Cancelling less than
24 h ahead needs a second confirmation; the FSM remembers that the warning was
shown (``ap_warned``), so a forged «final» callback cannot skip it.
Rescheduling lives in flows/appointments_move.py.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from domain import booking, rules
from domain.errors import (
    ConfirmationRequired,
    DomainError,
    InvalidTransition,
    NotFound,
    NotOwner,
    Stale,
)
from domain.flow_ports import SectionsUnitOfWork
from domain.models import Appointment, AppointmentStatus, Slot, SlotStatus, User
from domain.policy import Policy
from flows.booking_common import Event, load_details, refusal_text, send_files, show
from flows.calendar_sync import CalAll
from flows.guards import Registered
from flows.ui import menu as menu_ui
from flows.ui.callbacks import ApCancel, ApFile, ApList, ApMove, ApOpen
from flows.ui.format import (
    Details,
    alternative_button,
    details_text,
    fmt_when,
    specialty_name,
    status_label,
)
from flows.ui.i18n import gettext as _
from flows.ui.keyboards import button
from flows.ui.pager import pager_row, paginate

router = Router(name="appointments")

PER_PAGE = 5


async def owned_appointment(
    uow: SectionsUnitOfWork, user: User, appointment_id: int
) -> Appointment:
    """The user's (or their relative's) appointment; a stale or forged id is a stale button."""
    try:
        return await booking.get_owned_appointment(uow, user.id, appointment_id)
    except (NotOwner, NotFound):
        raise Stale from None


async def _owned(
    uow: SectionsUnitOfWork, user: User, appointment_id: int
) -> tuple[Appointment, Details]:
    """The user's appointment with its details (Stale for a stale/forged id)."""
    appointment = await owned_appointment(uow, user, appointment_id)
    patient = await uow.users.patient(appointment.patient_id)
    details = await load_details(uow, patient, appointment=appointment) if patient else None
    if details is None:
        raise Stale
    return appointment, details


async def _render_list(
    event: Event,
    uow: SectionsUnitOfWork,
    user: User,
    now: datetime,
    home_tz: str,
    past: bool,
    page: int,
) -> None:
    every = await booking.list_appointments(uow, user.id, now, include_past=past)
    if past:
        items = [a for a in every if a.start + timedelta(minutes=a.minutes) <= now]
        items.reverse()  # the latest past visit first
    else:
        items = every
    chunk = paginate(items, page, PER_PAGE)
    keyboard = InlineKeyboardBuilder()
    if not items:
        text = (
            _("You have no past appointments.")
            if past
            else _("You have no upcoming appointments. Book one with «Book a doctor».")
        )
    else:
        title = _("Past appointments:") if past else _("Your appointments, nearest first:")
        blocks = [title]
        for appointment in chunk.items:
            blocks.append(await _line(uow, appointment, home_tz, now))
            keyboard.button(
                text=await _label(uow, appointment),
                callback_data=ApOpen(appointment_id=appointment.id),
            )
        keyboard.adjust(1)
        text = "\n\n".join(blocks)
    keyboard.row(*pager_row(chunk.page, chunk.pages, lambda n: ApList(past=int(past), page=n)))
    keyboard.row(
        button(_("Upcoming"), ApList(past=0, page=0))
        if past
        else button(_("Past appointments"), ApList(past=1, page=0))
    )
    if any(a.status.active for a in items) and not past:
        keyboard.row(button(_("All visits to calendar"), CalAll()))  # flows/calendar_sync.py
    await show(event, text, keyboard.as_markup())


async def _line(
    uow: SectionsUnitOfWork, appointment: Appointment, home_tz: str, now: datetime
) -> str:
    directory = uow.directory
    clinic = await directory.clinic(appointment.clinic_id)
    doctor = await directory.doctor(appointment.doctor_id)
    spec = await directory.specialty(appointment.specialty_id)
    patient = await uow.users.patient(appointment.patient_id)
    tz = clinic.tz if clinic else home_tz
    parts = [
        f"№ {appointment.number} — {fmt_when(appointment.start, tz, home_tz)}",
        f"{specialty_name(spec) if spec else ''}: {doctor.full_name if doctor else ''}",
        clinic.name if clinic else "",
        _("Patient: {name}").format(name=patient.full_name if patient else ""),
        _("Status: {status}").format(status=status_label(appointment, now)),
    ]
    return "\n".join(p for p in parts if p)


async def _label(uow: SectionsUnitOfWork, appointment: Appointment) -> str:
    clinic = await uow.directory.clinic(appointment.clinic_id)
    spec = await uow.directory.specialty(appointment.specialty_id)
    tz = clinic.tz if clinic else "UTC"
    probe = Slot(
        0,
        0,
        0,
        0,
        0,
        "",
        appointment.start,
        appointment.minutes,
        appointment.kind,
        SlotStatus.BOOKED,
    )
    name = specialty_name(spec) if spec else ""
    return f"{alternative_button(probe, tz)} · {name} · № {appointment.number}"


@router.message(F.text == menu_ui.MY_APPOINTMENTS, Registered())
async def show_list(
    message: Message, user: User, uow: SectionsUnitOfWork, now: datetime, policy: Policy
) -> None:
    await _render_list(message, uow, user, now, policy.home_tz, False, 0)


@router.callback_query(ApList.filter(), Registered())
async def on_list(
    query: CallbackQuery,
    callback_data: ApList,
    user: User,
    uow: SectionsUnitOfWork,
    now: datetime,
    policy: Policy,
) -> None:
    past = bool(callback_data.past)
    await _render_list(query, uow, user, now, policy.home_tz, past, callback_data.page)


def card_keyboard(appointment: Appointment, now: datetime) -> InlineKeyboardMarkup:
    """The visit card's buttons: the confirmation files only while the visit is on (a
    cancelled, moved or past-and-closed visit has nothing to confirm)."""
    keyboard = InlineKeyboardBuilder()
    sizes = []
    if appointment.status.active and appointment.start > now:
        keyboard.button(
            text=_("Cancel appointment"),
            callback_data=ApCancel(appointment_id=appointment.id, step=0),
        )
        keyboard.button(text=_("Reschedule"), callback_data=ApMove(a=appointment.id))
        sizes.append(2)
    if appointment.status.active:
        keyboard.button(
            text=_("Calendar (.ics)"),
            callback_data=ApFile(appointment_id=appointment.id, kind="ics"),
        )
        keyboard.button(
            text=_("PDF"), callback_data=ApFile(appointment_id=appointment.id, kind="pdf")
        )
        sizes.append(2)
    keyboard.button(text=_("Back"), callback_data=ApList(past=0, page=0))
    keyboard.adjust(*sizes, 1)
    return keyboard.as_markup()


@router.callback_query(ApOpen.filter(), Registered())
async def on_open(
    query: CallbackQuery,
    callback_data: ApOpen,
    user: User,
    uow: SectionsUnitOfWork,
    now: datetime,
    policy: Policy,
) -> None:
    appointment, details = await _owned(uow, user, callback_data.appointment_id)
    await show(query, details_text(details, policy.home_tz), card_keyboard(appointment, now))


@router.callback_query(ApFile.filter(F.kind.in_({"ics", "pdf"})), Registered())
async def on_file(
    query: CallbackQuery,
    callback_data: ApFile,
    user: User,
    uow: SectionsUnitOfWork,
    now: datetime,
    policy: Policy,
) -> None:
    appointment, details = await _owned(uow, user, callback_data.appointment_id)
    # An old card's button after the visit was cancelled: no confirmation PDF; the
    # calendar button gives the cancellation (files_for), which is what the calendar needs.
    withdrawn = appointment.status is AppointmentStatus.CANCELLED and callback_data.kind == "ics"
    if not appointment.status.active and not withdrawn:
        await query.answer(
            _("This visit is cancelled, moved or over: there is no confirmation for it."),
            show_alert=True,
        )
        return
    await query.answer()
    await send_files(query, details, policy.home_tz, now, only=callback_data.kind)


def _back_to(appointment: Appointment) -> InlineKeyboardMarkup:
    return (
        InlineKeyboardBuilder()
        .button(text=_("Back"), callback_data=ApOpen(appointment_id=appointment.id))
        .as_markup()
    )


def _confirm(appointment: Appointment, step: int) -> InlineKeyboardMarkup:
    keyboard = InlineKeyboardBuilder()
    keyboard.button(
        text=_("Yes, cancel"), callback_data=ApCancel(appointment_id=appointment.id, step=step)
    )
    keyboard.button(text=_("Back"), callback_data=ApOpen(appointment_id=appointment.id))
    keyboard.adjust(1)
    return keyboard.as_markup()


# A step no button carries (a forged ac:…:7) is a stale button (the catch-all), not «cancel now».
@router.callback_query(ApCancel.filter(F.step.in_({0, 1, 2})), Registered())
async def on_cancel(
    query: CallbackQuery,
    callback_data: ApCancel,
    state: FSMContext,
    user: User,
    uow: SectionsUnitOfWork,
    now: datetime,
    policy: Policy,
) -> None:
    """step 0: ask (late: warn); step 1: late cancel, ask again; step 2: cancel."""
    appointment, details = await _owned(uow, user, callback_data.appointment_id)
    if not appointment.status.active:
        await show(
            query, refusal_text(InvalidTransition("inactive"), None, None), _back_to(appointment)
        )
        return
    try:
        kind = rules.cancel_kind(appointment.start, now)
    except DomainError as exc:  # started or over: said on the card, with «Назад»
        await show(query, refusal_text(exc, None, None), _back_to(appointment))
        return
    summary = details_text(details, policy.home_tz)
    late = kind is rules.CancelKind.TWO_CONFIRMATIONS
    step = callback_data.step
    warned = (await state.get_data()).get("ap_warned") == appointment.id
    if step == 0 or (step == 2 and late and not warned):
        # Every confirmation, on both paths, reads «Да, отменить» / «Назад».
        if late:
            text = _(
                "⚠ The visit is less than 24 hours away. The clinic may not be able to give "
                "this time to another patient. Do you still want to cancel?"
            )
            await show(query, f"{text}\n\n{summary}", _confirm(appointment, 1))
        else:
            text = _("Cancel this appointment? The time will go back to the schedule.")
            await show(query, f"{text}\n\n{summary}", _confirm(appointment, 2))
        return
    if step == 1:
        await state.update_data(ap_warned=appointment.id)
        text = _("Please confirm once more: cancel the appointment № {number}?").format(
            number=appointment.number
        )
        await show(query, text, _confirm(appointment, 2))
        return
    try:
        cancelled = await booking.cancel(uow, now, user.id, appointment.id, confirmed_twice=warned)
    except ConfirmationRequired:
        await show(query, _("Please confirm the cancellation again."), _back_to(appointment))
        return
    except NotOwner:
        raise Stale from None
    except DomainError as exc:  # said on the card, with «Назад»
        await show(query, refusal_text(exc, None, None), _back_to(appointment))
        return
    await state.update_data(ap_warned=None)
    text = _(
        "The appointment № {number} is cancelled. The time has gone back to the schedule."
    ).format(number=appointment.number)
    back = InlineKeyboardBuilder().button(
        text=_("Back to the list"), callback_data=ApList(past=0, page=0)
    )
    await show(query, text, back.as_markup())
    # The calendar event sent with the booking is withdrawn (METHOD:CANCEL, same UID).
    await send_files(
        query, replace(details, appointment=cancelled), policy.home_tz, now, only="ics"
    )
