"""Shared script pieces and database probes for the booking and «Мои записи» flow tests."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from emulator.harness import ConsoleWorld

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # 12:00 in Moscow

REGISTER_1001 = """@1001
/start
[Русский]
[Согласен]
!contact
Иванов Иван Иванович
12.04.1985
[Мужской]
112-233-445 95
8451999122899990
[Пропустить]
"""
REGISTER_1002 = """@1002
/start
[Русский]
[Согласен]
!contact
Смирнов Олег Петрович
03.09.1990
[Мужской]
123-456-789 64
1234567890123452
[Пропустить]
"""
TO_DAY_3 = """[Записаться к врачу]
[Терапевт]
[~№ 12]
[~Соколова]
[3]
"""
# The notifier's tick right after «Подтвердить» sends the visit's .ics and PDF (outbox).
BOOK_3_DEC_10 = TO_DAY_3 + "[10:00]\n[Подтвердить]\n!jobs notifier\n"


async def rows(world: ConsoleWorld, sql: str, **params: object) -> list[tuple[object, ...]]:
    async with world.app.engine.connect() as conn:
        return [tuple(r) for r in (await conn.execute(text(sql), params)).all()]


async def appointments(world: ConsoleWorld) -> dict[str, str]:
    """number → status of every appointment."""
    return {str(n): str(s) for n, s in await rows(world, "SELECT number, status FROM appointments")}


async def slot_status(world: ConsoleWorld, slot_id: int) -> str:
    return str((await rows(world, "SELECT status FROM slots WHERE id = :i", i=slot_id))[0][0])


def all_callback_data(world: ConsoleWorld, user_id: int | None = None) -> list[str]:
    return [data for row in world.buttons(user_id) for _label, data in row if data]
