"""aiogram FSM storage in the project's database, so a dialogue survives a restart.

Inside an update the state is written on the unit of work's connection (see
storage.uow.current_connection) and commits with the business data; outside
one (a job, a test, the CLI) each call is one statement of its own.

A dialogue row is read from the database once per update: the unit of work
keeps the rows it read or wrote (storage.uow.current_fsm_rows). aiogram's FSM
middleware no longer reads it ahead of the update (bot/middlewares/fsm_state.py):
the database middleware reads it inside the unit of work, in the same statement
as the account (storage/repos/users.py ``get(..., dialogue=key)`` puts it in the
rows). Without this, one booking step read the same row three or four times,
the first time on a connection of its own.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, KeyBuilder, StorageKey
from sqlalchemy import bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.crypto import PersonalDataCipher
from storage.db import SINGLE_STATEMENT
from storage.memo import fsm_pending, fsm_upsert
from storage.schema import fsm_states
from storage.uow import current_connection, current_fsm_rows

StateType = str | State | None
ENCRYPTED = "fernet:"  # marks an encrypted data column (plain JSON never starts like this)
SEALED = "gcm:"  # data written since issue 8's fifth pass: PersonalDataCipher.seal (AES-GCM)
Row = tuple[str | None, str] | None  # (state, data) or no row


def dialogue_key(context: FSMContext | None) -> str | None:
    """The ``fsm_states`` key of this FSM context when it lives in the database (so the
    unit of work can read the row along with the account), else None."""
    if context is None or not isinstance(context.storage, DatabaseStorage):
        return None
    return context.storage.built(context.key)


# Built once: the statement every update runs (compiled form cached by SQLAlchemy).
_SELECT_ROW = select(fsm_states.c.state, fsm_states.c.data).where(
    fsm_states.c.key == bindparam("key")
)


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
        self._built: dict[StorageKey, str] = {}  # an update asks for its key ~6 times
        self._last: tuple[StorageKey | None, str] = (None, "")

    def built(self, key: StorageKey) -> str:
        """The row key of a StorageKey (the key builder's string), remembered.

        The update's FSM context passes the same StorageKey object every time: it is
        recognised by identity first (hashing the dataclass costs more than the lookup)."""
        last = self._last
        if last[0] is key:
            return last[1]
        found = self._built.get(key)
        if found is None:
            if len(self._built) >= 10_000:
                self._built.clear()
            found = self._built[key] = self.key_builder.build(key)
        self._last = (key, found)
        return found

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[AsyncConnection]:
        shared = current_connection.get()
        if shared is not None:
            yield shared
            return
        async with self.engine.connect() as conn:
            # Outside a unit of work every use is one statement: no BEGIN (storage/db.py).
            yield await conn.execution_options(**{SINGLE_STATEMENT: True})
            await conn.commit()

    async def _row(self, key: str) -> Row:
        rows = current_fsm_rows.get() if current_connection.get() is not None else None
        if rows is not None and key in rows:
            return rows[key]
        row = await self._read(key, rows)
        shared = current_connection.get()
        pending = fsm_pending(shared) if shared is not None else None
        if pending and key in pending:  # written earlier in this update, not yet flushed
            state, data = row if row is not None else (None, "{}")
            row = (pending[key].get("state", state), pending[key].get("data", data))
            if rows is not None:
                rows[key] = row
        return row

    async def _read(self, key: str, rows: dict[str, Row] | None) -> Row:
        async with self._connection() as conn:
            result = await conn.execute(_SELECT_ROW, {"key": key})
            found = result.first()
        row: Row = None if found is None else (found.state, found.data)
        if rows is not None:
            rows[key] = row
        return row

    async def _upsert(self, key: str, **values: Any) -> None:
        shared = current_connection.get()
        pending = fsm_pending(shared) if shared is not None else None
        if pending is not None:
            # Inside the update's unit of work: recorded, written once when it commits
            # (state and data in one statement; storage/memo.py), gone if it rolls back.
            pending.setdefault(key, {}).update(values)
        else:
            # One atomic statement (INSERT .. ON CONFLICT DO UPDATE, both dialects):
            # two writers of the same key never fail on the primary key, and on
            # PostgreSQL a failed insert would otherwise abort the shared transaction.
            async with self._connection() as conn:
                await conn.execute(*fsm_upsert(conn.dialect.name, key, values))
        rows = current_fsm_rows.get() if shared is not None else None
        if rows is not None:
            if key not in rows:
                return  # not read in this update: the next read asks (and adds what is pending)
            old = rows[key]
            state, data = old if old is not None else (None, "{}")
            rows[key] = (values.get("state", state), values.get("data", data))

    def _known(self, key: str) -> Row:
        """The row this update already read or wrote (None: no row, or not known without
        a read)."""
        if current_connection.get() is None:
            return None
        rows = current_fsm_rows.get()
        return None if rows is None else rows.get(key)

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        built = self.built(key)
        known = self._known(built)
        if known is not None and known[0] == value:
            return  # the row already holds it (read or written in this update)
        await self._upsert(built, state=value)

    async def get_state(self, key: StorageKey) -> str | None:
        row = await self._row(self.built(key))
        return None if row is None else row[0]

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        """The data as JSON, sealed when there is a cipher; nothing written when the row
        this update read (or wrote) already holds the same JSON — a step that changes
        nothing in the dialogue neither encrypts again nor writes the row."""
        encoded = json.dumps(dict(data), ensure_ascii=False)
        built = self.built(key)
        known = self._known(built)
        if (
            known is not None
            and (self.cipher is None or known[1].startswith((SEALED, ENCRYPTED)))
            and self._plain(known[1]) == encoded
        ):
            return  # (a plain row written before encryption was switched on is sealed now)
        if self.cipher is not None:
            encoded = SEALED + self.cipher.seal(encoded)
        await self._upsert(built, data=encoded)

    def _plain(self, raw: str) -> str:
        """The JSON text of a data column: sealed (AES-GCM), Fernet (written before the
        fifth pass of issue 8) or plain (written before encryption was switched on)."""
        if raw.startswith(SEALED) or raw.startswith(ENCRYPTED):
            if self.cipher is None:
                raise ValueError("FSM data is encrypted but the storage has no cipher")
            if raw.startswith(SEALED):
                return self.cipher.unseal(raw[len(SEALED) :])
            return self.cipher.decrypt(raw[len(ENCRYPTED) :]) or "{}"
        return raw

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        row = await self._row(self.built(key))
        if row is None:
            return {}
        loaded: dict[str, Any] = json.loads(self._plain(row[1]))
        return loaded

    async def forget(self, key: StorageKey) -> None:
        built = self.built(key)
        shared = current_connection.get()
        pending = fsm_pending(shared) if shared is not None else None
        if pending is not None:
            pending.pop(built, None)
        async with self._connection() as conn:
            await conn.execute(delete(fsm_states).where(fsm_states.c.key == built))
        rows = current_fsm_rows.get() if current_connection.get() is not None else None
        if rows is not None:
            rows[built] = None

    async def close(self) -> None:
        return None


# --- The dialogue data's encrypted JSON, also what storage/fsm_redis.py writes to Redis ---


def encrypted_json(cipher: PersonalDataCipher) -> tuple[Any, Any]:
    """``json_dumps`` / ``json_loads`` for aiogram's RedisStorage that store the
    dialogue data as ``gcm:<token>`` like DatabaseStorage; ``fernet:`` values and plain
    JSON written before are still read."""

    def dumps(data: Any) -> str:
        return SEALED + cipher.seal(json.dumps(data, ensure_ascii=False))

    def loads(raw: str | bytes) -> Any:
        text = raw.decode() if isinstance(raw, bytes) else raw
        if text.startswith(SEALED):
            text = cipher.unseal(text[len(SEALED) :])
        elif text.startswith(ENCRYPTED):
            text = cipher.decrypt(text[len(ENCRYPTED) :]) or "{}"
        return json.loads(text)

    return dumps, loads
