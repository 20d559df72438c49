"""The console's persistence: the emulator's chat history and the console's own keys in `meta`.

It lives in storage/ because it is SQL; only emulator uses it. The
emulator's message type is the caller's: it passes ``decode`` (storage never
imports bot; see the import contract in pyproject.toml).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.schema import emu_messages, meta


class SqlHistoryStore:
    """Implements emulator.store.HistoryStore on the app's database."""

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
        return (await conn.execute(select(meta.c.value).where(meta.c.key == key))).scalar()


async def set_meta(engine: AsyncEngine, key: str, value: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(delete(meta).where(meta.c.key == key))
        await conn.execute(insert(meta).values(key=key, value=value))
