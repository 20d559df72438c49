"""Tickets (issue 10.2) are personal data: the text is encrypted at rest and erased with the
account; the target is counted in working time and the escalation follows the virtual clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from domain.tickets import add_working_minutes
from emulator.harness import ConsoleWorld
from tests.flows.booking_helpers import NOW, REGISTER_1001, rows

TEXT = "Не могу открыть PDF подтверждения"
NEW_TICKET = "[Поддержка]\n[Написать в поддержку]\n[Технический сбой]\n" + TEXT + "\n"


@pytest.fixture
async def world() -> AsyncIterator[ConsoleWorld]:
    w = await ConsoleWorld.start(now=NOW, lang="ru")
    yield w
    await w.close()


async def test_ticket_text_is_encrypted_and_erased_with_the_account(world: ConsoleWorld) -> None:
    await world.run(REGISTER_1001 + NEW_TICKET)
    stored = await rows(world, "SELECT text_enc FROM ticket_messages")
    assert len(stored) == 1 and TEXT not in str(stored[0][0])
    assert await rows(world, "SELECT clinic_id, status FROM tickets") == [(1, "new")]
    await world.run("/delete_me\n[Удалить данные]")
    assert await rows(world, "SELECT count(*) FROM ticket_messages") == [(0,)]
    assert await rows(world, "SELECT count(*) FROM tickets") == [(0,)]


async def test_escalation_to_the_clinic_admin_on_the_virtual_clock(world: ConsoleWorld) -> None:
    await world.run(REGISTER_1001 + NEW_TICKET)
    out = await world.run("!clock +120m")
    assert "всё ещё без ответа" not in out
    out = await world.run("!clock +90m")  # 12:30: an hour of work before the 13:00 target
    assert "<@9009 ⚠️ Обращение № 1" in out
    assert "<@9001 ⚠️" not in out  # registrars are not administrators
    out = await world.run("!clock +90m")
    assert "⚠️" not in out  # once
    (escalated,) = await rows(world, "SELECT escalated_at FROM tickets")
    assert escalated[0] is not None


async def test_answered_ticket_is_not_escalated(world: ConsoleWorld) -> None:
    await world.run(REGISTER_1001 + NEW_TICKET)
    await world.run("@9001\n/staff\n[Обращения]\n[~№ 1]\n[Ответить]\nПереотправили файл.")
    out = await world.run("@1001\n!clock +300m")
    assert "Поддержка ответила на обращение № 1" in out
    assert "всё ещё без ответа" not in out


def test_working_minutes_skip_evenings_and_weekends() -> None:
    tz = "Europe/Moscow"
    friday_17 = datetime(2026, 12, 4, 14, 0, tzinfo=UTC)  # 17:00 MSK, a Friday
    due = add_working_minutes(friday_17, 4 * 60, tz)
    assert due == datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # Monday 12:00 MSK
    saturday = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
    assert add_working_minutes(saturday, 60, tz) == datetime(2026, 12, 7, 7, 0, tzinfo=UTC)


async def test_screenshot_without_caption_is_kept_and_shown_to_staff(world: ConsoleWorld) -> None:
    from pathlib import Path

    shot = Path(__file__).resolve().parents[1] / "e2e" / "support_screen.png"
    await world.run(REGISTER_1001 + "[Поддержка]\n[Написать в поддержку]\n[Запись]")
    out = await world.run(f"!photo {shot}")
    assert "Вложение получено (1)" in out
    out = await world.run("Пустой экран при записи")
    assert "Обращение зарегистрировано" in out
    (stored,) = await rows(world, "SELECT attachments_enc FROM ticket_messages")
    assert stored[0] and "p:" not in str(stored[0])  # file ids encrypted too
    await world.run("@9001\n/staff\n[Обращения]\n[~№ 1]")
    found = world.last_file(9001)
    assert found is not None and found[1] == shot.read_bytes()  # the very screenshot


async def test_a_promise_already_past_is_not_repeated_to_the_patient(world: ConsoleWorld) -> None:
    """After the target had passed, the patient's reply was answered «Ответим до <вчера>»."""
    await world.run(REGISTER_1001 + NEW_TICKET)
    assert "Ответим до" in world.last_text(1001)  # the target is ahead: promised
    await world.run("!clock +2d")
    await world.run("@9001\n/staff\n[Обращения]\n[~№ 1]")
    assert "Ответ нужно было дать до" in world.last_text(9001)  # the staff see it is late
    await world.run("@1001\n[Поддержка]\n[Мои обращения]\n[~№ 1]")
    assert TEXT in world.last_text(1001) and "Ответим до" not in world.last_text(1001)


async def test_at_most_five_open_requests_and_the_sixth_is_refused_before_typing(
    world: ConsoleWorld,
) -> None:
    """One account opened 17 requests in a minute, each in the clinic's queue."""
    await world.run(REGISTER_1001 + NEW_TICKET * 5)
    assert await rows(world, "SELECT count(*) FROM tickets") == [(5,)]
    out = await world.run("[Поддержка]\n[Написать в поддержку]")
    assert "У вас уже 5 открытых обращений" in out
    assert "Выберите категорию" not in out  # nothing to type in vain
    await world.run("[Мои обращения]\n[~№ 1]\n[Закрыть обращение]")
    out = await world.run(NEW_TICKET)  # one closed: room for a new one
    assert "Обращение зарегистрировано" in out
    assert await rows(world, "SELECT count(*) FROM tickets") == [(6,)]
