"""Shared plumbing of repositories: the connection, the cipher, UTC conversions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.crypto import PersonalDataCipher


def to_db(moment: datetime) -> datetime:
    """Aware datetime → naive UTC for the database."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime passed to storage; use aware UTC")
    return moment.astimezone(UTC).replace(tzinfo=None)


def from_db(value: datetime) -> datetime:
    """Naive UTC from the database → aware UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def from_db_opt(value: datetime | None) -> datetime | None:
    return None if value is None else from_db(value)


class Repository:
    """Repositories never commit: the unit of work that owns the connection does."""

    def __init__(self, conn: AsyncConnection, cipher: PersonalDataCipher) -> None:
        self.conn = conn
        self.cipher = cipher

    @property
    def is_sqlite(self) -> bool:
        return self.conn.dialect.name == "sqlite"

    async def insert_unless_conflict(self, table: Table, values: dict[str, Any]) -> bool:
        """INSERT … ON CONFLICT DO NOTHING on either engine; True if the row went in.

        Without a conflict target it covers every unique key: a concurrent
        writer makes this 0 rows instead of an error that would abort the
        PostgreSQL transaction.
        """
        stmt = (
            sqlite_insert(table).values(values).on_conflict_do_nothing()
            if self.is_sqlite
            else pg_insert(table).values(values).on_conflict_do_nothing()
        )
        result = await self.conn.execute(stmt)
        return int(result.rowcount) == 1

    async def clear_staff_notice_of(self, table: Table, item_id: int, marked_at: datetime) -> bool:
        """Clear a ticket's or certificate request's «tell the staff» mark, only if it is
        still the one read (a newer patient action keeps its own) — domain/staff_notices.py."""
        result = await self.conn.execute(
            update(table)
            .where(table.c.id == item_id, table.c.staff_notice_at == to_db(marked_at))
            .values(staff_notice_at=None)
        )
        return int(result.rowcount) == 1
