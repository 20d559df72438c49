"""How a ticket reads in the chat, for the patient and for the clinic's staff (plain text)."""

from __future__ import annotations

from datetime import datetime

from domain.tickets import CATEGORIES, Ticket, TicketStatus
from flows.ui.format import clip, fmt_when
from flows.ui.i18n import gettext as _

CATEGORY_LABELS = {
    "booking": lambda: _("Booking"),
    "technical": lambda: _("Technical problem"),
    "documents": lambda: _("Documents"),
    "complaint": lambda: _("Complaint"),
    "other": lambda: _("Other"),
}
STATUS_LABELS = {
    TicketStatus.NEW: lambda: _("new"),
    TicketStatus.IN_PROGRESS: lambda: _("in progress"),
    TicketStatus.ANSWERED: lambda: _("answered"),
    TicketStatus.CLOSED: lambda: _("closed"),
}


def category_label(category: str) -> str:
    label = CATEGORY_LABELS.get(category)
    return label() if label else category


def categories() -> list[tuple[str, str]]:
    return [(c, category_label(c)) for c in CATEGORIES]


def status_label(status: TicketStatus) -> str:
    return STATUS_LABELS[status]()


def list_button(ticket: Ticket) -> str:
    return _("№ {id} · {category} · {status}").format(
        id=ticket.id, category=category_label(ticket.category), status=status_label(ticket.status)
    )


def header(ticket: Ticket, tz: str, now: datetime, *, for_staff: bool = False) -> str:
    lines = [
        _("Request № {id} · {category}").format(
            id=ticket.id, category=category_label(ticket.category)
        ),
        _("Status: {status}").format(status=status_label(ticket.status)),
    ]
    if ticket.status in (TicketStatus.NEW, TicketStatus.IN_PROGRESS):
        when = fmt_when(ticket.due_at, tz, tz)
        if for_staff:
            late = ticket.due_at <= now
            lines.append(
                (_("The answer was due by {when}.") if late else _("Answer due by {when}.")).format(
                    when=when
                )
            )
        elif ticket.due_at > now:  # a promise already past is not repeated to the patient
            lines.append(_("We promise to answer by {when}.").format(when=when))
    return "\n".join(lines)


def thread(ticket: Ticket, tz: str, now: datetime, *, for_staff: bool = False) -> str:
    """The header and every message, oldest first (clipped to Telegram's limit from the top)."""
    parts = []
    for m in ticket.messages:
        who = (
            (_("Patient") if for_staff else _("You"))
            if m.author == "patient"
            else (_("Staff") if for_staff else _("Support"))
        )
        files = (
            "\n" + _("📎 attachments: {count}").format(count=len(m.attachments))
            if m.attachments
            else ""
        )
        parts.append(f"— {who}, {fmt_when(m.at, tz, tz)}:\n{m.text}{files}")
    body = "\n\n".join(parts)
    head = header(ticket, tz, now, for_staff=for_staff)
    room = 3900 - len(head)
    if len(body) > room:
        body = "…" + body[-room:]
    return clip(head + "\n\n" + body)
