"""Account services against the real unit of work (SQLite; PostgreSQL when configured)."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import text

from domain import accounts
from domain.errors import AccountNotReady, Duplicate, NotOwner, ValidationFailed
from domain.models import AccountLevel, Sex
from domain.validators import Field
from storage.crypto import PersonalDataCipher
from storage.uow import UnitOfWorkFactory
from tests.conftest import NOW
from tests.storage.test_users_repo import POLICY, SNILS, add_register

TODAY = NOW.date()
PROFILE = accounts.Profile(
    surname="Петров",
    name="Иван",
    patronymic="Сергеевич",
    birth_date=date(1985, 4, 12),
    sex=Sex.MALE,
    snils=SNILS,
    policy=POLICY,
    email="ivan@example.ru",
)
OTHER_POLICY = "1234567890123452"


def valid_snils(body: str) -> str:
    from domain.validators import format_snils, snils_checksum

    return format_snils(body + f"{snils_checksum(body):02d}")


async def onboard(
    uow_factory: UnitOfWorkFactory, user_id: int = 1001, profile: accounts.Profile = PROFILE
) -> accounts.Verification:
    async with uow_factory() as uow:
        await accounts.start(uow, user_id, NOW)
        await accounts.set_language(uow, user_id, "ru", NOW)
        await accounts.give_consent(uow, user_id, NOW)
        await accounts.set_phone(
            uow, user_id, contact_user_id=user_id, phone="79000001001", now=NOW
        )
        result = await accounts.register_profile(uow, user_id, profile, NOW)
        await uow.commit()
        return result


@pytest.fixture
async def register(uow_factory: UnitOfWorkFactory, cipher: PersonalDataCipher) -> None:
    await add_register(uow_factory, cipher)


async def test_register_confirmed_via_attachment_register(
    uow_factory: UnitOfWorkFactory, register: None
) -> None:
    result = await onboard(uow_factory)
    assert result == accounts.Verification(AccountLevel.CONFIRMED, 1)
    async with uow_factory() as uow:
        user = await uow.users.get(1001)
        assert user is not None and user.level == AccountLevel.CONFIRMED
        assert user.phone == "+79000001001"
        patient = await uow.users.self_patient(1001)
        assert patient is not None and patient.confirmed and patient.attached_clinic_id == 1


async def test_register_standard_when_not_in_register(
    uow_factory: UnitOfWorkFactory, register: None
) -> None:
    profile = accounts.Profile(**{**_asdict(PROFILE), "snils": valid_snils("157384920")})
    result = await onboard(uow_factory, profile=profile)
    assert result == accounts.Verification(AccountLevel.STANDARD, None)


async def test_snils_and_policy_alone_confirmed_someone_else(
    uow_factory: UnitOfWorkFactory, register: None
) -> None:
    """Issue 7 item 5: the register's name, birth date and sex must match too."""
    other = {"surname": "И", "name": "И", "patronymic": "", "sex": Sex.FEMALE}
    profile = accounts.Profile(**{**_asdict(PROFILE), **other})
    result = await onboard(uow_factory, profile=profile)
    assert result == accounts.Verification(AccountLevel.STANDARD, None, ("name", "sex"))
    async with uow_factory() as uow:
        patient = await uow.users.self_patient(1001)
        assert patient is not None and not patient.confirmed
        assert patient.attached_clinic_id is None


async def test_account_holder_under_14_was_registered(uow_factory: UnitOfWorkFactory) -> None:
    young = accounts.Profile(**{**_asdict(PROFILE), "birth_date": date(2013, 1, 1)})
    with pytest.raises(ValidationFailed) as caught:
        await onboard(uow_factory, profile=young)
    assert caught.value.reason == "too_young"


def _asdict(p: accounts.Profile) -> dict[str, object]:
    return {f: getattr(p, f) for f in p.__slots__}  # type: ignore[attr-defined]


async def test_someone_elses_contact_is_refused(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await accounts.start(uow, 1001, NOW)
        await accounts.give_consent(uow, 1001, NOW)
        with pytest.raises(NotOwner):
            await accounts.set_phone(uow, 1001, contact_user_id=2002, phone="+79161234567", now=NOW)
        with pytest.raises(NotOwner):
            await accounts.set_phone(uow, 1001, contact_user_id=None, phone="+79161234567", now=NOW)
        user = await uow.users.get(1001)
        assert user is not None and user.phone is None


async def test_profile_needs_consent_and_phone(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await accounts.start(uow, 1001, NOW)
        with pytest.raises(AccountNotReady):
            await accounts.set_phone(uow, 1001, contact_user_id=1001, phone="+79161234567", now=NOW)
        await accounts.give_consent(uow, 1001, NOW)
        with pytest.raises(AccountNotReady):
            await accounts.register_profile(uow, 1001, PROFILE, NOW)


async def test_language_must_be_supported(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        with pytest.raises(ValidationFailed):
            await accounts.set_language(uow, 1001, "de", NOW)


async def test_duplicate_snils_across_accounts(uow_factory: UnitOfWorkFactory) -> None:
    await onboard(uow_factory, 1001)
    with pytest.raises(Duplicate):
        await onboard(uow_factory, 2002)


async def test_policy_edit_drops_to_standard(
    uow_factory: UnitOfWorkFactory, register: None
) -> None:
    await onboard(uow_factory)
    async with uow_factory() as uow:
        result = await accounts.edit_field(uow, 1001, Field.POLICY, OTHER_POLICY, NOW, TODAY)
        await uow.commit()
    assert result == accounts.Verification(AccountLevel.STANDARD, None)
    async with uow_factory() as uow:
        patient = await uow.users.self_patient(1001)
        assert patient is not None and patient.policy == OTHER_POLICY and not patient.confirmed
        # and back to the registered policy: confirmed again
        result = await accounts.edit_field(uow, 1001, Field.POLICY, POLICY, NOW, TODAY)
        assert result == accounts.Verification(AccountLevel.CONFIRMED, 1)


async def test_phone_change_reconfirms(uow_factory: UnitOfWorkFactory, register: None) -> None:
    await onboard(uow_factory)
    async with uow_factory() as uow:
        await accounts.set_phone(uow, 1001, contact_user_id=1001, phone="+79161234567", now=NOW)
        actions = [e.action for e in await uow.journal.for_user(1001)]
        assert "account.reconfirmation" in actions
        user = await uow.users.get(1001)
        assert user is not None and user.level == AccountLevel.CONFIRMED


async def test_edits_validate_like_onboarding(uow_factory: UnitOfWorkFactory) -> None:
    await onboard(uow_factory)
    async with uow_factory() as uow:
        with pytest.raises(ValidationFailed) as info:
            await accounts.edit_field(uow, 1001, Field.SNILS, "112-233-445 96", NOW, TODAY)
        assert info.value.reason == "checksum"
        with pytest.raises(ValidationFailed):
            await accounts.edit_field(uow, 1001, Field.BIRTH_DATE, "31.02.2000", NOW, TODAY)
        await accounts.edit_field(uow, 1001, Field.NAME, "сидоров пётр", NOW, TODAY)
        await accounts.edit_field(uow, 1001, Field.EMAIL, None, NOW, TODAY)
        await accounts.edit_field(uow, 1001, Field.SEX, "F", NOW, TODAY)
        await accounts.edit_field(uow, 1001, Field.BIRTH_DATE, "01.01.1990", NOW, TODAY)
        patient = await uow.users.self_patient(1001)
        assert patient is not None
        assert (patient.full_name, patient.email, patient.sex, patient.birth_date) == (
            "Сидоров Пётр",
            None,
            Sex.FEMALE,
            date(1990, 1, 1),
        )


async def test_journal_has_no_personal_data(uow_factory: UnitOfWorkFactory, register: None) -> None:
    await onboard(uow_factory)
    async with uow_factory() as uow:
        await accounts.edit_field(uow, 1001, Field.POLICY, OTHER_POLICY, NOW, TODAY)
        entries = await uow.journal.for_user(1001)
    dump = json.dumps([e.details for e in entries], ensure_ascii=False)
    for secret in ("Петров", "112", POLICY, OTHER_POLICY, "ivan@", "7900"):
        assert secret not in dump
    assert {"account.started", "account.consent", "account.phone", "account.registered"} <= {
        e.action for e in entries
    }


async def test_delete_account_erases_and_anonymises(uow_factory: UnitOfWorkFactory) -> None:
    await onboard(uow_factory)
    async with uow_factory() as uow:
        await accounts.delete_account(uow, 1001, NOW + timedelta(hours=1), "anon-1")
        await uow.commit()
    async with uow_factory() as uow:
        user = await uow.users.get(1001)
        assert user is not None and user.status == "deleted" and user.phone is None
        assert await uow.users.self_patient(1001) is None
        rows = (await uow.conn.execute(text("SELECT user_id, subject, action FROM journal"))).all()
        assert rows and all(r.user_id is None and r.subject == "anon-1" for r in rows)
        assert "account.deleted" in {r.action for r in rows}
        # /start again begins a fresh account
        again = await accounts.start(uow, 1001, NOW + timedelta(hours=2))
        assert again.level == AccountLevel.NONE and again.status == "active"
