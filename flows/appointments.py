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
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, Message
from aiogram.utils.i18n import gettext as _

from domain import booking, rules
from domain.errors import ConfirmationRequired, DomainError, NotOwner
from domain.models import AccountLevel, Appointment, AppointmentStatus, User
from flows.booking_common import Event, load_details, refusal_text, send_files, show, stale
from flows.calendar_sync import CalAll
from flows.ui import menu as menu_ui
from flows.ui.callbacks import ApCancel, ApFile, ApList, ApMove, ApOpen
from flows.ui.format import (
    Details,
    alternative_button,
    details_text,
    specialty_name,
    status_label,
)
from flows.ui.keyboards import button, inline
from flows.ui.pager import pager_row, paginate

if TYPE_CHECKING:
    from storage.uow import SqlUnitOfWork

PER_PAGE = 5


def build_router() -> Router:
    router = Router(name="appointments")
    router.message.register(show_list, F.text == menu_ui.MY_APPOINTMENTS)
    router.callback_query.register(on_list, ApList.filter())
    router.callback_query.register(on_open, ApOpen.filter())
    router.callback_query.register(on_cancel, ApCancel.filter())
    router.callback_query.register(on_file, ApFile.filter())
    from flows import appointments_move

    appointments_move.register(router)
    return router


def _ready(data: dict[str, Any]) -> User | None:
    user: User | None = data.get("user")
    return None if user is None or user.level == AccountLevel.NONE else user


async def _owned(
    uow: SqlUnitOfWork, user: User, appointment_id: int
) -> tuple[Appointment, Details] | None:
    """The user's appointment with its details, or None for a stale/forged id."""
    try:
        appointment = await booking.get_owned_appointment(uow, user.id, appointment_id)
    except NotOwner:
        return None
    patient = await uow.users.patient(appointment.patient_id)
    if patient is None:
        return None
    details = await load_details(uow, patient, appointment=appointment)
    return None if details is None else (appointment, details)


async def _render_list(
    event: Event, uow: SqlUnitOfWork, user: User, now: datetime, home_tz: str, past: bool, page: int
) -> None:
    every = await booking.list_appointments(uow, user.id, now, include_past=past)
    if past:
        items = [a for a in every if a.start + _minutes(a) <= now]
        items.reverse()  # the latest past visit first
    else:
        items = every
    chunk = paginate(items, page, PER_PAGE)
    rows: list[list[InlineKeyboardButton]] = []
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
            blocks.append(await _line(uow, appointment, home_tz))
            details = await _label(uow, appointment)
            rows.append([button(details, ApOpen(a=appointment.id))])
        text = "\n\n".join(blocks)
    rows.append(pager_row(chunk.page, chunk.pages, lambda n: ApList(past=int(past), page=n)))
    rows.append(
        [button(_("Upcoming"), ApList(past=0, page=0))]
        if past
        else [button(_("Past appointments"), ApList(past=1, page=0))]
    )
    rows.append(
        [button(_("All visits to calendar"), CalAll())]
        if any(a.status.active for a in items) and not past
        else []
    )
    await show(event, text, inline(rows))


def _minutes(appointment: Appointment) -> Any:
    from datetime import timedelta

    return timedelta(minutes=appointment.minutes)


async def _line(uow: SqlUnitOfWork, appointment: Appointment, home_tz: str) -> str:
    from flows.ui.format import fmt_when

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
        _("Status: {status}").format(status=status_label(appointment)),
    ]
    return "\n".join(p for p in parts if p)


async def _label(uow: SqlUnitOfWork, appointment: Appointment) -> str:
    clinic = await uow.directory.clinic(appointment.clinic_id)
    spec = await uow.directory.specialty(appointment.specialty_id)
    tz = clinic.tz if clinic else "UTC"
    from domain.models import Slot

    probe = Slot(0, 0, 0, 0, 0, "", appointment.start, appointment.minutes, appointment.kind, "")
    name = specialty_name(spec) if spec else ""
    return f"{alternative_button(probe, tz)} · {name} · № {appointment.number}"


async def show_list(message: Message, **data: Any) -> None:
    user = _ready(data)
    if user is None:
        await message.answer(_("Please finish registration first: send /start."))
        return
    await _render_list(
        message, data["uow"], user, data["clock"].now(), data["settings"].default_tz, False, 0
    )


async def on_list(query: CallbackQuery, callback_data: ApList, **data: Any) -> None:
    user = _ready(data)
    if user is None:
        await stale(query)
        return
    await _render_list(
        query,
        data["uow"],
        user,
        data["clock"].now(),
        data["settings"].default_tz,
        bool(callback_data.past),
        callback_data.page,
    )


def card_rows(appointment: Appointment, now: datetime) -> list[list[InlineKeyboardButton]]:
    """The visit card's buttons: the confirmation files only while the visit is on (a
    cancelled, moved or past-and-closed visit has nothing to confirm)."""
    rows: list[list[InlineKeyboardButton]] = []
    if appointment.status.active and appointment.start > now:
        rows.append(
            [
                button(_("Cancel appointment"), ApCancel(a=appointment.id, step=0)),
                button(_("Reschedule"), ApMove(a=appointment.id)),
            ]
        )
    if appointment.status.active:
        rows.append(
            [
                button(_("Calendar (.ics)"), ApFile(a=appointment.id, kind="ics")),
                button(_("PDF"), ApFile(a=appointment.id, kind="pdf")),
            ]
        )
    rows.append([button(_("Back"), ApList(past=0, page=0))])
    return rows


async def on_open(query: CallbackQuery, callback_data: ApOpen, **data: Any) -> None:
    user = _ready(data)
    found = await _owned(data["uow"], user, callback_data.a) if user else None
    if found is None:
        await stale(query)
        return
    appointment, details = found
    home_tz = data["settings"].default_tz
    await show(
        query, details_text(details, home_tz), inline(card_rows(appointment, data["clock"].now()))
    )


async def on_file(query: CallbackQuery, callback_data: ApFile, **data: Any) -> None:
    user = _ready(data)
    found = await _owned(data["uow"], user, callback_data.a) if user else None
    if found is None or callback_data.kind not in ("ics", "pdf"):
        await stale(query)
        return
    appointment, details = found
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
    await send_files(
        query, details, data["settings"].default_tz, data["clock"].now(), only=callback_data.kind
    )


async def on_cancel(
    query: CallbackQuery, callback_data: ApCancel, state: FSMContext, **data: Any
) -> None:
    """step 0: ask (late: warn); step 1: late cancel, ask again; step 2: cancel."""
    user = _ready(data)
    uow = data["uow"]
    found = await _owned(uow, user, callback_data.a) if user else None
    if user is None or found is None or callback_data.step not in (0, 1, 2):
        await stale(query)  # a step no button carries (a forged ac:…:7) is not «cancel now»
        return
    appointment, details = found
    now: datetime = data["clock"].now()
    home_tz = data["settings"].default_tz
    back_row = [button(_("Back"), ApOpen(a=appointment.id))]
    if not appointment.status.active:
        await show(query, refusal_text(_inactive(), None, None), inline([back_row]))
        return
    try:
        kind = rules.cancel_kind(appointment.start, now)
    except DomainError as exc:
        await show(query, refusal_text(exc, None, None), inline([back_row]))
        return
    summary = details_text(details, home_tz)
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
            confirm = ApCancel(a=appointment.id, step=1)
        else:
            text = _("Cancel this appointment? The time will go back to the schedule.")
            confirm = ApCancel(a=appointment.id, step=2)
        confirm_row = [button(_("Yes, cancel"), confirm)]
        await show(query, f"{text}\n\n{summary}", inline([confirm_row, back_row]))
        return
    if step == 1:
        await state.update_data(ap_warned=appointment.id)
        text = _("Please confirm once more: cancel the appointment № {number}?").format(
            number=appointment.number
        )
        confirm_row = [button(_("Yes, cancel"), ApCancel(a=appointment.id, step=2))]
        await show(query, text, inline([confirm_row, back_row]))
        return
    try:
        cancelled = await booking.cancel(uow, now, user.id, appointment.id, confirmed_twice=warned)
    except ConfirmationRequired:
        await show(query, _("Please confirm the cancellation again."), inline([back_row]))
        return
    except NotOwner:
        await stale(query)
        return
    except DomainError as exc:
        await show(query, refusal_text(exc, None, None), inline([back_row]))
        return
    await state.update_data(ap_warned=None)
    text = _(
        "The appointment № {number} is cancelled. The time has gone back to the schedule."
    ).format(number=appointment.number)
    await show(query, text, inline([[button(_("Back to the list"), ApList(past=0, page=0))]]))
    # The calendar event sent with the booking is withdrawn (METHOD:CANCEL, same UID).
    await send_files(query, replace(details, appointment=cancelled), home_tz, now, only="ics")


def _inactive() -> DomainError:
    from domain.errors import InvalidTransition

    return InvalidTransition("inactive")
