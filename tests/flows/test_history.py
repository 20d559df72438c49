"""/staff «Результаты приёма» → «История посещений» → «Направления» (ru), through the real
Dispatcher: staff complete a visit with results and a referral, the patient is told, the
history shows it (details, filters, PDF), the referral books the referral-only specialty
once, and another account's or clinic's forged callbacks change nothing.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from pypdf import PdfReader

from emulator.harness import ConsoleWorld
from tests.flows.booking_helpers import BOOK_3_DEC_10, NOW, REGISTER_1001, REGISTER_1002, rows

pytestmark = pytest.mark.asyncio(loop_scope="module")

RESULTS = """@9001
/staff
[Результаты приёма]
[~A-0000001]
Гипертоническая болезнь I стадии
Контроль давления дважды в день
Лозартан 50 мг утром
[Кардиолог]
[30 дней]
[Сохранить и уведомить пациента]
"""


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def world() -> AsyncIterator[ConsoleWorld]:
    w = await ConsoleWorld.start(now=NOW, lang="ru")
    await w.run(REGISTER_1001 + BOOK_3_DEC_10 + REGISTER_1002)
    yield w
    await w.close()


async def test_history_is_built_and_empty_before_the_visit(world: ConsoleWorld) -> None:
    await world.run("@1001\n[История посещений]")
    assert "Прошедших посещений пока нет" in world.last_text()


async def test_staff_cannot_close_a_visit_before_it_starts(world: ConsoleWorld) -> None:
    await world.run("@9001\n/staff\n[Результаты приёма]")
    assert "Нет приёмов" in world.last_text(9001)
    await world.run("!callback svo:1")  # forged: not started yet is not in the list either
    await world.run("Заключение")
    assert await rows(world, "SELECT * FROM visit_results") == []


async def test_another_clinics_staff_cannot_open_the_visit(world: ConsoleWorld) -> None:
    await world.run("!clock 2026-12-03T10:10\n@9002\n/staff\n[Результаты приёма]\n!callback svo:1")
    await world.run("Чужое заключение")
    assert await rows(world, "SELECT * FROM visit_results") == []
    assert (await rows(world, "SELECT status FROM appointments"))[0][0] == "pending"


async def test_staff_completes_the_visit_with_results_and_a_referral(world: ConsoleWorld) -> None:
    await world.run(RESULTS)
    assert "результаты сохранены" in world.last_text(9001)
    assert world.buttons() == [[("Результаты приёма", "svl")]]  # the screen was a dead end
    assert (await rows(world, "SELECT status FROM appointments"))[0][0] == "completed"
    stored = await rows(world, "SELECT conclusion, data_enc FROM visit_results")
    assert stored[0][0] == "" and "Гипертон" not in str(stored[0][1])  # encrypted
    assert await rows(world, "SELECT valid_until, used_appointment_id FROM referrals") != []
    pushed = await world.run("!clock +1m")  # the review request (issue 10) follows it
    assert "<@1001 📋 Результаты приёма готовы" in pushed


async def test_history_shows_the_visit_with_its_results(world: ConsoleWorld) -> None:
    await world.run("@1001\n[Подробнее]")
    text = world.last_text()
    for part in (
        "Заключение: Гипертоническая болезнь I стадии",
        "Рекомендации: Контроль давления дважды в день",
        "Назначения: Лозартан 50 мг утром",
        "Направления: Кардиолог, действует до 02.01.2027 (действует)",
        "Статус: состоялась",
        "Соколова",
    ):
        assert part in text
    await world.run("[PDF]")
    found = world.last_file()
    assert found is not None and found[0] == "visit-A-0000001.pdf"
    pdf_text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(found[1])).pages)
    assert "Иванов Иван Иванович" in pdf_text and "Гипертоническая" in pdf_text
    await world.run("[История посещений]")
    assert "История посещений (1)" in world.last_text()


async def test_filters_and_sort(world: ConsoleWorld) -> None:
    await world.run("[Фильтры]\n[Специальность]\n[Терапевт]")
    assert "История посещений (1)" in world.last_text() and "Терапевт" in world.last_text()
    await world.run("[Фильтры]\n[Период]\n[последние 30 дней]")
    assert "последние 30 дней" in world.last_text()
    await world.run("[Фильтры]\n[Скрыть отменённые и пропущенные]")
    assert "только состоявшиеся" in world.last_text()
    await world.run("[Сначала старые]")
    assert any(label == "Сначала новые" for row in world.buttons() for label, _d in row)
    await world.run("!callback hiv:patient_id:999")  # not one of the user's patients
    assert "999" not in world.last_text()
    await world.run("[Фильтры]\n[Сбросить фильтры]")
    assert "Фильтры:" not in world.last_text()


async def test_referral_list_and_legal_wait(world: ConsoleWorld) -> None:
    await world.run("[Направления]")
    text = world.last_text()
    assert "Кардиолог" in text and "Статус: действует" in text
    assert "Выдал: Соколова Елена Викторовна, 03.12.2026" in text
    assert "не позднее 23.12.2026" in text  # 14 working days from 3 December


async def test_forged_record_callbacks_of_another_account(world: ConsoleWorld) -> None:
    before = world.last_file(1002)
    await world.run("@1002\n[История посещений]\n!callback hio:1\n!callback hix:1")
    assert "Гипертоническая" not in world.last_text(1002)
    assert world.last_file(1002) == before
    await world.run("!callback rfb:1")
    assert "Направление №" not in world.last_text(1002)


async def test_forged_staff_callbacks_change_nothing(world: ConsoleWorld) -> None:
    await world.run(
        "@9001\n/staff\n[Результаты приёма]\n[~A-0000001 ✓]\nГипертоническая болезнь I стадии, "
        "уточнено\n-\n-\n[Кардиолог]\n[30 дней]"
    )
    assert "Сохранить результаты приёма?" in world.last_text(9001)
    await world.run("!callback svs:2")  # another visit than the one being written
    await world.run("@9002\n/staff\n!callback svs:1\n!callback svr:9\n!callback svv:30")
    assert len(await rows(world, "SELECT id FROM referrals")) == 1
    # saved again with the same referral: the result is corrected, no second referral
    await world.run("@9001\n[Сохранить и уведомить пациента]")
    assert len(await rows(world, "SELECT id FROM referrals")) == 1
    await world.run("@1001\n[История посещений]\n[~03.12.2026]")
    assert "Заключение: Гипертоническая болезнь I стадии, уточнено" in world.last_text(1001)


async def test_the_referral_books_the_referral_only_specialty_once(world: ConsoleWorld) -> None:
    await world.run("@1001\n[История посещений]\n[Направления]\n[~Записаться: Кардиолог]")
    assert "Направление будет использовано" in world.last_text()
    await world.run("[Выбрать поликлинику и время]\n[~№ 12]")
    doctor = next(label for row in world.buttons() for label, d in row if d and d != "bd:0"
                  and d.startswith("bd:"))  # fmt: skip
    await world.run(f"[{doctor}]")
    day = next(label for row in world.buttons() for label, _d in row
               if label.isdigit() and int(label) > 3)  # fmt: skip
    await world.run(f"[{day}]")
    time = world.buttons()[0][0][0]
    await world.run(f"[{time}]\n[Подтвердить]")
    assert "Вы записаны" in world.last_text()
    used = await rows(world, "SELECT used_appointment_id FROM referrals")
    assert used[0][0] is not None
    await world.run("[История посещений]\n[Направления]")
    assert "Статус: использовано" in world.last_text()
    assert not any("Записаться" in label for row in world.buttons() for label, _d in row)
    await world.run("!callback rfb:1")  # a used referral: nothing opens
    assert "Статус: использовано" in world.last_text()
