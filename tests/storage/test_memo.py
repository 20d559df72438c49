"""storage/memo.py: what an update reads twice is read once, and never read stale.

Issue 8 "Fast": a booking step ran 10–19 statements, several of them the same row
again. The dialogue state is now written once per update (at commit), the user's
patients come with the user, a slot is read once until the next write, and the
directory by id is shared by a minute of units of work — each checked here for the
statements it saves and for the writes that must end it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from aiogram.fsm.storage.base import StorageKey
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.models import Sex
from storage.crypto import PersonalDataCipher
from storage.demo import seed_demo
from storage.fsm import DatabaseStorage
from storage.uow import UnitOfWorkFactory
from tests.conftest import NOW

KEY = StorageKey(bot_id=42, chat_id=7, user_id=7)


@contextmanager
def statements(engine: AsyncEngine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def test_dialogue_state_is_one_upsert_at_commit(
    engine: AsyncEngine, cipher: PersonalDataCipher
) -> None:
    uow_factory, storage = UnitOfWorkFactory(engine, cipher), DatabaseStorage(engine)
    with statements(engine) as seen:
        async with uow_factory() as uow:
            await storage.set_state(KEY, "Form:name")
            await storage.update_data(KEY, {"step": 1})
            await storage.update_data(KEY, {"more": 2})
            assert await storage.get_state(KEY) == "Form:name"  # its own writes, unflushed
            assert not [s for s in seen if "fsm_states" in s and not s.startswith("SELECT")]
            await uow.commit()
    assert len([s for s in seen if s.startswith("INSERT INTO fsm_states")]) == 1
    assert await DatabaseStorage(engine).get_data(KEY) == {"step": 1, "more": 2}


async def test_a_commit_from_outside_the_unit_of_work_writes_the_state(
    engine: AsyncEngine, cipher: PersonalDataCipher
) -> None:
    """bot/middlewares/commit_before_send.py commits the connection itself."""
    uow_factory, storage = UnitOfWorkFactory(engine, cipher), DatabaseStorage(engine)
    async with uow_factory() as uow:
        await uow.conn.execute(text("SELECT 1"))
        await storage.set_state(KEY, "Form:name")
        await uow.conn.commit()
        await uow.rollback()  # nothing after the commit is kept; the state was committed
    assert await DatabaseStorage(engine).get_state(KEY) == "Form:name"


async def test_unread_data_survives_a_state_write_and_rollback_drops_it(
    engine: AsyncEngine, cipher: PersonalDataCipher
) -> None:
    uow_factory, storage = UnitOfWorkFactory(engine, cipher), DatabaseStorage(engine)
    await storage.set_data(KEY, {"typed": "Иванов"})  # outside: written at once
    async with uow_factory() as uow:
        await storage.set_state(KEY, "Form:birth_date")  # pending, the row not read yet
        assert await storage.get_data(KEY) == {"typed": "Иванов"}
        assert await storage.get_state(KEY) == "Form:birth_date"
        await uow.commit()
    async with uow_factory():
        await storage.set_state(KEY, "Form:name")
        # no commit: never written
    fresh = DatabaseStorage(engine)
    assert await fresh.get_state(KEY) == "Form:birth_date"
    assert await fresh.get_data(KEY) == {"typed": "Иванов"}


async def test_patients_come_with_the_user_until_a_write(
    engine: AsyncEngine, cipher: PersonalDataCipher
) -> None:
    uow_factory = UnitOfWorkFactory(engine, cipher)
    async with uow_factory() as uow:
        await uow.users.ensure(5, NOW)
        await uow.users.save_self_patient(
            5, surname="Иванов", name="Иван", patronymic="", birth_date=date(1985, 4, 12),
            sex=Sex.MALE, snils=None, policy=None, email=None, now=NOW,
        )  # fmt: skip
        await uow.commit()
    async with uow_factory() as uow:
        with statements(engine) as seen:
            assert await uow.users.get(5) is not None
            patients = await uow.users.patients_of(5)
            assert [p.surname for p in patients] == ["Иванов"]
            assert await uow.users.self_patient(5) == patients[0]
            assert await uow.users.patient(patients[0].id) == patients[0]
        # one SELECT of the user with his patients (and SQLite's BEGIN IMMEDIATE)
        assert len([s for s in seen if not s.startswith("BEGIN")]) == 1
        await uow.conn.execute(
            text("UPDATE patients SET sex = 'F' WHERE id = :id"), {"id": patients[0].id}
        )
        after = await uow.users.patients_of(5)  # read again: the memo ended at the write
        assert after[0].sex is Sex.FEMALE


async def test_directory_by_id_is_shared_until_a_write_names_its_table(
    engine: AsyncEngine, cipher: PersonalDataCipher
) -> None:
    await seed_demo(engine, cipher, NOW)
    uow_factory = UnitOfWorkFactory(engine, cipher)
    async with uow_factory() as uow:
        clinic = await uow.directory.clinic(1)
        assert clinic is not None
    with statements(engine) as seen:
        async with uow_factory() as uow:
            assert await uow.directory.clinic(1) == clinic
    assert not [s for s in seen if "clinics" in s]  # served from the engine's cache
    async with uow_factory() as uow:
        await uow.conn.execute(text("UPDATE clinics SET phone = '+7 000' WHERE id = 1"))
        await uow.commit()
    async with uow_factory() as uow:
        changed = await uow.directory.clinic(1)
    assert changed is not None and changed.phone == "+7 000"


def test_a_statements_kind_is_read_from_its_text() -> None:
    from storage.memo import statement_kind

    assert statement_kind("SELECT doctors.id FROM doctors") == (False, False)
    assert statement_kind("  select 1") == (False, False)
    assert statement_kind("BEGIN IMMEDIATE") == (True, False)
    assert statement_kind("UPDATE doctors SET name=?") == (True, True)
    assert statement_kind("update Clinics set phone=?") == (True, True)
    assert statement_kind("UPDATE slots SET status=? RETURNING clinics.zone") == (True, False)
    assert statement_kind("INSERT INTO journal (action) VALUES (?)") == (True, False)
    text = "DELETE FROM specialties WHERE id=?"
    assert statement_kind(text) is statement_kind(text)  # remembered
