"""Onboarding and profile through the real Dispatcher with the console emulator (ConsoleWorld)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from emulator.harness import ConsoleWorld

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
DEMO_SNILS = "112-233-445 95"
DEMO_POLICY = "8451999122899990"
CYRILLIC = re.compile(r"[А-Яа-яЁё]")

UP_TO_NAME_RU = """/start
[Русский]
[Согласен]
!contact
"""
# The demo register's person for DEMO_SNILS + DEMO_POLICY (docs/demo.md).
PROFILE_RU = """Иванов Иван Иванович
12.04.1985
[Мужской]
"""


@pytest.fixture
async def world() -> ConsoleWorld:
    w = await ConsoleWorld.start(now=NOW, lang="ru")
    yield w  # type: ignore[misc]
    await w.close()


async def raw_rows(world: ConsoleWorld, sql: str) -> list[tuple[object, ...]]:
    async with world.app.engine.connect() as conn:
        return [tuple(r) for r in (await conn.execute(text(sql))).all()]


async def test_whole_onboarding_ru_confirmed(world: ConsoleWorld) -> None:
    await world.run(UP_TO_NAME_RU + PROFILE_RU + f"{DEMO_SNILS}\n{DEMO_POLICY}\n[Пропустить]")
    last = world.last_text()
    assert "Учётная запись создана" in last
    assert "подтверждённая" in last and "поликлиника прикрепления" in last
    assert ["Записаться к врачу", "Мои записи"] in world.reply_keyboard()
    assert ["Профиль"] in world.reply_keyboard()
    # /start again: straight to the main menu
    await world.run("/start")
    assert "Главное меню" in world.last_text()


async def test_standard_account_for_snils_not_in_register(world: ConsoleWorld) -> None:
    # a valid SNILS (checksum holds) that no clinic's register lists
    await world.run(
        UP_TO_NAME_RU + PROFILE_RU + "12345678964\n" + DEMO_POLICY + "\nivan@example.ru"
    )
    assert "Учётная запись создана" in world.last_text()
    assert "стандартная" in world.last_text()


async def test_each_wrong_value_is_reasked_and_nothing_is_lost(world: ConsoleWorld) -> None:
    await world.run(UP_TO_NAME_RU)
    steps = [
        ("Иванов", "два или три слова"),
        ("Иванов Иван 2", "только буквы"),
        ("Петров Иван Сергеевич", "ДД.ММ.ГГГГ"),
        ("31.02.1985", "Такой даты нет"),
        ("01.01.2030", "не может быть в будущем"),
        ("1985-04-12x", "Не удалось распознать дату"),
        ("12.04.1985", "Выберите пол"),
        ("Средний", "«Мужской» или «Женский»"),
        ("[Мужской]", "СНИЛС"),
        ("112-233-445 96", "не прошёл проверку"),
        ("112-233-445", "ровно 11 цифр"),
        (DEMO_SNILS, "полиса ОМС"),
        ("8451999122899991", "не прошёл проверку"),
        ("12345", "ровно 16 цифр"),
        (DEMO_POLICY, "электронной почты"),
        ("ivan@", "не похоже на адрес"),
        ("ivan@example.ru", "Учётная запись создана"),
    ]
    for line, expected in steps:
        await world.run(line)
        assert expected in world.last_text(), (line, world.last_text())
    await world.run("[Профиль]")
    card = world.last_text()
    assert "Петров Иван Сергеевич" in card and "12.04.1985" in card and "ivan@example.ru" in card


async def test_sticker_where_a_date_is_expected(world: ConsoleWorld) -> None:
    await world.run(UP_TO_NAME_RU + "Петров Иван\n")
    update = await world.users.message(
        world.user_id,
        sticker={
            "file_id": "CAACAgIAAxk",
            "file_unique_id": "AgAD",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        },
    )
    await world.app.dispatcher.feed_raw_update(world.bot, update)
    await world.emulator.flush()
    assert "не стикер" in world.last_text() and "ДД.ММ.ГГГГ" in world.last_text()


async def test_someone_elses_contact_and_typed_phone_are_refused(world: ConsoleWorld) -> None:
    await world.run("/start\n[Русский]\n[Согласен]\n+79161234567")
    assert "Номер, набранный вручную, не принимается" in world.last_text()
    await world.run("!contact +79161234567 2002")
    assert "чужой контакт" in world.last_text()
    rows = await raw_rows(world, "SELECT phone_enc FROM users WHERE id = 1001")
    assert rows == [(None,)]
    await world.run("!contact")
    assert "телефон сохранён" in world.last_text()


async def test_restart_in_the_middle_resumes_at_the_same_step() -> None:
    first = await ConsoleWorld.start(now=NOW, lang="ru")
    db_url = first.db_url
    try:
        await first.run(UP_TO_NAME_RU + "Петров Иван Сергеевич\n12.04.1985\n")
        assert "Выберите пол" in first.last_text()
        # the dialogue table keeps no plaintext personal data
        fsm = await raw_rows(first, "SELECT data FROM fsm_states")
        assert not any("Петров" in str(r) or "12.04" in str(r) or "1985" in str(r) for r in fsm)
    finally:
        await first.world.close()  # keep the database file
    second = await ConsoleWorld.start(now=NOW, lang="ru", db_url=db_url)
    try:
        await second.run(f"[Мужской]\n{DEMO_SNILS}\n{DEMO_POLICY}\n[Пропустить]\n[Профиль]")
        card = second.last_text()
        assert "Петров Иван Сергеевич" in card and "12.04.1985" in card
    finally:
        await second.close()
    if first._tmp is not None:
        first._tmp.cleanup()


async def test_english_onboarding_shows_no_cyrillic() -> None:
    world = await ConsoleWorld.start(now=NOW, lang="en")
    try:
        transcript = await world.run(
            "/start\n[English]\n[I agree]\n!contact\nIvanov 2\nIvanov Ivan Ivanovich\n31.02.1985\n"
            "12.04.1985\n"
            f"[Male]\n112-233-445 96\n{DEMO_SNILS}\n{DEMO_POLICY}\n[Skip]\n[Profile]"
        )
        after_choice = transcript.split("> [English]", 1)[1]
        # Clinic names are directory data (Russian only), not interface text.
        for (name,) in await raw_rows(world, "SELECT name FROM clinics"):
            after_choice = after_choice.replace(str(name), "<clinic>")
        bot_lines = [line for line in after_choice.splitlines() if not line.startswith("@1001 >")]
        assert not [line for line in bot_lines if CYRILLIC.search(line)], bot_lines
        assert "Account: confirmed" in transcript
        assert "***-***-445 95" in world.last_text()
    finally:
        await world.close()


async def test_profile_masks_and_policy_edit_drops_to_standard(world: ConsoleWorld) -> None:
    await world.run(UP_TO_NAME_RU + PROFILE_RU + f"{DEMO_SNILS}\n{DEMO_POLICY}\n[Пропустить]")
    await world.run("[Профиль]")
    card = world.last_text()
    assert "***-***-445 95" in card and "************9990" in card
    assert DEMO_SNILS not in card and DEMO_POLICY not in card
    await world.run("[✏️ Полис ОМС]\n8451999122899991")
    assert "не прошёл проверку" in world.last_text()
    await world.run("1234 5678 9012 3452")
    card = world.last_text()
    assert "************3452" in card and "стандартная" in card
    # back to the registered policy: confirmed again
    await world.run("[Профиль]\n[✏️ Полис ОМС]\n" + DEMO_POLICY)
    assert "подтверждённая" in world.last_text()


async def test_profile_language_switch(world: ConsoleWorld) -> None:
    await world.run(UP_TO_NAME_RU + PROFILE_RU + f"{DEMO_SNILS}\n{DEMO_POLICY}\n[Пропустить]")
    await world.run("[Профиль]\n[Язык]\n[English]")
    assert "Language changed" in world.last_text()
    assert ["Profile"] in world.reply_keyboard()


async def test_delete_me_erases_personal_data(world: ConsoleWorld) -> None:
    await world.run(UP_TO_NAME_RU + PROFILE_RU + f"{DEMO_SNILS}\n{DEMO_POLICY}\nivan@example.ru")
    await world.run("/delete_me")
    assert "Будут удалены" in world.last_text() and "журнал" in world.last_text()
    await world.run("[Удалить данные]")
    assert "удалены" in world.last_text()
    assert world.reply_keyboard() == []
    patients = await raw_rows(world, "SELECT * FROM patients")
    users = await raw_rows(world, "SELECT * FROM users")
    dump = str(patients) + str(users)
    assert "Иванов" not in dump and "Иван" not in dump and "1985" not in dump
    assert all(r[0] is None for r in await raw_rows(world, "SELECT user_id FROM journal"))
    # the same SNILS can register again, as a new account
    await world.run("/start")
    assert "Выберите язык" in world.last_text()


async def test_menu_button_leaves_a_profile_edit(world: ConsoleWorld) -> None:
    await world.run(UP_TO_NAME_RU + PROFILE_RU + f"{DEMO_SNILS}\n{DEMO_POLICY}\n[Пропустить]")
    await world.run("[Профиль]\n[✏️ ФИО]")
    await world.run("[Профиль]")
    assert "Ваш профиль" in world.last_text()
    assert "Профиль" not in world.last_text().split("ФИО:")[1].split("\n")[0]
    assert "Иванов Иван Иванович" in world.last_text()  # the label was not taken as a name


async def test_a_command_during_registration_says_the_menu_comes_after_it() -> None:
    """/menu at the consent or phone step was answered «нужно текстовое сообщение, а не
    стикер…» although text was sent."""
    world = await ConsoleWorld.start(now=NOW, lang="ru")
    try:
        for step in ("@1001\n/start\n[Русский]\n/menu", "[Согласен]\n/menu"):
            out = await world.run(step)
            assert "Меню откроется, когда регистрация будет закончена" in out
            assert "стикер" not in out
        assert "Поделиться номером телефона" in str(world.reply_keyboard())  # still that step
    finally:
        await world.close()
