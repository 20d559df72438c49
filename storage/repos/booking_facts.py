"""The facts the booking rules are checked against: overlaps, counts, referrals.

domain/booking_rules.py decides; this module only reads what it needs (in one
round trip for a booking: ``rule_facts``) and spends a referral. The exact
overlap test is Python's (date arithmetic differs between the engines), the SQL
bound is coarse. A mixin of storage/repos/appointments.py's repository.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select, update

from domain.booking_ports import Clash
from domain.models import Appointment, Referral
from domain.rules import overlaps
from storage.memo import read_memo
from storage.prepared import prepared
from storage.repos.appointment_rows import (
    _CLASH_COLUMNS,
    _CLASH_JOIN,
    _MAX_VISIT,
    _appointment,
    _clash,
)
from storage.repos.base import Repository, from_db, to_db
from storage.repos.booking_sql import _ACTIVE_FOR_SPECIALTY, _RULE_FACTS
from storage.schema import ACTIVE_APPOINTMENT_STATES, appointments, patients, referrals


def _count_active_for_specialty(patient_id: int, specialty_id: int, now: datetime) -> Select[Any]:
    """COUNT of the patient's upcoming active appointments in the specialty."""
    return (
        select(func.count())
        .select_from(appointments)
        .where(
            appointments.c.patient_id == patient_id,
            appointments.c.specialty_id == specialty_id,
            appointments.c.status.in_(ACTIVE_APPOINTMENT_STATES),
            appointments.c.start_utc >= to_db(now),
        )
    )


def _count_created_by(user_id: int, since: datetime) -> Select[Any]:
    """COUNT of the appointments the account created after ``since`` (the daily cap)."""
    return (
        select(func.count())
        .select_from(appointments)
        .where(appointments.c.user_id == user_id, appointments.c.created_at > to_db(since))
    )


def _near(patient_id: int, start: datetime, minutes: int) -> tuple[Any, ...]:
    """The coarse SQL bound of the overlap rule (the exact test is ``_first_overlap``)."""
    end = start + timedelta(minutes=minutes)
    return (
        appointments.c.patient_id == patient_id,
        appointments.c.start_utc < to_db(end),
        appointments.c.start_utc > to_db(start - _MAX_VISIT),
    )


def _first_overlap(
    found: list[Clash], start: datetime, minutes: int, exclude_id: int | None
) -> Clash | None:
    for clash in found:
        if clash.appointment_id != exclude_id and overlaps(
            clash.start, clash.minutes, start, minutes
        ):
            return clash
    return None


class BookingFacts(Repository):
    """Rule facts (a mixin of AppointmentRepository)."""

    async def lock_patient(self, patient_id: int) -> None:
        """Serialise bookings of one patient: ``SELECT … FOR UPDATE`` of the patient row on
        PostgreSQL (SQLite renders no FOR UPDATE: its BEGIN IMMEDIATE writers are serial),
        so the overlap and idempotency checks that follow see every committed booking.
        On SQLite the statement would lock nothing: not sent."""
        if self.is_sqlite:
            return
        await self.conn.execute(
            select(patients.c.id).where(patients.c.id == patient_id).with_for_update()
        )

    async def active_on_slot(self, patient_id: int, slot_id: int) -> Appointment | None:
        """The patient's active appointment on this very slot (a repeated confirm)."""
        row = (
            await self.conn.execute(
                select(appointments).where(
                    appointments.c.patient_id == patient_id,
                    appointments.c.slot_id == slot_id,
                    appointments.c.status.in_(ACTIVE_APPOINTMENT_STATES),
                )
            )
        ).first()
        return None if row is None else _appointment(row)

    async def _clashes(self, *cond: Any) -> list[Clash]:
        rows = await self.conn.execute(
            select(*_CLASH_COLUMNS)
            .select_from(_CLASH_JOIN)
            .where(appointments.c.status.in_(ACTIVE_APPOINTMENT_STATES), *cond)
            .order_by(appointments.c.start_utc, appointments.c.id)
        )
        return [_clash(r) for r in rows]

    async def overlapping(
        self, patient_id: int, start: datetime, minutes: int, exclude_id: int | None
    ) -> Clash | None:
        """The patient's first active visit sharing any moment with [start, start+minutes).
        Date arithmetic differs between the engines: a coarse SQL bound, the exact
        test in Python (domain.rules.overlaps)."""
        found = await self._clashes(*_near(patient_id, start, minutes))
        return _first_overlap(found, start, minutes, exclude_id)

    async def rule_facts(
        self,
        patient_id: int,
        start: datetime,
        minutes: int,
        exclude_id: int | None,
        specialty_id: int,
        user_id: int,
        now: datetime,
        since: datetime,
    ) -> tuple[Clash | None, int, int]:
        """``overlapping`` and ``rule_counts`` in one statement (``_RULE_FACTS``) — or
        none: a SQLite booking's take read the counts already, and that no active visit
        of the patient is anywhere near (storage/repos/slot_take.py ``facts_key``)."""
        memo = read_memo(self.conn) if exclude_id is None else None
        if memo:
            key = ("rule_facts", patient_id, start, minutes, specialty_id, user_id, now, since)
            known = memo.pop(key, None)
            if known is not None and not known[2]:
                return None, known[0], known[1]
        params = {
            "patient_id": patient_id,
            "begin": to_db(start - _MAX_VISIT),
            "end": to_db(start + timedelta(minutes=minutes)),
            "specialty_id": specialty_id,
            "now": to_db(now),
            "user_id": user_id,
            "since": to_db(since),
        }
        rows = await prepared(_RULE_FACTS).records(self.conn, params)
        found = [_clash(r) for r in rows if r.id is not None]
        overlap = _first_overlap(found, start, minutes, exclude_id)
        return overlap, int(rows[0].n_active or 0), int(rows[0].n_created or 0)

    async def active_for_specialty(
        self, patient_id: int, specialty_id: int, now: datetime
    ) -> Clash | None:
        """The patient's nearest upcoming active visit in the specialty (one-active rule)."""
        params = {"patient_id": patient_id, "specialty_id": specialty_id, "now": to_db(now)}
        rows = await prepared(_ACTIVE_FOR_SPECIALTY).records(self.conn, params)
        found = [_clash(r) for r in rows]
        return found[0] if found else None

    async def usable_referral(
        self, patient_id: int, specialty_id: int, visit_day: date
    ) -> Referral | None:
        """The unused referral valid on the visit day that expires soonest (spend that one)."""
        row = (
            await self.conn.execute(
                select(referrals)
                .where(
                    referrals.c.patient_id == patient_id,
                    referrals.c.specialty_id == specialty_id,
                    referrals.c.used_appointment_id.is_(None),
                    referrals.c.valid_until >= visit_day,
                )
                .order_by(referrals.c.valid_until, referrals.c.id)
                .limit(1)
            )
        ).first()
        if row is None:
            return None
        return Referral(
            id=row.id,
            number=row.number,
            patient_id=row.patient_id,
            specialty_id=row.specialty_id,
            clinic_id=row.clinic_id,
            issued_at=from_db(row.issued_at),
            valid_until=row.valid_until,
            used_appointment_id=row.used_appointment_id,
        )

    async def mark_referral_used(self, referral_id: int, appointment_id: int) -> bool:
        result = await self.conn.execute(
            update(referrals)
            .where(referrals.c.id == referral_id, referrals.c.used_appointment_id.is_(None))
            .values(used_appointment_id=appointment_id)
        )
        return int(result.rowcount) == 1

    async def count_active_for_specialty(
        self, patient_id: int, specialty_id: int, now: datetime
    ) -> int:
        """Upcoming active appointments of a patient in a specialty (past ones don't block)."""
        value = await self.conn.scalar(_count_active_for_specialty(patient_id, specialty_id, now))
        return int(value or 0)

    async def count_created_by(self, user_id: int, since: datetime) -> int:
        value = await self.conn.scalar(_count_created_by(user_id, since))
        return int(value or 0)

    async def rule_counts(
        self, patient_id: int, specialty_id: int, user_id: int, now: datetime, since: datetime
    ) -> tuple[int, int]:
        """(count_active_for_specialty, count_created_by) in one round trip."""
        active = _count_active_for_specialty(patient_id, specialty_id, now).scalar_subquery()
        created = _count_created_by(user_id, since).scalar_subquery()
        row = (await self.conn.execute(select(active, created))).one()
        return int(row[0] or 0), int(row[1] or 0)
