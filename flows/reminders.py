"""Buttons on notifications: «Приду» on the 24 h reminder, one-tap rebooking after a clinic
cancellation. («Перенести» / «Отменить» on the reminder are «Мои записи»'s own buttons.)

Both check that the appointment belongs to the user who pressed; a stale or
forged button gets «Эта кнопка устарела» and changes nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiogram import Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from domain import booking
from domain.errors import DomainError, NotFound, NotOwner, SlotTaken, VisitOverlaps
from domain.models import AppointmentStatus, User
from flows.booking_common import (
    load_details,
    mark_confirmed_in_chat,
    policy_from,
    refusal_text,
    refuse,
    send_files,
    stale,
)
from flows.ui.format import details_text, fmt_when
from flows.ui.notify_callbacks import Rebook, RmCome

if TYPE_CHECKING:
    from storage.uow import SqlUnitOfWork


def build_router() -> Router:
    router = Router(name="reminders")
    router.callback_query.register(on_come, RmCome.filter())
    router.callback_query.register(on_rebook, Rebook.filter())
    return router


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


async def on_come(query: CallbackQuery, callback_data: RmCome, **data: Any) -> None:
    user: User | None = data.get("user")
    uow: SqlUnitOfWork = data["uow"]
    now = data["clock"].now()
    if user is None:
        await stale(query)
        return
    try:
        before = await booking.get_owned_appointment(uow, user.id, callback_data.a)
        if before.status is AppointmentStatus.CONFIRMED:  # a second tap: one «thank you» is enough
            await _already_confirmed(query)
            return
        appointment = await booking.confirm_attendance(uow, now, user.id, callback_data.a)
    except (NotOwner, NotFound):
        await stale(query)
        return
    except DomainError as exc:
        if await _confirmed(uow, user.id, callback_data.a):  # the other tap of a double tap
            await _already_confirmed(query)
            return
        await refuse(query, refusal_text(exc, None, None))
        return
    await _drop_row(query)
    clinic = await uow.directory.clinic(appointment.clinic_id)
    tz = clinic.tz if clinic else data["settings"].default_tz
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(
            _("Thank you! Your visit on {when} is confirmed. We are expecting you.").format(
                when=fmt_when(appointment.start, tz, data["settings"].default_tz)
            ),
            parse_mode=None,
        )


async def _confirmed(uow: SqlUnitOfWork, user_id: int, appointment_id: int) -> bool:
    current = await booking.get_owned_appointment(uow, user_id, appointment_id)
    return current.status is AppointmentStatus.CONFIRMED


async def _already_confirmed(query: CallbackQuery) -> None:
    await _drop_row(query)
    await query.answer(_("Your visit is already confirmed. Thank you!"))


async def on_rebook(query: CallbackQuery, callback_data: Rebook, **data: Any) -> None:
    """One tap on an alternative: book it for the same patient through the atomic take."""
    user: User | None = data.get("user")
    uow: SqlUnitOfWork = data["uow"]
    settings = data["settings"]
    now = data["clock"].now()
    if user is None:
        await stale(query)
        return
    try:
        old = await booking.get_owned_appointment(uow, user.id, callback_data.a)
    except (NotOwner, NotFound):
        await stale(query)
        return
    if old.status is not AppointmentStatus.CANCELLED or old.cancelled_by != "clinic":
        await stale(query)
        return
    try:
        new = await booking.book(
            uow, now, user.id, old.patient_id, callback_data.t, policy_from(settings)
        )
    except SlotTaken as exc:
        await _drop_row(query)
        await refuse(query, refusal_text(exc, None, None))
        return
    except NotOwner:
        await stale(query)
        return
    except VisitOverlaps as exc:  # names the visit in the way: too long for an alert
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.answer(refusal_text(exc, None, None), parse_mode=None)
        return
    except DomainError as exc:
        await refuse(query, refusal_text(exc, None, None))
        return
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
    await query.answer()
    patient = await uow.users.patient(new.patient_id)
    details = await load_details(uow, patient, appointment=new) if patient else None
    if details is None or not isinstance(query.message, Message):
        return
    await query.message.answer(
        _("✅ Booked instead of the cancelled visit:")
        + "\n\n"
        + details_text(details, settings.default_tz),
        parse_mode=None,
    )
    await send_files(query, details, settings.default_tz, now)
    await mark_confirmed_in_chat(uow, new, now)
