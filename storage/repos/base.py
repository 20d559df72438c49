"""Shared plumbing of repositories: the connection, the cipher, UTC conversions."""

from __future__ import annotations

from datetime import UTC, datetime

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
