"""Words for the refusals of «Поддержка» (tickets, reviews), joined into flows/refusals.py."""

from __future__ import annotations

from domain.errors import DomainError
from domain.reviews import ReviewLocked, ReviewTextInvalid
from domain.tickets import TicketTextInvalid
from flows.ui.i18n import gettext as _


def support_refusal_text(error: DomainError) -> str | None:
    if isinstance(error, ReviewLocked):
        return _("A review can be changed for 7 days after it was written; that time has passed.")
    if isinstance(error, ReviewTextInvalid | TicketTextInvalid):
        return _("The text is empty or too long. Please type it again.")
    return None
