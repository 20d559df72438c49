"""Support tickets: a patient's request, the clinic staff's answers, a promised time.

A ticket goes to the staff of the patient's attached clinic (or, with none,
of the clinic of their latest visit; with neither, to the administrators). It
has a category and a target in working minutes (settings → Policy), counted
on the clinic's working hours, so «4 working hours» asked at 17:00 on a
Friday falls on Monday. A ticket still unanswered an hour of work before its
target is escalated to the clinic's administrator (bot/ticket_job.py). The
statuses the patient sees: new → in progress (staff opened it, or the patient
replied) → answered → closed. The texts are personal data: the repository
encrypts them, and the account's erasure deletes them.

Services never commit: the update (or the job) is the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Protocol
from zoneinfo import ZoneInfo

from domain.errors import DomainError, Stale
from domain.models import JournalEntry, StaffMember
from domain.notifications import TICKET_ANSWERED, OutboxItem

CATEGORIES = ("booking", "technical", "documents", "complaint", "other")
DEFAULT_TARGETS = {"technical": 4 * 60, "booking": 9 * 60, "documents": 9 * 60}
DEFAULT_TARGET = 9 * 60  # one working day
WORK_START = time(9, 0)
WORK_END = time(18, 0)  # 9 working hours a day, Monday to Friday
ESCALATE_BEFORE_MINUTES = 60
MAX_TEXT = 3000
MAX_ATTACHMENTS = 5


class TicketStatus(StrEnum):
    NEW = "new"
    IN_PROGRESS = "in_progress"
    ANSWERED = "answered"
    CLOSED = "closed"

    @property
    def open(self) -> bool:
        return self is not TicketStatus.CLOSED


class TicketTextInvalid(DomainError):
    """Empty or too long (the flow re-asks on the same step)."""


@dataclass(frozen=True, slots=True)
class TicketMessage:
    author: str  # patient | staff
    author_id: int
    text: str
    at: datetime
    attachments: tuple[str, ...] = ()  # Telegram file ids


@dataclass(frozen=True, slots=True)
class Ticket:
    id: int
    user_id: int
    clinic_id: int | None
    category: str
    status: TicketStatus
    created_at: datetime
    due_at: datetime
    escalate_at: datetime
    updated_at: datetime
    answered_at: datetime | None = None
    escalated_at: datetime | None = None
    messages: tuple[TicketMessage, ...] = field(default=())


class TicketRepo(Protocol):
    async def add(
        self,
        *,
        user_id: int,
        clinic_id: int | None,
        category: str,
        now: datetime,
        due_at: datetime,
        escalate_at: datetime,
    ) -> int: ...
    async def add_message(self, ticket_id: int, user_id: int, message: TicketMessage) -> None: ...
    async def get(self, ticket_id: int, *, with_messages: bool = True) -> Ticket | None: ...
    async def set_status(
        self,
        ticket_id: int,
        status: TicketStatus,
        now: datetime,
        *,
        answered: bool = False,
        ask_staff: bool = False,
    ) -> None: ...
    async def for_user(self, user_id: int, limit: int, offset: int) -> tuple[list[Ticket], int]: ...
    async def open_count(self, user_id: int) -> int: ...
    async def for_staff(
        self, clinic_ids: tuple[int, ...], include_unassigned: bool, limit: int, offset: int
    ) -> tuple[list[Ticket], int]: ...
    async def due_for_escalation(self, now: datetime, limit: int = 100) -> list[Ticket]: ...
    async def mark_escalated(self, ticket_id: int, now: datetime) -> bool: ...
    async def home_clinic(self, user_id: int) -> int | None: ...
    async def clinic_tz(self, clinic_id: int | None) -> str | None: ...


class TicketJournal(Protocol):
    async def add(self, entry: JournalEntry) -> None: ...


class TicketOutbox(Protocol):
    async def add(self, items: list[OutboxItem], created_at_utc: object) -> None: ...


class TicketsUnitOfWork(Protocol):
    @property
    def tickets(self) -> TicketRepo: ...
    @property
    def journal(self) -> TicketJournal: ...
    @property
    def outbox(self) -> TicketOutbox: ...


# --- working time --------------------------------------------------------------


def add_working_minutes(start: datetime, minutes: int, tz: str) -> datetime:
    """``start`` plus ``minutes`` of working time (Mon–Fri, 09:00–18:00 in ``tz``), aware UTC."""
    zone = ZoneInfo(tz)
    local = start.astimezone(zone)
    left = max(0, minutes)
    while True:
        day_start = datetime.combine(local.date(), WORK_START, zone)
        day_end = datetime.combine(local.date(), WORK_END, zone)
        if local.weekday() >= 5 or local >= day_end:
            local = datetime.combine(local.date() + timedelta(days=1), WORK_START, zone)
            continue
        if local < day_start:
            local = day_start
        room = (day_end - local).total_seconds() / 60
        if left <= room:
            return (local + timedelta(minutes=left)).astimezone(start.tzinfo)
        left -= int(room)
        local = datetime.combine(local.date() + timedelta(days=1), WORK_START, zone)


def target_minutes(category: str, targets: dict[str, int]) -> int:
    if category in targets:
        return targets[category]
    return targets.get("default", DEFAULT_TARGETS.get(category, DEFAULT_TARGET))


def clean_text(text: str | None) -> str:
    value = (text or "").strip()
    if not value or len(value) > MAX_TEXT:
        raise TicketTextInvalid(str(len(value)))
    return value


def ticket_notice(ticket: Ticket, now: datetime) -> OutboxItem:
    """«На ваше обращение ответили»: ids only; the patient opens the thread with a button."""
    answers = sum(1 for m in ticket.messages if m.author == "staff")
    return OutboxItem(
        kind=TICKET_ANSWERED,
        user_id=ticket.user_id,
        due_at=now,
        idem_key=f"ticket:{ticket.id}:answer:{answers}",
        payload={"ticket_id": ticket.id},
    )


# An account's tickets not yet closed: past this a new one would only lengthen the
# clinic's queue (one account opened 17 in a minute); the patient waits for an answer
# or closes one first.
MAX_OPEN_TICKETS = 5


class TooManyOpenTickets(DomainError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"{limit} open tickets")
        self.limit = limit


# --- services ----------------------------------------------------------------------


async def check_room(uow: TicketsUnitOfWork, user_id: int) -> None:
    """TooManyOpenTickets when the account already has MAX_OPEN_TICKETS not closed."""
    if await uow.tickets.open_count(user_id) >= MAX_OPEN_TICKETS:
        raise TooManyOpenTickets(MAX_OPEN_TICKETS)


async def open_ticket(
    uow: TicketsUnitOfWork,
    *,
    user_id: int,
    category: str,
    text: str,
    attachments: tuple[str, ...],
    now: datetime,
    targets: dict[str, int],
    home_tz: str,
) -> Ticket:
    if category not in CATEGORIES:
        raise Stale
    await check_room(uow, user_id)
    body = clean_text(text)
    clinic_id = await uow.tickets.home_clinic(user_id)
    tz = await uow.tickets.clinic_tz(clinic_id) or home_tz
    minutes = target_minutes(category, targets)
    due = add_working_minutes(now, minutes, tz)
    escalate = add_working_minutes(now, max(0, minutes - ESCALATE_BEFORE_MINUTES), tz)
    ticket_id = await uow.tickets.add(
        user_id=user_id,
        clinic_id=clinic_id,
        category=category,
        now=now,
        due_at=due,
        escalate_at=escalate,
    )
    await uow.tickets.add_message(
        ticket_id,
        user_id,
        TicketMessage("patient", user_id, body, now, attachments[:MAX_ATTACHMENTS]),
    )
    await _journal(uow, user_id, now, "ticket.opened", ticket_id, category=category)
    ticket = await uow.tickets.get(ticket_id)
    assert ticket is not None
    return ticket


async def own_ticket(uow: TicketsUnitOfWork, user_id: int, ticket_id: int) -> Ticket:
    """The patient's own ticket, or Stale (a forged or foreign id changes nothing)."""
    ticket = await uow.tickets.get(ticket_id)
    if ticket is None or ticket.user_id != user_id:
        raise Stale
    return ticket


def staff_may_see(staff: StaffMember, ticket: Ticket) -> bool:
    if ticket.clinic_id is None:
        return staff.role == "admin"
    return staff.covers(ticket.clinic_id)


async def staff_ticket(uow: TicketsUnitOfWork, staff: StaffMember, ticket_id: int) -> Ticket:
    ticket = await uow.tickets.get(ticket_id)
    if ticket is None or not staff_may_see(staff, ticket):
        raise Stale
    return ticket


async def staff_open(
    uow: TicketsUnitOfWork, staff: StaffMember, staff_id: int, ticket_id: int, now: datetime
) -> Ticket:
    """Staff look at a new ticket: it is «в работе» from now on."""
    ticket = await staff_ticket(uow, staff, ticket_id)
    if ticket.status is TicketStatus.NEW:
        await uow.tickets.set_status(ticket_id, TicketStatus.IN_PROGRESS, now)
        await _journal(uow, ticket.user_id, now, "ticket.taken", ticket_id, staff=staff_id)
        ticket = await staff_ticket(uow, staff, ticket_id)
    return ticket


async def staff_answer(
    uow: TicketsUnitOfWork,
    staff: StaffMember,
    staff_id: int,
    ticket_id: int,
    text: str,
    now: datetime,
) -> Ticket:
    ticket = await staff_ticket(uow, staff, ticket_id)
    if not ticket.status.open:
        raise Stale
    body = clean_text(text)
    await uow.tickets.add_message(
        ticket_id, ticket.user_id, TicketMessage("staff", staff_id, body, now)
    )
    await uow.tickets.set_status(ticket_id, TicketStatus.ANSWERED, now, answered=True)
    await _journal(uow, ticket.user_id, now, "ticket.answered", ticket_id, staff=staff_id)
    updated = await staff_ticket(uow, staff, ticket_id)
    await uow.outbox.add([ticket_notice(updated, now)], now)
    return updated


async def patient_reply(
    uow: TicketsUnitOfWork,
    user_id: int,
    ticket_id: int,
    text: str,
    attachments: tuple[str, ...],
    now: datetime,
) -> Ticket:
    ticket = await own_ticket(uow, user_id, ticket_id)
    if not ticket.status.open:
        raise Stale
    body = clean_text(text)
    await uow.tickets.add_message(
        ticket_id, user_id, TicketMessage("patient", user_id, body, now, attachments)
    )
    await uow.tickets.set_status(ticket_id, TicketStatus.IN_PROGRESS, now, ask_staff=True)
    await _journal(uow, user_id, now, "ticket.replied", ticket_id)
    return await own_ticket(uow, user_id, ticket_id)


async def close_ticket(
    uow: TicketsUnitOfWork, user_id: int, ticket_id: int, now: datetime
) -> Ticket:
    ticket = await own_ticket(uow, user_id, ticket_id)
    if ticket.status.open:
        await uow.tickets.set_status(ticket_id, TicketStatus.CLOSED, now)
        await _journal(uow, user_id, now, "ticket.closed", ticket_id)
    return await own_ticket(uow, user_id, ticket_id)


async def escalate_due(uow: TicketsUnitOfWork, now: datetime) -> list[Ticket]:
    """Tickets unanswered an hour of work before their target: marked once, returned to tell."""
    escalated = []
    for ticket in await uow.tickets.due_for_escalation(now):
        if await uow.tickets.mark_escalated(ticket.id, now):
            await _journal(uow, ticket.user_id, now, "ticket.escalated", ticket.id)
            escalated.append(ticket)
    return escalated


async def _journal(
    uow: TicketsUnitOfWork,
    user_id: int,
    now: datetime,
    action: str,
    ticket_id: int,
    **details: object,
) -> None:
    await uow.journal.add(
        JournalEntry(
            user_id=user_id, at=now, action=action, details={"ticket": ticket_id, **details}
        )
    )
