"""Activity journal: who did what, when, to which appointment and doctor."""

from __future__ import annotations

import json

from sqlalchemy import bindparam, insert, select, update

from domain.models import JournalEntry
from storage.prepared import prepared
from storage.repos.base import Repository, from_db, to_db
from storage.schema import journal

# Built once, each column a named parameter (storage/prepared.py runs it on the in-loop
# driver's cursor); the row's values are the parameters.
_ADD = insert(journal).values(
    {
        name: bindparam(name)
        for name in ("user_id", "at", "action", "appointment_id", "doctor_id", "details")
    }
)

# ``json.dumps(details, ensure_ascii=False, default=str)`` with its encoder built once.
_details = json.JSONEncoder(ensure_ascii=False, default=str).encode


class JournalRepository(Repository):
    async def add(self, entry: JournalEntry) -> None:
        await prepared(_ADD).run(
            self.conn,
            {
                "user_id": entry.user_id,
                "at": to_db(entry.at),
                "action": entry.action,
                "appointment_id": entry.appointment_id,
                "doctor_id": entry.doctor_id,
                "details": _details(entry.details),
            },
        )

    async def for_user(self, user_id: int, limit: int = 200) -> list[JournalEntry]:
        rows = await self.conn.execute(
            select(journal)
            .where(journal.c.user_id == user_id)
            .order_by(journal.c.at.desc(), journal.c.id.desc())
            .limit(limit)
        )
        return [
            JournalEntry(
                user_id=r.user_id,
                at=from_db(r.at),
                action=r.action,
                appointment_id=r.appointment_id,
                doctor_id=r.doctor_id,
                details=json.loads(r.details),
            )
            for r in rows
        ]

    async def anonymise_user(self, user_id: int, subject: str) -> None:
        """Keep what the law requires (what happened, when) without who it was."""
        await self.conn.execute(
            update(journal)
            .where(journal.c.user_id == user_id)
            .values(user_id=None, subject=subject, details="{}")
        )
