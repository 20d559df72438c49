"""Domain refusals answered in one place: the errors router of the flows.

A handler does not catch refusals: it lets them escape. The update's unit of
work rolls back first (bot/middlewares/database.py sits inside aiogram's
errors middleware), then this router tells the user what was wrong and what to
do — as a pop-up for a button press (a message when longer than Telegram's 200
characters), as a message for typed text. Handlers catch only outcomes that
have a screen of their own (e.g. SlotTaken → the alternatives).
"""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import ErrorEvent
from aiogram.utils.i18n import gettext as _

from domain.errors import DomainError, NotRegistered, NotStaff, Stale
from flows.support_refusals import support_refusal_text

router = Router(name="refusals")

ALERT_LIMIT = 200  # Telegram's limit for a callback answer's text


def refusal_text(error: DomainError) -> str:
    """The words for a refusal; the booking refusals' texts join here (issue 8.1)."""
    if (support := support_refusal_text(error)) is not None:  # «Поддержка» (issue 10)
        return support
    if isinstance(error, Stale):
        return _("This button is out of date.")
    if isinstance(error, NotRegistered):
        return _("Send /start to register first.")
    if isinstance(error, NotStaff):
        return _("This command is for clinic staff.")
    return _("This cannot be done now. Please start again from the menu.")


@router.errors(ExceptionTypeFilter(DomainError))
async def on_refusal(event: ErrorEvent) -> bool:
    error = event.exception
    assert isinstance(error, DomainError)  # the filter above
    text = refusal_text(error)
    update = event.update
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
    return True
