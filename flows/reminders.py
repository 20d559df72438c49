"""Buttons on notifications: «Приду» on the 24 h reminder, one-tap rebooking after a clinic
cancellation. («Перенести» / «Отменить» on the reminder are «Мои записи»'s own buttons.)

Both check that the appointment belongs to the user who pressed; a stale or
forged button gets «Эта кнопка устарела» and changes nothing.
"""

from __future__ import annotations

from datetime import datetime

from aiogram import Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from domain import booking
from domain.errors import DomainError, NotFound, NotOwner, SlotTaken, Stale
from domain.flow_ports import SectionsUnitOfWork
from domain.models import AppointmentStatus, User
from domain.policy import Policy
from flows.appointments import owned_appointment
from flows.booking_common import (
    load_details,
    mark_confirmed_in_chat,
    refusal_text,
    refuse,
    send_files,
)
from flows.guards import Registered
from flows.ui.format import details_text, fmt_when
from flows.ui.i18n import gettext as _
from flows.ui.notify_callbacks import Rebook, RmCome

router = Router(name="reminders")


async def _close_offer(message: Message, number: str) -> None:
    """The clinic's cancel notice after a one-tap rebook: its buttons go, and «Ближайшее
    свободное время — запись в одно касание:» (now without a time under it) says what was
    booked instead. A notice without that line (another wording) only loses its buttons."""
    offer = _("The nearest free times — one tap books:")
    html = message.html_text
    if offer not in html:
        await message.edit_reply_markup(reply_markup=None)
        return
    done = _("Booked instead: appointment № {number} (below).").format(number=number)
    await message.edit_text(html.replace(offer, done), reply_markup=None)


async def _drop_row(query: CallbackQuery) -> None:
    """Remove the pressed button's row from the message (the rest stays usable)."""
    message = query.message
    if not isinstance(message, Message) or message.reply_markup is None:
        return
    rows = [
        row
        for row in message.reply_markup.inline_keyboard
        if not any(b.callback_data == query.data for b in row)
    ]
    if rows == message.reply_markup.inline_keyboard:
        return  # already dropped (a second tap on the old message): nothing to edit
    try:
        await message.edit_reply_markup(
            reply_markup=InlineKeyboardMarkup(inline_keyboard=rows) if rows else None
        )
    except TelegramBadRequest as exc:  # two taps raced: the first one edited it
        if "not modified" not in str(exc):
            raise


@router.callback_query(RmCome.filter(), Registered())
async def on_come(
    query: CallbackQuery,
    callback_data: RmCome,
    user: User,
    uow: SectionsUnitOfWork,
    now: datetime,
    policy: Policy,
) -> None:
    appointment_id = callback_data.appointment_id
    before = await owned_appointment(uow, user, appointment_id)
    if before.status is AppointmentStatus.CONFIRMED:  # a second tap: one «thank you» is enough
        await _already_confirmed(query)
        return
    try:
        appointment = await booking.confirm_attendance(uow, now, user.id, appointment_id)
    except (NotOwner, NotFound):
        raise Stale from None
    except DomainError:
        if await _confirmed(uow, user, appointment_id):  # the other tap of a double tap
            await _already_confirmed(query)
            return
        raise  # told by flows/refusals.py
    await _drop_row(query)
    clinic = await uow.directory.clinic(appointment.clinic_id)
    tz = clinic.tz if clinic else policy.home_tz
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(
            _("Thank you! Your visit on {when} is confirmed. We are expecting you.").format(
                when=fmt_when(appointment.start, tz, policy.home_tz)
            ),
            parse_mode=None,
        )


async def _confirmed(uow: SectionsUnitOfWork, user: User, appointment_id: int) -> bool:
    current = await owned_appointment(uow, user, appointment_id)
    return current.status is AppointmentStatus.CONFIRMED


async def _already_confirmed(query: CallbackQuery) -> None:
    await _drop_row(query)
    await query.answer(_("Your visit is already confirmed. Thank you!"))


@router.callback_query(Rebook.filter(), Registered())
async def on_rebook(
    query: CallbackQuery,
    callback_data: Rebook,
    user: User,
    uow: SectionsUnitOfWork,
    now: datetime,
    policy: Policy,
) -> None:
    """One tap on an alternative: book it for the same patient through the atomic take."""
    old = await owned_appointment(uow, user, callback_data.appointment_id)
    if old.status is not AppointmentStatus.CANCELLED or old.cancelled_by != "clinic":
        raise Stale
    try:
        new = await booking.book(
            uow, now, user.id, old.patient_id, callback_data.slot_id, policy.booking
        )
    except SlotTaken as exc:  # the alternative is gone: its button goes too
        await _drop_row(query)
        await refuse(query, refusal_text(exc, None, None))
        return
    except NotOwner:
        raise Stale from None
    if isinstance(query.message, Message):
        await _close_offer(query.message, new.number)
    await query.answer()
    patient = await uow.users.patient(new.patient_id)
    details = await load_details(uow, patient, appointment=new) if patient else None
    if details is None or not isinstance(query.message, Message):
        return
    await query.message.answer(
        _("✅ Booked instead of the cancelled visit:")
        + "\n\n"
        + details_text(details, policy.home_tz),
        parse_mode=None,
    )
    await send_files(query, details, policy.home_tz, now)
    await mark_confirmed_in_chat(uow, new, now)
