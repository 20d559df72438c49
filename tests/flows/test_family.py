"""«Мои близкие» through the real Dispatcher (ru): add a child and book for it, the limit
(the fifth relative accepted, the sixth refused), consent of a person with their own
account, removal cancelling upcoming visits, and forged callbacks changing nothing.

One world for the module; the tests run in order like one console session.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from domain.validators import format_snils, luhn_check_digit, snils_checksum
from emulator.harness import ConsoleWorld
from tests.flows.booking_helpers import NOW, REGISTER_1001, REGISTER_1002, rows

pytestmark = pytest.mark.asyncio(loop_scope="module")

CHILD = "Иванова Мария Ивановна"
ADD_CHILD = f"""[Мои близкие]
[Добавить близкого]
[Ребёнок]
{CHILD}
15.06.2017
[Женский]
157-384-920 01
7700001234567895
"""


def snils(n: int) -> str:
    body = f"{200000000 + n * 1117:09d}"
    return format_snils(body + f"{snils_checksum(body) % 100:02d}")


def policy(n: int) -> str:
    body = f"{770000900000000 + n:015d}"
    return body + luhn_check_digit(body)


def add_script(n: int, name: str, relation: str = "Другой родственник") -> str:
    return f"""[Мои близкие]
[Добавить близкого]
[{relation}]
{name}
01.02.1960
[Мужской]
{snils(n)}
{policy(n)}
"""


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def world() -> AsyncIterator[ConsoleWorld]:
    w = await ConsoleWorld.start(now=NOW, lang="ru")
    await w.run(REGISTER_1001)
    yield w
    await w.close()


def callbacks(world: ConsoleWorld, user_id: int, prefix: str) -> list[str]:
    return [d for row in world.buttons(user_id) for _l, d in row if d and d.startswith(prefix)]


async def relatives(world: ConsoleWorld, owner: int = 1001) -> int:
    found = await rows(
        world,
        "SELECT COUNT(*) FROM patients WHERE owner_user_id = :o AND relation != 'self' "
        "AND deleted_at IS NULL",
        o=owner,
    )
    return int(str(found[0][0]))


async def test_section_is_built_and_empty(world: ConsoleWorld) -> None:
    await world.run("[Мои близкие]")
    text = world.last_text()
    assert "Мои близкие (0 из 5)" in text and "недоступен" not in text


async def test_add_child_refuses_wrong_values_on_the_same_step(world: ConsoleWorld) -> None:
    await world.run("[Мои близкие]\n[Добавить близкого]")
    labels = [label for row in world.buttons() for label, _d in row]
    assert labels[:4] == ["Ребёнок", "Супруг(а)", "Родитель", "Другой родственник"]
    await world.run("[Ребёнок]\nИванова\n")
    assert "два или три слова" in world.last_text()
    await world.run(f"{CHILD}\n31.02.2017")
    assert "Такой даты нет в календаре" in world.last_text()
    await world.run("15.06.2017\n[Женский]\n157-384-920 02")
    assert "СНИЛС не прошёл проверку" in world.last_text()
    await world.run("157-384-920 01\n7700001234567890")
    assert "полис" in world.last_text().lower()
    await world.run("7700001234567895")
    assert "Мои близкие (1 из 5)" in world.last_text()
    assert await relatives(world) == 1
    # stored encrypted: no plaintext name or SNILS in the row
    raw = await rows(world, "SELECT name_enc, snils_enc FROM patients WHERE relation = 'child'")
    assert "Мария" not in str(raw) and "157-384" not in str(raw)


async def test_the_child_is_a_patient_choice_and_my_appointments_name_her(
    world: ConsoleWorld,
) -> None:
    await world.run("[Записаться к врачу]")
    labels = [label for row in world.buttons() for label, _d in row]
    assert CHILD in labels
    await world.run(f"[{CHILD}]\n[Педиатр]\n[~№ 110]\n[~Белова]\n[3]")
    time = world.buttons()[0][0][0]
    await world.run(f"[{time}]\n[Подтвердить]")
    assert "Вы записаны" in world.last_text()
    await world.run("[Мои записи]")
    assert f"Пациент: {CHILD}" in world.last_text()


async def test_duplicate_snils_is_refused_on_the_snils_step(world: ConsoleWorld) -> None:
    await world.run(
        "[Мои близкие]\n[Добавить близкого]\n[Родитель]\nИванов Пётр Ильич\n01.01.1950\n"
        "[Мужской]\n157-384-920 01\n7700001234567895"
    )
    assert "уже есть в «Мои близкие»" in world.last_text()
    await world.run("112-233-445 95\n8451999122899990")  # the holder themself
    assert "уже есть в «Мои близкие»" in world.last_text()
    assert await relatives(world) == 1
    await world.run("[Мои близкие]")


async def test_fifth_relative_accepted_sixth_refused(world: ConsoleWorld) -> None:
    for n in range(2, 6):
        await world.run(add_script(n, f"Родственников Номер {'АБВГД'[n - 2]}"))
    assert await relatives(world) == 5
    await world.run("[Мои близкие]")
    assert "Мои близкие (5 из 5)" in world.last_text()
    labels = [label for row in world.buttons() for label, _d in row]
    assert "Добавить близкого" not in labels
    out = await world.run("!callback fma")  # a forged «Добавить близкого»
    assert "уже максимум близких" in out
    assert await relatives(world) == 5


async def test_removing_a_relative_with_a_visit_asks_then_cancels_it(
    world: ConsoleWorld,
) -> None:
    await world.run(f"[Мои близкие]\n[{CHILD}]\n[Удалить]")
    assert "будут отменены (1)" in world.last_text()
    await world.run("[Да, удалить]")
    assert await relatives(world) == 4
    status = await rows(world, "SELECT status, cancelled_by FROM appointments")
    assert status == [("cancelled", "patient")]
    free = await rows(
        world,
        "SELECT s.status FROM slots s JOIN appointments a ON a.slot_id = s.id",
    )
    assert free == [("free",)]
    # her visits leave «Мои записи» with her: a listed visit opened «Эта кнопка устарела»
    await world.run("[Мои записи]")
    assert "A-0000001" not in world.last_text() and "ao:" not in str(world.buttons())


async def test_a_person_with_an_account_is_added_after_consent(world: ConsoleWorld) -> None:
    await world.run(REGISTER_1002)
    await world.run(
        "@1001\n[Мои близкие]\n[Добавить близкого]\n[Супруг(а)]\nСмирнов Олег Петрович\n"
        "03.09.1990\n[Мужской]\n123-456-789 64\n1234567890123452"
    )
    assert "ожидает согласия" in world.last_text(1001)
    assert await relatives(world) == 4
    await world.run("!clock +1m")
    asked = world.last_text(1002)
    assert asked.startswith("Иванов Иван Иванович просит через «Запись» добавить вас")
    assert "Пользователь Запись" not in asked and "Разрешайте, только если знаете его." in asked
    consent = callbacks(world, 1002, "fmc:")
    assert len(consent) == 2
    # the asking account cannot answer for them
    await world.run(f"@1001\n!callback {consent[0]}")
    assert await relatives(world) == 4
    await world.run("@1002\n[Разрешить]")
    assert "Готово" in world.last_text(1002)
    assert await relatives(world) == 5
    await world.run("!clock +1m")
    assert "одобрен" in world.last_text(1001)
    # pressing it again changes nothing
    await world.run(f"@1002\n!callback {consent[0]}")
    assert await relatives(world) == 5


async def test_edit_a_relative_refuses_a_wrong_value_then_saves(world: ConsoleWorld) -> None:
    await world.run("@1001\n[Мои близкие]\n[Родственников Номер Б]\n[Изменить]\n[Дата рождения]")
    assert "дату рождения близкого" in world.last_text()
    await world.run("31.02.1961")
    assert "Такой даты нет в календаре" in world.last_text()
    await world.run("01.03.1961")
    assert "Дата рождения: 01.03.1961" in world.last_text()
    await world.run("[Назад]\n[Изменить]\n[СНИЛС]\n123-456-789 64")  # Smirnov's own
    assert "уже есть в «Мои близкие»" in world.last_text()
    await world.run("[Мои близкие]")


async def test_forged_family_callbacks_of_another_account_change_nothing(
    world: ConsoleWorld,
) -> None:
    ids = await rows(
        world, "SELECT id FROM patients WHERE owner_user_id = 1001 AND relation != 'self'"
    )
    target = int(str(ids[0][0]))
    before = await rows(world, "SELECT snils_hash FROM patients WHERE id = :i", i=target)
    await world.run(
        f"@1002\n[Мои близкие]\n!callback fmo:{target}\n!callback fmd:{target}\n"
        f"!callback fmx:{target}\n!callback fme:{target}:snils"
    )
    assert await relatives(world) == 5
    await world.run("999-999-999 99")  # no edit step was opened: not taken as a SNILS
    owned = await rows(world, "SELECT snils_hash FROM patients WHERE id = :i", i=target)
    assert owned == before
    journal = await rows(world, "SELECT action FROM journal WHERE action LIKE 'family.%'")
    assert ("family.added",) in journal and ("family.removed",) in journal
