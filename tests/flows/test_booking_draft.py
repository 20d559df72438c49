"""The booking wizard's draft and step table (issue 8.3).

``BookingDraft.back()`` walks every step back to the start, undoing each step's
own choice; the draft survives the FSM round trip compactly; and a booking, a
reschedule and a registrar's move all run through the one table
``flows.wizard.STEPS`` (another start, another confirm — not another family).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest

from domain.models import Appointment, AppointmentStatus
from emulator.harness import ConsoleWorld
from flows import wizard
from flows.booking_draft import DRAFT_KEY, BookingDraft, start_move
from tests.flows.booking_helpers import (
    BOOK_3_DEC_10,
    NOW,
    REGISTER_1001,
    REGISTER_1002,
    appointments,
    rows,
)

VISIT = Appointment(
    id=55, number="A-0000055", patient_id=7, user_id=1001, slot_id=800, doctor_id=40,
    clinic_id=12, specialty_id=3, start=NOW, minutes=20, kind="in_person",
    status=AppointmentStatus.PENDING, created_at=NOW,
)  # fmt: skip
BOOKED = BookingDraft(
    step="summary",
    multi=True,
    patient_id=7,
    specialty_id=3,
    region="msk",
    clinic_id=12,
    doctor_id=40,
    day=20261203,
    slot_id=900,
    spec_page=1,
    clinic_page=2,
    doctor_page=1,
    slot_page=1,
    query="№ 12",
)


def _walk(draft: BookingDraft | None) -> list[BookingDraft]:
    seen = []
    while draft is not None:
        seen.append(draft)
        draft = draft.back()
        assert len(seen) < 20, "back() must reach the start"
    return seen


def test_back_walks_a_booking_through_every_step_to_the_patient() -> None:
    steps = _walk(BOOKED)
    assert [d.step for d in steps] == [
        "summary", "slot", "day", "doctor", "clinic", "specialty", "patient",
    ]  # fmt: skip
    _summary, slot, day, doctor, clinic, specialty, patient = steps
    assert slot.slot_id is None and slot.day == 20261203  # the time undone, the day kept
    assert day.day is None and day.slot_page == 0 and day.doctor_id == 40
    assert doctor.doctor_id is None and doctor.clinic_id == 12
    assert clinic.clinic_id is None and clinic.doctor_page == 0 and clinic.specialty_id == 3
    assert specialty.specialty_id is None and specialty.query is None
    assert specialty.clinic_page == 0 and specialty.spec_page == 0
    assert specialty.patient_id == 7
    assert patient.patient_id is None
    assert all(d.mode == "book" for d in steps)


def test_one_patient_starts_at_the_specialty() -> None:
    single = replace(BOOKED, multi=False)
    assert [d.step for d in _walk(single)][-1] == "specialty"


def test_back_of_a_reschedule_returns_through_another_doctor_to_the_visits_calendar() -> None:
    start = start_move(VISIT, staff=False)
    assert (start.mode, start.step, start.doctor_id, start.back()) == ("move", "day", 40, None)
    other = start.at("doctor").at("day", doctor_id=41).at("slot", day=20261204)
    held = other.at("summary", slot_id=901)
    steps = _walk(held)
    assert [d.step for d in steps] == ["summary", "slot", "day", "doctor", "day"]
    assert steps[2].doctor_id == 41 and steps[-1].doctor_id == 40  # the visit's own doctor
    assert all(d.appointment_id == 55 and d.mode == "move" for d in steps)


def test_back_of_a_staff_move_passes_the_reason() -> None:
    start = start_move(VISIT, staff=True)
    told = start.at("slot", day=20261204).at("reason", slot_id=901).at("summary", reason="учёба")
    steps = _walk(told)
    assert [d.step for d in steps] == ["summary", "reason", "slot", "day"]
    assert steps[1].reason is None and steps[2].slot_id is None
    assert start.at("doctor").back() is None  # the registrar has no doctor step


def test_back_to_a_named_step_or_none() -> None:
    assert BOOKED.back_to("clinic") == _walk(BOOKED)[4]
    assert BOOKED.back_to("summary") is BOOKED
    assert start_move(VISIT, staff=True).back_to("specialty") is None


def test_the_draft_round_trips_compactly() -> None:
    assert BookingDraft.load(BOOKED.dump()) == BOOKED
    assert BookingDraft().dump() == {}  # defaults are left out
    move = start_move(VISIT, staff=True)
    assert BookingDraft.load(move.dump()) == move
    assert set(move.dump()) == {"m", "s", "p", "sp", "c", "d", "a", "od"}
    for garbage in (
        None,
        [],
        {"zz": 1},
        {"m": "steal"},
        {"s": "nowhere"},
        {"p": 1, "q": {}} | {"x": 0},
    ):
        assert BookingDraft.load(garbage) is None


# --------------------------------------------------------------------------- one table


@pytest.fixture
async def world() -> AsyncIterator[ConsoleWorld]:
    w = await ConsoleWorld.start(now=NOW, lang="ru")
    yield w
    await w.close()


@pytest.fixture
def visited(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """(mode, step) of every screen the wizard loads, recorded at the one table's loaders."""
    seen: list[tuple[str, str]] = []
    table = dict(wizard.STEPS)
    for name, step in table.items():

        async def load(
            ctx: wizard.Ctx, draft: BookingDraft, _step: Any = step, _n: str = name
        ) -> Any:
            seen.append((draft.mode, _n))
            return await _step.load(ctx, draft)

        table[name] = replace(step, load=load)  # type: ignore[literal-required]
    monkeypatch.setattr(wizard, "STEPS", table)
    return seen


async def test_booking_reschedule_and_staff_move_run_through_one_step_table(
    world: ConsoleWorld, visited: list[tuple[str, str]]
) -> None:
    await world.run(REGISTER_1001 + BOOK_3_DEC_10)
    assert [s for m, s in visited if m == "book"] == [
        "specialty", "clinic", "doctor", "day", "slot", "summary",
    ]  # fmt: skip
    await world.run("[Мои записи]\n[~№ A-0000001]\n[Перенести]\n[Другой врач этой специальности]")
    await world.run("[~Морозов]\n[7]\n[#1]\n[Назад]\n[Назад]\n[Назад]\n[Назад]\n[4]\n[14:00]")
    await world.run("[Подтвердить]")
    assert "Новый номер записи: A-0000002" in world.last_text()
    assert [s for m, s in visited if m == "move"] == [
        "day", "doctor", "day", "slot", "summary",  # forward to another doctor's time
        "slot", "day", "doctor", "day",  # and «Назад» back to the visit's own calendar
        "slot", "summary",
    ]  # fmt: skip
    await world.run("@9001\n/staff\n[Перенести приём]\n[~A-0000002]\n[4]\n[#1]")
    await world.run("врач на учёбе\n[Назад]\n[Назад]\n[7]\n[#1]\nврач на учёбе\n[Подтвердить]")
    assert "A-0000003" in world.last_text(9001)
    assert [s for m, s in visited if m == "staff"] == [
        "day", "slot", "reason", "summary", "slot", "day", "slot", "reason", "summary",
    ]  # fmt: skip
    assert await appointments(world) == {
        "A-0000001": "rescheduled",
        "A-0000002": "rescheduled",
        "A-0000003": "pending",
    }


async def test_the_draft_lives_under_one_key_and_leaves_with_the_booking(
    world: ConsoleWorld,
) -> None:
    await world.run(REGISTER_1001 + "[Записаться к врачу]\n[Терапевт]\n[~№ 12]")
    data = await _fsm_data(world, 1001)
    assert [k for k in data if k.startswith(("bk", "mv"))] == [DRAFT_KEY]
    assert BookingDraft.load(data[DRAFT_KEY]) is not None
    await world.run("[~Соколова]\n[3]\n[10:00]\n[Подтвердить]")
    assert (await _fsm_data(world, 1001)).get(DRAFT_KEY) is None


async def _fsm_data(world: ConsoleWorld, user_id: int) -> dict[str, Any]:
    from aiogram.fsm.storage.base import StorageKey

    bot = world.app.bot
    assert bot is not None
    key = StorageKey(bot_id=bot.id, chat_id=user_id, user_id=user_id)
    return dict(await world.app.storage.get_data(key))


# --------------------------------------------------------------------------- ownership


def _data(world: ConsoleWorld, user_id: int, prefix: str) -> list[str]:
    return [d for row in world.buttons(user_id) for _l, d in row if d and d.startswith(prefix)]


async def test_the_shared_buttons_check_the_draft_and_the_actor(world: ConsoleWorld) -> None:
    """One callback family for three wizards: each press is judged against the draft's mode —
    a move accepts only its visit's patient and specialty, a registrar only the visit's
    doctor, and the booking-only steps are stale inside a move."""
    await world.run(REGISTER_1001 + BOOK_3_DEC_10)
    await world.run(REGISTER_1002 + BOOK_3_DEC_10.replace("[10:00]", "[11:30]"))
    await world.run("[Мои записи]\n[~№ A-0000002]\n[Перенести]\n[4]")  # 1002 moves their visit
    times = _data(world, 1002, "bt:")
    own_patient = times[0].split(":")[1]
    forged = [
        "bt:1:" + times[0].split(":")[2],  # 1001's patient (1) in 1002's move
        "bk:1:" + times[0].split(":")[2],
        "bs:1", "bc:1", "bsp:1", "bcp:1", "bp:" + own_patient,  # booking-only steps
        "bd:0",  # «any doctor» is no move's choice
        "by:999:20261204:0",  # a day of a doctor whose calendar is not on screen
        f"bk:{own_patient}:" + times[0].split(":")[2],  # a confirm without a held summary
    ]  # fmt: skip
    for data in forged:
        transcript = await world.run(f"!callback {data}")
        assert "Эта кнопка устарела" in transcript, (data, transcript)
    await world.run("@9001\n/staff\n[Перенести приём]\n[~A-0000001]\n[4]")
    staff_times = _data(world, 9001, "bt:")
    patient, slot = staff_times[0].split(":")[1:]
    found = await rows(
        world,
        "SELECT id FROM slots WHERE status = 'free' AND doctor_id <> "
        "(SELECT doctor_id FROM appointments WHERE number = 'A-0000001') LIMIT 1",
    )
    other_doctors = found[0][0]
    staff_forged = (
        f"bt:{own_patient}:{slot}",  # not the visit's patient
        f"bt:{patient}:{other_doctors}",  # another doctor's time: the registrar keeps the doctor
        "bd:1", "bp:1", "bj:doctors", "bb:clinic",
    )  # fmt: skip
    for data in staff_forged:
        transcript = await world.run(f"!callback {data}")
        assert "Эта кнопка устарела" in transcript, (data, transcript)
    assert await appointments(world) == {"A-0000001": "pending", "A-0000002": "pending"}
