"""Migration 0002_calendar keeps the calendar identity of visits booked before it.

Files sent before the migration carried ``appointment-<number>@zapis.bot`` as UID: an old
visit moved or cancelled afterwards must update that same event, so the migration fills
the new column with it.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from sqlalchemy import text

from storage.db import create_engine
from storage.migrate import upgrade


async def test_visits_booked_before_the_migration_keep_their_uid(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        await upgrade(engine, "0001")
        # A plain sqlite3 connection: foreign keys off, so one bare row will do.
        with closing(sqlite3.connect(path)) as raw:
            raw.execute(
                "INSERT INTO appointments (id, number, patient_id, user_id, slot_id, doctor_id,"
                " clinic_id, specialty_id, start_utc, minutes, status, created_at, updated_at)"
                " VALUES (42, 'A-0000042', 1, 1001, 1, 1, 1, 1, '2026-12-03 07:00:00', 20,"
                " 'pending', '2026-12-01 09:00:00', '2026-12-01 09:00:00')"
            )
            raw.commit()
        await upgrade(engine)
        async with engine.connect() as conn:
            row = (
                await conn.execute(
                    text("SELECT calendar_uid, calendar_seq FROM appointments WHERE id = 42")
                )
            ).one()
        assert tuple(row) == ("appointment-A-0000042@zapis.bot", 0)
    finally:
        await engine.dispose()
