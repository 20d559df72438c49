"""The console's own persistence: the emulator's chat history and the console's clock.

Its tables are the emulator's, not the product's: their own ``MetaData``, created
by the emulator (:func:`create_tables`) in the console's database file, beside the
app's tables, and unknown to the production schema and its migrations (issue 8.5;
migration 0003_emulator dropped the old ``emu_messages`` from it). One file keeps one
``--db`` option and one thing to delete to start over; a production database never
gets these tables, since only the console creates them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncEngine

emulator_metadata = MetaData()

# The chat history, so a later console run can press a button of a message an earlier
# run printed (docs/console.md).
emu_messages = Table(
    "emu_messages",
    emulator_metadata,
    Column("chat_id", BigInteger, primary_key=True, autoincrement=False),
    Column("message_id", Integer, primary_key=True, autoincrement=False),
    Column("payload", Text, nullable=False),  # JSON of the Message as sent
    Column("removed_keyboard", Boolean, nullable=False, server_default=text("false")),
)

# The console's own keys (the virtual clock, so a later run goes on from it).
emu_meta = Table(
    "emu_meta",
    emulator_metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)


async def create_tables(engine: AsyncEngine) -> None:
    """The emulator's tables in the console's database (those missing; nothing else)."""
    async with engine.begin() as conn:
        await conn.run_sync(emulator_metadata.create_all)


class SqlHistoryStore:
    """Implements emulator.store.HistoryStore on the console's database."""

    def __init__(self, engine: AsyncEngine, decode: Callable[[Any, bool], Any]) -> None:
        """``decode(payload, removed_keyboard)`` builds the caller's stored message."""
        self.engine = engine
        self.decode = decode

    async def load_chat(self, chat_id: int) -> list[tuple[int, Any]]:
        query = (
            select(
                emu_messages.c.message_id, emu_messages.c.payload, emu_messages.c.removed_keyboard
            )
            .where(emu_messages.c.chat_id == chat_id)
            .order_by(emu_messages.c.message_id)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [(r[0], self.decode(json.loads(r[1]), bool(r[2]))) for r in rows]

    async def apply(self, ops: Any) -> None:
        if not (ops.upserts or ops.deletes or ops.keyboards_removed):
            return
        async with self.engine.begin() as conn:
            for chat_id in ops.keyboards_removed:
                await conn.execute(
                    update(emu_messages)
                    .where(emu_messages.c.chat_id == chat_id)
                    .values(removed_keyboard=True)
                )
            for (chat_id, message_id), stored in ops.upserts.items():
                where = (emu_messages.c.chat_id == chat_id) & (
                    emu_messages.c.message_id == message_id
                )
                await conn.execute(delete(emu_messages).where(where))
                await conn.execute(
                    insert(emu_messages).values(
                        chat_id=chat_id,
                        message_id=message_id,
                        payload=json.dumps(stored.to_payload(), ensure_ascii=False),
                        removed_keyboard=stored.removed_keyboard,
                    )
                )
            for chat_id, message_id in ops.deletes:
                await conn.execute(
                    delete(emu_messages).where(
                        (emu_messages.c.chat_id == chat_id)
                        & (emu_messages.c.message_id == message_id)
                    )
                )


async def get_meta(engine: AsyncEngine, key: str) -> str | None:
    async with engine.connect() as conn:
        found = await conn.execute(select(emu_meta.c.value).where(emu_meta.c.key == key))
        value: str | None = found.scalar()
        return value


async def set_meta(engine: AsyncEngine, key: str, value: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(delete(emu_meta).where(emu_meta.c.key == key))
        await conn.execute(insert(emu_meta).values(key=key, value=value))
