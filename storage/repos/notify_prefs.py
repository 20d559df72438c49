"""The per-kind notification opt-out of an account (users.notify_optout).

The notifier already skips opted-out kinds (bot/notifier.py); this is the write side
used by the «Уведомления» settings screen (flows/notify_settings.py).
"""

from __future__ import annotations

from sqlalchemy import select, update

from domain.notifications import format_optout, parse_optout
from storage.repos.base import Repository
from storage.schema import users


class NotifyPrefsRepository(Repository):
    async def optout(self, user_id: int) -> frozenset[str]:
        raw = await self.conn.scalar(select(users.c.notify_optout).where(users.c.id == user_id))
        return parse_optout(str(raw or ""))

    async def set_optout(self, user_id: int, kinds: frozenset[str]) -> None:
        await self.conn.execute(
            update(users).where(users.c.id == user_id).values(notify_optout=format_optout(kinds))
        )
