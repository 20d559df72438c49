"""A doctor's upcoming visits in the staff member's clinics, by day, and closing those days.

«Отменить приём» (flows/staff.py) lists a doctor's visits, picks a day's, and
after cancelling them closes the rest of each day ('blocked'). A module of its
own: what is read and written for a cancelled day, apart from the screens and
the reason step that ask for it.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from domain import booking
from domain.flow_ports import SectionsUnitOfWork, StaffVisit
from domain.models import StaffMember
from flows.ui.format import local


async def doctor_visits(
    uow: SectionsUnitOfWork, staff: StaffMember, doctor_id: int, now: datetime
) -> list[StaffVisit]:
    return await uow.staff.visits(staff.clinics, after=now, doctor_id=doctor_id, limit=500)


def visits_on_day(visits: list[StaffVisit], day: date | None) -> list[StaffVisit]:
    if day is None:
        return visits
    return [v for v in visits if local(v.start, v.tz).date() == day]


async def close_days(
    uow: SectionsUnitOfWork,
    staff: StaffMember,
    doctor_id: int,
    cancelled: list[StaffVisit],
    now: datetime,
) -> None:
    """The clinic called these days off («врач заболел»): the rest of each day of the
    doctor is closed too ('blocked'), so nobody books it and the wait list is not
    offered it. Days are the clinic's local days of the cancelled visits."""
    for day, tz in sorted({(local(v.start, v.tz).date(), v.tz) for v in cancelled}):
        zone = ZoneInfo(tz)
        lo = datetime.combine(day, time(0), zone)
        hi = datetime.combine(day + timedelta(days=1), time(0), zone)
        await booking.block_doctor_time(uow, doctor_id, staff.clinics, max(lo, now), hi)
