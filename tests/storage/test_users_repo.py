"""UserRepository on SQLite and PostgreSQL: round trips, encryption at rest, lookups, erasure."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from sqlalchemy import insert, select, text

from domain.errors import Duplicate
from domain.models import AccountLevel, JournalEntry, Sex
from storage.crypto import PersonalDataCipher
from storage.schema import attachments, clinics, regions
from storage.uow import UnitOfWorkFactory
from tests.conftest import NOW

SNILS = "112-233-445 95"
POLICY = "8451999122899990"
EMAIL = "ivan.petrov@example.ru"
PHONE = "+79161234567"


async def add_register(uow_factory: UnitOfWorkFactory, cipher: PersonalDataCipher) -> None:
    async with uow_factory() as uow:
        await uow.conn.execute(
            insert(regions).values(id="msk", name_ru="Москва", name_en="Moscow", tz="Europe/Moscow")
        )
        await uow.conn.execute(
            insert(clinics).values(
                id=1, region_id="msk", name="ГП №1", address="ул. Ленина, 1", tz="Europe/Moscow"
            )
        )
        await uow.conn.execute(
            insert(attachments).values(
                snils_hash=cipher.lookup_hash("11223344595"),
                policy_hash=cipher.lookup_hash(POLICY),
                name_hash=cipher.name_hash("Петров", "Иван", "Сергеевич"),
                birth_date_hash=cipher.tagged_hash("birth", "1985-04-12"),
                sex_hash=cipher.tagged_hash("sex", "M"),
                clinic_id=1,
            )
        )
        await uow.commit()


async def make_user(uow_factory: UnitOfWorkFactory, user_id: int = 1001, snils: str = SNILS) -> int:
    async with uow_factory() as uow:
        await uow.users.ensure(user_id, NOW)
        await uow.users.set_locale(user_id, "ru")
        await uow.users.set_consent(user_id, NOW)
        await uow.users.set_phone(user_id, PHONE)
        await uow.users.set_level(user_id, AccountLevel.STANDARD)
        patient = await uow.users.save_self_patient(
            user_id,
            surname="Петров",
            name="Иван",
            patronymic="Сергеевич",
            birth_date=date(1985, 4, 12),
            sex=Sex.MALE,
            snils=snils,
            policy=POLICY,
            email=EMAIL,
            now=NOW,
        )
        await uow.commit()
        return patient.id


async def test_user_and_self_patient_round_trip(uow_factory: UnitOfWorkFactory) -> None:
    patient_id = await make_user(uow_factory)
    async with uow_factory() as uow:
        user = await uow.users.get(1001)
        assert user is not None
        assert (user.locale, user.phone, user.level, user.consent_at) == (
            "ru",
            PHONE,
            AccountLevel.STANDARD,
            NOW,
        )
        patient = await uow.users.patient(patient_id)
        assert patient is not None
        assert patient.full_name == "Петров Иван Сергеевич"
        assert (patient.snils, patient.policy, patient.email) == (SNILS, POLICY, EMAIL)
        assert patient.birth_date == date(1985, 4, 12) and patient.sex == Sex.MALE
        assert patient.relation == "self" and patient.owner_user_id == 1001
        assert [p.id for p in await uow.users.patients_of(1001)] == [patient_id]
        assert await uow.users.self_patient(1001) == patient
        assert await uow.users.patients_of(2002) == []


async def test_save_self_patient_updates_in_place(uow_factory: UnitOfWorkFactory) -> None:
    patient_id = await make_user(uow_factory)
    async with uow_factory() as uow:
        again = await uow.users.save_self_patient(
            1001,
            surname="Петров",
            name="Иван",
            patronymic="",
            birth_date=date(1985, 4, 12),
            sex=Sex.MALE,
            snils=SNILS,
            policy="1234567890123452",
            email=None,
            now=NOW,
        )
        await uow.commit()
    assert again.id == patient_id
    assert (again.patronymic, again.policy, again.email) == ("", "1234567890123452", None)


async def test_names_and_birth_dates_are_stored_in_plaintext_no_more(
    uow_factory: UnitOfWorkFactory,
) -> None:
    """Issue 7 item 15: the raw patients row shows no name and no birth date."""
    await make_user(uow_factory)
    async with uow_factory() as uow:
        rows = (await uow.conn.execute(text("SELECT * FROM patients"))).mappings().all()
    raw = " ".join(f"{k}={v}" for row in rows for k, v in row.items())
    for secret in ("Петров", "Иван", "Сергеевич", "1985", "12.04", "04-12"):
        assert secret not in raw, secret
    assert {"surname", "name", "patronymic", "birth_date"}.isdisjoint(rows[0].keys())


async def test_personal_data_is_encrypted_at_rest(uow_factory: UnitOfWorkFactory) -> None:
    await make_user(uow_factory)
    async with uow_factory() as uow:
        dump = []
        for table in ("users", "patients"):
            rows = await uow.conn.execute(text(f"SELECT * FROM {table}"))
            dump.extend(str(v) for row in rows for v in row)
    raw = " ".join(dump)
    for secret in (
        SNILS,
        "11223344595",
        "445 95",
        POLICY,
        EMAIL,
        "ivan.petrov",
        PHONE,
        "9161234567",
    ):
        assert secret not in raw, secret


async def test_same_snils_cannot_be_self_of_two_accounts(uow_factory: UnitOfWorkFactory) -> None:
    await make_user(uow_factory, 1001)
    with pytest.raises(Duplicate):
        await make_user(uow_factory, 2002)
    async with uow_factory() as uow:
        assert len(await uow.users.patients_with_snils("11223344595")) == 1


async def test_attachment_lookup_and_confirmation(
    uow_factory: UnitOfWorkFactory, cipher: PersonalDataCipher
) -> None:
    await add_register(uow_factory, cipher)
    patient_id = await make_user(uow_factory)
    async with uow_factory() as uow:
        patient = await uow.users.patient(patient_id)
        assert patient is not None
        found = await uow.users.register_check(patient)
        assert found is not None and found.clinic_id == 1 and found.mismatched == ()
        other = replace(patient, surname="ПЕТРОВ", name="иван", sex=Sex.FEMALE)
        found = await uow.users.register_check(other)  # case does not matter, sex does
        assert found is not None and found.mismatched == ("sex",)
        older = replace(patient, birth_date=date(1984, 4, 12), name="Пётр")
        found = await uow.users.register_check(older)
        assert found is not None and found.mismatched == ("name", "birth_date")
        assert await uow.users.register_check(replace(patient, policy="1234567890123452")) is None
        await uow.users.set_confirmation(patient_id, confirmed=True, clinic_id=1)
        await uow.commit()
    async with uow_factory() as uow:
        patient = await uow.users.patient(patient_id)
        assert patient is not None and patient.confirmed and patient.attached_clinic_id == 1


async def test_erase_blanks_personal_data_and_keeps_appointment_ids(
    uow_factory: UnitOfWorkFactory,
) -> None:
    patient_id = await make_user(uow_factory)
    async with uow_factory() as uow:
        await uow.journal.add(JournalEntry(user_id=1001, at=NOW, action="account.registered"))
        await uow.users.erase(1001, NOW + timedelta(days=1))
        await uow.journal.anonymise_user(1001, "erased-x")
        await uow.commit()
    async with uow_factory() as uow:
        user = await uow.users.get(1001)
        assert user is not None
        assert (user.status, user.level, user.phone, user.consent_at) == (
            "deleted",
            AccountLevel.NONE,
            None,
            None,
        )
        assert await uow.users.patients_of(1001) == []
        assert await uow.users.patient(patient_id) is None
        row = (await uow.conn.execute(text("SELECT * FROM patients"))).one()
        assert row.id == patient_id
        assert (row.name_enc, row.birth_date_enc, row.snils_enc, row.policy_enc) == (None,) * 4
        assert (row.email_enc, row.sex, row.snils_hash) == (None,) * 3
        assert row.owner_user_id == 0  # the placeholder account: no Telegram id
        assert await uow.journal.for_user(1001) == []
        journal = (await uow.conn.execute(text("SELECT user_id, subject FROM journal"))).all()
        assert [tuple(j) for j in journal] == [(None, "erased-x")]
        # SNILS is free again for a new account
        assert await uow.users.patients_with_snils(SNILS) == []
    await make_user(uow_factory, 2002)


async def test_ensure_reactivates_an_erased_account(uow_factory: UnitOfWorkFactory) -> None:
    await make_user(uow_factory)
    async with uow_factory() as uow:
        await uow.users.erase(1001, NOW)
        user = await uow.users.ensure(1001, NOW)
        assert (user.status, user.level) == ("active", AccountLevel.NONE)
        assert (await uow.conn.execute(select(text("1")))).scalar_one() == 1
