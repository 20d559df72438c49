"""Shared pieces of the booking and «Мои записи» flows: showing a step, loading the
details of a visit, sending its files, and turning domain refusals into words.

Kept apart so flows/booking.py and flows/appointments.py stay thin handlers.
"""

from __future__ import annotations

from datetime import date, datetime

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message

from documents.worker import build_off_loop
from domain.errors import (
    DomainError,
)
from domain.flow_ports import DirectoryUoW, OutboxUoW
from domain.models import Appointment, Patient, Slot, Specialty
from domain.notifications import booked_item
from flows.refusals import booking_refusal_text
from flows.refusals import clash_line as _clash_line
from flows.ui import methods
from flows.ui.files import files_for
from flows.ui.format import (
    Details,
    clip,
)
from flows.ui.i18n import gettext as _
from flows.ui.reply import unchanged

Event = Message | CallbackQuery


async def mark_confirmed_in_chat(uow: OutboxUoW, appointment: Appointment, now: datetime) -> None:
    """Call with the in-chat booking confirmation: once it went out, the outbox "booked"
    row of the same appointment counts as delivered, so it does not arrive again as a
    duplicate (it still goes out if the confirmation never reached the chat)."""
    key = booked_item(appointment, now).idem_key

    async def said_in_chat(later: OutboxUoW) -> None:
        await later.outbox.mark_sent_by_key(key, now)

    uow.after_reply(said_in_chat, one_statement=True)


async def show(
    event: Event, text: str, markup: InlineKeyboardMarkup | None = None, *, new: bool = False
) -> None:
    """A step's screen: a button press edits its own message, a typed message gets a new one.

    Plain text (``parse_mode=None``): clinic names, addresses and typed search
    words go out exactly as they are, with nothing to escape.

    ``new=True`` always sends a new message (results the user should keep in the chat:
    a confirmation, a refusal after «Подтвердить»).
    """
    text = clip(text)
    if isinstance(event, CallbackQuery):
        message = event.message
        if not new and isinstance(message, Message) and message.text is not None:
            if unchanged(message, text, markup):
                await methods.answer(event)  # pressing the same button twice: nothing to change
                return
            try:
                await methods.edit_text(message, text, markup)
            except TelegramBadRequest as exc:
                if "not modified" not in str(exc):
                    raise
            await methods.answer(event)
            return
        await methods.answer(event)
        if event.message is not None and event.bot is not None:
            await methods.send_text(event.bot, event.message.chat.id, text, markup)
        return
    await event.answer(text, reply_markup=markup, parse_mode=None)


async def stale(event: Event) -> None:
    """The answer to a forged or outdated button: say so, change nothing."""
    if isinstance(event, CallbackQuery):
        await event.answer(_("This button is out of date."), show_alert=False)
    else:
        await event.answer(_("This button is out of date."))


ALERT_LIMIT = 200  # Telegram's limit for a callback answer's text


async def refuse(query: CallbackQuery, text: str) -> None:
    """A refusal to a button press: a pop-up when it fits Telegram's 200 characters,
    else a message in the chat (an alert that long is refused with MESSAGE_TOO_LONG and
    the press would go unanswered)."""
    if len(text) <= ALERT_LIMIT or query.message is None:
        await query.answer(text[:ALERT_LIMIT], show_alert=True)
        return
    await query.answer()
    await query.message.answer(text)


async def load_details(
    uow: DirectoryUoW,
    patient: Patient,
    *,
    slot: Slot | None = None,
    appointment: Appointment | None = None,
) -> Details | None:
    """The visit's doctor, clinic and specialty looked up by id (None if the directory lost one)."""
    source = appointment or slot
    if source is None:
        return None
    directory = uow.directory
    doctor = await directory.doctor(source.doctor_id)
    clinic = await directory.clinic(source.clinic_id)
    specialty = await directory.specialty(source.specialty_id)
    if doctor is None or clinic is None or specialty is None:
        return None
    return Details(
        patient=patient,
        doctor=doctor,
        clinic=clinic,
        specialty=specialty,
        start=source.start,
        minutes=source.minutes,
        kind=source.kind,
        number=appointment.number if appointment else None,
        appointment=appointment,
    )


async def send_files(
    event: Event, details: Details, home_tz: str, now: datetime, *, only: str | None = None
) -> None:
    """The .ics calendar entry and the PDF confirmation as documents (``only``: "ics"|"pdf")."""
    message = event.message if isinstance(event, CallbackQuery) else event
    if message is None:
        return
    bot = event.bot
    assert bot is not None
    # Building the PDF takes tens of milliseconds of CPU: off the event loop, so
    # other users' updates are not held up (the i18n context is copied along).
    files = await build_off_loop(files_for, details, home_tz, now, only=only)
    for file in files:
        await bot.send_document(
            message.chat.id,
            BufferedInputFile(file.data, filename=file.name),
            caption=file.caption,
            parse_mode=None,
        )


def therapist_code_for(patient: Patient, today: date) -> str:
    """The open specialty that sees this patient first: a paediatrician for a child."""
    from domain.rules import age_on

    if patient.birth_date is not None and age_on(patient.birth_date, today) < 18:
        return "pediatrician"
    return "therapist"


# Moved to flows/refusals.py (issue 8.1: refusals worded once); kept for the callers.
clash_line = _clash_line


def refusal_text(error: DomainError, specialty: Specialty | None, patient: Patient | None) -> str:
    """Alias of flows.refusals.booking_refusal_text until its callers use flows/refusals.py."""
    return booking_refusal_text(error, specialty, patient)
