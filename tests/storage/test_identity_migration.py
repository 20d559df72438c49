"""0002_identity encrypts the names and birth dates a database already holds (issue 7 item 15)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from storage.crypto import PersonalDataCipher
from storage.db import create_engine
from storage.migrate import upgrade
from storage.uow import UnitOfWorkFactory
from tests.conftest import PG_URL, TEST_KEY, drop_pg_database, requires_pg


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=requires_pg)])
async def bare_engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """An empty, not yet migrated database."""
    if request.param == "sqlite":
        eng = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.sqlite3'}")
        yield eng
        await eng.dispose()
        return
    assert PG_URL is not None
    name = f"zapis_m_{secrets.token_hex(6)}"
    admin = create_async_engine(PG_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    eng = create_engine(make_url(PG_URL).set(database=name).render_as_string(False))
    yield eng
    await eng.dispose()
    await drop_pg_database(name)


async def _old_patient(engine: AsyncEngine) -> None:
    await upgrade(engine, "0001")
    async with engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO users (id, created_at, level) VALUES (7, '2026-11-01', 'standard')")
        )
        await conn.execute(
            text(
                "INSERT INTO patients (owner_user_id, relation, surname, name, patronymic, "
                "birth_date, created_at) VALUES (7, 'self', 'Смирнова', 'Анна', 'Сергеевна', "
                "'1990-09-03', '2026-11-01')"
            )
        )


async def test_existing_plaintext_names_are_encrypted_by_the_migration(
    bare_engine: AsyncEngine,
) -> None:
    await _old_patient(bare_engine)
    await upgrade(bare_engine, encryption_key=TEST_KEY)
    async with bare_engine.connect() as conn:
        rows = (await conn.execute(text("SELECT * FROM patients"))).mappings().all()
    raw = " ".join(str(v) for row in rows for v in row.values())
    for secret in ("Смирнова", "Анна", "Сергеевна", "1990"):
        assert secret not in raw
    async with UnitOfWorkFactory(bare_engine, PersonalDataCipher(TEST_KEY))() as uow:
        patient = await uow.users.self_patient(7)
    assert patient is not None and patient.full_name == "Смирнова Анна Сергеевна"
    assert patient.birth_date is not None and patient.birth_date.isoformat() == "1990-09-03"


async def test_migration_without_a_key_refuses_to_leave_names_in_plaintext(
    bare_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ZAPIS_ENCRYPTION_KEY", raising=False)
    await _old_patient(bare_engine)
    with pytest.raises(RuntimeError, match="ZAPIS_ENCRYPTION_KEY"):
        await upgrade(bare_engine)


async def test_accounts_erased_before_the_fix_stay_linked_no_more(
    bare_engine: AsyncEngine,
) -> None:
    """Issue 7 item 4 on an existing database: an account erased by the old code had its
    blank patient row and kept visit still linked to the Telegram id, with the reason
    «account deleted» stored untranslated."""
    await _old_patient(bare_engine)
    async with bare_engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO patients (id, owner_user_id, relation, surname, name, patronymic, "
                "created_at, deleted_at) VALUES (50, 7, 'self', '', '', '', '2026-10-01', "
                "'2026-10-02')"
            )
        )
        await conn.execute(
            text(
                "INSERT INTO appointments (number, patient_id, user_id, slot_id, doctor_id, "
                "clinic_id, specialty_id, start_utc, minutes, status, cancelled_by, "
                "cancel_reason, created_at, updated_at) VALUES ('A-1', 50, 7, 1, 1, 1, 1, "
                "'2026-10-05 10:00:00', 20, 'cancelled', 'patient', 'account deleted', "
                "'2026-10-01', '2026-10-02')"
            )
        )
    await upgrade(bare_engine, encryption_key=TEST_KEY)
    async with bare_engine.connect() as conn:
        kept = (await conn.execute(text("SELECT user_id, cancel_reason FROM appointments"))).all()
        owner = (await conn.execute(text("SELECT owner_user_id FROM patients WHERE id = 50"))).all()
    assert [tuple(r) for r in kept] == [(0, None)]
    assert [tuple(r) for r in owner] == [(0,)]
    async with UnitOfWorkFactory(bare_engine, PersonalDataCipher(TEST_KEY))() as uow:
        assert await uow.appointments.list_for_owner(7, None) == []


async def test_downgrade_restores_the_plain_columns(bare_engine: AsyncEngine) -> None:
    from alembic import command

    from storage.migrate import alembic_config

    await _old_patient(bare_engine)
    await upgrade(bare_engine, encryption_key=TEST_KEY)
    cfg = alembic_config()
    cfg.attributes["encryption_key"] = TEST_KEY

    def _down(sync_conn: object) -> None:
        cfg.attributes["connection"] = sync_conn
        command.downgrade(cfg, "0001")

    async with bare_engine.connect() as conn:
        await conn.run_sync(_down)
        await conn.commit()
    async with bare_engine.connect() as conn:
        row = (
            await conn.execute(text("SELECT surname, name, patronymic, birth_date FROM patients"))
        ).one()
    assert tuple(str(v) for v in row) == ("Смирнова", "Анна", "Сергеевна", "1990-09-03")
