"""«Уведомления» and missed visits through the real Dispatcher and the real notifier.

- each opt-out kind toggled on the screen lands in users.notify_optout, and the
  notifier then cancels due rows of that kind («opted out») while a clinic's
  cancellation still goes out;
- the profile shows the no-show count and the rule before any restriction;
- with ``limits.no_show_restriction`` on, reaching ``no_show_limit`` (marked by staff)
  closes booking with a clear message.

Two worlds: the default settings, and one built with settings overrides
(``ConsoleWorld.start(settings_overrides=...)``). The tests of each run in order.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import pytest_asyncio

from domain.notifications import Kind, OutboxItem, waitlist_offer_item
from emulator.harness import ConsoleWorld
from tests.flows.booking_helpers import (
    BOOK_3_DEC_10,
    NOW,
    REGISTER_1001,
    TO_DAY_3,
    appointments,
    rows,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

LABELS = {
    Kind.REMINDER: "Напоминания о приёме",
    Kind.WAITLIST_OFFER: "Предложения из листа ожидания",
    Kind.BOOKED: "Подтверждения записи",
}
STAFF_CANCEL_DAY_3 = """@9001
/staff
[Отменить приём]
[~Соколова]
[~3 декабря]
врач заболел
[Подтвердить]
"""


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def world() -> AsyncIterator[ConsoleWorld]:
    w = await ConsoleWorld.start(now=NOW, lang="ru")
    await w.run(REGISTER_1001 + BOOK_3_DEC_10)
    yield w
    await w.close()


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def strict_world() -> AsyncIterator[ConsoleWorld]:
    w = await ConsoleWorld.start(
        now=NOW,
        lang="ru",
        settings_overrides={"limits": {"no_show_restriction": True, "no_show_limit": 2}},
    )
    await w.run(REGISTER_1001 + BOOK_3_DEC_10)
    yield w
    await w.close()


async def optout(world: ConsoleWorld) -> str:
    return str((await rows(world, "SELECT notify_optout FROM users WHERE id = 1001"))[0][0])


async def outbox_of(world: ConsoleWorld, kind: str) -> list[tuple[object, ...]]:
    return await rows(
        world,
        "SELECT state, last_error FROM outbox WHERE user_id = 1001 AND kind = :k ORDER BY id",
        k=kind,
    )


# --------------------------------------------------------------------------- opt-outs


async def test_screen_lists_every_kind_and_the_rule(world: ConsoleWorld) -> None:
    await world.run("@1001\n[Профиль]")
    profile = world.last_text(1001)
    assert "Пропущенных приёмов (неявок): 0." in profile
    assert "при 3 неявках" in profile and "ограничение выключено" in profile
    await world.run("[Уведомления]")
    screen = world.last_text(1001)
    for label in LABELS.values():
        assert f"✅ {label}" in screen
    assert "приходят всегда, их отключить нельзя" in screen
    assert "Пропущенных приёмов (неявок): 0." in screen


async def test_screen_has_back_to_the_profile(world: ConsoleWorld) -> None:
    """Regression (issue 7, item 9): the notification settings had no «Назад»."""
    await world.run("@1001\n[Профиль]\n[Уведомления]")
    labels = [label for row in world.buttons(1001) for label, _data in row]
    assert labels[-1] == "Назад"
    await world.run("[Назад]")
    assert "Ваш профиль" in world.last_text(1001)


async def test_each_toggle_changes_the_stored_opt_out(world: ConsoleWorld) -> None:
    switched: set[str] = set()
    for kind, label in LABELS.items():
        await world.run(f"[Выключить: {label}]")
        switched.add(kind)
        assert await optout(world) == ",".join(sorted(switched))
        assert f"🔕 {label}" in world.last_text(1001)
    # back on and off again: the toggle is symmetric
    await world.run(f"[Включить: {LABELS[Kind.BOOKED]}]")
    assert await optout(world) == "reminder,waitlist_offer"
    assert f"✅ {LABELS[Kind.BOOKED]}" in world.last_text(1001)
    await world.run(f"[Выключить: {LABELS[Kind.BOOKED]}]")
    assert await optout(world) == "booked,reminder,waitlist_offer"


async def test_notifier_drops_opted_out_kinds(world: ConsoleWorld) -> None:
    # A booking confirmation and a wait-list offer due now (the flows that write them mark
    # a confirmation sent in chat, and do not offer to a muted user: write them directly).
    now = world.clock.now()
    async with world.app.uow() as uow:
        await uow.outbox.add(
            [
                OutboxItem(
                    kind=Kind.BOOKED,
                    user_id=1001,
                    due_at=now,
                    idem_key="appt:1:booked:again",
                    payload={"appointment_id": 1},
                ),
                waitlist_offer_item(1, 1001, 1, now),
            ],
            now,
        )
        await uow.commit()
    # the 24 h reminder of the visit on 3 December falls due at 10:00 Moscow on 2 December
    out = await world.run("!clock 2026-12-02T10:01")
    assert "<@1001" not in out
    # the 24 h reminder is dropped; the 2 h one (3 December, 08:00) is not due yet
    assert await outbox_of(world, Kind.REMINDER) == [("cancelled", "opted out"), ("pending", None)]
    assert await outbox_of(world, Kind.WAITLIST_OFFER) == [("cancelled", "opted out")]
    booked = await outbox_of(world, Kind.BOOKED)
    assert booked == [("sent", "confirmed in chat"), ("cancelled", "opted out")]


async def test_clinic_changes_still_arrive(world: ConsoleWorld) -> None:
    await world.run(STAFF_CANCEL_DAY_3)
    assert (await appointments(world))["A-0000001"] == "cancelled"
    out = await world.run("@1001\n!clock +1m")
    assert "<@1001" in out
    text = world.last_text(1001)
    assert "Поликлиника отменила вашу запись" in text and "врач заболел" in text
    assert await outbox_of(world, Kind.CANCELLED_BY_CLINIC) == [("sent", None)]


# --------------------------------------------------------------------------- missed visits


async def mark_no_show(world: ConsoleWorld, number: str) -> None:
    """Let the visit start, then a registrar of the clinic marks it a no-show."""
    found = await rows(world, "SELECT start_utc FROM appointments WHERE number = :n", n=number)
    start = datetime.fromisoformat(str(found[0][0])).replace(tzinfo=UTC)
    minutes = int((start - world.clock.now()).total_seconds() // 60) + 10
    await world.run(f"!clock +{minutes}m\n@9001\n/staff\n[Отметить визит]\n[~{number}]\n[Неявка]")
    assert (await appointments(world))[number] == "no_show"


async def test_profile_shows_the_rule_before_the_restriction(strict_world: ConsoleWorld) -> None:
    await strict_world.run("@1001\n[Профиль]")
    text = strict_world.last_text(1001)
    assert "Пропущенных приёмов (неявок): 0." in text
    assert "Правило: после 2 неявок запись через бот закрывается" in text
    assert "Предел достигнут" not in text


async def test_no_shows_at_the_limit_close_booking(strict_world: ConsoleWorld) -> None:
    w = strict_world
    await mark_no_show(w, "A-0000001")
    await w.run("@1001\n[Профиль]")
    assert "Пропущенных приёмов (неявок): 1." in w.last_text(1001)
    assert "Предел достигнут" not in w.last_text(1001)
    # below the limit booking still works
    await w.run("[Записаться к врачу]\n[Терапевт]\n[~№ 12]\n[~Соколова]\n[4]\n[14:00]")
    await w.run("[Подтвердить]")
    assert "Вы записаны" in w.last_text(1001)
    await mark_no_show(w, "A-0000002")
    await w.run("@1001\n[Профиль]")
    text = w.last_text(1001)
    assert "Пропущенных приёмов (неявок): 2." in text
    assert "Предел достигнут: запись через бот закрыта." in text
    # at the limit: refused, in words, and nothing is booked or held
    await w.run("[Записаться к врачу]\n[Терапевт]\n[~№ 12]\n[~Соколова]\n[8]\n[#1]")
    refusal = w.last_text(1001)
    assert "Запись через бот закрыта: неявок — 2 (предел — 2)" in refusal
    assert "позвоните в" in refusal
    assert set((await appointments(w)).values()) == {"no_show"}
    assert await rows(w, "SELECT slot_id FROM holds") == []


async def test_default_world_does_not_restrict(world: ConsoleWorld) -> None:
    """The same count without the restriction: booking goes on (the switch is what closes it)."""
    async with world.app.engine.begin() as conn:
        from sqlalchemy import text

        await conn.execute(text("UPDATE users SET no_show_count = 5 WHERE id = 1001"))
    await world.run("@1001\n" + TO_DAY_3.replace("[3]", "[4]") + "[14:00]\n[Подтвердить]")
    assert "Вы записаны" in world.last_text(1001)
