"""The appointment repository: appointments themselves (insert, status
transitions, history, the owner's list) composed with the booking's other parts.

Implements domain.booking_ports.BookingRepository. The parts live in their own
modules, one concern each: the slot take (slot_take.py), holds and slot states
(holds.py), the rule facts (booking_facts.py), the statements (booking_sql.py),
the row mapping (appointment_rows.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import literal, select, update

from domain.booking_ports import NewAppointment, SlotContext
from domain.calendar import calendar_uid
from domain.models import Appointment, AppointmentStatus, Patient
from storage.prepared import prepared
from storage.repos.appointment_rows import (
    _MAX_VISIT,
    NUMBER_PREFIX,
    _appointment,
    appointment_number,
)
from storage.repos.base import from_db, to_db
from storage.repos.booking_facts import BookingFacts
from storage.repos.booking_sql import _ADD_EVENT, _NUMBER
from storage.repos.booking_sql_sqlite import _INSERT_NUMBERED, _INSERT_NUMBERED_PG
from storage.repos.directory import DirectoryRepository
from storage.repos.holds import HoldsAndSlots
from storage.repos.slot_take import SlotTakes
from storage.repos.users import UserRepository
from storage.schema import appointment_events, appointments, patients, users

__all__ = ["NUMBER_PREFIX", "AppointmentRepository", "appointment_number"]

# The parts _INSERT_NUMBERED spells the number and the calendar UID with, from the
# functions that define them (an id of 0 and a marker number split at the marker).
_UID_HEAD, _UID_TAIL = calendar_uid("\x00").split("\x00")
_SPELLING = {"number_prefix": NUMBER_PREFIX, "uid_head": _UID_HEAD, "uid_tail": _UID_TAIL}


class AppointmentRepository(SlotTakes, HoldsAndSlots, BookingFacts):
    # ------------------------------------------------------------------ patients, slots

    async def get_patient(self, patient_id: int) -> Patient | None:
        """A live (not erased) patient; ownership is ``owner_user_id``."""
        return await UserRepository(self.conn, self.cipher).patient(patient_id)

    async def patient_ids_of(self, user_id: int) -> list[int]:
        rows = await self.conn.execute(
            select(patients.c.id)
            .where(patients.c.owner_user_id == user_id, patients.c.deleted_at.is_(None))
            .order_by(patients.c.id)
        )
        return [r.id for r in rows]

    async def slot_context(self, slot_id: int) -> SlotContext | None:
        """The slot, its clinic's zone and its specialty in one query (read once per
        update until its next write: the wizard has usually just read it)."""
        _slot, context = await DirectoryRepository(self.conn, self.cipher).slot_with_context(
            slot_id
        )
        return context

    # ------------------------------------------------------------------ appointments

    async def insert(self, new: NewAppointment) -> Appointment:
        """Insert it numbered «A-<id>» by the same statement (the id chosen in it:
        booking_sql_sqlite's numbered INSERT); should what comes back ever differ from
        ``appointment_number``/``calendar_uid``, ``_NUMBER`` corrects it."""
        slot = new.slot
        created = to_db(new.created_at)
        values = {
            "number": f"tmp-{slot.id}-{new.user_id}",
            "patient_id": new.patient_id,
            "user_id": new.user_id,
            "slot_id": slot.id,
            "doctor_id": slot.doctor_id,
            "clinic_id": slot.clinic_id,
            "specialty_id": slot.specialty_id,
            "start_utc": to_db(slot.start),
            "minutes": slot.minutes,
            "kind": slot.kind,
            "status": new.status.value,
            "referral_id": new.referral_id,
            "created_at": created,
            "updated_at": created,
            "calendar_seq": new.calendar_seq,
        }
        # Numbered by the INSERT itself (booking_sql_sqlite._INSERT_NUMBERED and its twin).
        values.update(_SPELLING, given_uid=new.calendar_uid or None)
        numbered = _INSERT_NUMBERED if self.is_sqlite else _INSERT_NUMBERED_PG
        row = (await prepared(numbered).rows(self.conn, values))[0]
        appointment_id = int(row[0])
        number = appointment_number(appointment_id)
        uid = new.calendar_uid or calendar_uid(number)
        if tuple(row[1:]) != (number, uid):
            await prepared(_NUMBER).run(
                self.conn, {"appointment_id": appointment_id, "new_number": number, "new_uid": uid}
            )
        return Appointment(
            id=appointment_id,
            number=number,
            patient_id=new.patient_id,
            user_id=new.user_id,
            slot_id=slot.id,
            doctor_id=slot.doctor_id,
            clinic_id=slot.clinic_id,
            specialty_id=slot.specialty_id,
            start=slot.start,
            minutes=slot.minutes,
            kind=slot.kind,
            status=new.status,
            created_at=new.created_at,
            referral_id=new.referral_id,
            calendar_uid=uid,
            calendar_seq=new.calendar_seq,
        )

    async def get(self, appointment_id: int) -> Appointment | None:
        row = (
            await self.conn.execute(select(appointments).where(appointments.c.id == appointment_id))
        ).first()
        return None if row is None else _appointment(row)

    async def get_by_number(self, number: str) -> Appointment | None:
        row = (
            await self.conn.execute(select(appointments).where(appointments.c.number == number))
        ).first()
        return None if row is None else _appointment(row)

    async def set_status(
        self,
        appointment_id: int,
        *,
        expected: tuple[AppointmentStatus, ...],
        status: AppointmentStatus,
        now: datetime,
        cancelled_by: str | None = None,
        reason: str | None = None,
        rescheduled_to: int | None = None,
    ) -> bool:
        """Conditional transition: True only if the row was in one of ``expected``.

        A concurrent transition that committed first makes this 0 rows, which
        the service turns into a rollback (cancel vs reschedule races).
        """
        values: dict[str, Any] = {"status": status.value, "updated_at": to_db(now)}
        if cancelled_by is not None:
            values["cancelled_by"] = cancelled_by
        if reason is not None:
            values["cancel_reason"] = reason
        if rescheduled_to is not None:
            values["rescheduled_to"] = rescheduled_to
        result = await self.conn.execute(
            update(appointments)
            .where(
                appointments.c.id == appointment_id,
                appointments.c.status.in_([s.value for s in expected]),
            )
            .values(**values)
        )
        return int(result.rowcount) == 1

    async def add_event(
        self,
        appointment_id: int,
        *,
        at: datetime,
        status: AppointmentStatus,
        actor: str,
        actor_user_id: int | None,
        reason: str | None = None,
    ) -> None:
        await prepared(_ADD_EVENT).run(
            self.conn,
            {
                "appointment_id": appointment_id,
                "at": to_db(at),
                "status": status.value,
                "actor": actor,
                "actor_user_id": actor_user_id,
                "reason": reason,
            },
        )

    async def events(self, appointment_id: int) -> list[dict[str, Any]]:
        """Status history, oldest first (for «who and why» in the list)."""
        rows = await self.conn.execute(
            select(appointment_events)
            .where(appointment_events.c.appointment_id == appointment_id)
            .order_by(appointment_events.c.id)
        )
        return [
            {
                "at": from_db(r.at),
                "status": AppointmentStatus(r.status),
                "actor": r.actor,
                "actor_user_id": r.actor_user_id,
                "reason": r.reason,
            }
            for r in rows
        ]

    async def list_for_owner(self, user_id: int, since: datetime | None) -> list[Appointment]:
        """Appointments of every live patient the user owns (a removed relative's go, as their
        buttons are out of date), nearest first; with ``since`` only those not yet ended then."""
        query = (
            select(appointments)
            .join(patients, patients.c.id == appointments.c.patient_id)
            .where(patients.c.owner_user_id == user_id, patients.c.deleted_at.is_(None))
        )
        if since is not None:
            # "not ended yet" is start + minutes > since; date arithmetic differs
            # between the engines, so a coarse SQL bound and the exact test in Python.
            query = query.where(appointments.c.start_utc > to_db(since) - _MAX_VISIT)
        rows = await self.conn.execute(query.order_by(appointments.c.start_utc, appointments.c.id))
        found = [_appointment(r) for r in rows]
        if since is not None:
            found = [a for a in found if a.start + timedelta(minutes=a.minutes) > since]
        return found

    async def no_show_count(self, user_id: int) -> int:
        value = await self.conn.scalar(select(users.c.no_show_count).where(users.c.id == user_id))
        return int(value or 0)

    async def increment_no_show(self, user_id: int) -> None:
        await self.conn.execute(
            update(users)
            .where(users.c.id == user_id)
            .values(no_show_count=users.c.no_show_count + literal(1))
        )
