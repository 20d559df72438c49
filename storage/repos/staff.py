"""What the /staff screens read: doctors with upcoming visits, a doctor's visits by day.

Every query is limited to the staff member's clinics, so a forged id of
another clinic's doctor simply finds nothing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select

from domain.flow_ports import FailedNotice, StaffVisit
from domain.notifications import Kind, State
from storage.repos.base import Repository, from_db, to_db
from storage.schema import appointments, clinics, doctors, outbox

__all__ = ["FailedNotice", "StaffRepository", "StaffVisit"]

ACTIVE = ("pending", "confirmed")


class StaffRepository(Repository):
    async def doctors_with_visits(
        self, clinic_ids: Sequence[int], after: datetime, limit: int = 30
    ) -> list[tuple[int, str, int]]:
        """(doctor id, full name, number of upcoming active visits), most visits first."""
        d, a = doctors, appointments
        rows = await self.conn.execute(
            select(d.c.id, d.c.surname, d.c.name, d.c.patronymic, func.count(a.c.id))
            .select_from(a.join(d, d.c.id == a.c.doctor_id))
            .where(
                a.c.clinic_id.in_(list(clinic_ids)),
                a.c.status.in_(ACTIVE),
                a.c.start_utc > to_db(after),
            )
            .group_by(d.c.id, d.c.surname, d.c.name, d.c.patronymic)
            .order_by(func.count(a.c.id).desc(), d.c.surname)
            .limit(limit)
        )
        return [(r[0], " ".join(p for p in (r[1], r[2], r[3]) if p), int(r[4])) for r in rows]

    async def visits(
        self,
        clinic_ids: Sequence[int],
        *,
        after: datetime,
        before: datetime | None = None,
        doctor_id: int | None = None,
        limit: int = 200,
    ) -> list[StaffVisit]:
        """Active visits of the staff's clinics starting in (after, before], nearest first."""
        a, d, c = appointments, doctors, clinics
        cond = [
            a.c.clinic_id.in_(list(clinic_ids)),
            a.c.status.in_(ACTIVE),
            a.c.start_utc > to_db(after),
        ]
        if before is not None:
            cond.append(a.c.start_utc <= to_db(before))
        if doctor_id is not None:
            cond.append(a.c.doctor_id == doctor_id)
        rows = await self.conn.execute(
            select(
                a.c.id, a.c.number, a.c.doctor_id, a.c.clinic_id, a.c.start_utc, c.c.tz,
                d.c.surname, d.c.name, d.c.patronymic,
            )
            .select_from(a.join(d, d.c.id == a.c.doctor_id).join(c, c.c.id == a.c.clinic_id))
            .where(*cond)
            .order_by(a.c.start_utc, a.c.id)
            .limit(limit)
        )  # fmt: skip
        return [
            StaffVisit(
                id=r.id,
                number=r.number,
                doctor_id=r.doctor_id,
                clinic_id=r.clinic_id,
                start=from_db(r.start_utc),
                tz=r.tz,
                doctor_name=" ".join(p for p in (r.surname, r.name, r.patronymic) if p),
            )
            for r in rows
        ]

    async def failed_notices(
        self, clinic_ids: Sequence[int], since: datetime, limit: int = 10
    ) -> list[FailedNotice]:
        """Undelivered clinic cancellation/move notices about visits of these clinics,
        newest first: failed for good, or held because the patient blocked the bot (sent
        when they come back — until then the registrar should phone them).

        The registrar is told how many notices were queued, not that patients
        were notified; this list is how a delivery failure reaches them.
        """
        o, a = outbox, appointments
        rows = (
            await self.conn.execute(
                select(o.c.payload, o.c.created_at, o.c.last_error)
                .where(
                    o.c.state.in_((State.FAILED, State.HELD)),
                    o.c.kind.in_((Kind.CANCELLED_BY_CLINIC, Kind.MOVED_BY_CLINIC)),
                    o.c.created_at >= to_db(since),
                )
                .order_by(o.c.created_at.desc(), o.c.id.desc())
                .limit(200)
            )
        ).all()
        wanted: dict[int, tuple[datetime, str]] = {}
        for payload, created, error in rows:
            ref = json.loads(payload).get("appointment_id")
            if isinstance(ref, int) and ref not in wanted:
                wanted[ref] = (from_db(created), str(error or ""))
        if not wanted:
            return []
        found = await self.conn.execute(
            select(a.c.id, a.c.number).where(
                a.c.id.in_(list(wanted)), a.c.clinic_id.in_(list(clinic_ids))
            )
        )
        numbers = {r.id: r.number for r in found}
        notices = [
            FailedNotice(number=numbers[ref], at=at, error=error)
            for ref, (at, error) in wanted.items()
            if ref in numbers
        ]
        return sorted(notices, key=lambda n: n.at, reverse=True)[:limit]
