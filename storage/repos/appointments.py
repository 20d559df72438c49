"""Booking mutations and reads: holds, the atomic slot take, appointments, referrals.

The slot take is ONE conditional UPDATE checked by rowcount. On PostgreSQL
(READ COMMITTED) a second concurrent UPDATE of the same row waits for the
first and re-checks ``status = 'free'`` on the committed row, so it matches
0 rows; on SQLite every transaction is BEGIN IMMEDIATE, so writers are
serialised. Either way exactly one booking wins and the others get a clean
``False``. Implements domain.booking_ports.BookingRepository.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import replace
from datetime import date, datetime, timedelta
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
from sqlalchemy.engine import Row
from sqlalchemy.sql.elements import BindParameter

from domain.booking_ports import Clash, Hold, NewAppointment, SlotContext, SlotTake
from domain.calendar import calendar_uid
from domain.models import (
    Appointment,
    AppointmentStatus,
    Patient,
    Referral,
    Slot,
    SlotStatus,
)
from domain.rules import overlaps
from storage.memo import fsm_pending, read_memo
from storage.prepared import RowView, _Compiled
from storage.repos.base import Repository, from_db, to_db
from storage.repos.directory import _SLOT_CONTEXT_BY_ID, DirectoryRepository, _slot_context
from storage.repos.users import UserRepository
from storage.schema import (
    ACTIVE_APPOINTMENT_STATES,
    appointment_events,
    appointments,
    clinics,
    doctor_roles,
    doctors,
    holds,
    patients,
    referrals,
    slots,
    specialties,
    users,
)

NUMBER_PREFIX = "A-"
# Longest visit we expect; bounds the coarse index filter of list_for_owner.
_MAX_VISIT = timedelta(hours=24)


def appointment_number(appointment_id: int) -> str:
    """Human number printed on the confirmation: «A-0000042» (unique: from the id)."""
    return f"{NUMBER_PREFIX}{appointment_id:07d}"


def _appointment(row: Row[Any]) -> Appointment:
    return Appointment(
        id=row.id,
        number=row.number,
        patient_id=row.patient_id,
        user_id=row.user_id,
        slot_id=row.slot_id,
        doctor_id=row.doctor_id,
        clinic_id=row.clinic_id,
        specialty_id=row.specialty_id,
        start=from_db(row.start_utc),
        minutes=row.minutes,
        kind=row.kind,
        status=AppointmentStatus(row.status),
        created_at=from_db(row.created_at),
        referral_id=row.referral_id,
        cancelled_by=row.cancelled_by,
        cancel_reason=row.cancel_reason,
        rescheduled_to=row.rescheduled_to,
        calendar_uid=row.calendar_uid or calendar_uid(row.number),
        calendar_seq=row.calendar_seq or 0,
    )


# An active appointment, in the prebuilt hot statements: an OR of equalities, not an
# expanding IN, which SQLAlchemy renders anew into the whole statement at every run.
_IS_ACTIVE = or_(*(appointments.c.status == state for state in ACTIVE_APPOINTMENT_STATES))


def _role_active() -> Any:
    """The slot's doctor still works there (a blocked doctor's time is never offered)."""
    return exists().where(doctor_roles.c.id == slots.c.role_id, doctor_roles.c.active.is_(True))


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


_CLASH_COLUMNS = (
    appointments.c.id,
    appointments.c.number,
    appointments.c.start_utc,
    appointments.c.minutes,
    clinics.c.tz,
    doctors.c.surname,
    doctors.c.name,
    doctors.c.patronymic,
    specialties.c.name_ru,
    specialties.c.name_en,
)
_CLASH_JOIN = (
    appointments.join(clinics, clinics.c.id == appointments.c.clinic_id)
    .join(doctors, doctors.c.id == appointments.c.doctor_id)
    .join(specialties, specialties.c.id == appointments.c.specialty_id)
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
# The booking's writes, built once (their construction per call cost about what running
# them does); the values are the parameters.
_INSERT = insert(appointments).returning(appointments.c.id)
_NUMBER = (
    update(appointments)
    .where(appointments.c.id == bindparam("appointment_id"))
    .values(number=bindparam("new_number"), calendar_uid=bindparam("new_uid"))
)
_ADD_EVENT = insert(appointment_events)
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


def _clash(r: Any) -> Clash:
    return Clash(
        appointment_id=r.id,
        number=r.number,
        start=from_db(r.start_utc),
        minutes=r.minutes,
        clinic_tz=r.tz,
        doctor_name=" ".join(x for x in (r.surname, r.name, r.patronymic) if x),
        specialty_ru=r.name_ru,
        specialty_en=r.name_en,
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


def _memo_but_slot(memo: dict[Any, Any] | None, slot_id: int) -> dict[Any, Any] | None:
    """What this update has read (storage/memo.py's read memo) that the take cannot
    change: everything but this slot's own rows. Any write empties the memo; the take
    changes one slot's status and nothing else, so the patient the flow has just read
    need not be read again (the booking's step stays within its statements)."""
    if not memo:
        return None
    return {
        k: v for k, v in memo.items() if k not in (("slot", slot_id), ("slot_context", slot_id))
    }


def _restore(memo: dict[Any, Any] | None, kept: dict[Any, Any] | None) -> None:
    if memo is not None and kept:
        memo.update(kept)


def _unpack(row: Any) -> list[int] | None:
    """The candidates of ``_candidates_of_lost`` (None: not read, the slot was not booked;
    SQL's NULL of an empty array_agg is no candidate at all)."""
    if row.candidates is not None:
        return [packed // 4 for packed in row.candidates]
    return [] if row.status == "booked" else None


_FALLBACK = object()
# asyncpg: ``_LOOK`` compiled once (storage/prepared.py's compiled form), run on the
# driver's connection (its own prepared-statement cache) when no transaction is open.
_LOOK_COMPILED: dict[int, _Compiled] = {}


async def _look_direct(conn: Any, params: dict[str, Any]) -> Any:
    """PostgreSQL/asyncpg, no transaction on the connection (SQLAlchemy's nor the
    driver's): ``_LOOK`` sent by asyncpg itself — outside a transaction asyncpg runs
    it in autocommit, as the AUTOCOMMIT switch of ``_look_through_sqlalchemy`` does,
    without SQLAlchemy's execute path, the two isolation switches and their
    bookkeeping (issue 12's rush: about a third of a lost race's Python). The row by
    column name, values as SQLAlchemy returns them (its result processors); the
    engine's ``before/after_cursor_execute`` listeners see the statement as for any other
    (SQLAlchemy's ``echo`` log does not).
    ``_FALLBACK``: not this driver or not this state, or the driver failed (a lost
    connection…): the caller runs the statement through SQLAlchemy, which raises or
    invalidates as everywhere else (the read is repeatable, it writes nothing)."""
    sync = conn.sync_connection
    if sync is None or sync._transaction is not None or sync.dialect.driver != "asyncpg":
        return _FALLBACK
    fairy = sync._dbapi_connection
    adapt: Any = fairy.dbapi_connection if fairy is not None else None
    raw = getattr(adapt, "_connection", None)
    if (
        raw is None
        or adapt._transaction is not None
        or adapt._execute_mutex.locked()
        or raw.is_in_transaction()
    ):
        return _FALLBACK
    compiled = _LOOK_COMPILED.get(id(sync.dialect))
    if compiled is None:
        compiled = _LOOK_COMPILED[id(sync.dialect)] = _Compiled(_LOOK, sync.dialect)
    sql = compiled.sql
    values = compiled.parameters(params)
    events = sync._has_events or sync.engine._has_events
    if events:
        sync.dispatch.before_cursor_execute(sync, None, sql, values, None, False)
    try:
        record = await raw.fetchrow(sql, *values)
    except Exception:
        return _FALLBACK
    if events:
        sync.dispatch.after_cursor_execute(sync, None, sql, values, None, False)
    if record is None:
        return None
    cells = list(record)
    for at, process in compiled.results:
        if cells[at] is not None:
            cells[at] = process(cells[at])
    return RowView(zip(compiled.keys, cells, strict=True))


class AppointmentRepository(Repository):
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

    # ------------------------------------------------------------------ holds

    async def put_hold(
        self, user_id: int, patient_id: int, slot_id: int, expires_at: datetime, now: datetime
    ) -> bool:
        """Replace the user's hold with one on ``slot_id``; False if another user's
        unexpired hold is on that slot. Expired holds of the slot are swept first."""
        await self.conn.execute(
            _CLEAR_HOLDS, {"user_id": user_id, "slot_id": slot_id, "now": to_db(now)}
        )
        values = {
            "user_id": user_id,
            "patient_id": patient_id,
            "slot_id": slot_id,
            "expires_at": to_db(expires_at),
        }
        # A concurrent holder of the slot makes this False, not an error.
        return await self.insert_unless_conflict(holds, values)

    async def get_hold(self, user_id: int, now: datetime) -> Hold | None:
        row = (
            await self.conn.execute(
                select(holds).where(holds.c.user_id == user_id, holds.c.expires_at > to_db(now))
            )
        ).first()
        if row is None:
            return None
        return Hold(
            user_id=row.user_id,
            slot_id=row.slot_id,
            patient_id=row.patient_id,
            expires_at=from_db(row.expires_at),
        )

    async def delete_hold(self, user_id: int) -> None:
        await self.conn.execute(_DELETE_HOLD, {"user_id": user_id})

    async def sweep_holds(self, now: datetime) -> int:
        """Drop expired holds (housekeeping; an expired hold never blocks anyone anyway)."""
        result = await self.conn.execute(delete(holds).where(holds.c.expires_at <= to_db(now)))
        return int(result.rowcount)

    # ------------------------------------------------------------------ the slot itself

    async def take_slot(self, slot_id: int, user_id: int, now: datetime) -> bool:
        """free → booked unless another user's unexpired hold is on it; True if taken."""
        params = {"slot_id": slot_id, "user_id": user_id, "now": to_db(now)}
        result = await self.conn.execute(_TAKE_SLOT, params)
        return int(result.rowcount) == 1

    async def take_first(
        self, slot_id: int, user_id: int, patient_id: int, now: datetime, offer_from: datetime
    ) -> SlotTake:
        """The booking's take first (domain.booking_take.book_once): one round trip on
        PostgreSQL (``_TAKE_AND_READ``: a loser gets the alternatives' candidates from
        ``offer_from`` on in it too), the take then the context on SQLite (none when
        this update has the slot's context already). See SlotTake."""
        params = {
            "slot_id": slot_id,
            "user_id": user_id,
            "patient_id": patient_id,
            "now": to_db(now),
        }
        candidates: list[int] | None = None
        if self.is_sqlite:
            # BEGIN IMMEDIATE: this transaction is the only writer, so a context read
            # earlier in it is current — a slot it shows taken needs no take to lose.
            memo = read_memo(self.conn)
            known = None if memo is None else memo.get(("slot_context", slot_id))
            won = False
            if known is None or known.slot.status == SlotStatus.FREE:
                kept = _memo_but_slot(memo, slot_id)
                won = int((await self.conn.execute(_TAKE_SLOT, params)).rowcount) == 1
                _restore(memo, kept)
            if won and known is not None:
                return SlotTake(taken=True, ctx=known, patient_locked=True)
            row = (await self.conn.execute(_CONTEXT_AND_MINE, params)).first()
            locked = True  # serial writers: no lock needed
        else:
            params["not_before"] = to_db(offer_from)
            if not self.conn.in_transaction() and not fsm_pending(self.conn):
                look = await self._look(params)
                if look is not None:
                    return look
            memo = read_memo(self.conn)
            kept = _memo_but_slot(memo, slot_id)
            row = (await self.conn.execute(_TAKE_AND_READ, params)).first()
            _restore(memo, kept)
            won = row is not None and bool(row.won)
            locked = row is not None and won and bool(row.locked)
            if row is not None and not won:
                candidates = _unpack(row)
            if row is not None and not won and row.status == "free":
                # Lost to a take committed after this statement's snapshot (its UPDATE
                # waited for that one), or a hold: what is there now, read afresh.
                row = (await self.conn.execute(_CONTEXT_AND_MINE, params)).first()
        if row is None:
            return SlotTake(taken=False, ctx=None)
        ctx = _slot_context(row)
        if won and ctx.slot.status == SlotStatus.BOOKED:  # read after our own take
            ctx = replace(ctx, slot=replace(ctx.slot, status=SlotStatus.FREE))
        mine = None if won else row.mine_id
        return SlotTake(
            taken=won, ctx=ctx, mine_id=mine, patient_locked=locked, candidates=candidates
        )

    async def _look(self, params: dict[str, Any]) -> SlotTake | None:
        """PostgreSQL, no transaction begun yet in this unit of work (and no dialogue
        state waiting for its commit): the slot read outside any transaction (``_LOOK``,
        AUTOCOMMIT: one round trip, no BEGIN nor ROLLBACK). The answer when the slot
        cannot be taken (missing, booked, blocked, past); None when it is free to take."""
        conn = self.conn
        direct = await _look_direct(conn, params)
        if direct is not _FALLBACK:
            row = direct
        else:
            row = await self._look_through_sqlalchemy(params)
        if row is None:
            return SlotTake(taken=False, ctx=None)
        ctx = _slot_context(row)
        if ctx.slot.status == SlotStatus.FREE and ctx.slot.start > from_db(params["now"]):
            return None
        candidates = _unpack(row)
        return SlotTake(taken=False, ctx=ctx, mine_id=row.mine_id, candidates=candidates)

    async def _look_through_sqlalchemy(self, params: dict[str, Any]) -> Any:
        """``_LOOK`` through SQLAlchemy, switched to AUTOCOMMIT for the statement."""
        conn = self.conn
        # The switches on the sync connection directly: with no transaction on the driver
        # (asyncpg's adapter: none in AUTOCOMMIT) they only set attributes — nothing to
        # await, no greenlet hop each (~50 µs a lost race, issue 12's rush).
        sync = conn.sync_connection
        assert sync is not None
        default = sync.default_isolation_level
        sync.execution_options(isolation_level="AUTOCOMMIT")
        try:
            row = (await conn.execute(_LOOK, params)).first()
        except BaseException:
            # (A connection lost meanwhile is discarded by the pool: the error that
            # matters is the one raised here, not a failed switch back.)
            with suppress(Exception):
                sync.rollback()
                sync.execution_options(isolation_level=default)
            raise
        sync.rollback()  # ends SQLAlchemy's own bookkeeping: nothing is sent
        sync.execution_options(isolation_level=default)
        return row

    async def untake_slot(self, slot_id: int) -> None:
        await self.conn.execute(_UNTAKE_SLOT, {"slot_id": slot_id})

    async def alternative_candidates(
        self, slot: Slot, now: datetime, not_before: datetime | None, per_side: int
    ) -> list[int]:
        """Free, unheld slot ids instead of ``slot`` in order of preference (one
        statement, ``_ALTERNATIVES``): ``per_side`` is at most ``_PER_SIDE``."""
        params = {
            "now": to_db(now),
            "not_before": to_db(not_before or now),
            "slot_id": slot.id,
            "doctor_id": slot.doctor_id,
            "specialty_id": slot.specialty_id,
            "region_id": slot.region_id,
            "pivot": to_db(slot.start),
        }
        rows = (await self.conn.execute(_ALTERNATIVES, params)).all()
        by_side: list[list[Any]] = [[], [], [], []]
        for r in rows:
            by_side[r.side].append(r)
        found: list[int] = []
        for side, side_rows in enumerate(by_side):  # (a UNION ALL keeps no order by itself)
            side_rows.sort(key=lambda r: (r.start_utc, r.id), reverse=side % 2 == 1)
            found.extend(r.id for r in side_rows[:per_side])
        return found

    async def release_slot(self, slot_id: int, now: datetime) -> bool:
        """booked → free (the schedule gets it back at once), stamped ``freed_at`` so the
        wait list knows this time was given back; True if it was booked."""
        result = await self.conn.execute(
            update(slots)
            .where(slots.c.id == slot_id, slots.c.status == "booked")
            .values(status="free", freed_at=to_db(now))
        )
        return int(result.rowcount) == 1

    async def block_slot(self, slot_id: int) -> bool:
        """booked/free → blocked (the clinic closed this time); True if it changed."""
        result = await self.conn.execute(
            update(slots)
            .where(slots.c.id == slot_id, slots.c.status.in_(("booked", "free")))
            .values(status="blocked", freed_at=None)
        )
        return int(result.rowcount) == 1

    async def block_free_between(
        self, doctor_id: int, clinic_ids: tuple[int, ...], lo: datetime, hi: datetime
    ) -> int:
        """Every free slot of the doctor at these clinics starting in [lo, hi) → blocked.
        A slot on someone's booking summary (a hold) is closed too: the take refuses it."""
        result = await self.conn.execute(
            update(slots)
            .where(
                slots.c.doctor_id == doctor_id,
                slots.c.clinic_id.in_(clinic_ids),
                slots.c.status == "free",
                slots.c.start_utc >= to_db(lo),
                slots.c.start_utc < to_db(hi),
            )
            .values(status="blocked", freed_at=None)
        )
        return int(result.rowcount)

    async def nearest_free(
        self,
        *,
        around: datetime,
        now: datetime,
        exclude: set[int],
        limit: int,
        doctor_id: int | None = None,
        specialty_id: int | None = None,
        region_id: str | None = None,
        not_before: datetime | None = None,
        clinic_id: int | None = None,
        skip_doctor_between: tuple[int, datetime, datetime] | None = None,
    ) -> list[int]:
        """Free, unheld, future slot ids nearest to ``around``: later ones first, then
        earlier ones (still after ``now`` and from ``not_before`` on), nearest first
        within each side. ``skip_doctor_between`` = (doctor, lo, hi): not that doctor's
        slots starting in [lo, hi) (a day the clinic called off)."""
        if limit <= 0:
            return []
        conds = [slots.c.status == "free", slots.c.start_utc > to_db(now), _role_active()]
        if not_before is not None:
            conds.append(slots.c.start_utc >= to_db(not_before))
        if doctor_id is not None:
            conds.append(slots.c.doctor_id == doctor_id)
        if specialty_id is not None:
            conds.append(slots.c.specialty_id == specialty_id)
        if region_id is not None:
            conds.append(slots.c.region_id == region_id)
        if clinic_id is not None:
            conds.append(slots.c.clinic_id == clinic_id)
        if skip_doctor_between is not None:
            doctor, lo, hi = skip_doctor_between
            conds.append(
                ~and_(
                    slots.c.doctor_id == doctor,
                    slots.c.start_utc >= to_db(lo),
                    slots.c.start_utc < to_db(hi),
                )
            )
        unheld = ~exists().where(holds.c.slot_id == slots.c.id, holds.c.expires_at > to_db(now))
        base = and_(*conds, unheld)
        pivot = to_db(around)
        # Fetch a few more than needed: excluded ids are filtered in Python.
        fetch = limit + len(exclude)
        later = await self.conn.execute(
            select(slots.c.id)
            .where(base, slots.c.start_utc >= pivot)
            .order_by(slots.c.start_utc, slots.c.id)
            .limit(fetch)
        )
        found = [r.id for r in later if r.id not in exclude][:limit]
        if len(found) < limit:
            earlier = await self.conn.execute(
                select(slots.c.id)
                .where(base, slots.c.start_utc < pivot)
                .order_by(slots.c.start_utc.desc(), slots.c.id.desc())
                .limit(fetch)
            )
            found += [r.id for r in earlier if r.id not in exclude][: limit - len(found)]
        return found

    # ------------------------------------------------------------------ rule facts

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
        """``overlapping`` and ``rule_counts`` in one statement (``_RULE_FACTS``)."""
        params = {
            "patient_id": patient_id,
            "begin": to_db(start - _MAX_VISIT),
            "end": to_db(start + timedelta(minutes=minutes)),
            "specialty_id": specialty_id,
            "now": to_db(now),
            "user_id": user_id,
            "since": to_db(since),
        }
        rows = (await self.conn.execute(_RULE_FACTS, params)).all()
        found = [_clash(r) for r in rows if r.id is not None]
        overlap = _first_overlap(found, start, minutes, exclude_id)
        return overlap, int(rows[0].n_active or 0), int(rows[0].n_created or 0)

    async def active_for_specialty(
        self, patient_id: int, specialty_id: int, now: datetime
    ) -> Clash | None:
        """The patient's nearest upcoming active visit in the specialty (one-active rule)."""
        params = {"patient_id": patient_id, "specialty_id": specialty_id, "now": to_db(now)}
        rows = await self.conn.execute(_ACTIVE_FOR_SPECIALTY, params)
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

    # ------------------------------------------------------------------ appointments

    async def insert(self, new: NewAppointment) -> Appointment:
        """Insert and number it «A-<id>» (a placeholder number first: the id is not
        known before the insert, and the column is NOT NULL UNIQUE)."""
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
        result = await self.conn.execute(_INSERT, values)
        appointment_id = int(result.scalar_one())
        number = appointment_number(appointment_id)
        uid = new.calendar_uid or calendar_uid(number)
        await self.conn.execute(
            _NUMBER, {"appointment_id": appointment_id, "new_number": number, "new_uid": uid}
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
        await self.conn.execute(
            _ADD_EVENT,
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
