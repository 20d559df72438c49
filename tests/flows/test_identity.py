"""Issue 7 items 4, 5 and 18 (SNILS): erasure, confirmation against the register, probing.

Each test is named after what broke; all run through the real Dispatcher and
the console emulator with the demo register (docs/demo.md).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from emulator.harness import ConsoleWorld
from tests.flows.booking_helpers import BOOK_3_DEC_10, NOW, REGISTER_1001, rows

START_RU = "/start\n[Русский]\n[Согласен]\n!contact\n"
SMIRNOVA_SNILS = "203-948-576 79"
SMIRNOVA_POLICY = "7700002345678910"


@pytest.fixture
async def world() -> AsyncIterator[ConsoleWorld]:
    w = await ConsoleWorld.start(now=NOW, lang="ru")
    yield w
    await w.close()


# --- item 4: erasure -----------------------------------------------------------------


async def test_erased_accounts_visit_came_back_after_a_new_registration(
    world: ConsoleWorld,
) -> None:
    await world.run(REGISTER_1001 + BOOK_3_DEC_10)
    await world.run("/delete_me")
    prompt = world.last_text()
    assert "Предстоящие записи к врачу будут отменены" in prompt
    assert "Сохранятся" in prompt and "обязаны хранить" in prompt
    transcript = await world.run("[Удалить данные]")
    # what is kept: the visit (cancelled, slot back), with no link to 1001 or any data
    kept = await rows(world, "SELECT user_id, status, cancel_reason, patient_id FROM appointments")
    assert [(k[0], k[1]) for k in kept] == [(0, "cancelled")]
    assert kept[0][2] in (None, "")
    patient = await rows(
        world,
        "SELECT owner_user_id, name_enc, birth_date_enc, sex, snils_enc, snils_hash, "
        "policy_enc, email_enc FROM patients",
    )
    assert patient == [(0,) + (None,) * 7]  # owned by the placeholder account 0
    for table, column in (
        ("appointment_events", "actor_user_id"),
        ("outbox", "user_id"),
        ("wait_list", "user_id"),
        ("journal", "user_id"),
        ("holds", "user_id"),
    ):
        assert not await rows(world, f"SELECT 1 FROM {table} WHERE {column} = 1001"), table
    # the erasure withdrew the visit from the phone's calendar (METHOD:CANCEL) …
    assert "appointment-A-0000001-cancelled.ics" in transcript
    # … and a new registration from the same Telegram account starts empty
    transcript = await world.run(REGISTER_1001)
    assert "Учётная запись создана" in world.last_text()
    transcript += await world.run("[Мои записи]")
    assert "Предстоящих записей нет" in world.last_text()
    transcript += await world.run("[Прошедшие]")
    assert "Прошедших записей нет" in world.last_text()
    assert "account deleted" not in transcript and "A-0000001" not in transcript


# --- item 5: confirmation ------------------------------------------------------------


async def test_snils_and_policy_alone_gave_a_confirmed_account(world: ConsoleWorld) -> None:
    await world.run(START_RU + f"И И\n01.01.1990\n[Мужской]\n{SMIRNOVA_SNILS}\n{SMIRNOVA_POLICY}")
    await world.run("[Пропустить]")
    text = world.last_text()
    assert "Учётная запись создана" in text and "стандартная" in text
    assert "подтверждённая" not in text
    assert "ФИО" in text and "дата рождения" in text and "пол" in text
    # nothing of the register's person is revealed
    for secret in ("Смирнова", "Анна", "03.09.1990", "Женский", "№ 45"):
        assert secret not in text
    assert await rows(world, "SELECT level FROM users WHERE id = 1001") == [("standard",)]
    assert await rows(world, "SELECT confirmed, attached_clinic_id FROM patients") == [
        (False, None)
    ]


async def test_one_mismatched_field_is_named_and_fixing_it_confirms(world: ConsoleWorld) -> None:
    await world.run(
        START_RU
        + f"Смирнова Анна Сергеевна\n03.09.1990\n[Мужской]\n{SMIRNOVA_SNILS}\n{SMIRNOVA_POLICY}"
    )
    await world.run("[Пропустить]")
    text = world.last_text()
    assert "стандартная" in text and "данные: пол." in text
    await world.run("[Профиль]\n[✏️ Пол]\n[Женский]")
    assert "подтверждённая" in world.last_text()
    assert await rows(world, "SELECT level FROM users WHERE id = 1001") == [("confirmed",)]
    # a name edit is matched again: no longer the register's person
    await world.run("[Профиль]\n[✏️ ФИО]\nСмирнова Анна Петровна")
    assert "данные: ФИО" in world.last_text()
    assert await rows(world, "SELECT level FROM users WHERE id = 1001") == [("standard",)]


async def test_register_birth_date_could_be_guessed_one_profile_edit_at_a_time(
    world: ConsoleWorld,
) -> None:
    """With a stranger's SNILS and policy, each edit named the field still wrong and a right
    guess confirmed the account: after 3 mismatches a day the register no longer answers."""
    await world.run(
        START_RU
        + f"Смирнова Анна Сергеевна\n01.12.2000\n[Женский]\n{SMIRNOVA_SNILS}\n{SMIRNOVA_POLICY}"
    )
    await world.run("[Пропустить]")  # miss 1
    assert "данные: дата рождения" in world.last_text()
    for day in ("01.09.1990", "02.09.1990"):  # misses 2 and 3
        await world.run(f"[Профиль]\n[✏️ Дата рождения]\n{day}")
    await world.run("[Профиль]\n[✏️ Дата рождения]\n03.09.1990")  # the right one, too late
    text = world.last_text()
    assert "подтверждённая" not in text and "до завтра" in text
    assert "дата рождения." not in text
    assert await rows(world, "SELECT level FROM users WHERE id = 1001") == [("standard",)]
    # the lock is per SNILS: erasing and registering again does not reset it
    await world.run("/delete_me\n[Удалить данные]")
    await world.run(
        START_RU
        + f"Смирнова Анна Сергеевна\n03.09.1990\n[Женский]\n{SMIRNOVA_SNILS}\n{SMIRNOVA_POLICY}"
        + "\n[Пропустить]"
    )
    assert "подтверждённая" not in world.last_text()
    # a day later the register answers again
    await world.run("!clock +25h\n[Профиль]\n[✏️ Пол]\n[Мужской]\n[Профиль]\n[✏️ Пол]\n[Женский]")
    assert await rows(world, "SELECT level FROM users WHERE id = 1001") == [("confirmed",)]


async def test_a_13_year_old_could_open_an_account(world: ConsoleWorld) -> None:
    # NOW is 01.12.2026: born 02.12.2012 is 13, born 01.12.2012 turns 14 today.
    await world.run(START_RU + "Иванов Пётр Иванович\n02.12.2012")
    text = world.last_text()
    assert "с 14 лет" in text and "«Мои близкие»" in text
    assert "Выберите пол" not in text
    await world.run("01.12.2012")
    assert "Выберите пол" in world.last_text()


async def test_profile_edit_to_an_age_under_14_was_accepted(world: ConsoleWorld) -> None:
    await world.run(REGISTER_1001 + "[Профиль]\n[✏️ Дата рождения]\n15.06.2017")
    assert "с 14 лет" in world.last_text()
    await world.run("[Профиль]")
    assert "12.04.1985" in world.last_text()


# --- item 18: SNILS probing and impossible numbers ---------------------------------------


async def test_snils_step_told_that_a_snils_is_registered(world: ConsoleWorld) -> None:
    await world.run(REGISTER_1001)
    transcript = await world.run(
        "@1002\n" + START_RU + "Петров Олег Иванович\n03.09.1990\n[Мужской]\n112-233-445 95"
    )
    assert "полиса ОМС" in world.last_text()  # the SNILS step says nothing about other accounts
    transcript += await world.run("1234567890123452\n[Пропустить]")
    text = world.last_text()
    assert "Не удалось зарегистрировать профиль" in text and "поддержку" in text
    assert "СНИЛС" in text  # back on the SNILS step, asking to check it
    transcript += await world.run("123-456-789 64")
    transcript += await world.run("1234567890123452\n[Пропустить]")
    assert "Учётная запись создана" in world.last_text()
    assert "зарегистрирован" not in transcript
    # the profile edit answers the same neutral way
    await world.run("[Профиль]\n[✏️ СНИЛС]\n112-233-445 95")
    assert "Не удалось зарегистрировать профиль" in world.last_text()


@pytest.mark.parametrize("snils", ["000-000-000 00", "111-111-111 45"])
async def test_all_zero_snils_was_accepted_in_onboarding(world: ConsoleWorld, snils: str) -> None:
    await world.run(START_RU + f"Иванов Иван Иванович\n12.04.1985\n[Мужской]\n{snils}")
    assert "не выдаются" in world.last_text()
    assert "полиса ОМС" not in world.last_text()


async def test_consent_did_not_say_names_and_birth_dates_are_encrypted(
    world: ConsoleWorld,
) -> None:
    await world.run("/start\n[Русский]")
    text = world.last_text()
    assert "В зашифрованном виде хранятся: ФИО, дата рождения, СНИЛС, полис, телефон" in text
