"""Domain refusals answered in one place: the errors router of the flows.

A handler does not catch refusals: it lets them escape. The update's unit of
work rolls back first (bot/middlewares/database.py sits inside aiogram's
errors middleware), then this router tells the user what was wrong and what to
do — as a pop-up for a button press (a message when longer than Telegram's 200
characters), as a message for typed text. Handlers catch only outcomes that
have a screen of their own (e.g. SlotTaken → the alternatives).
"""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import ErrorEvent, Update
from aiogram.utils.i18n import gettext as _

from domain.errors import (
    AgeSexRestricted,
    AlreadyBooked,
    CancelWindowClosed,
    DailyCapReached,
    DomainError,
    InvalidTransition,
    NoShowRestricted,
    NotRegistered,
    NotStaff,
    ReferralRequired,
    SlotTaken,
    SlotUnavailable,
    Stale,
    VisitOverlaps,
)
from domain.schedule_source import RemoteRefused
from flows.booking_common import refusal_text as booking_refusal_text

router = Router(name="refusals")
log = logging.getLogger("zapis.refusals")

ALERT_LIMIT = 200  # Telegram's limit for a callback answer's text


def refusal_text(error: DomainError) -> str:
    """The words for a refusal; the booking refusals' texts join here (issue 8.1)."""
    if isinstance(error, Stale):
        return _("This button is out of date.")
    if isinstance(error, NotRegistered):
        return _("Send /start to register first.")
    if isinstance(error, NotStaff):
        return _("This command is for clinic staff.")
    section = sections_refusal_text(error)  # issue 8.1: the sections' part, below
    if section is not None:
        return section
    return _("This cannot be done now. Please start again from the menu.")


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
            await query.message.answer(text)
    elif update.message is not None:
        await update.message.answer(text)


# --- The sections' refusals (onboarding, profile, «Мои записи», reminders, wait list, /staff) ---


def sections_refusal_text(error: DomainError) -> str | None:
    """Booking refusals met outside the booking wizard — a one-tap rebooking, a wait-list
    offer, a visit marked by staff — told in the booking flow's words (no patient or
    specialty named: these buttons carry neither). None: not one of them."""
    if isinstance(error, _SECTIONS_KNOWN):
        return booking_refusal_text(error, None, None)
    return None


_SECTIONS_KNOWN = (
    AgeSexRestricted,
    AlreadyBooked,
    CancelWindowClosed,
    DailyCapReached,
    InvalidTransition,
    NoShowRestricted,
    ReferralRequired,
    RemoteRefused,
    SlotTaken,
    SlotUnavailable,
    VisitOverlaps,
)
