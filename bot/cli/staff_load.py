"""Staff added with ``python -m bot staff add`` join ZAPIS_STAFF when the bot starts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.settings import StaffMember
from storage.sources.ops import OpsRepository

if TYPE_CHECKING:
    from bot.app_state import App


async def merge_db_staff(app: App) -> int:
    """Add the database's staff roles to ``app.settings.staff`` (ZAPIS_STAFF keeps its role
    where both name a user); returns how many roles were read."""
    async with app.uow() as uow:
        rows = await OpsRepository(uow.conn, uow.cipher).staff()
    for row in rows:
        known = app.settings.staff.get(row.user_id)
        clinics = sorted({*(known.clinics if known else []), row.clinic_id})
        role = known.role if known else row.role
        app.settings.staff[row.user_id] = StaffMember(clinics=clinics, role=role)  # type: ignore[arg-type]
    return len(rows)
