"""Callback data of support tickets, shared by «Поддержка», the FAQ answers and the notifier.

Ids are the ticket's; every handler checks that the ticket is the presser's
(or, for staff, of a clinic they serve) before acting on it.
"""

from __future__ import annotations

from flows.ui.safe_callback import SafeCallback


class TkNew(SafeCallback, prefix="tn"):
    """Start a ticket (``category`` empty: choose it first)."""

    category: str = ""


class TkList(SafeCallback, prefix="tl"):
    page: int = 0


class TkOpen(SafeCallback, prefix="to"):
    """A patient's ticket: ``action`` show | reply | close."""

    ticket_id: int
    action: str = "show"


class StTk(SafeCallback, prefix="st"):
    """Staff side: ``action`` list | show | answer; ``page`` of the list."""

    action: str
    ticket_id: int = 0
    page: int = 0
