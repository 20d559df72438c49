"""Calendar subscription tokens: only a keyed hash is stored, the URL is shown once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select

from storage.repos.base import Repository, to_db
from storage.schema import calendar_feeds


class CalendarFeedRepository(Repository):
    def _hash(self, token: str) -> str:
        return self.cipher.tagged_hash("calendar-feed", token)

    async def replace(self, user_id: int, token: str, now: datetime) -> None:
        """A new token for the account; the old URL stops working."""
        await self.conn.execute(delete(calendar_feeds).where(calendar_feeds.c.user_id == user_id))
        await self.insert_unless_conflict(
            calendar_feeds,
            {"user_id": user_id, "token_hash": self._hash(token), "created_at": to_db(now)},
        )

    async def revoke(self, user_id: int) -> bool:
        result = await self.conn.execute(
            delete(calendar_feeds).where(calendar_feeds.c.user_id == user_id)
        )
        return int(result.rowcount) > 0

    async def active(self, user_id: int) -> bool:
        found = await self.conn.execute(
            select(calendar_feeds.c.user_id).where(calendar_feeds.c.user_id == user_id)
        )
        return found.first() is not None

    async def owner(self, token: str) -> int | None:
        found = await self.conn.execute(
            select(calendar_feeds.c.user_id).where(calendar_feeds.c.token_hash == self._hash(token))
        )
        value = found.scalar()
        return None if value is None else int(value)
