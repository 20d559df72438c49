"""Calendar subscription tokens: only a keyed hash is stored, the URL is shown once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select

from domain.calendar_feed import CalendarVisit
from storage.repos.base import Repository, to_db
from storage.repos.notify_context import NotifyContextRepository
from storage.schema import ACTIVE_APPOINTMENT_STATES, appointments, calendar_feeds


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

    async def upcoming(self, user_id: int, now: datetime) -> list[CalendarVisit]:
        """The account's active visits (its relatives' included) that have not begun."""
        rows = await self.conn.execute(
            select(appointments.c.id)
            .where(
                appointments.c.user_id == user_id,
                appointments.c.status.in_(ACTIVE_APPOINTMENT_STATES),
                appointments.c.start_utc > to_db(now),
            )
            .order_by(appointments.c.start_utc)
        )
        ids = [int(r.id) for r in rows]
        infos = await NotifyContextRepository(self.conn, self.cipher).appointments(ids)
        return [
            CalendarVisit(
                appointment_id=i,
                number=v.number,
                uid=v.calendar_uid,
                sequence=v.calendar_seq,
                start=v.start,
                minutes=v.minutes,
                tz=v.clinic_tz,
                specialty_ru=v.specialty_ru,
                specialty_en=v.specialty_en,
                doctor=v.doctor_name,
                clinic_id=v.clinic_id,
                clinic_name=v.clinic_name,
                address=v.clinic_address,
                patient_name=v.patient_name,
            )
            for i in ids
            if (v := infos.get(i)) is not None
        ]
