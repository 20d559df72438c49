"""Shared pieces of the booking and «Мои записи» flows: showing a step, loading the
details of a visit, sending its files, and turning domain refusals into words.

Kept apart so flows/booking.py and flows/appointments.py stay thin handlers.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from typing import TYPE_CHECKING

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.settings import Settings
from domain.booking import BookingPolicy
from domain.booking_ports import Clash
from domain.errors import (
    AgeSexRestricted,
    AlreadyBooked,
    CancelWindowClosed,
    DailyCapReached,
    DomainError,
    InvalidTransition,
    NoShowRestricted,
    NotOwner,
    ReferralRequired,
    SlotTaken,
    SlotUnavailable,
    VisitOverlaps,
)
from domain.models import Appointment, Patient, Slot, Specialty
from domain.notifications import booked_item, booking_files_item
from domain.quiet_hours import QuietWindow
from domain.schedule_source import RemoteRefused
from flows.ui.files import files_for
from flows.ui.format import (
    Details,
    clip,
    current_locale,
    fmt_day,
    fmt_time,
    local,
    specialty_name,
)
from flows.ui.remote_text import remote_refusal_text

if TYPE_CHECKING:
    from storage.uow import SqlUnitOfWork

Event = Message | CallbackQuery


def policy_from(settings: Settings) -> BookingPolicy:
    limits = settings.limits
    return BookingPolicy(
        hold_minutes=limits.hold_minutes,
        daily_cap=limits.daily_booking_cap,
        one_active_per_specialty=limits.one_active_per_specialty,
        reminder_offsets_minutes=tuple(settings.reminder_offsets_minutes),
        quiet=QuietWindow(
            settings.quiet_hours.start, settings.quiet_hours.end, settings.reminder_quiet_policy
        ),
        no_show_limit=limits.no_show_limit,
        no_show_restriction=limits.no_show_restriction,
        offer_lead_minutes=limits.offer_lead_minutes,
    )


async def mark_confirmed_in_chat(
    uow: SqlUnitOfWork, appointment: Appointment, now: datetime
) -> None:
    """Call after the in-chat booking confirmation went out: the outbox "booked" row of the
    same appointment then counts as delivered, so it does not arrive again as a duplicate
    (it still goes out if the handler failed before confirming)."""
    await uow.outbox.mark_sent_by_key(booked_item(appointment, now).idem_key, now)


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
            if message.text == text and _same_markup(message.reply_markup, markup):
                await event.answer()  # pressing the same button twice: nothing to change
                return
            try:
                await message.edit_text(text, reply_markup=markup, parse_mode=None)
            except TelegramBadRequest as exc:
                if "not modified" not in str(exc):
                    raise
            await event.answer()
            return
        await event.answer()
        if event.message is not None and event.bot is not None:
            await event.bot.send_message(
                event.message.chat.id, text, reply_markup=markup, parse_mode=None
            )
        return
    await event.answer(text, reply_markup=markup, parse_mode=None)


def _same_markup(a: InlineKeyboardMarkup | None, b: InlineKeyboardMarkup | None) -> bool:
    def rows(m: InlineKeyboardMarkup | None) -> list[list[tuple[str, str | None]]]:
        if m is None:
            return []
        return [[(btn.text, btn.callback_data) for btn in row] for row in m.inline_keyboard]

    return rows(a) == rows(b)


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
    uow: SqlUnitOfWork,
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
    files = await asyncio.to_thread(files_for, details, home_tz, now, only=only)
    for file in files:
        await bot.send_document(
            message.chat.id,
            BufferedInputFile(file.data, filename=file.name),
            caption=file.caption,
            parse_mode=None,
        )


async def queue_files(uow: SqlUnitOfWork, appointment: Appointment, now: datetime) -> None:
    """The new visit's .ics and PDF go out through the outbox (kind ``booking_files``,
    bot/notify_render.py), not in the «Подтвердить» update: building the PDF is ~40 ms of
    CPU, twenty times the rest of the step. The row commits with the booking."""
    await uow.outbox.add([booking_files_item(appointment, now)], now)


def therapist_code_for(patient: Patient, today: date) -> str:
    """The open specialty that sees this patient first: a paediatrician for a child."""
    from domain.rules import age_on

    if patient.birth_date is not None and age_on(patient.birth_date, today) < 18:
        return "pediatrician"
    return "therapist"


def clash_line(clash: Clash) -> str:
    """«Терапевт, Соколова Елена Викторовна, чт, 3 декабря 2026, 10:00 (№ A-0000001)»."""
    spec = clash.specialty_en if current_locale() == "en" else clash.specialty_ru
    when = f"{fmt_day(local(clash.start, clash.clinic_tz).date())}, "
    when += fmt_time(clash.start, clash.clinic_tz)
    return f"{spec}, {clash.doctor_name}, {when} (№ {clash.number})"


def refusal_text(error: DomainError, specialty: Specialty | None, patient: Patient | None) -> str:
    """Domain refusals in plain words: what was wrong and what to do."""
    if isinstance(error, RemoteRefused):  # issue 11: the schedule's owner said no
        return remote_refusal_text(error)
    name = specialty_name(specialty) if specialty else ""
    who = patient.full_name if patient else ""
    if isinstance(error, VisitOverlaps):
        return _(
            "This time overlaps a visit you already have: {visit}.\n"
            "Nobody can be at two visits at once: please choose another time, or move or "
            "cancel that visit."
        ).format(visit=clash_line(error.clash))
    if isinstance(error, AlreadyBooked) and error.existing is not None:
        return _(
            "{patient} already has an upcoming appointment with this specialty: {visit}.\n"
            "Only one is allowed: move or cancel it, or choose another specialty."
        ).format(patient=who or _("The patient"), visit=clash_line(error.existing))
    if isinstance(error, ReferralRequired):
        return _(
            "{specialty} sees patients only with a referral (направление), and {patient} "
            "has no valid unused referral for this specialty.\n"
            "Book a general practitioner first: they will examine you and issue a referral "
            "if it is needed."
        ).format(specialty=name or _("This specialist"), patient=who)
    if isinstance(error, AgeSexRestricted):
        if error.reason == "too_old":
            return _(
                "{specialty} sees only children. {patient} is an adult: please choose a "
                "general practitioner or another specialty."
            ).format(specialty=name, patient=who)
        if error.reason == "too_young":
            return _(
                "{specialty} sees only adults. For a child, please book a paediatrician."
            ).format(specialty=name)
        return _(
            "{specialty} does not see patients of this sex. Please choose another specialty."
        ).format(specialty=name)
    if isinstance(error, AlreadyBooked):
        return _(
            "{patient} already has an upcoming appointment with this specialty. Only one is "
            "allowed: open «My appointments» to move or cancel it."
        ).format(patient=who)
    if isinstance(error, DailyCapReached):
        return _(
            "You have made the maximum number of bookings for 24 hours. This protects the "
            "schedule from abuse; please try again later."
        )
    if isinstance(error, NoShowRestricted):
        return _(
            "Booking through the bot is closed: {count} missed visits (the limit is {limit}). "
            "Please call the clinic's registry to book."
        ).format(count=error.count, limit=error.limit)
    if isinstance(error, SlotUnavailable):
        return _(
            "This time can no longer be booked: it has passed or the clinic closed it. "
            "Please choose another time."
        )
    if isinstance(error, SlotTaken):
        return _("This time has just been taken by someone else.")
    if isinstance(error, CancelWindowClosed):
        return _("This appointment has already started or passed, so it cannot be changed.")
    if isinstance(error, InvalidTransition):
        return _("This appointment is no longer active, so it cannot be changed.")
    if isinstance(error, NotOwner):
        return _("This button is out of date.")
    return _("This action is not possible right now. Please try again.")
