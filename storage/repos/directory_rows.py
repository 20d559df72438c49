"""Rows of the directory → domain objects, and the directory's text helpers
(natural order of names, LIKE escaping).

Shared by storage/repos/directory.py and the booking's modules (a slot's context
is read by both): one mapping, so a slot reads the same wherever it comes from.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC
from functools import lru_cache
from typing import Any

from domain.booking_ports import SlotContext
from domain.models import Clinic, Doctor, Region, Sex, Slot, SlotStatus, Specialty


@lru_cache(maxsize=65_536)  # a clinics page sorts its region's names on every press
def natural_key(text: str) -> tuple[tuple[int, int, str], ...]:
    """Numbers inside a name compare as numbers: «поликлиника № 3» < «поликлиника № 180»."""
    return tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part.casefold().replace("ё", "е"))
        for part in _NUMBERS.split(text)
        if part
    )


_NUMBERS = re.compile(r"(\d+)")


def _escape_like(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _region(r: Any) -> Region:
    return Region(id=r.id, name_ru=r.name_ru, name_en=r.name_en, tz=r.tz)


def _clinic(r: Any) -> Clinic:
    return Clinic(
        id=r.id,
        region_id=r.region_id,
        name=r.name,
        address=r.address,
        district=r.district,
        kind=r.kind,
        phone=r.phone,
        hours=r.hours,
        tz=r.tz,
        rating=float(r.rating),
    )


def _specialty(r: Any, id_key: str = "id") -> Specialty:
    """A specialty from a row (its ``_mapping``) or a mapping; ``id_key``: the column
    its id is in (``specialty_id`` in a slot's context)."""
    m = getattr(r, "_mapping", r)
    sex = m["sex"]
    return Specialty(
        id=m[id_key],
        code=m["code"],
        name_ru=m["name_ru"],
        name_en=m["name_en"],
        referral_required=bool(m["referral_required"]),
        min_age=m["min_age"],
        max_age=m["max_age"],
        sex=Sex(sex) if sex else None,
        prep_ru=m["prep_ru"],
        prep_en=m["prep_en"],
    )


def _doctor(r: Mapping[Any, Any]) -> Doctor:
    return Doctor(
        id=r["id"],
        surname=r["surname"],
        name=r["name"],
        patronymic=r["patronymic"],
        qualification=r["qualification"],
        experience_years=r["experience_years"],
        rating_sum=r["rating_sum"],
        rating_count=r["rating_count"],
    )


def _slot_context(row: Any, *, taken: bool = False) -> SlotContext:
    """``taken``: the row was returned by this transaction's own take (booked by it), so
    the slot is the free one it took (what the booking's rules are checked against).
    Read by key from the row's mapping (a prepared statement's RowView is that mapping
    itself; a SQLAlchemy Row's is its ``_mapping``): each ``row.name`` of a RowView is a
    Python ``__getattr__`` call, thirteen per context."""
    m = row._mapping
    if not m["role_active"]:  # a doctor the clinic blocked takes no bookings at any time
        slot = _slot(m, SlotStatus.BLOCKED)
    elif taken and m["status"] == SlotStatus.BOOKED:
        slot = _slot(m, SlotStatus.FREE)
    else:
        slot = _slot(m)
    specialty = _specialty(m, "specialty_id")
    return SlotContext(slot=slot, clinic_tz=m["clinic_tz"], specialty=specialty)


# A slot's status by its stored text: a dict lookup instead of the enum's call (a day's
# times are ~25 slots an update); anything else goes through SlotStatus, which refuses it.
_STATUS: dict[str, SlotStatus] = {member.value: member for member in SlotStatus}


def _slot(r: Mapping[Any, Any], status: SlotStatus | None = None) -> Slot:
    """``status``: the status to give it instead of the row's (see _slot_context)."""
    start = r["start_utc"]  # from_db, inline (once per slot of a day's times)
    start = start.replace(tzinfo=UTC) if start.tzinfo is None else start.astimezone(UTC)
    if status is None:
        status = _STATUS.get(r["status"])
        if status is None:
            status = SlotStatus(r["status"])
    return Slot(
        id=int(r["id"]),
        role_id=r["role_id"],
        doctor_id=r["doctor_id"],
        clinic_id=r["clinic_id"],
        specialty_id=r["specialty_id"],
        region_id=r["region_id"],
        start=start,
        minutes=r["minutes"],
        kind=r["kind"],
        status=status,
    )
