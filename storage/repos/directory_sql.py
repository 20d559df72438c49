"""The directory's statements, built once with bound parameters.

Every hot query is one index range scan that stops after the rows it needs
(bench/moscow.py measures them on 8 M slots):

* earliest free of a specialty in a region → ``ix_slots_spec_region_free``;
  with a clinic → ``ix_slots_clinic_spec_free`` (the region is then left out
  of the predicate on purpose, so no planner prefers the wider index);
* a doctor's slots → ``ix_slots_doctor_free``. The clinic and specialty of the
  doctor's role are compared as ``column + 0``: an expression no index can
  serve, which keeps SQLite's planner (no statistics) on the doctor's index
  instead of the clinic's, where a fully booked doctor would mean scanning
  every free slot of his colleagues.

Built once and executed with bound parameters: constructing a 14-probe statement
costs more Python time than running it, and a fixed statement also hits
SQLAlchemy's compiled cache (or storage/prepared.py's compiled form) every time.
Apart from storage/repos/directory.py so the repository reads as what it answers.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Select,
    bindparam,
    exists,
    literal_column,
    select,
    union_all,
)

from domain.directory import local_day_bounds
from storage.repos.base import to_db
from storage.schema import clinics, doctor_roles, doctors, holds, slots, specialties

# Built once (the statement objects, and so their compiled forms, are reused).
_SPECIALTY_BY_ID = select(specialties).where(specialties.c.id == bindparam("id"))
_CLINIC_BY_ID = select(clinics).where(clinics.c.id == bindparam("id"))
_DOCTOR_BY_ID = select(doctors).where(doctors.c.id == bindparam("id"))
# A slot with what the booking rules need of it (its role still active, the clinic's
# zone, the specialty): one statement serves DirectoryRepository.slot (the wizard's
# «time» press) and AppointmentRepository.slot_context (the hold and the booking right
# after it in the same update), through the read memo.
_SLOT_CONTEXT_BY_ID = (
    select(
        slots,
        doctor_roles.c.active.label("role_active"),
        clinics.c.tz.label("clinic_tz"),
        specialties.c.code,
        specialties.c.name_ru,
        specialties.c.name_en,
        specialties.c.referral_required,
        specialties.c.min_age,
        specialties.c.max_age,
        specialties.c.sex,
        specialties.c.prep_ru,
        specialties.c.prep_en,
    )
    .join(clinics, clinics.c.id == slots.c.clinic_id)
    .join(specialties, specialties.c.id == slots.c.specialty_id)
    .join(doctor_roles, doctor_roles.c.id == slots.c.role_id)
    .where(slots.c.id == bindparam("id"))
)
_SPECIALTIES = select(specialties).order_by(specialties.c.id)
# The clinics of a region where a specialty is practised (ids and names: the page is
# ordered in Python, storage/repos/directory.py); a search adds its LIKE conditions.
_CLINIC_NAMES = select(clinics.c.id, clinics.c.name).where(
    clinics.c.region_id == bindparam("region_id"),
    exists().where(
        doctor_roles.c.clinic_id == clinics.c.id,
        doctor_roles.c.specialty_id == bindparam("specialty_id"),
        doctor_roles.c.active.is_(True),
    ),
)


_NO_USER = 0  # Telegram user ids are positive: "held by anyone but 0" is "held by anyone"


def _now(now: datetime, for_user_id: int | None) -> dict[str, Any]:
    return {"now": to_db(now), "for_user": _NO_USER if for_user_id is None else for_user_id}


_TICK = timedelta(microseconds=1)


@lru_cache(maxsize=4096)
def _utc_day(day: date, tz: str) -> tuple[datetime, datetime]:
    """[start, end) of a local day in naive UTC (remembered: the same few days and zones
    are asked for on every calendar and every day's times)."""
    lo, hi = local_day_bounds(day, tz)
    return to_db(lo), to_db(hi)


def _day_range(day: date, tz: str, now: datetime) -> tuple[datetime, datetime]:
    """[lo, hi) of a local day in naive UTC, starting strictly after ``now``."""
    lo, hi = _utc_day(day, tz)
    return max(lo, to_db(now) + _TICK), hi


@lru_cache(maxsize=1024)
def _window_bounds(today: date, tz: str, days: int) -> dict[str, datetime]:
    """``_free_days_stmt``'s day boundaries ``b1`` … ``b{days}`` (naive UTC) of the window
    that starts on the local day ``today``: the end of day i is the start of day i + 1
    (local midnights, DST included), so ``days`` + 1 instants bound ``days`` days. ``b0``
    depends on ``now`` (``_free_days_params``). Remembered per (day, zone): a calendar is
    asked for many times a day, and 28 zone conversions cost more than its statement.
    Read-only: callers copy it."""
    return {f"b{i}": _utc_day(today + timedelta(days=i - 1), tz)[1] for i in range(1, days + 1)}


def _free_days_params(today: date, tz: str, days: int, now: datetime) -> dict[str, Any]:
    """The window's boundaries for ``_free_days_stmt(days)``: day 0 from just after ``now``."""
    params: dict[str, Any] = dict(_window_bounds(today, tz, days))
    params["b0"] = _day_range(today, tz, now)[0]
    return params


def _not_held(s: Any) -> ColumnElement[bool]:
    return ~exists().where(
        holds.c.slot_id == s.c.id,
        holds.c.expires_at > bindparam("now"),
        holds.c.user_id != bindparam("for_user"),
    )


def _doctor_slot_filter(s: Any, lo: str, hi: str) -> list[ColumnElement[bool]]:
    return [
        s.c.doctor_id == bindparam("doctor_id"),
        s.c.status == "free",
        s.c.start_utc >= bindparam(lo),
        s.c.start_utc < bindparam(hi),
        (s.c.clinic_id + 0) == bindparam("clinic_id"),
        (s.c.specialty_id + 0) == bindparam("specialty_id"),
        _not_held(s),
    ]


@cache
def _free_days_stmt(days: int) -> CompoundSelect[Any]:
    """An EXISTS probe per day i in [``b{i}``, ``b{i+1}``): ``days`` + 1 boundaries
    (``_free_days_params``), each day's end the next one's start."""
    probes: list[Select[Any]] = []
    for i in range(days):
        s = slots.alias(f"d{i}")
        probe: Select[Any] = (
            select(literal_column("1"))
            .select_from(s)
            .where(*_doctor_slot_filter(s, f"b{i}", f"b{i + 1}"))
        )
        probes.append(select(literal_column(str(i)).label("n")).where(probe.exists()))
    return union_all(*probes)


@cache
def _day_slots_stmt() -> Select[Any]:
    return select(slots).where(*_doctor_slot_filter(slots, "lo", "hi")).order_by(slots.c.start_utc)


@cache
def _earliest_stmt(mode: str, with_clinic: bool, exclude: bool) -> Select[Any]:
    s = slots
    conditions: list[ColumnElement[bool]] = [
        s.c.status == "free",
        s.c.start_utc > bindparam("now"),
        _not_held(s),
    ]
    if mode == "doctor":
        conditions += [
            s.c.doctor_id == bindparam("doctor_id"),
            (s.c.specialty_id + 0) == bindparam("specialty_id"),
        ]
        if with_clinic:
            conditions.append((s.c.clinic_id + 0) == bindparam("clinic_id"))
    elif mode == "clinic":
        conditions += [
            s.c.clinic_id == bindparam("clinic_id"),
            s.c.specialty_id == bindparam("specialty_id"),
        ]
    else:
        conditions += [
            s.c.specialty_id == bindparam("specialty_id"),
            s.c.region_id == bindparam("region_id"),
        ]
    if exclude:
        conditions.append(s.c.id != bindparam("exclude_id"))
    return select(s).where(*conditions).order_by(s.c.start_utc).limit(bindparam("lim"))


@cache
def _doctors_in_clinic_stmt() -> Select[Any]:
    near = slots.alias("near")
    nearest_id = (
        select(near.c.id)
        .where(
            near.c.doctor_id == doctor_roles.c.doctor_id,
            (near.c.clinic_id + 0) == bindparam("clinic_id"),
            (near.c.specialty_id + 0) == bindparam("specialty_id"),
            near.c.status == "free",
            near.c.start_utc > bindparam("now"),
            _not_held(near),
        )
        .order_by(near.c.start_utc)
        .limit(1)
        .correlate(doctor_roles)
        .scalar_subquery()
    )
    return (
        select(*_prefixed(doctors, "d_"), *_prefixed(slots, "s_"))
        .select_from(
            doctor_roles.join(doctors, doctors.c.id == doctor_roles.c.doctor_id).outerjoin(
                slots, slots.c.id == nearest_id
            )
        )
        .where(
            doctor_roles.c.clinic_id == bindparam("clinic_id"),
            doctor_roles.c.specialty_id == bindparam("specialty_id"),
            doctor_roles.c.active.is_(True),
        )
        .order_by(doctors.c.surname, doctors.c.name, doctors.c.id)
    )


def _prefixed(table: Any, prefix: str) -> list[Any]:
    return [c.label(f"{prefix}{c.name}") for c in table.c]
