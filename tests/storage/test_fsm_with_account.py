"""The dialogue row read with the account (storage/repos/users.py ``get(..., dialogue=)``).

bot/middlewares/database.py reads the user's FSM row in the statement that loads the
account; the FSM storage then answers ``get_state`` / ``get_data`` from the unit of
work without a statement of its own. Checked on SQLite and PostgreSQL.
"""

from __future__ import annotations

from typing import Any

from aiogram.fsm.storage.base import StorageKey
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.crypto import PersonalDataCipher
from storage.fsm import DatabaseStorage
from storage.uow import UnitOfWorkFactory, current_fsm_rows
from tests.conftest import NOW


async def test_the_dialogue_row_comes_with_the_account(
    engine: AsyncEngine, cipher: PersonalDataCipher
) -> None:
    uows = UnitOfWorkFactory(engine, cipher)
    storage = DatabaseStorage(engine, cipher=cipher)
    key = StorageKey(bot_id=1, chat_id=77, user_id=77)
    other = StorageKey(bot_id=1, chat_id=78, user_id=78)
    built, built_other = storage.key_builder.build(key), storage.key_builder.build(other)
    async with uows() as uow:
        await uow.users.ensure(77, NOW)
        await uow.users.ensure(78, NOW)
        await uow.commit()
    await storage.set_state(key, "Form:name")  # outside a unit of work: its own statement
    await storage.set_data(key, {"draft": {"step": "day"}})

    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        async with uows() as uow:
            user = await uow.users.get(77, dialogue=built)
            assert user is not None and user.id == 77
            rows = current_fsm_rows.get()
            assert rows is not None and rows[built] is not None
            statements.clear()
            assert await storage.get_state(key) == "Form:name"
            assert await storage.get_data(key) == {"draft": {"step": "day"}}
            assert statements == []  # answered from what the account's statement brought
            # No row for this user yet: "no row" is remembered the same way.
            assert await uow.users.get(78, dialogue=built_other) is not None
            assert rows[built_other] is None
            statements.clear()
            assert await storage.get_state(other) is None and statements == []
            await uow.commit()
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
