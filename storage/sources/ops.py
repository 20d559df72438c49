"""SQL of the operator CLI: staff kept in the database, and the figures of ``stats``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update

from storage.repos.base import Repository, to_db
from storage.schema import appointments, clinics, outbox, staff_members


@dataclass(frozen=True, slots=True)
class StaffRow:
    user_id: int
    clinic_id: int
    role: str


@dataclass(frozen=True, slots=True)
class Stats:
    bookings: int
    cancellations: int
    no_shows: int
    completed: int
    outbox_pending: int
    outbox_failed: int

    def line(self) -> str:
        return (
            f"stats: {self.bookings} bookings, {self.cancellations} cancellations, "
            f"{self.no_shows} no-shows, {self.completed} completed, outbox backlog "
            f"{self.outbox_pending} pending / {self.outbox_failed} failed"
        )


class OpsRepository(Repository):
    async def clinic_exists(self, clinic_id: int) -> bool:
        found = await self.conn.scalar(select(clinics.c.id).where(clinics.c.id == clinic_id))
        return found is not None

    async def add_staff(self, user_id: int, clinic_id: int, role: str, now: datetime) -> bool:
        """True when added; an existing (user, clinic) gets the new role."""
        added = await self.insert_unless_conflict(
            staff_members,
            {"user_id": user_id, "clinic_id": clinic_id, "role": role, "added_at": to_db(now)},
        )
        if not added:
            await self.conn.execute(
                update(staff_members)
                .where(staff_members.c.user_id == user_id, staff_members.c.clinic_id == clinic_id)
                .values(role=role)
            )
        return added

    async def remove_staff(self, user_id: int, clinic_id: int | None) -> int:
        stmt = delete(staff_members).where(staff_members.c.user_id == user_id)
        if clinic_id is not None:
            stmt = stmt.where(staff_members.c.clinic_id == clinic_id)
        return int((await self.conn.execute(stmt)).rowcount)

    async def staff(self) -> list[StaffRow]:
        rows = await self.conn.execute(
            select(staff_members).order_by(staff_members.c.user_id, staff_members.c.clinic_id)
        )
        return [StaffRow(int(r.user_id), int(r.clinic_id), str(r.role)) for r in rows]

    async def stats(self, since: datetime | None) -> Stats:
        def count_status(*states: str) -> object:
            stmt = select(func.count()).select_from(appointments)
            stmt = stmt.where(appointments.c.status.in_(states))
            if since is not None:
                stmt = stmt.where(appointments.c.updated_at >= to_db(since))
            return stmt

        made = select(func.count()).select_from(appointments)
        if since is not None:
            made = made.where(appointments.c.created_at >= to_db(since))

        async def n(stmt: object) -> int:
            return int(await self.conn.scalar(stmt) or 0)  # type: ignore[call-overload]

        return Stats(
            bookings=await n(made),
            cancellations=await n(count_status("cancelled")),
            no_shows=await n(count_status("no_show")),
            completed=await n(count_status("completed")),
            outbox_pending=await n(
                select(func.count()).select_from(outbox).where(outbox.c.state == "pending")
            ),
            outbox_failed=await n(
                select(func.count()).select_from(outbox).where(outbox.c.state == "failed")
            ),
        )
