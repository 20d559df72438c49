"""Outbox rows: written in the transaction of the change that causes them, claimed by dispatchers.

Claiming is one statement: ``UPDATE … WHERE id IN (SELECT … LIMIT n FOR
UPDATE SKIP LOCKED) RETURNING …`` on PostgreSQL, so several dispatchers over
one database never take the same row; on SQLite every transaction is
``BEGIN IMMEDIATE`` (storage/db.py), so the same statement runs in a single
writer transaction. A claim is a *lease*: ``claimed_until`` — a dispatcher
that dies mid-batch leaves its rows pending, and another claims them once the
lease has run out (rows in flight at the death may thus go out twice; every
other row exactly once).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    and_,
    any_,
    bindparam,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.dml import Update
from sqlalchemy.sql.elements import BindParameter

from domain.notifications import OutboxItem, OutboxRow, State
from storage.prepared import prepared
from storage.repos.base import Repository, from_db, to_db
from storage.schema import outbox, users

# Built once, each column a named parameter (storage/prepared.py runs them on the in-loop
# driver's cursor): the rows a change queues, and the chat's «said it» mark.
_ADD = insert(outbox).values(
    {
        name: bindparam(name)
        for name in (
            "kind",
            "user_id",
            "due_at",
            "payload",
            "idem_key",
            "urgent",
            "created_at",
            "claimed_by",
            "claimed_until",
        )
    }
)
_MARK_SENT_BY_KEY = (
    update(outbox)
    .where(outbox.c.idem_key == bindparam("by_key"), outbox.c.state == State.PENDING)
    .values(state=State.SENT, sent_at=bindparam("now"), last_error="confirmed in chat")
)

# Kinds a handler says in the chat itself (then marks sent), and how long they wait for it.
SAID_IN_CHAT = ("booked",)
SAID_IN_CHAT_LEASE = timedelta(seconds=30)

_RETURNED = (
    outbox.c.id,
    outbox.c.kind,
    outbox.c.user_id,
    outbox.c.due_at,
    outbox.c.payload,
    outbox.c.urgent,
    outbox.c.attempts,
    outbox.c.idem_key,
)


def _claim(for_update: bool) -> Update:
    """The notifier's claim, built once per dialect kind (it runs every tick of every
    process; building it each time cost more than running it on an idle outbox)."""
    now: BindParameter[datetime] = bindparam("now")
    pick = (
        select(outbox.c.id)
        .where(
            outbox.c.state == State.PENDING,
            outbox.c.due_at <= now,
            or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until < now),
        )
        .order_by(outbox.c.due_at, outbox.c.id)
        .limit(bindparam("limit"))
    )
    if for_update:
        pick = pick.with_for_update(skip_locked=True)
    return (
        update(outbox)
        .where(outbox.c.id.in_(pick.scalar_subquery()))
        .values(claimed_by=bindparam("worker"), claimed_until=bindparam("until"))
        .returning(*_RETURNED)
    )


_CLAIM_SQLITE = _claim(for_update=False)
_CLAIM_LOCKING = _claim(for_update=True)  # PostgreSQL: concurrent claimers skip locked rows


def _mark_sent(ids: ColumnElement[bool]) -> Update:
    return (
        update(outbox)
        .where(ids, outbox.c.state == State.PENDING)
        .values(
            state=State.SENT,
            sent_at=bindparam("sent_at", type_=outbox.c.sent_at.type),
            attempts=outbox.c.attempts + 1,
            claimed_until=None,
        )
    )


# The group's ids: an expanding IN on SQLite, one array parameter on PostgreSQL (as _ids).
_MARK_SENT_SQLITE = _mark_sent(outbox.c.id.in_(bindparam("ids", expanding=True)))
_MARK_SENT_PG = _mark_sent(outbox.c.id == any_(bindparam("ids", type_=ARRAY(BigInteger))))


# ``json.dumps(payload, sort_keys=True)`` with its encoder built once (dumps builds one per
# call when given an argument): the same text, a booking queues ~5 rows.
_payload = json.JSONEncoder(sort_keys=True).encode


class OutboxRepository(Repository):
    def _ids(self, ids: Sequence[int]) -> ColumnElement[bool]:
        """``id IN (…)``; on PostgreSQL ``id = ANY(:ids)`` with one array parameter, so
        the statement text (and asyncpg's prepared statement) is the same for any count."""
        if self.is_sqlite:
            return outbox.c.id.in_(list(ids))
        return outbox.c.id == any_(bindparam("ids", list(ids), type_=ARRAY(BigInteger)))

    async def add(self, items: list[OutboxItem], created_at_utc: object) -> None:
        if not items:
            return
        assert isinstance(created_at_utc, datetime)
        created = to_db(created_at_utc)
        await prepared(_ADD).run_many(
            self.conn,
            [
                {
                    "kind": item.kind,
                    "user_id": item.user_id,
                    "due_at": to_db(item.due_at),
                    "payload": _payload(item.payload),
                    "idem_key": item.idem_key,
                    "urgent": item.urgent,
                    "created_at": created,
                    **self._said_in_chat_lease(item.kind, created_at_utc),
                }
                for item in items
            ],
        )

    @staticmethod
    def _said_in_chat_lease(kind: str, created_at: datetime) -> dict[str, object]:
        """The booking confirmation is said in the chat by the handler, which then marks
        its row sent (``mark_sent_by_key``). Written already leased to the chat for
        SAID_IN_CHAT_LEASE, the row is left alone by every dispatcher meanwhile — with
        several processes one elsewhere would otherwise send it in the moment between
        the booking's commit and that mark (issue 12: a double confirmation) — and
        goes out as usual if the handler failed before confirming."""
        if kind not in SAID_IN_CHAT:
            return {"claimed_by": None, "claimed_until": None}
        return {"claimed_by": "chat", "claimed_until": to_db(created_at + SAID_IN_CHAT_LEASE)}

    async def cancel_for_appointment(self, appointment_id: int) -> int:
        """Pending reminders of an appointment that was cancelled or moved never go out."""
        result = await self.conn.execute(
            update(outbox)
            .where(outbox.c.state == State.PENDING)
            .where(outbox.c.idem_key.like(f"appt:{appointment_id}:%"))
            .values(state=State.CANCELLED, last_error="appointment changed")
        )
        return int(result.rowcount)

    async def cancel_for_user(self, user_id: int, reason: str) -> int:
        """A user who blocked the bot (403) gets nothing more until they come back."""
        result = await self.conn.execute(
            update(outbox)
            .where(outbox.c.state == State.PENDING, outbox.c.user_id == user_id)
            .values(state=State.CANCELLED, last_error=reason, claimed_by=None, claimed_until=None)
        )
        return int(result.rowcount)

    async def hold_urgent_for_user(self, user_id: int, reason: str) -> int:
        """Urgent notices of a user who blocked the bot wait (``held``) for their return
        (UserRepository.mark_reachable puts them back); the rest is cancelled by the caller."""
        result = await self.conn.execute(
            update(outbox)
            .where(
                outbox.c.state == State.PENDING,
                outbox.c.user_id == user_id,
                outbox.c.urgent.is_(True),
            )
            .values(state=State.HELD, last_error=reason, claimed_by=None, claimed_until=None)
        )
        return int(result.rowcount)

    async def cancel_by_key_prefix(self, prefix: str, reason: str) -> int:
        result = await self.conn.execute(
            update(outbox)
            .where(outbox.c.state == State.PENDING)
            .where(outbox.c.idem_key.like(f"{prefix}%"))
            .values(state=State.CANCELLED, last_error=reason)
        )
        return int(result.rowcount)

    async def claim_due(
        self, now: datetime, limit: int, worker_id: str, lease: timedelta
    ) -> list[OutboxRow]:
        """Take up to ``limit`` due pending rows for ``lease``; oldest due first."""
        stmt = _CLAIM_SQLITE if self.is_sqlite else _CLAIM_LOCKING
        params = {
            "now": to_db(now),
            "limit": limit,
            "worker": worker_id,
            "until": to_db(now + lease),
        }
        # Per row of a batch: rows unpacked in _RETURNED's order, positional arguments.
        loads = json.loads
        claimed = [
            OutboxRow(
                row_id,
                kind,
                user_id,
                due_at.replace(tzinfo=UTC) if due_at.tzinfo is None else from_db(due_at),
                loads(payload),
                urgent,
                attempts,
                idem_key,
            )
            for row_id, kind, user_id, due_at, payload, urgent, attempts, idem_key in (
                await self.conn.execute(stmt, params)
            ).all()
        ]
        claimed.sort(key=lambda row: (row.due_at, row.id))
        return claimed

    async def mark_sent(self, ids: Sequence[int], now: datetime) -> None:
        """Built once (module level, ids and time as parameters): it runs once per group of
        sends, and building a statement costs more than the rest of that call."""
        if not ids:
            return
        stmt = _MARK_SENT_SQLITE if self.is_sqlite else _MARK_SENT_PG
        await self.conn.execute(stmt, {"ids": list(ids), "sent_at": to_db(now)})

    async def mark_sent_by_key(self, idem_key: str, now: datetime) -> bool:
        """The handler already said it in the chat (e.g. the booking confirmation): the
        pending row of that key counts as delivered and never goes out as a duplicate."""
        params = {"by_key": idem_key, "now": to_db(now)}
        return await prepared(_MARK_SENT_BY_KEY).count(self.conn, params) == 1

    async def mark_failed(self, row_id: int, reason: str) -> None:
        await self.mark_failed_many([(row_id, reason)])

    async def mark_cancelled(self, row_id: int, reason: str) -> None:
        await self.mark_cancelled_many([(row_id, reason)])

    async def mark_held(self, row_id: int, reason: str) -> None:
        await self.mark_held_many([(row_id, reason)])

    # Set-based marks: one UPDATE per distinct reason (a batch has a handful), not one per
    # row — the dispatcher's outcomes of a whole group of sends in a few statements.

    async def mark_failed_many(self, rows: Sequence[tuple[int, str]]) -> None:
        for reason, ids in _by_reason(rows).items():
            await self.conn.execute(
                update(outbox)
                .where(self._ids(ids), outbox.c.state == State.PENDING)
                .values(
                    state=State.FAILED,
                    last_error=reason[:500],
                    attempts=outbox.c.attempts + 1,
                    claimed_until=None,
                )
            )

    async def mark_cancelled_many(self, rows: Sequence[tuple[int, str]]) -> None:
        for reason, ids in _by_reason(rows).items():
            await self.conn.execute(
                update(outbox)
                .where(self._ids(ids), outbox.c.state == State.PENDING)
                .values(state=State.CANCELLED, last_error=reason[:500], claimed_until=None)
            )

    async def mark_held_many(self, rows: Sequence[tuple[int, str]]) -> None:
        for reason, ids in _by_reason(rows).items():
            await self.conn.execute(
                update(outbox)
                .where(self._ids(ids), outbox.c.state == State.PENDING)
                .values(state=State.HELD, last_error=reason[:500], claimed_until=None)
            )

    async def reschedule_retry(
        self, row_id: int, due_at: datetime, reason: str, *, count_attempt: bool = True
    ) -> None:
        """Back to pending at ``due_at`` (lease released); a 429 does not count as an attempt."""
        await self.reschedule_many([(row_id, due_at, reason, count_attempt)])

    async def reschedule_many(self, rows: Sequence[tuple[int, datetime, str, bool]]) -> None:
        groups: dict[tuple[datetime, str, bool], list[int]] = {}
        for row_id, due_at, reason, counts in rows:
            groups.setdefault((due_at, reason, counts), []).append(row_id)
        for (due_at, reason, counts), ids in groups.items():
            values: dict[str, object] = {
                "due_at": to_db(due_at),
                "last_error": reason[:500],
                "claimed_by": None,
                "claimed_until": None,
            }
            if counts:
                values["attempts"] = outbox.c.attempts + 1
            await self.conn.execute(
                update(outbox)
                .where(self._ids(ids), outbox.c.state == State.PENDING)
                .values(**values)
            )

    async def mark_user_unreachable(self, user_id: int) -> None:
        await self.conn.execute(update(users).where(users.c.id == user_id).values(unreachable=True))

    async def counts(self) -> dict[str, int]:
        rows = await self.conn.execute(
            select(outbox.c.state, func.count()).group_by(outbox.c.state)
        )
        return {r[0]: int(r[1]) for r in rows}

    async def get(self, row_id: int) -> dict[str, object] | None:
        row = (await self.conn.execute(select(outbox).where(outbox.c.id == row_id))).first()
        return None if row is None else dict(row._mapping)

    async def for_user(self, user_id: int, kind: str | None = None) -> list[dict[str, object]]:
        cond = [outbox.c.user_id == user_id]
        if kind is not None:
            cond.append(outbox.c.kind == kind)
        rows = await self.conn.execute(select(outbox).where(and_(*cond)).order_by(outbox.c.id))
        return [dict(r._mapping) for r in rows]


def _by_reason(rows: Sequence[tuple[int, str]]) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = {}
    for row_id, reason in rows:
        groups.setdefault(reason, []).append(row_id)
    return groups
