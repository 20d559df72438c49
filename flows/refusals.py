"""Domain refusals worded in one place, and answered in one place: the errors router.

Every DomainError has its words here (``refusal_text``): the account and staff
guards', the booking rules' (the names they need travel in the exception, set
by the service: ``DomainError.about``), the schedule owner's (issue 11). A
handler does not catch refusals: it lets them escape. The update's unit of work
rolls back first (bot/middlewares/database.py sits inside aiogram's errors
middleware) and the replies the handler had queued are dropped; then this
router tells the user what was wrong and what to do — as a pop-up for a button
press (a message when longer than Telegram's 200 characters), as a message for
typed text. Handlers catch only outcomes that have a screen of their own (e.g.
SlotTaken → the alternatives) and may word them with ``refusal_text`` too.
"""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import ErrorEvent, Update

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
    NotRegistered,
    NotStaff,
    ReferralRequired,
    SlotTaken,
    SlotUnavailable,
    Stale,
    VisitOverlaps,
)
from domain.models import Patient, Specialty
from domain.schedule_source import RemoteCancelFailed, RemoteRefused
from flows.docs_common import refusal as documents_refusal
from flows.family_text import records_refusal
from flows.support_refusals import support_refusal_text
from flows.ui.format import current_locale, fmt_day, fmt_time, local, specialty_name
from flows.ui.i18n import gettext as _

router = Router(name="refusals")
log = logging.getLogger("zapis.refusals")

ALERT_LIMIT = 200  # Telegram's limit for a callback answer's text


def refusal_text(
    error: DomainError, specialty: Specialty | None = None, patient: Patient | None = None
) -> str:
    """The words for a refusal: what was wrong and what to do. ``specialty`` and
    ``patient`` override what the exception carries (a screen that knows better)."""
    if (text := documents_refusal(error)) is not None:  # «Документы и справки»
        return text
    if (support := support_refusal_text(error)) is not None:  # «Поддержка» (issue 10)
        return support
    if isinstance(error, Stale):
        return _("This button is out of date.")
    if isinstance(error, NotRegistered):
        return _("Send /start to register first.")
    if isinstance(error, NotStaff):
        return _("This command is for clinic staff.")
    text = _booking_text(error, specialty, patient)
    if text is not None:
        return text
    if (records_text := records_refusal(error)) is not None:  # issue 9: family, records
        return records_text
    return _("This cannot be done now. Please start again from the menu.")


def booking_refusal_text(
    error: DomainError, specialty: Specialty | None, patient: Patient | None
) -> str:
    """The booking screens' wording (flows/booking_common.py refusal_text): the same
    texts, with the booking screens' own last resort."""
    text = _booking_text(error, specialty, patient)
    if text is not None:
        return text
    return _("This action is not possible right now. Please try again.")


@router.errors(ExceptionTypeFilter(DomainError))
async def on_refusal(event: ErrorEvent) -> bool:
    error = event.exception
    assert isinstance(error, DomainError)  # the filter above
    try:
        await _tell(event.update, error)
    except TelegramAPIError as exc:  # e.g. the user blocked the bot: nobody to tell
        # Not raised on: an error handler that raises fails the whole update (a webhook
        # answers 500 and Telegram sends it again); the refusal itself is done.
        log.warning("could not tell a refusal (%s): %s", type(error).__name__, exc)
    return True


async def _tell(update: Update, error: DomainError) -> None:
    text = refusal_text(error)
    if update.callback_query is not None:
        query = update.callback_query
        quiet = isinstance(error, Stale)  # an old button: a toast, not a pop-up to dismiss
        if len(text) <= ALERT_LIMIT or query.message is None:
            await query.answer(text[:ALERT_LIMIT], show_alert=not quiet)
        else:
            await query.answer()
            await query.message.answer(text, parse_mode=None)
    elif update.message is not None:
        await update.message.answer(text, parse_mode=None)


def clash_line(clash: Clash) -> str:
    """«Терапевт, Соколова Елена Викторовна, чт, 3 декабря 2026, 10:00 (№ A-0000001)»."""
    spec = clash.specialty_en if current_locale() == "en" else clash.specialty_ru
    when = f"{fmt_day(local(clash.start, clash.clinic_tz).date())}, "
    when += fmt_time(clash.start, clash.clinic_tz)
    return f"{spec}, {clash.doctor_name}, {when} (№ {clash.number})"


def _booking_text(
    error: DomainError, specialty: Specialty | None, patient: Patient | None
) -> str | None:
    """The booking refusals (booking, «Мои записи», reminders, wait list, staff)."""
    if isinstance(error, RemoteRefused):  # issue 11: the schedule's owner said no
        return remote_refusal_text(error)
    specialty = specialty or error.specialty
    patient = patient or error.patient
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
    return None


def _call(phone: str) -> str:
    if phone:
        return _("You can also call the clinic's registry: {phone}.").format(phone=phone)
    return _("You can also call the clinic's registry.")


def remote_refusal_text(error: RemoteRefused) -> str:
    if isinstance(error, RemoteCancelFailed):
        return (
            _(
                "The clinic's registry did not confirm the cancellation, so your appointment "
                "is still active. Please try again in a few minutes."
            )
            + "\n"
            + _call(error.phone)
        )
    if error.kind == "patient_not_found":
        return (
            _(
                "The clinic's registry has no patient card with this full name and date of "
                "birth, so it cannot take the booking. Check the name and date of birth in "
                "«Profile», or register at the clinic."
            )
            + "\n"
            + _call(error.phone)
        )
    if error.kind == "unavailable":
        return (
            _(
                "The clinic's registry is not answering right now, so nothing was booked. "
                "Please try again in a few minutes or join the wait list."
            )
            + "\n"
            + _call(error.phone)
        )
    text = _("The clinic's registry refused the booking.")
    if error.message:
        text += " " + _("It said: «{message}».").format(message=error.message)
    return (
        text
        + "\n"
        + _("Please choose another time or join the wait list.")
        + "\n"
        + _call(error.phone)
    )
