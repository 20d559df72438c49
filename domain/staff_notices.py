"""The clinic's staff hear of what waits for them: a new ticket, a patient's reply in one,
a new certificate request, a patient's answer to the clinic's question.

A patient's action marks the ticket or request (``staff_notice_at``); the support job
(bot/ticket_job.py) takes the marks, clears them in its transaction and tells the
staff after the commit — once, like the escalation. A mark cleared by a staff action
in the meantime (they opened the ticket, took the request) is not told: it no longer
waits. Outside working hours — the clinic's quiet hours — nothing is told; the marks
wait for the morning. The push carries numbers and categories only: what the patient
wrote stays behind the button, which checks the staff member's clinic again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Protocol

from domain.models import StaffMember

# Roles that answer tickets and process certificate requests (a doctor's staff entry does not).
TOLD_ROLES = frozenset({"registrar", "admin"})


class Subject(Enum):
    TICKET = "ticket"
    CERTIFICATE = "certificate"


@dataclass(frozen=True, slots=True)
class Waiting:
    """A marked ticket or request, as the repositories read it."""

    subject: Subject
    item_id: int
    clinic_id: int | None
    label: str  # the ticket's category / the certificate's kind
    reply: bool  # the patient wrote again (not a new one)
    marked_at: datetime
    tz: str | None  # the clinic's zone (None: no clinic)
    due_at: datetime | None = None  # a ticket's promised answer


class StaffNoticeRepo(Protocol):
    async def waiting_for_staff(self, limit: int) -> list[Waiting]: ...

    async def clear_staff_notice(self, item_id: int, marked_at: datetime) -> bool: ...


class StaffNoticeUoW(Protocol):
    @property
    def tickets(self) -> StaffNoticeRepo: ...

    @property
    def certificates(self) -> StaffNoticeRepo: ...


def recipients(staff: Mapping[int, StaffMember], clinic_id: int | None) -> list[int]:
    """Registrars and administrators of the clinic; for a ticket with no clinic, the
    administrators (as domain.tickets.staff_may_see lets them see it)."""
    return sorted(
        user_id
        for user_id, member in staff.items()
        if member.role in TOLD_ROLES
        and (member.covers(clinic_id) if clinic_id is not None else member.role == "admin")
    )


async def take_waiting(
    uow: StaffNoticeUoW,
    now: datetime,
    *,
    quiet: Callable[[datetime, str], bool],
    home_tz: str,
    limit: int = 100,
) -> list[Waiting]:
    """The marks to tell now, cleared (each only if nobody changed it meanwhile); those in
    their clinic's quiet hours stay for later."""
    told: list[Waiting] = []
    for repo in (uow.tickets, uow.certificates):
        for item in await repo.waiting_for_staff(limit):
            if quiet(now, item.tz or home_tz):
                continue
            if await repo.clear_staff_notice(item.item_id, item.marked_at):
                told.append(item)
    return told
