"""Booking invariants, checked against the raw tables after every storage test.

1. No slot holds two active (pending/confirmed) appointments.
2. Every active appointment's slot is 'booked' (so no free slot has one).
3. Every booked slot has exactly one appointment that occupies it: an active
   one, or a visit already marked completed / no-show (its slot stays booked).
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

CHECKS = {
    "slot with two active appointments": """
        SELECT slot_id FROM appointments
        WHERE status IN ('pending', 'confirmed')
        GROUP BY slot_id HAVING COUNT(*) > 1
    """,
    "active appointment on a slot that is not booked": """
        SELECT a.id FROM appointments a JOIN slots s ON s.id = a.slot_id
        WHERE a.status IN ('pending', 'confirmed') AND s.status <> 'booked'
    """,
    "booked slot without exactly one occupying appointment": """
        SELECT s.id FROM slots s
        WHERE s.status = 'booked' AND (
            SELECT COUNT(*) FROM appointments a
            WHERE a.slot_id = s.id
              AND a.status IN ('pending', 'confirmed', 'completed', 'no_show')
        ) <> 1
    """,
}


async def invariant_violations(engine: AsyncEngine) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    async with engine.connect() as conn:
        for name, sql in CHECKS.items():
            ids = [row[0] for row in await conn.execute(text(sql))]
            if ids:
                found[name] = ids
        await conn.rollback()
    return found


async def assert_invariants(engine: AsyncEngine) -> None:
    violations = await invariant_violations(engine)
    assert not violations, f"booking invariants broken: {violations}"
