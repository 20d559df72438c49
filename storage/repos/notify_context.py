"""Read-only lookups the notifier renders from, in a few queries per batch.

A batch of claimed rows names appointments, slots and users by id; this
repository loads them together (one query each) so rendering 100,000
notifications is not 100,000 round trips.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Join,
    Table,
    any_,
    bindparam,
    exists,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY

from domain.calendar import calendar_uid
from domain.models import AppointmentStatus
from storage.repos.base import Repository, from_db, to_db
from storage.schema import (
    appointments,
    clinics,
    doctor_roles,
    doctors,
    holds,
    patients,
    slots,
    specialties,
    users,
    wait_list,
)


# Recipient and VisitInfo are named tuples (immutable, fields by name): a batch builds one
# per row, and a frozen dataclass's __init__ (an object.__setattr__ per field) cost ~4 µs
# per VisitInfo, a named tuple's under 1 µs.
class Recipient(NamedTuple):
    id: int
    locale: str | None
    unreachable: bool
    optout: frozenset[str]
    status: str


class VisitInfo(NamedTuple):
    """An appointment or a free slot with everything a message about it shows.

    (NotifyContextRepository.appointments builds it positionally, in this order.)"""

    start: datetime  # aware UTC
    minutes: int
    doctor_id: int
    doctor_name: str
    clinic_id: int
    clinic_name: str
    clinic_address: str
    clinic_tz: str
    region_id: str
    specialty_id: int
    specialty_ru: str
    specialty_en: str
    prep_ru: str
    prep_en: str
    # appointment only
    appointment_id: int | None = None
    number: str = ""
    status: AppointmentStatus | None = None
    patient_name: str = ""
    patient_relation: str = "self"
    patient_id: int | None = None
    cancel_reason: str | None = None
    slot_id: int | None = None
    slot_status: str | None = None
    calendar_uid: str = ""
    calendar_seq: int = 0

    def specialty(self, locale: str) -> str:
        return self.specialty_en if locale == "en" else self.specialty_ru

    def prep(self, locale: str) -> str:
        return self.prep_en if locale == "en" else self.prep_ru


_STATUSES = {status.value: status for status in AppointmentStatus}


# A VisitInfo's doctor, clinic and specialty fields (doctor_id … prep_en), in its order.
_Place = tuple[int, str, int, str, str, str, str, int, str, str, str, str]


def _doctor_name(surname: str, name: str, patronymic: str) -> str:
    return " ".join(p for p in (surname, name, patronymic) if p)


# Doctor, clinic and specialty columns every VisitInfo shows (see _with_place).
_PLACE_COLUMNS = (
    doctors.c.surname.label("d_surname"),
    doctors.c.name.label("d_name"),
    doctors.c.patronymic.label("d_patronymic"),
    clinics.c.name.label("c_name"),
    clinics.c.address,
    clinics.c.tz,
    clinics.c.region_id,
    specialties.c.name_ru,
    specialties.c.name_en,
    specialties.c.prep_ru,
    specialties.c.prep_en,
)


def _with_place(table: Table) -> Join:
    """``table`` (appointments or slots) joined to its doctor, clinic and specialty."""
    return (
        table.join(doctors, doctors.c.id == table.c.doctor_id)
        .join(clinics, clinics.c.id == table.c.clinic_id)
        .join(specialties, specialties.c.id == table.c.specialty_id)
    )


def _visit(r: Any, places: dict[tuple[int, int, int], dict[str, Any]], **extra: Any) -> VisitInfo:
    """A VisitInfo from a row with start_utc, minutes, the place ids and ``_PLACE_COLUMNS``.

    ``places``: the doctor/clinic/specialty part, built once per place of a batch
    (a batch of 1,000 reminders names a handful of places).
    """
    key = (r.doctor_id, r.clinic_id, r.specialty_id)
    place = places.get(key)
    if place is None:
        place = places[key] = {
            "doctor_id": r.doctor_id,
            "doctor_name": _doctor_name(r.d_surname, r.d_name, r.d_patronymic),
            "clinic_id": r.clinic_id,
            "clinic_name": r.c_name,
            "clinic_address": r.address,
            "clinic_tz": r.tz,
            "region_id": r.region_id,
            "specialty_id": r.specialty_id,
            "specialty_ru": r.name_ru,
            "specialty_en": r.name_en,
            "prep_ru": r.prep_ru,
            "prep_en": r.prep_en,
        }
    start = r.start_utc
    return VisitInfo(
        start=start.replace(tzinfo=UTC) if start.tzinfo is None else from_db(start),
        minutes=r.minutes,
        **place,
        **extra,
    )


def _in(column: Any, ids: list[int], is_sqlite: bool) -> ColumnElement[bool]:
    """``column IN (…)``; on PostgreSQL ``column = ANY(:ids)``, one array parameter: the
    same statement text (and asyncpg's prepared statement) for any number of ids, and no
    thousand bind parameters to render per batch."""
    if is_sqlite:
        return column.in_(ids)  # type: ignore[no-any-return]
    kind = BigInteger if isinstance(column.type, BigInteger) else Integer
    return column == any_(bindparam(f"{column.name}_ids", ids, type_=ARRAY(kind)))  # type: ignore[no-any-return]


class NotifyContextRepository(Repository):
    async def recipients(self, user_ids: Iterable[int]) -> dict[int, Recipient]:
        ids = sorted(set(user_ids))
        if not ids:
            return {}
        rows = await self.conn.execute(
            select(
                users.c.id,
                users.c.locale,
                users.c.unreachable,
                users.c.notify_optout,
                users.c.status,
            ).where(_in(users.c.id, ids, self.is_sqlite))
        )
        optouts: dict[str, frozenset[str]] = {}  # most recipients share "" or a few sets
        out: dict[int, Recipient] = {}
        # Rows unpacked as tuples (not attributes by name), all fetched at once: per row.
        for user_id, locale, unreachable, optout_text, status in rows.all():
            text = optout_text or ""
            optout = optouts.get(text)
            if optout is None:
                optout = optouts[text] = frozenset(k for k in text.split(",") if k)
            out[user_id] = Recipient(user_id, locale, bool(unreachable), optout, status)
        return out

    async def live_offers(
        self, entry_ids: Iterable[int], now: datetime
    ) -> dict[int, tuple[int, datetime]]:
        """Entry id → (offered slot, offer deadline) for offers still open at ``now``."""
        ids = sorted(set(entry_ids))
        if not ids:
            return {}
        rows = await self.conn.execute(
            select(wait_list.c.id, wait_list.c.offered_slot_id, wait_list.c.offer_until).where(
                wait_list.c.id.in_(ids),
                wait_list.c.status == "offered",
                wait_list.c.offer_until > to_db(now),
            )
        )
        return {r.id: (int(r.offered_slot_id), from_db(r.offer_until)) for r in rows}

    async def appointments(self, ids: Iterable[int]) -> dict[int, VisitInfo]:
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        a, p = appointments, patients
        stmt = (
            select(
                a.c.id,
                a.c.number,
                a.c.status,
                a.c.start_utc,
                a.c.minutes,
                a.c.cancel_reason,
                a.c.slot_id,
                a.c.calendar_uid,
                a.c.calendar_seq,
                a.c.doctor_id,
                a.c.clinic_id,
                a.c.specialty_id,
                a.c.patient_id,
                *_PLACE_COLUMNS,
                p.c.name_enc,
                p.c.relation,
            )
            .select_from(_with_place(a).join(p, p.c.id == a.c.patient_id))
            .where(_in(a.c.id, wanted, self.is_sqlite))
        )
        out: dict[int, VisitInfo] = {}
        places: dict[tuple[int, int, int], _Place] = {}
        statuses = _STATUSES
        # Per row of a batch: all rows fetched at once (``all()``: one pass, not a fetch
        # per row) and unpacked in the select's column order; the place's part built once
        # per place (as _visit) and VisitInfo built positionally (its fields' order).
        for (
            appointment_id,
            number,
            status,
            start,
            minutes,
            cancel_reason,
            slot_id,
            cal_uid,
            cal_seq,
            doctor_id,
            clinic_id,
            specialty_id,
            patient_id,
            d_surname,
            d_name,
            d_patronymic,
            c_name,
            address,
            tz,
            region_id,
            name_ru,
            name_en,
            prep_ru,
            prep_en,
            name_enc,
            relation,
        ) in (await self.conn.execute(stmt)).all():
            key = (doctor_id, clinic_id, specialty_id)
            place = places.get(key)
            if place is None:
                place = places[key] = (
                    doctor_id,
                    _doctor_name(d_surname, d_name, d_patronymic),
                    clinic_id,
                    c_name,
                    address,
                    tz,
                    region_id,
                    specialty_id,
                    name_ru,
                    name_en,
                    prep_ru,
                    prep_en,
                )
            out[appointment_id] = VisitInfo(
                start.replace(tzinfo=UTC) if start.tzinfo is None else from_db(start),
                minutes,
                *place,
                appointment_id,
                number,
                statuses.get(status) or AppointmentStatus(status),
                # Only a relative's name is shown, so only that one is decrypted.
                "" if relation == "self" else self._patient_name(name_enc),
                relation,
                patient_id,
                cancel_reason,
                slot_id,
                None,  # slot_status: a slot's only
                cal_uid or calendar_uid(number),
                cal_seq or 0,
            )
        return out

    def _patient_name(self, name_enc: str | None) -> str:
        """«Name Surname» of the patient (stored encrypted); empty once erased."""
        if not name_enc:
            return ""
        surname, name, _patronymic = json.loads(self.cipher.decrypt(name_enc) or "[]")
        return " ".join(x for x in (name, surname) if x)

    async def slots(self, ids: Iterable[int]) -> dict[int, VisitInfo]:
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        return {v.slot_id or 0: v for v in await self._slot_infos(slots.c.id.in_(wanted))}

    async def nearest_free(
        self,
        *,
        specialty_id: int,
        region_id: str,
        after: datetime,
        limit: int,
        clinic_id: int | None = None,
        doctor_id: int | None = None,
        exclude_doctor_id: int | None = None,
        not_before: datetime | None = None,
    ) -> list[VisitInfo]:
        """The nearest free slots of a specialty: same clinic first when ``clinic_id`` is given;
        none starting before ``not_before`` (the offer lead time) when it is given."""
        cond = [
            slots.c.specialty_id == specialty_id,
            slots.c.region_id == region_id,
            slots.c.status == "free",
            slots.c.start_utc > to_db(after),
            # A slot held for someone (a booking summary, a wait-list offer) is not free to offer.
            ~exists().where(holds.c.slot_id == slots.c.id, holds.c.expires_at > to_db(after)),
        ]
        if clinic_id is not None:
            cond.append(slots.c.clinic_id == clinic_id)
        if doctor_id is not None:
            cond.append(slots.c.doctor_id == doctor_id)
        if exclude_doctor_id is not None:
            cond.append(slots.c.doctor_id != exclude_doctor_id)
        if not_before is not None:
            cond.append(slots.c.start_utc >= to_db(not_before))
        # A doctor the clinic blocked is not offered.
        cond.append(
            exists().where(doctor_roles.c.id == slots.c.role_id, doctor_roles.c.active.is_(True))
        )
        return await self._slot_infos(*cond, limit=limit)

    async def slot_infos(self, slot_ids: Sequence[int]) -> list[VisitInfo]:
        """The slots ``slot_ids`` with what a message shows, in the order given."""
        if not slot_ids:
            return []
        found = {v.slot_id: v for v in await self._slot_infos(slots.c.id.in_(list(slot_ids)))}
        return [found[i] for i in slot_ids if i in found]

    async def _slot_infos(self, *cond: object, limit: int | None = None) -> list[VisitInfo]:
        sl = slots
        stmt = (
            select(
                sl.c.id,
                sl.c.status,
                sl.c.start_utc,
                sl.c.minutes,
                sl.c.doctor_id,
                sl.c.clinic_id,
                sl.c.specialty_id,
                *_PLACE_COLUMNS,
            )
            .select_from(_with_place(sl))
            .where(*cond)  # type: ignore[arg-type]
            .order_by(sl.c.start_utc, sl.c.id)
        )
        if limit is not None:
            stmt = stmt.limit(limit)
        places: dict[tuple[int, int, int], dict[str, Any]] = {}
        return [
            _visit(r, places, slot_id=r.id, slot_status=r.status)
            for r in await self.conn.execute(stmt)
        ]
