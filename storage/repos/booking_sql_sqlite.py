"""The booking's statements that only SQLite runs: one statement where SQLite's
RETURNING and serial writers allow what takes two elsewhere.

Apart from storage/repos/booking_sql.py (the statements both engines run; PostgreSQL
has its own one-statement take there): the take that returns its slot's context, and
the appointment INSERT that numbers itself (with its PostgreSQL twin, which takes the
id from the table's sequence instead).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    String,
    bindparam,
    cast,
    exists,
    func,
    insert,
    literal,
    literal_column,
    select,
)

from storage.repos.appointment_rows import _IS_ACTIVE
from storage.repos.booking_sql import _INSERT_COLUMNS, _TAKE_SLOT
from storage.schema import appointments, clinics, doctor_roles, slots, specialties


def _insert_numbered_stmt(postgresql: bool = False) -> Any:
    """SQLite: ``_INSERT`` with the row's id, number and calendar UID in the same statement
    (no ``_NUMBER`` after it; booking_sql.py). The id is the one SQLite gives an INTEGER PRIMARY KEY (the
    largest + 1), chosen and written by this one statement — writers are serial under
    BEGIN IMMEDIATE; the number and UID are spelled from it with the parts the caller
    passes (taken from appointment_number and calendar_uid themselves), and the caller
    checks what comes back, correcting it with ``_NUMBER`` should it ever differ.
    ``postgresql``: the id is the next of the column's own sequence (``nextval``: what
    its default would take; concurrent inserts never share one) — one statement less
    per booking there too."""
    if postgresql:
        sequence = func.pg_get_serial_sequence(literal("appointments"), literal("id"))
        n = select(func.nextval(sequence).label("id")).subquery("n")
        spelled = cast(n.c.id, String())
        digits = func.lpad(spelled, func.greatest(7, func.length(spelled)), literal("0"))
    else:
        n = select((func.coalesce(func.max(appointments.c.id), 0) + 1).label("id")).subquery("n")
        digits = func.printf("%07d", n.c.id)
    number = bindparam("number_prefix", type_=String()) + digits
    spelled_uid = (
        bindparam("uid_head", type_=String()) + number + bindparam("uid_tail", type_=String())
    )
    uid = func.coalesce(bindparam("given_uid", type_=appointments.c.calendar_uid.type), spelled_uid)
    others = [name for name in _INSERT_COLUMNS if name != "number"]
    values = select(
        n.c.id,
        number,
        uid,
        *(bindparam(name, type_=appointments.c[name].type) for name in others),
    )
    return (
        insert(appointments)
        .from_select(["id", "number", "calendar_uid", *others], values)
        .returning(appointments.c.id, appointments.c.number, appointments.c.calendar_uid)
    )


_INSERT_NUMBERED = _insert_numbered_stmt()
_INSERT_NUMBERED_PG = _insert_numbered_stmt(postgresql=True)


def _take_returning_context_stmt() -> Any:
    """SQLite: the take (``_TAKE_SLOT``) returning the slot's context — the columns of
    directory's ``_SLOT_CONTEXT_BY_ID``, its joined ones as scalar subqueries by primary
    key (SQLite's RETURNING names only the updated table) — so a winner knows its slot
    from this one statement instead of the take and then the read. A loser gets no row
    (and reads the context, ``_CONTEXT_AND_MINE``). The status returned is the new one
    (booked). Built once."""

    def by_id(table: Any, column: str, key: Any) -> Any:
        return select(table.c[column]).where(table.c.id == key).scalar_subquery()

    spec = slots.c.specialty_id
    patient = bindparam("patient_id", type_=appointments.c.patient_id.type)
    # The booking rules' counts and whether any active visit of the patient is near the
    # slot's time (``rule_facts`` of storage/repos/booking_facts.py, read by the same
    # statement: the take writes no appointment, so they are what a SELECT after it
    # reads). The near test is coarser than ``_RULE_FACTS``' (two days either side,
    # SQLite's own date arithmetic; its shorter text compares below the stored one):
    # only when it finds nothing are the clashes known to be none.
    active = (
        select(func.count())
        .select_from(appointments)
        .where(
            appointments.c.patient_id == patient,
            appointments.c.specialty_id == literal_column("slots.specialty_id"),
            _IS_ACTIVE,
            appointments.c.start_utc >= bindparam("now", type_=appointments.c.start_utc.type),
        )
        .scalar_subquery()
    )
    created = (
        select(func.count())
        .select_from(appointments)
        .where(
            appointments.c.user_id == bindparam("user_id", type_=appointments.c.user_id.type),
            appointments.c.created_at > bindparam("since", type_=appointments.c.created_at.type),
        )
        .scalar_subquery()
    )
    # (The taken row's own columns, named with their table: SQLAlchemy writes a RETURNING
    # clause's columns bare, which inside a subquery of appointments would name its own.)
    slot_start: Any = literal_column("slots.start_utc")
    near = exists().where(
        _IS_ACTIVE,
        appointments.c.patient_id == patient,
        appointments.c.start_utc < func.datetime(slot_start, literal_column("'+2 days'")),
        appointments.c.start_utc > func.datetime(slot_start, literal_column("'-2 days'")),
    )
    return _TAKE_SLOT.returning(
        *slots.c,
        by_id(doctor_roles, "active", slots.c.role_id).label("role_active"),
        by_id(clinics, "tz", slots.c.clinic_id).label("clinic_tz"),
        *(
            by_id(specialties, name, spec).label(name)
            for name in (
                "code",
                "name_ru",
                "name_en",
                "referral_required",
                "min_age",
                "max_age",
                "sex",
                "prep_ru",
                "prep_en",
            )
        ),
        active.label("f_active"),
        created.label("f_created"),
        near.label("f_near"),
    )


_TAKE_RETURNING_CONTEXT = _take_returning_context_stmt()
