"""The account's activity journal as the patient reads it: filtered by period and kind, paged.

The journal rows of the account (its relatives' bookings and the staff's
actions on its visits are journaled under the account too) are merged with
the notifications sent to it (reminders, clinic changes, answers: the outbox
rows marked sent), so «напоминание отправлено» is in the journal as well.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import false, or_, select

from domain.journal_view import Item
from storage.repos.base import Repository, from_db, to_db
from storage.schema import journal, outbox

MAX_ITEMS = 1000  # the newest this many of a filter: a page or a PDF never loads more


class JournalViewRepository(Repository):
    async def items(
        self, user_id: int, since: datetime | None, prefixes: tuple[str, ...]
    ) -> list[Item]:
        """Newest first; ``prefixes`` of actions ("" = every action)."""
        found: list[Item] = []
        query = select(journal).where(journal.c.user_id == user_id)
        if since is not None:
            query = query.where(journal.c.at >= to_db(since))
        wanted = [p for p in prefixes if p != "notification."]
        if "" not in prefixes:
            query = query.where(or_(false(), *[journal.c.action.startswith(p) for p in wanted]))
        rows = await self.conn.execute(query.order_by(journal.c.at.desc()).limit(MAX_ITEMS))
        for r in rows:
            details = json.loads(r.details or "{}")
            found.append(Item(at=from_db(r.at), action=r.action, details=details))
        if "" in prefixes or "notification." in prefixes:
            sent = select(outbox.c.kind, outbox.c.sent_at).where(
                outbox.c.user_id == user_id, outbox.c.state == "sent", outbox.c.sent_at.is_not(None)
            )
            if since is not None:
                sent = sent.where(outbox.c.sent_at >= to_db(since))
            for r in await self.conn.execute(
                sent.order_by(outbox.c.sent_at.desc()).limit(MAX_ITEMS)
            ):
                found.append(
                    Item(at=from_db(r.sent_at), action=f"notification.{r.kind}", details={})
                )
        found.sort(key=lambda i: i.at, reverse=True)
        return found[:MAX_ITEMS]
