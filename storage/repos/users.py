"""Accounts and their patients (self and relatives); personal data encrypted at rest."""

from __future__ import annotations

from sqlalchemy import select

from domain.models import AccountLevel, User
from storage.repos.base import Repository, from_db_opt
from storage.schema import users


class UserRepository(Repository):
    async def get(self, user_id: int) -> User | None:
        row = (await self.conn.execute(select(users).where(users.c.id == user_id))).first()
        if row is None:
            return None
        return User(
            id=row.id,
            locale=row.locale,
            level=AccountLevel(row.level),
            phone=self.cipher.decrypt(row.phone_enc),
            consent_at=from_db_opt(row.consent_at),
            status=row.status,
            unreachable=row.unreachable,
            notify_optout=frozenset(k for k in row.notify_optout.split(",") if k),
            no_show_count=row.no_show_count,
        )
