"""The atomic slot take of a booking, and what a lost race is answered with.

The slot take is ONE conditional UPDATE checked by rowcount. On PostgreSQL
(READ COMMITTED) a second concurrent UPDATE of the same row waits for the
first and re-checks ``status = 'free'`` on the committed row, so it matches
0 rows; on SQLite every transaction is BEGIN IMMEDIATE, so writers are
serialised. Either way exactly one booking wins and the others get a clean
``False`` — with the slot's context and the alternatives' candidates read in
the same round trip where the engine allows. Its own module: the hottest and
most delicate path of the booking (storage/repos/appointments.py composes it).
"""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime
from typing import Any

from domain.booking_ports import SlotContext, SlotTake
from domain.models import Slot, SlotStatus
from storage.memo import fsm_pending, read_memo
from storage.prepared import RowView, _Compiled, prepared
from storage.repos.base import Repository, from_db, to_db
from storage.repos.booking_sql import (
    _ALTERNATIVES,
    _CONTEXT_AND_MINE,
    _LOOK,
    _TAKE_AND_READ,
    _TAKE_SLOT,
    _UNTAKE_SLOT,
)
from storage.repos.booking_sql_sqlite import _TAKE_RETURNING_CONTEXT
from storage.repos.directory_rows import _slot_context


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


def facts_key(
    patient_id: int, ctx: SlotContext, user_id: int, now: datetime, since: datetime
) -> tuple[Any, ...]:
    """The read memo's key of the booking rules' facts a take read (``take_first``), as
    ``rule_facts`` asks for them: the same patient, slot time, specialty, account and
    moments (storage/repos/booking_facts.py)."""
    slot = ctx.slot
    return (
        "rule_facts",
        patient_id,
        slot.start,
        slot.minutes,
        ctx.specialty.id,
        user_id,
        now,
        since,
    )


class SlotTakes(Repository):
    """The take and its answers (a mixin of AppointmentRepository)."""

    async def take_slot(self, slot_id: int, user_id: int, now: datetime) -> bool:
        """free → booked unless another user's unexpired hold is on it; True if taken."""
        params = {"slot_id": slot_id, "user_id": user_id, "now": to_db(now)}
        result = await self.conn.execute(_TAKE_SLOT, params)
        return int(result.rowcount) == 1

    async def take_first(
        self,
        slot_id: int,
        user_id: int,
        patient_id: int,
        now: datetime,
        offer_from: datetime,
        since: datetime | None = None,
    ) -> SlotTake:
        """The booking's take first (domain.booking_take.book_once): one round trip on
        PostgreSQL (``_TAKE_AND_READ``: a loser gets the alternatives' candidates from
        ``offer_from`` on in it too); on SQLite the take returning the context
        (``_TAKE_RETURNING_CONTEXT``; a loser then reads it), or the bare take when this
        update has the slot's context already. See SlotTake.

        ``since``: the daily cap's window start (``rule_facts``' ``since``); given, a
        SQLite winner's take also reads the booking rules' facts for ``rule_facts``
        (``_TAKE_RETURNING_CONTEXT``: one statement less per booking)."""
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
            kept = _memo_but_slot(memo, slot_id)
            if known is None:  # the take and the context in one statement for a winner
                params["since"] = to_db(since or now)
                taken = await prepared(_TAKE_RETURNING_CONTEXT).records(self.conn, params)
                _restore(memo, kept)
                if taken:  # (returned after our own take: the slot it took was free)
                    ctx = _slot_context(taken[0], taken=True)
                    if memo is not None and since is not None:
                        facts = (int(taken[0].f_active), int(taken[0].f_created))
                        key = facts_key(patient_id, ctx, user_id, now, since)
                        memo[key] = (*facts, bool(taken[0].f_near))
                    return SlotTake(taken=True, ctx=ctx, patient_locked=True)
            elif known.slot.status == SlotStatus.FREE:
                won = await prepared(_TAKE_SLOT).count(self.conn, params) == 1
                _restore(memo, kept)
                if won:
                    return SlotTake(taken=True, ctx=known, patient_locked=True)
            found = await prepared(_CONTEXT_AND_MINE).records(self.conn, params)
            row: Any = found[0] if found else None
            locked = True  # serial writers: no lock needed
        else:
            params["not_before"] = to_db(offer_from)
            if not self.conn.in_transaction() and not fsm_pending(self.conn):
                look = await self._look(params)
                if look is not None:
                    return look
            memo = read_memo(self.conn)
            kept = _memo_but_slot(memo, slot_id)
            taken_rows = await prepared(_TAKE_AND_READ).records(self.conn, params)
            row = taken_rows[0] if taken_rows else None
            _restore(memo, kept)
            won = row is not None and bool(row.won)
            locked = row is not None and won and bool(row.locked)
            if row is not None and not won:
                candidates = _unpack(row)
            if row is not None and not won and row.status == "free":
                # Lost to a take committed after this statement's snapshot (its UPDATE
                # waited for that one), or a hold: what is there now, read afresh.
                found = await prepared(_CONTEXT_AND_MINE).records(self.conn, params)
                row = found[0] if found else None
        if row is None:
            return SlotTake(taken=False, ctx=None)
        ctx = _slot_context(row, taken=won)  # (read after our own take when won)
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
        await prepared(_UNTAKE_SLOT).run(self.conn, {"slot_id": slot_id})

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
