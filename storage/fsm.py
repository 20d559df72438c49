"""aiogram FSM storage in the project's database, so a dialogue survives a restart.

Inside an update the state is written on the unit of work's connection (see
storage.uow.current_connection) and commits with the business data; outside
one (aiogram's FSM middleware reading the state before our middlewares run)
it uses a short transaction of its own.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, KeyBuilder, StorageKey
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.crypto import PersonalDataCipher
from storage.schema import fsm_states
from storage.uow import current_connection

StateType = str | State | None
ENCRYPTED = "fernet:"  # marks an encrypted data column (plain JSON never starts like this)


class DatabaseStorage(BaseStorage):
    def __init__(
        self,
        engine: AsyncEngine,
        key_builder: KeyBuilder | None = None,
        *,
        cipher: PersonalDataCipher | None = None,
    ) -> None:
        self.engine = engine
        # With a cipher the dialogue data (which may hold what the user typed
        # half-way through a form) is encrypted at rest like other personal data.
        self.cipher = cipher
        # The bot id is part of the key: two bots on one database never share a dialogue.
        self.key_builder = key_builder or DefaultKeyBuilder(with_bot_id=True, with_destiny=True)

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[AsyncConnection]:
        shared = current_connection.get()
        if shared is not None:
            yield shared
            return
        async with self.engine.connect() as conn:
            yield conn
            await conn.commit()

    async def _row(self, conn: AsyncConnection, key: str) -> Any:
        result = await conn.execute(
            select(fsm_states.c.state, fsm_states.c.data).where(fsm_states.c.key == key)
        )
        return result.first()

    async def _upsert(self, key: str, **values: Any) -> None:
        # One atomic statement (INSERT .. ON CONFLICT DO UPDATE, both dialects):
        # two writers of the same key never fail on the primary key, and on
        # PostgreSQL a failed insert would otherwise abort the shared transaction.
        values["updated_at"] = datetime.now(UTC).replace(tzinfo=None)
        async with self._connection() as conn:
            dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
            stmt = dialect_insert(fsm_states).values(key=key, **values)
            await conn.execute(
                stmt.on_conflict_do_update(index_elements=[fsm_states.c.key], set_=values)
            )

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        await self._upsert(self.key_builder.build(key), state=value)

    async def get_state(self, key: StorageKey) -> str | None:
        async with self._connection() as conn:
            row = await self._row(conn, self.key_builder.build(key))
        return None if row is None else row.state

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        encoded = json.dumps(dict(data), ensure_ascii=False)
        if self.cipher is not None:
            encoded = ENCRYPTED + (self.cipher.encrypt(encoded) or "")
        await self._upsert(self.key_builder.build(key), data=encoded)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        async with self._connection() as conn:
            row = await self._row(conn, self.key_builder.build(key))
        if row is None:
            return {}
        raw: str = row.data
        if raw.startswith(ENCRYPTED):
            if self.cipher is None:
                raise ValueError("FSM data is encrypted but the storage has no cipher")
            raw = self.cipher.decrypt(raw[len(ENCRYPTED) :]) or "{}"
        loaded: dict[str, Any] = json.loads(raw)
        return loaded

    async def forget(self, key: StorageKey) -> None:
        async with self._connection() as conn:
            await conn.execute(
                delete(fsm_states).where(fsm_states.c.key == self.key_builder.build(key))
            )

    async def close(self) -> None:
        return None
