"""The booking's statements, built once with bound parameters.

Built per call, constructing these cost about what running them does (and a
fixed statement hits SQLAlchemy's compiled cache, or storage/prepared.py's
compiled form, every time). The take, the context read beside it, the
alternatives of a lost slot, the rule facts, the appointment insert: the SQL of
storage/repos/slot_take.py, holds.py, booking_facts.py and appointments.py. (What
only SQLite runs is in booking_sql_sqlite.py.)
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Select,
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql.elements import BindParameter

from storage.repos.appointment_rows import _CLASH_COLUMNS, _CLASH_JOIN, _IS_ACTIVE
from storage.repos.directory_sql import _SLOT_CONTEXT_BY_ID
from storage.schema import (
    appointment_events,
    appointments,
    doctor_roles,
    holds,
    patients,
    slots,
)


def _rule_facts_stmt() -> Select[Any]:
    """The overlap rule's candidate clashes (coarse bound: ``begin`` < start < ``end``)
    and the two counts of the booking rules (active in the specialty from ``now``,
    created by the account since ``since``) as scalar subqueries, the clashes LEFT JOINed
    to a one-row select so the counts come back when there is no clash at all. Built
    once with bound parameters: built per call, its construction cost more than its run."""
    patient: BindParameter[int] = bindparam("patient_id")
    active = (
        select(func.count())
        .select_from(appointments)
        .where(
            appointments.c.patient_id == patient,
            appointments.c.specialty_id == bindparam("specialty_id"),
            _IS_ACTIVE,
            appointments.c.start_utc >= bindparam("now"),
        )
        .scalar_subquery()
        .correlate(None)
    )
    created = (
        select(func.count())
        .select_from(appointments)
        .where(
            appointments.c.user_id == bindparam("user_id"),
            appointments.c.created_at > bindparam("since"),
        )
        .scalar_subquery()
        .correlate(None)
    )
    one = select(literal(1).label("one")).subquery("one")
    on = and_(
        _IS_ACTIVE,
        appointments.c.patient_id == patient,
        appointments.c.start_utc < bindparam("end"),
        appointments.c.start_utc > bindparam("begin"),
    )
    return (
        select(active.label("n_active"), created.label("n_created"), *_CLASH_COLUMNS)
        .select_from(one.outerjoin(_CLASH_JOIN, on))
        .order_by(appointments.c.start_utc, appointments.c.id)
    )


_RULE_FACTS = _rule_facts_stmt()
_INSERT_COLUMNS = (
    "number",
    "patient_id",
    "user_id",
    "slot_id",
    "doctor_id",
    "clinic_id",
    "specialty_id",
    "start_utc",
    "minutes",
    "kind",
    "status",
    "referral_id",
    "created_at",
    "updated_at",
    "calendar_seq",
)
# The booking's writes, built once (their construction per call cost about what running
# them does); the values are the parameters.
# (Each column a named parameter: storage/prepared.py runs them on the in-loop driver's
# cursor, which needs the statement's columns fixed, not taken from the parameters.)
_NUMBER = (
    update(appointments)
    .where(appointments.c.id == bindparam("appointment_id"))
    .values(number=bindparam("new_number"), calendar_uid=bindparam("new_uid"))
)
_ADD_EVENT = insert(appointment_events).values(
    {
        name: bindparam(name)
        for name in ("appointment_id", "at", "status", "actor", "actor_user_id", "reason")
    }
)
_TAKE_SLOT = (
    update(slots)
    .where(
        slots.c.id == bindparam("slot_id"),
        slots.c.status == "free",
        ~exists().where(  # held by another user, unexpired
            holds.c.slot_id == slots.c.id,
            holds.c.user_id != bindparam("user_id"),
            holds.c.expires_at > bindparam("now"),
        ),
    )
    .values(status="booked")
)
# A hold of the summary, unless the slot carries another user's (unique slot_id): a
# concurrent holder makes this 0 rows, not an error (on either engine).
_HOLD_VALUES: dict[str, Any] = {
    name: bindparam(name) for name in ("user_id", "patient_id", "slot_id", "expires_at")
}
_PUT_HOLD_SQLITE = sqlite_insert(holds).values(_HOLD_VALUES).on_conflict_do_nothing()
_PUT_HOLD_PG = pg_insert(holds).values(_HOLD_VALUES).on_conflict_do_nothing()
_DELETE_HOLD = delete(holds).where(holds.c.user_id == bindparam("user_id"))


# A refusal after the booking's own take gives the slot back as it found it (the same
# transaction: nobody else saw it booked; ``freed_at`` untouched, it was never freed).
_UNTAKE_SLOT = (
    update(slots)
    .where(slots.c.id == bindparam("slot_id"), slots.c.status == "booked")
    .values(status="free")
)
# The patient's own active visit on the slot, booked by this account (a repeated confirm).
_MINE_ON_SLOT = (
    select(appointments.c.id)
    .where(
        appointments.c.slot_id == bindparam("slot_id"),
        appointments.c.patient_id == bindparam("patient_id"),
        appointments.c.user_id == bindparam("user_id"),
        _IS_ACTIVE,
    )
    .limit(1)
    .scalar_subquery()
)
# The slot's context (the columns of directory's _SLOT_CONTEXT_BY_ID, by "slot_id": an
# "id" parameter would become SET id=… of the take's UPDATE) and the visit above.
_CONTEXT_AND_MINE = (
    select(*_SLOT_CONTEXT_BY_ID.selected_columns, _MINE_ON_SLOT.label("mine_id"))
    .select_from(*_SLOT_CONTEXT_BY_ID.get_final_froms())
    .where(slots.c.id == bindparam("slot_id"))
)


# Alternatives: four sides of the nearest-free scan in ONE statement (the same doctor,
# later then earlier; then the specialty's other doctors in the region, later then
# earlier), each an index range scan ordered by distance from the lost slot, at most
# _PER_SIDE rows each; the caller merges them in this order of preference.
_PER_SIDE = 10


def _alternatives_stmt(lost: Any = None) -> Any:
    """``_ALTERNATIVES``; with ``lost`` (the slot row of an enclosing query, on
    PostgreSQL) the same four sides correlated to it instead of bound parameters."""
    alt = slots.alias("alt") if lost is not None else slots
    unheld = ~exists().where(holds.c.slot_id == alt.c.id, holds.c.expires_at > bindparam("now"))
    role_active = exists().where(
        doctor_roles.c.id == alt.c.role_id, doctor_roles.c.active.is_(True)
    )
    pivot = bindparam("pivot") if lost is None else lost.c.start_utc
    doctor_id = bindparam("doctor_id") if lost is None else lost.c.doctor_id
    common = (
        alt.c.status == "free",
        alt.c.start_utc > bindparam("now"),
        alt.c.start_utc >= bindparam("not_before"),
        alt.c.id != (bindparam("slot_id") if lost is None else lost.c.id),
        role_active,
        unheld,
    )
    doctor = alt.c.doctor_id == doctor_id
    others = and_(
        alt.c.specialty_id == (bindparam("specialty_id") if lost is None else lost.c.specialty_id),
        alt.c.region_id == (bindparam("region_id") if lost is None else lost.c.region_id),
        alt.c.doctor_id != doctor_id,
    )
    later = alt.c.start_utc >= pivot
    earlier = alt.c.start_utc < pivot
    sides = []
    for rank, (who, side) in enumerate(
        ((doctor, later), (doctor, earlier), (others, later), (others, earlier))
    ):
        order = (
            (alt.c.start_utc, alt.c.id)
            if side is later
            else (alt.c.start_utc.desc(), alt.c.id.desc())
        )
        inner = (
            select(alt.c.id, alt.c.start_utc, literal(rank).label("side"))
            .where(*common, who, side)
            .order_by(*order)
            .limit(_PER_SIDE)
        )
        if lost is not None:
            inner = inner.correlate(lost)
        sides.append(select(inner.subquery(f"side{rank}")))
    # The first _PER_SIDE rows in the order of the sides: the engines run a UNION ALL's
    # branches in order and stop at the LIMIT, so the farther sides are not even scanned
    # when the nearer ones fill it (alternative_candidates puts each side in order again).
    return union_all(*sides).limit(_PER_SIDE)


_ALTERNATIVES = _alternatives_stmt()


def _candidates_of_lost(*guard: Any) -> Any:
    """PostgreSQL: ``_ALTERNATIVES``' four sides correlated to the slot row of the
    enclosing query, as one array ordered by preference (id × 4 + side), computed only
    when ``guard`` holds (a one-time filter: no scan otherwise)."""
    alts = _alternatives_stmt(slots).subquery("alts")
    later = or_(alts.c.side == 0, alts.c.side == 2)  # (no expanding IN, see _MINE_ON_SLOT)
    earlier = or_(alts.c.side == 1, alts.c.side == 3)
    packed = aggregate_order_by(
        alts.c.id * 4 + alts.c.side,
        alts.c.side,
        case((later, alts.c.start_utc)),
        case((earlier, alts.c.start_utc)).desc(),
        case((later, alts.c.id)),
        case((earlier, alts.c.id)).desc(),
    )
    return (
        select(func.array_agg(packed))
        .select_from(alts)
        .where(slots.c.status == "booked", *guard)
        .scalar_subquery()
        .label("candidates")
    )


def _take_and_read_stmt() -> Any:
    """PostgreSQL: the booking's take in its transaction. The conditional take
    (``_TAKE_SLOT``) as a data-modifying CTE; the winner's patient row locked right
    after it (FOR UPDATE, only when the take won: a loser locks nothing); the slot's
    context and the repeated confirm's visit read beside them; for a loser that finds
    the slot booked, the alternatives' candidates too — so a lost race is this one
    statement. Every part of one statement sees the snapshot of its start: the context
    shows the slot as it was before the take (free for the winner). Built once."""
    taken = _TAKE_SLOT.returning(slots.c.id).cte("taken")
    locked = (
        select(patients.c.id)
        .where(patients.c.id == bindparam("patient_id"), exists(select(taken.c.id)))
        .with_for_update()
        .cte("locked")
    )
    won = select(func.count()).select_from(taken).scalar_subquery()
    held = select(func.count()).select_from(locked).scalar_subquery()
    return _CONTEXT_AND_MINE.add_columns(
        won.label("won"), held.label("locked"), _candidates_of_lost(~exists(select(taken.c.id)))
    )


_TAKE_AND_READ = _take_and_read_stmt()
# PostgreSQL, before the update's transaction has begun: the same read without the
# take, outside any transaction (no BEGIN, no ROLLBACK) — a slot found booked is
# answered by this one statement; a free one is then taken in the transaction.
_LOOK = _CONTEXT_AND_MINE.add_columns(_candidates_of_lost())
# The user's hold, and expired holds of the slot about to be held.
_CLEAR_HOLDS = delete(holds).where(
    (holds.c.user_id == bindparam("user_id"))
    | ((holds.c.slot_id == bindparam("slot_id")) & (holds.c.expires_at <= bindparam("now")))
)
# The patient's upcoming active visits in a specialty, nearest first (one-active rule).
_ACTIVE_FOR_SPECIALTY = (
    select(*_CLASH_COLUMNS)
    .select_from(_CLASH_JOIN)
    .where(
        _IS_ACTIVE,
        appointments.c.patient_id == bindparam("patient_id"),
        appointments.c.specialty_id == bindparam("specialty_id"),
        appointments.c.start_utc >= bindparam("now"),
    )
    .order_by(appointments.c.start_utc, appointments.c.id)
)
