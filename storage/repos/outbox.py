"""Outbox rows: written in the transaction of the change that causes them."""

from __future__ import annotations

import json

from sqlalchemy import insert, update

from domain.notifications import OutboxItem
from storage.repos.base import Repository, to_db
from storage.schema import outbox


class OutboxRepository(Repository):
    async def add(self, items: list[OutboxItem], created_at_utc: object) -> None:
        if not items:
            return
        from datetime import datetime

        assert isinstance(created_at_utc, datetime)
        await self.conn.execute(
            insert(outbox),
            [
                {
                    "kind": item.kind,
                    "user_id": item.user_id,
                    "due_at": to_db(item.due_at),
                    "payload": json.dumps(item.payload, sort_keys=True),
                    "idem_key": item.idem_key,
                    "urgent": item.urgent,
                    "created_at": to_db(created_at_utc),
                }
                for item in items
            ],
        )

    async def cancel_for_appointment(self, appointment_id: int) -> int:
        """Pending reminders of an appointment that was cancelled or moved never go out."""
        result = await self.conn.execute(
            update(outbox)
            .where(outbox.c.state == "pending")
            .where(outbox.c.idem_key.like(f"appt:{appointment_id}:%"))
            .values(state="cancelled")
        )
        return int(result.rowcount)
