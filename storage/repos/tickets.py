"""Support tickets and their threads; every text and attachment id encrypted at rest."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update

from domain.staff_notices import Subject, Waiting
from domain.tickets import Ticket, TicketMessage, TicketStatus
from storage.repos.base import Repository, from_db, from_db_opt, to_db
from storage.schema import appointments, clinics, patients, ticket_messages, tickets

OPEN = (TicketStatus.NEW.value, TicketStatus.IN_PROGRESS.value)  # waiting for the staff


# The support job's reads, built once: they run every minute (every tick of the
# console's clock), and building them cost more than running them.
_DUE_FOR_ESCALATION = (
    select(tickets)
    .where(
        tickets.c.status.in_(OPEN),
        tickets.c.escalated_at.is_(None),
        tickets.c.escalate_at <= bindparam("now"),
    )
    .order_by(tickets.c.escalate_at)
    .limit(bindparam("limit"))
)
_WAITING_FOR_STAFF = (
    select(
        tickets.c.id,
        tickets.c.clinic_id,
        tickets.c.category,
        tickets.c.status,
        tickets.c.due_at,
        tickets.c.staff_notice_at,
        clinics.c.tz,
    )
    .outerjoin(clinics, clinics.c.id == tickets.c.clinic_id)
    .where(tickets.c.staff_notice_at.is_not(None))
    .order_by(tickets.c.staff_notice_at, tickets.c.id)
    .limit(bindparam("limit"))
)


class TicketRepository(Repository):
    async def add(
        self,
        *,
        user_id: int,
        clinic_id: int | None,
        category: str,
        now: datetime,
        due_at: datetime,
        escalate_at: datetime,
    ) -> int:
        result = await self.conn.execute(
            insert(tickets)
            .values(
                user_id=user_id,
                clinic_id=clinic_id,
                category=category,
                status=TicketStatus.NEW.value,
                created_at=to_db(now),
                updated_at=to_db(now),
                due_at=to_db(due_at),
                escalate_at=to_db(escalate_at),
                staff_notice_at=to_db(now),  # a new ticket waits for the staff
            )
            .returning(tickets.c.id)
        )
        return int(result.scalar_one())

    async def add_message(self, ticket_id: int, user_id: int, message: TicketMessage) -> None:
        files = json.dumps(list(message.attachments)) if message.attachments else None
        await self.conn.execute(
            insert(ticket_messages).values(
                ticket_id=ticket_id,
                user_id=user_id,
                author=message.author,
                author_id=message.author_id,
                text_enc=self.cipher.encrypt(message.text),
                attachments_enc=self.cipher.encrypt(files),
                at=to_db(message.at),
            )
        )

    def _ticket(self, r: Any, messages: tuple[TicketMessage, ...] = ()) -> Ticket:
        return Ticket(
            id=r.id,
            user_id=r.user_id,
            clinic_id=r.clinic_id,
            category=r.category,
            status=TicketStatus(r.status),
            created_at=from_db(r.created_at),
            due_at=from_db(r.due_at),
            escalate_at=from_db(r.escalate_at),
            updated_at=from_db(r.updated_at),
            answered_at=from_db_opt(r.answered_at),
            escalated_at=from_db_opt(r.escalated_at),
            messages=messages,
        )

    async def get(self, ticket_id: int, *, with_messages: bool = True) -> Ticket | None:
        row = (await self.conn.execute(select(tickets).where(tickets.c.id == ticket_id))).first()
        if row is None:
            return None
        messages: tuple[TicketMessage, ...] = ()
        if with_messages:
            rows = await self.conn.execute(
                select(ticket_messages)
                .where(ticket_messages.c.ticket_id == ticket_id)
                .order_by(ticket_messages.c.at, ticket_messages.c.id)
            )
            messages = tuple(
                TicketMessage(
                    author=m.author,
                    author_id=m.author_id,
                    text=self.cipher.decrypt(m.text_enc) or "",
                    at=from_db(m.at),
                    attachments=tuple(json.loads(self.cipher.decrypt(m.attachments_enc) or "[]")),
                )
                for m in rows
            )
        return self._ticket(row, messages)

    async def set_status(
        self,
        ticket_id: int,
        status: TicketStatus,
        now: datetime,
        *,
        answered: bool = False,
        ask_staff: bool = False,
    ) -> None:
        """``ask_staff``: the patient wrote, the staff are to be told; any other change (the
        staff opened or answered it, the patient closed it) means nothing waits for them."""
        values: dict[str, object] = {
            "status": status.value,
            "updated_at": to_db(now),
            "staff_notice_at": to_db(now) if ask_staff else None,
        }
        if answered:
            values["answered_at"] = to_db(now)
        await self.conn.execute(update(tickets).where(tickets.c.id == ticket_id).values(**values))

    async def _page(self, where: Any, limit: int, offset: int) -> tuple[list[Ticket], int]:
        total = await self.conn.execute(select(func.count()).select_from(tickets).where(where))
        rows = await self.conn.execute(
            select(tickets)
            .where(where)
            .order_by(tickets.c.updated_at.desc(), tickets.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        return [self._ticket(r) for r in rows], int(total.scalar_one())

    async def for_user(self, user_id: int, limit: int, offset: int) -> tuple[list[Ticket], int]:
        return await self._page(tickets.c.user_id == user_id, limit, offset)

    async def open_count(self, user_id: int) -> int:
        found = await self.conn.execute(
            select(func.count())
            .select_from(tickets)
            .where(tickets.c.user_id == user_id, tickets.c.status != TicketStatus.CLOSED.value)
        )
        return int(found.scalar_one())

    async def for_staff(
        self, clinic_ids: tuple[int, ...], include_unassigned: bool, limit: int, offset: int
    ) -> tuple[list[Ticket], int]:
        where: Any = tickets.c.clinic_id.in_(clinic_ids)
        if include_unassigned:
            where = where | tickets.c.clinic_id.is_(None)
        return await self._page(
            where & (tickets.c.status != TicketStatus.CLOSED.value), limit, offset
        )

    async def due_for_escalation(self, now: datetime, limit: int = 100) -> list[Ticket]:
        rows = await self.conn.execute(_DUE_FOR_ESCALATION, {"now": to_db(now), "limit": limit})
        return [self._ticket(r) for r in rows]

    async def mark_escalated(self, ticket_id: int, now: datetime) -> bool:
        result = await self.conn.execute(
            update(tickets)
            .where(tickets.c.id == ticket_id, tickets.c.escalated_at.is_(None))
            .values(escalated_at=to_db(now))
        )
        return int(result.rowcount) == 1

    async def home_clinic(self, user_id: int) -> int | None:
        """The attached clinic of the account's own patient, else that of its latest visit."""
        attached = await self.conn.execute(
            select(patients.c.attached_clinic_id).where(
                patients.c.owner_user_id == user_id,
                patients.c.relation == "self",
                patients.c.deleted_at.is_(None),
            )
        )
        clinic = attached.scalar()
        if clinic is not None:
            return int(clinic)
        latest = await self.conn.execute(
            select(appointments.c.clinic_id)
            .where(appointments.c.user_id == user_id)
            .order_by(appointments.c.start_utc.desc())
            .limit(1)
        )
        found = latest.scalar()
        return None if found is None else int(found)

    async def clinic_tz(self, clinic_id: int | None) -> str | None:
        if clinic_id is None:
            return None
        found = await self.conn.execute(select(clinics.c.tz).where(clinics.c.id == clinic_id))
        tz = found.scalar()
        return None if tz is None else str(tz)

    async def waiting_for_staff(self, limit: int) -> list[Waiting]:
        rows = await self.conn.execute(_WAITING_FOR_STAFF, {"limit": limit})
        return [
            Waiting(
                subject=Subject.TICKET,
                item_id=int(r.id),
                clinic_id=r.clinic_id,
                label=str(r.category),
                reply=r.status != TicketStatus.NEW.value,
                marked_at=from_db(r.staff_notice_at),
                tz=r.tz,
                due_at=from_db(r.due_at),
            )
            for r in rows
        ]

    async def clear_staff_notice(self, item_id: int, marked_at: datetime) -> bool:
        return await self.clear_staff_notice_of(tickets, item_id, marked_at)
