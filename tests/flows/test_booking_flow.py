"""The booking dialogue through the real Dispatcher and the emulator (ConsoleWorld)."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from pypdf import PdfReader
from sqlalchemy import text

from emulator.harness import ConsoleWorld
from tests.flows.booking_helpers import (
    BOOK_3_DEC_10,
    NOW,
    REGISTER_1001,
    REGISTER_1002,
    TO_DAY_3,
    all_callback_data,
    appointments,
    rows,
    slot_status,
)


@pytest.fixture
async def world() -> AsyncIterator[ConsoleWorld]:
    w = await ConsoleWorld.start(now=NOW, lang="ru")
    yield w
    await w.close()


async def test_whole_booking_gives_number_ics_and_pdf(world: ConsoleWorld) -> None:
    await world.run(REGISTER_1001 + TO_DAY_3)
    for data in all_callback_data(world):
        assert len(data.encode()) <= 64
    await world.run("[10:00]")
    assert "Проверьте данные записи" in world.last_text()
    held = await rows(world, "SELECT user_id, slot_id FROM holds")
    assert len(held) == 1 and held[0][0] == 1001
    slot_id = int(held[0][1])
    await world.run("[Подтвердить]")
    last = world.last_text()
    assert "Вы записаны! Номер записи: A-0000001" in last
    assert "чт, 3 декабря 2026" in last and "10:00" in last
    assert "Возьмите паспорт и полис ОМС" in last  # preparation notes
    assert await appointments(world) == {"A-0000001": "pending"}
    assert await slot_status(world, slot_id) == "booked"
    assert await rows(world, "SELECT * FROM holds") == []

    # the .ics and the PDF follow through the outbox: the notifier's next tick sends them
    assert world.last_file() is None
    await world.run("!jobs notifier")
    # the PDF (newest file) holds the patient, doctor, date and time
    name, pdf = world.last_file()  # type: ignore[misc]
    assert name.endswith(".pdf")
    pdf_text = " ".join(
        " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split()
    )
    for needle in ("A-0000001", "Иванов Иван Иванович", "Соколова Елена Викторовна",
                   "3 декабря 2026", "10:00"):  # fmt: skip
        assert needle in pdf_text

    # the .ics again from «Мои записи»: parses back to 10:00 Moscow time
    await world.run("[Мои записи]\n[~№ A-0000001]\n[Календарь (.ics)]")
    name, ics = world.last_file()  # type: ignore[misc]
    assert name.endswith(".ics")
    event = next(iter(Calendar.from_ical(ics).walk("VEVENT")))
    start = event.decoded("dtstart")
    assert (start.hour, start.minute) == (10, 0)
    assert start.astimezone(UTC) == datetime(2026, 12, 3, 7, 0, tzinfo=UTC)
    assert start.astimezone(ZoneInfo("Europe/Moscow")).hour == 10
    assert "A-0000001" in str(event["uid"])


async def test_back_from_summary_releases_the_hold(world: ConsoleWorld) -> None:
    await world.run(REGISTER_1001 + TO_DAY_3 + "[10:00]")
    assert len(await rows(world, "SELECT * FROM holds")) == 1
    await world.run("[Назад]")
    assert "Выберите время" in world.last_text()
    assert await rows(world, "SELECT * FROM holds") == []
    await world.run("[Назад]")  # → calendar
    assert "Выберите день" in world.last_text()
    await world.run("[Назад]")  # → doctors
    assert "Ближайшее свободное время" in world.last_text()
    await world.run("[Назад]\n[Назад]")  # → clinics → specialties
    assert "Выберите специальность" in world.last_text()


async def test_day_without_time_only_explains(world: ConsoleWorld) -> None:
    await world.run(REGISTER_1001 + "[Записаться к врачу]\n[Терапевт]\n[~№ 12]\n[~Соколова]")
    out = await world.run("[·5]")
    assert "В этот день свободного времени нет" in out
    assert "Выберите день" in world.last_text()


async def test_referral_and_age_refusals(world: ConsoleWorld) -> None:
    await world.run(REGISTER_1001 + "[Записаться к врачу]\n[›]\n[Кардиолог 📋]")
    assert "только по направлению" in world.last_text()
    assert ["Записаться: Терапевт"] in [[b for b, _ in row] for row in world.buttons()]
    await world.run("[Записаться: Терапевт]")
    assert "Терапевт: выберите поликлинику" in world.last_text()
    await world.run("[Назад]\n[Педиатр]")
    assert "принимает только детей" in world.last_text()
    assert await appointments(world) == {}


async def test_stale_slot_gets_alternatives_and_one_books(world: ConsoleWorld) -> None:
    await world.run(REGISTER_1001 + TO_DAY_3)
    await world.run(REGISTER_1002 + BOOK_3_DEC_10)
    assert await appointments(world) == {"A-0000001": "pending"}
    await world.run("@1001\n[10:00]")
    last = world.last_text()
    assert "Это время уже заняли" in last
    alternatives = [row for row in world.buttons() if row[0][1] and row[0][1].startswith("bt:")]
    assert 1 <= len(alternatives) <= 3
    await world.run("[#1]")
    assert "Проверьте данные записи" in world.last_text()
    await world.run("[Подтвердить]")
    assert "A-0000002" in world.last_text()
    assert await appointments(world) == {"A-0000001": "pending", "A-0000002": "pending"}


async def test_slot_held_by_another_user_is_taken_for_others(world: ConsoleWorld) -> None:
    await world.run(REGISTER_1002 + TO_DAY_3)
    await world.run(REGISTER_1001 + TO_DAY_3 + "[10:00]")  # 1001 holds 10:00
    await world.run("@1002\n[10:00]")
    assert "Это время уже заняли" in world.last_text()
    assert await appointments(world) == {}


async def test_forged_booking_callbacks_for_another_patient(world: ConsoleWorld) -> None:
    await world.run(REGISTER_1001 + REGISTER_1002 + "[Записаться к врачу]")
    patients = dict(await rows(world, "SELECT owner_user_id, id FROM patients"))
    own_slot = int((await rows(world, "SELECT min(id) FROM slots WHERE status = 'free'"))[0][0])
    # 1002 tries to hold and book for 1001's patient
    out = await world.run(
        f"!callback bt:{patients[1001]}:{own_slot}\n!callback bk:{patients[1001]}:{own_slot}"
        f"\n!callback bp:{patients[1001]}"
    )
    assert out.count("Эта кнопка устарела") == 3
    assert await rows(world, "SELECT * FROM holds") == []
    assert await appointments(world) == {}


async def test_sixty_clinics_page_and_search(world: ConsoleWorld) -> None:
    """65 extra Moscow clinics with a therapist: the list pages with ‹ › and search narrows it."""
    async with world.app.engine.begin() as conn:
        role = (await conn.execute(text("SELECT doctor_id FROM doctor_roles LIMIT 1"))).first()
        assert role is not None
        for n in range(65):
            cid = 1000 + n
            await conn.execute(
                text(
                    "INSERT INTO clinics (id, region_id, name, address, district, kind, phone,"
                    " hours, tz, rating, search_text) VALUES (:id, 'msk', :name, :addr, '',"
                    " 'adult', '', '', 'Europe/Moscow', 4.0, :search)"
                ),
                {
                    "id": cid,
                    "name": f"Тестовая поликлиника {n:02d}",
                    "addr": f"г. Москва, Тестовая улица, д. {n}",
                    "search": f"тестовая поликлиника {n:02d} г. москва, тестовая улица, д. {n}",
                },
            )
            await conn.execute(
                text(
                    "INSERT INTO doctor_roles (doctor_id, clinic_id, specialty_id, active)"
                    " VALUES (:d, :c, 1, true)"
                ),
                {"d": role[0], "c": cid},
            )
    await world.run(REGISTER_1001 + "[Записаться к врачу]\n[Терапевт]")
    assert "Найдено поликлиник: 69" in world.last_text()
    labels = [b for row in world.buttons() for b, _ in row]
    assert labels[0].startswith("⭐")  # the attached clinic first
    assert "1/9" in labels
    seen: set[str] = set()
    for page in range(2, 10):
        await world.run("[›]")
        labels = [b for row in world.buttons() for b, _ in row]
        assert f"{page}/9" in labels
        seen.update(b for b in labels if b.startswith("Тестовая"))
        assert len(world.last_text()) <= 4096
    assert "›" not in labels
    assert len(seen) >= 60
    await world.run("[‹]")
    assert "8/9" in [b for row in world.buttons() for b, _ in row]
    # typed text searches names and addresses
    await world.run("поликлиника 42")
    assert "Поиск «поликлиника 42»: найдено 1" in world.last_text()
    await world.run("[Тестовая поликлиника 42]")
    assert "Тестовая поликлиника 42" in world.last_text()
    await world.run("[Назад]\n[Сбросить поиск]")
    assert "Найдено поликлиник: 69" in world.last_text()


async def test_english_booking_labels(world: ConsoleWorld) -> None:
    await world.run(
        """/start
[English]
[I agree]
!contact
Ivanov Ivan
12.04.1985
[Male]
112-233-445 95
8451999122899990
[Skip]
[Book a doctor]
[General practitioner]
[~№ 12]
[Any doctor — earliest time]
[#1]
"""
    )
    assert "Please check the booking" in world.last_text()
    await world.run("[Confirm]")
    assert "Booked! Appointment number: A-0000001" in world.last_text()


async def _patient_of(world: ConsoleWorld, user_id: int) -> int:
    found = await rows(world, "SELECT id FROM patients WHERE owner_user_id = :u", u=user_id)
    return int(found[0][0])  # type: ignore[call-overload]


async def test_double_tap_on_confirm_answers_with_the_booking(world: ConsoleWorld) -> None:
    """Issue 7 item 3: a second «Подтвердить» of the same hold said «Это время уже заняли»
    about the patient's own fresh booking. It answers with that booking, never a second."""
    await world.run(REGISTER_1001 + TO_DAY_3 + "[10:00]")
    confirm = next(d for d in all_callback_data(world) if d.startswith("bk:"))
    await world.run("[Подтвердить]")
    assert "Вы записаны! Номер записи: A-0000001" in world.last_text()
    await world.run(f"!callback {confirm}")  # the second tap, already on its way
    last = world.last_text()
    assert "Вы уже записаны на это время. Номер записи: A-0000001" in last
    assert "заняли" not in last
    assert await appointments(world) == {"A-0000001": "pending"}


async def test_two_overlapping_visits_of_one_patient_are_refused(world: ConsoleWorld) -> None:
    """Issue 7 item 2: one patient held four visits at one time in four specialties.
    Another specialty's slot overlapping the booked visit is refused, naming that visit."""
    await world.run(REGISTER_1001 + BOOK_3_DEC_10)
    patient = await _patient_of(world, 1001)
    # 10:00–10:20 Moscow on 3 Dec is 07:00–07:20 UTC: a slot of another open specialty
    clash = await rows(
        world,
        "SELECT s.id FROM slots s JOIN specialties p ON p.id = s.specialty_id "
        "WHERE s.status = 'free' AND p.code <> 'therapist' AND NOT p.referral_required "
        "AND p.sex IS NULL AND p.max_age IS NULL AND s.region_id = 'msk' "
        "AND s.start_utc >= '2026-12-03 07:00:00' AND s.start_utc < '2026-12-03 07:20:00' "
        "LIMIT 1",
    )
    slot_id = int(clash[0][0])  # type: ignore[call-overload]
    await world.run(f"!callback bt:{patient}:{slot_id}")  # refused before its summary
    last = world.last_text()
    assert "На это время у вас уже есть запись" in last
    assert "Соколова" in last and "10:00" in last and "A-0000001" in last
    # «Подтвердить» without that summary is a stale button (the take's own check of the
    # overlap: tests/unit/test_booking_services.py).
    assert "Эта кнопка устарела" in await world.run(f"!callback bk:{patient}:{slot_id}")
    assert await appointments(world) == {"A-0000001": "pending"}
    assert await rows(world, "SELECT * FROM holds") == []


async def test_one_active_per_specialty_is_said_when_the_specialty_is_chosen(
    world: ConsoleWorld,
) -> None:
    """Issue 7 item 9: a second therapist visit was refused only after «Подтвердить». It is
    said at the specialty, with the existing visit and buttons to move or cancel it."""
    await world.run(REGISTER_1001 + BOOK_3_DEC_10 + "[Записаться к врачу]\n[Терапевт]")
    last = world.last_text()
    assert "уже есть предстоящая запись к этому специалисту" in last
    assert "Соколова" in last and "A-0000001" in last
    labels = [label for row in world.buttons() for label, _d in row]
    assert "Перенести" in labels and "Отменить запись" in labels
    await world.run("[Перенести]")
    assert "Перенос записи № A-0000001" in world.last_text()


async def test_a_summary_whose_time_passed_offers_the_doctors_calendar(world: ConsoleWorld) -> None:
    """«…Выберите другое время.» came with only the therapist and other specialties."""
    await world.run(REGISTER_1001 + "[Записаться к врачу]\n[Хирург]\n[~№ 12]\n[#1]\n[#1]")
    out = await world.run("!clock +3d\n[Подтвердить]")
    assert "записаться уже нельзя" in out
    labels = [label for row in world.buttons(1001) for label, _data in row]
    assert "Выбрать другое время" in labels
    out = await world.run("[Выбрать другое время]")
    assert "Выберите день" in out  # the doctor's calendar from today
    assert await appointments(world) == {}
