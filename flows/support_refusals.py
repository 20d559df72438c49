"""Words for the refusals of «Поддержка» (tickets, reviews), joined into flows/refusals.py."""

from __future__ import annotations

from domain.errors import DomainError
from domain.reviews import ReviewLocked, ReviewTextInvalid
from domain.tickets import TicketTextInvalid, TooManyOpenTickets
from flows.ui.i18n import gettext as _


def support_refusal_text(error: DomainError) -> str | None:
    if isinstance(error, ReviewLocked):
        return _("A review can be changed for 7 days after it was written; that time has passed.")
    if isinstance(error, ReviewTextInvalid | TicketTextInvalid):
        return _("The text is empty or too long. Please type it again.")
    if isinstance(error, TooManyOpenTickets):
        return _(
            "You already have {count} open requests. Please wait for an answer or close one "
            "in «My requests» before writing a new one."
        ).format(count=error.limit)
    return None
