"""The visit's calendar event through the real Dispatcher: one UID from booking to
cancellation, a higher SEQUENCE at every change, METHOD:CANCEL when it is off, the clinic
as ORGANIZER; no confirmation files for a visit that is off; PDF dates from the app clock.

Regressions of issue 7, item 6: every move made a new event (a new UID) beside the old
one, a cancellation left the event in the patient's calendar, and a cancelled visit's card
still offered «PDF» / «Календарь» of a «Подтверждение».
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import vobject
from pypdf import PdfReader

from emulator.harness import ConsoleWorld
from tests.flows.booking_helpers import BOOK_3_DEC_10, NOW, REGISTER_1001, appointments, rows
from tests.notify_world import sent_files

MOVE_TO_4_DEC_14 = "[Мои записи]\n[~№ A-0000001]\n[Перенести]\n[4]\n[14:00]\n[Подтвердить]\n"
CANCEL_A2 = "[Мои записи]\n[~№ A-0000002]\n[Отменить запись]\n[Да, отменить]\n"


@pytest.fixture
async def world() -> AsyncIterator[ConsoleWorld]:
    w = await ConsoleWorld.start(now=NOW, lang="ru")
    yield w
    await w.close()


def files(world: ConsoleWorld, user_id: int = 1001) -> list[tuple[str, bytes]]:
    """Every document the bot sent to the user, oldest first."""
    return sent_files(world.emulator, user_id)


def events(world: ConsoleWorld, user_id: int = 1001) -> list[vobject.base.Component]:
    """The .ics files the user got, parsed by vobject (not the library that wrote them)."""
    return [
        vobject.readOne(data.decode())
        for name, data in files(world, user_id)
        if name.endswith(".ics")
    ]


def _check_history(cals: list[vobject.base.Component]) -> None:
    """Booked → moved → cancelled: one event, revisions 0, 1, 2, ending withdrawn."""
    assert len({c.vevent.uid.value for c in cals}) == 1
    assert [int(c.vevent.sequence.value) for c in cals] == [0, 1, 2]
    assert [c.method.value for c in cals] == ["PUBLISH", "PUBLISH", "CANCEL"]
    assert [c.vevent.status.value for c in cals] == ["CONFIRMED", "CONFIRMED", "CANCELLED"]
    # 3 Dec 10:00 and then 4 Dec 14:00 Moscow, read back to the right instants
    starts = [c.vevent.dtstart.value.astimezone(UTC) for c in cals]
    assert starts[0] == datetime(2026, 12, 3, 7, 0, tzinfo=UTC)
    assert starts[1] == starts[2] == datetime(2026, 12, 4, 11, 0, tzinfo=UTC)
    for c in cals:
        organizer = c.vevent.organizer
        assert organizer.value.startswith("mailto:") and "12" in organizer.params["CN"][0]


async def test_book_move_cancel_keep_one_calendar_event(world: ConsoleWorld) -> None:
    await world.run(REGISTER_1001 + BOOK_3_DEC_10 + MOVE_TO_4_DEC_14)
    assert await appointments(world) == {"A-0000001": "rescheduled", "A-0000002": "pending"}
    await world.run(CANCEL_A2)
    assert "Запись № A-0000002 отменена" in world.last_text()
    name, _ = files(world)[-1]
    assert name == "appointment-A-0000002-cancelled.ics"
    _check_history(events(world))
    # DTSTAMP is the app clock (the virtual 1 Dec 12:00 Moscow), not the machine's
    assert {c.vevent.dtstamp.value for c in events(world)} == {NOW}


async def test_clinic_move_and_cancel_keep_one_calendar_event(world: ConsoleWorld) -> None:
    await world.run(REGISTER_1001 + BOOK_3_DEC_10)
    await world.run("@9001\n/staff\n[Перенести приём]\n[~A-0000001]\n[4]\n[14:00]")
    await world.run("врач на учёбе\n[Подтвердить]\n!clock +1m")
    assert "Поликлиника перенесла вашу запись" in world.last_text(1001)
    await world.run("@9001\n/staff\n[Отменить приём]\n[~Соколова]\n[~4 декабря]")
    await world.run("врач заболел\n[Подтвердить]\n!clock +1m")
    assert "Причина: врач заболел" in world.last_text(1001)  # the text stays the newest
    assert await appointments(world) == {"A-0000001": "rescheduled", "A-0000002": "cancelled"}
    _check_history(events(world))


async def test_cancelled_visit_card_offers_no_confirmation_files(world: ConsoleWorld) -> None:
    await world.run(REGISTER_1001 + BOOK_3_DEC_10 + "[Мои записи]\n[~№ A-0000001]")
    labels = [label for row in world.buttons() for label, _ in row]
    assert "PDF" in labels and "Календарь (.ics)" in labels
    await world.run("[Отменить запись]\n[Да, отменить]\n[Мои записи]\n[~№ A-0000001]")
    assert "отменена вами" in world.last_text()
    labels = [label for row in world.buttons() for label, _ in row]
    assert "PDF" not in labels and "Календарь (.ics)" not in labels
    sent = len(files(world))
    # an old card's «PDF» button: refused, no «Подтверждение» of a cancelled visit
    out = await world.run("!callback af:1:pdf")
    assert "подтверждения для неё нет" in out
    assert len(files(world)) == sent
    # an old card's «Календарь» button: the cancellation, so the calendar drops the event
    await world.run("!callback af:1:ics")
    name, data = files(world)[-1]
    assert name.endswith("-cancelled.ics")
    assert vobject.readOne(data.decode()).method.value == "CANCEL"


async def test_pdf_creation_date_is_the_app_clock(world: ConsoleWorld) -> None:
    await world.run(REGISTER_1001 + "!clock 2026-12-01T15:30\n" + BOOK_3_DEC_10)
    name, data = files(world)[-1]
    assert name.endswith(".pdf")
    meta = PdfReader(io.BytesIO(data)).metadata
    assert meta is not None
    assert meta.creation_date == datetime(2026, 12, 1, 12, 30, tzinfo=UTC)
    assert "Подтверждение" in str(meta.title)


async def test_confirmation_files_come_once_through_the_outbox(world: ConsoleWorld) -> None:
    """Issue 8 "Fast": «Подтвердить» answers with the text only; the .ics and the PDF are an
    outbox row (booking_files) the notifier sends once, however often it runs."""
    await world.run(REGISTER_1001 + BOOK_3_DEC_10.replace("!jobs notifier\n", ""))
    assert "Вы записаны" in world.last_text() and files(world) == []
    await world.run("!jobs notifier\n!jobs notifier\n!clock +5m")
    assert [name for name, _ in files(world)] == [
        "appointment-A-0000001.ics",
        "appointment-A-0000001.pdf",
    ]
    state = await rows(world, "SELECT state FROM outbox WHERE kind = 'booking_files'")
    assert state == [("sent",)]


async def test_no_confirmation_files_for_a_visit_cancelled_before_they_went(
    world: ConsoleWorld,
) -> None:
    await world.run(REGISTER_1001 + BOOK_3_DEC_10.replace("!jobs notifier\n", ""))
    await world.run("[Мои записи]\n[~№ A-0000001]\n[Отменить запись]\n[Да, отменить]")
    await world.run("!jobs notifier")
    assert not [name for name, _ in files(world) if name.endswith(".pdf")]
    state = await rows(world, "SELECT state FROM outbox WHERE kind = 'booking_files'")
    assert state == [("cancelled",)]
