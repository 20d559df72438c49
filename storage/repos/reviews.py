"""Reviews of doctors, the doctor's running score, and the visits that await an ask."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, select, update

from domain.models import AppointmentStatus
from domain.notifications import OutboxItem
from domain.reviews import Review, Visit
from storage.repos.base import Repository, from_db, to_db
from storage.schema import appointments, clinics, doctor_roles, doctors, outbox, reviews

# The support job's read of visits to ask about, built once (it runs every minute).
_VISITS_TO_ASK = (
    select(appointments.c.id)
    .where(
        appointments.c.status == AppointmentStatus.COMPLETED.value,
        appointments.c.updated_at >= bindparam("since"),
        appointments.c.user_id != 0,
        ~select(reviews.c.id).where(reviews.c.appointment_id == appointments.c.id).exists(),
    )
    .order_by(appointments.c.id)
    .limit(bindparam("limit"))
)


class ReviewRepository(Repository):
    def _review(self, r: Any) -> Review:
        return Review(
            id=r.id,
            appointment_id=r.appointment_id,
            doctor_id=r.doctor_id,
            user_id=r.user_id,
            rating=r.rating,
            text=r.text,
            created_at=from_db(r.created_at),
            hidden_reason=r.hidden_reason,
        )

    async def visit(self, appointment_id: int) -> Visit | None:
        row = (
            await self.conn.execute(
                select(
                    appointments.c.id,
                    appointments.c.user_id,
                    appointments.c.patient_id,
                    appointments.c.doctor_id,
                    appointments.c.clinic_id,
                    appointments.c.status,
                    clinics.c.tz,
                )
                .join(clinics, clinics.c.id == appointments.c.clinic_id)
                .where(appointments.c.id == appointment_id)
            )
        ).first()
        if row is None:
            return None
        return Visit(
            appointment_id=row.id,
            user_id=row.user_id,
            patient_id=row.patient_id,
            doctor_id=row.doctor_id,
            clinic_id=row.clinic_id,
            status=AppointmentStatus(row.status),
            clinic_tz=row.tz,
        )

    async def for_appointment(self, appointment_id: int) -> Review | None:
        row = (
            await self.conn.execute(
                select(reviews).where(reviews.c.appointment_id == appointment_id)
            )
        ).first()
        return None if row is None else self._review(row)

    async def get(self, review_id: int) -> Review | None:
        row = (await self.conn.execute(select(reviews).where(reviews.c.id == review_id))).first()
        return None if row is None else self._review(row)

    async def add(self, visit: Visit, rating: int, now: datetime) -> int:
        result = await self.conn.execute(
            insert(reviews)
            .values(
                appointment_id=visit.appointment_id,
                doctor_id=visit.doctor_id,
                patient_id=visit.patient_id,
                user_id=visit.user_id,
                rating=rating,
                text="",
                created_at=to_db(now),
                updated_at=to_db(now),
            )
            .returning(reviews.c.id)
        )
        return int(result.scalar_one())

    async def set_rating(self, review_id: int, rating: int, now: datetime) -> None:
        await self.conn.execute(
            update(reviews)
            .where(reviews.c.id == review_id)
            .values(rating=rating, updated_at=to_db(now))
        )

    async def set_text(self, review_id: int, text: str, now: datetime) -> None:
        await self.conn.execute(
            update(reviews)
            .where(reviews.c.id == review_id)
            .values(
                text=text, updated_at=to_db(now), hidden_at=None, hidden_by=None, hidden_reason=None
            )
        )

    async def hide(self, review_id: int, staff_id: int, reason: str, now: datetime) -> None:
        await self.conn.execute(
            update(reviews)
            .where(reviews.c.id == review_id)
            .values(hidden_at=to_db(now), hidden_by=staff_id, hidden_reason=reason)
        )

    async def add_to_doctor(self, doctor_id: int, delta_sum: int, delta_count: int) -> None:
        await self.conn.execute(
            update(doctors)
            .where(doctors.c.id == doctor_id)
            .values(
                rating_sum=doctors.c.rating_sum + delta_sum,
                rating_count=doctors.c.rating_count + delta_count,
            )
        )

    async def doctor_clinics(self, doctor_id: int) -> tuple[int, ...]:
        rows = await self.conn.execute(
            select(doctor_roles.c.clinic_id).where(doctor_roles.c.doctor_id == doctor_id).distinct()
        )
        return tuple(int(r.clinic_id) for r in rows)

    async def doctor_rating(self, doctor_id: int) -> tuple[float | None, int] | None:
        """(average rounded to 0.1, number of scores) — what lists and cards show; None: no
        such doctor. The booking views may show ``count`` next to the stars with this."""
        row = (
            await self.conn.execute(
                select(doctors.c.rating_sum, doctors.c.rating_count).where(
                    doctors.c.id == doctor_id
                )
            )
        ).first()
        if row is None:
            return None
        if not row.rating_count:
            return None, 0
        return round(row.rating_sum / row.rating_count, 1), int(row.rating_count)

    async def texts(self, doctor_id: int, limit: int, offset: int) -> tuple[list[Review], int]:
        """Reviews of the doctor that have a text, newest first (hidden ones included, marked)."""
        where = and_(reviews.c.doctor_id == doctor_id, reviews.c.text != "")
        total = await self.conn.execute(select(func.count()).select_from(reviews).where(where))
        rows = await self.conn.execute(
            select(reviews)
            .where(where)
            .order_by(reviews.c.created_at.desc(), reviews.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        return [self._review(r) for r in rows], int(total.scalar_one())

    async def visits_to_ask(self, since: datetime, limit: int = 200) -> list[Visit]:
        """Completed visits since ``since`` with no review and no ask planned yet."""
        rows = await self.conn.execute(_VISITS_TO_ASK, {"since": to_db(since), "limit": limit})
        ids = [int(r.id) for r in rows]
        if not ids:
            return []
        keys = {f"review:{i}:ask": i for i in ids}
        planned = await self.conn.execute(
            select(outbox.c.idem_key).where(outbox.c.idem_key.in_(list(keys)))
        )
        done = {keys[r.idem_key] for r in planned}
        found = []
        for appointment_id in ids:
            if appointment_id in done:
                continue
            visit = await self.visit(appointment_id)
            if visit is not None:
                found.append(visit)
        return found

    async def plan_ask(self, item: OutboxItem, now: datetime) -> bool:
        """The ask's outbox row, once: a second call with the same key inserts nothing."""
        return await self.insert_unless_conflict(
            outbox,
            {
                "kind": item.kind,
                "user_id": item.user_id,
                "due_at": to_db(item.due_at),
                "payload": json.dumps(item.payload, sort_keys=True),
                "idem_key": item.idem_key,
                "urgent": item.urgent,
                "created_at": to_db(now),
            },
        )
