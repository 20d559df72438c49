"""Issue 7.12: after one 403 a patient was unreachable forever and an urgent clinic
cancellation was dropped. Now any update (or an unblock) clears the mark, and the urgent
notice held meanwhile goes out when they come back."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiogram.types import Update

from emulator.harness import ConsoleWorld
from tests.flows.booking_helpers import BOOK_3_DEC_10, NOW, REGISTER_1001, rows
from tests.flows.test_notify_settings import STAFF_CANCEL_DAY_3

CANCEL_DAY = STAFF_CANCEL_DAY_3  # the registrar cancels Соколова's 3 December: «врач заболел»
NOTICE = "Поликлиника отменила вашу запись"
_ids = itertools.count(800_000)


@pytest.fixture
async def world() -> AsyncIterator[ConsoleWorld]:
    # Not strict: the emulator's 403 to a blocked user is part of the story.
    w = await ConsoleWorld.start(now=NOW, lang="ru", strict=False)
    await w.run(REGISTER_1001 + BOOK_3_DEC_10)
    yield w
    await w.close()


async def unreachable(world: ConsoleWorld) -> bool:
    return bool((await rows(world, "SELECT unreachable FROM users WHERE id = 1001"))[0][0])


async def notice_states(world: ConsoleWorld) -> list[str]:
    found = await rows(
        world, "SELECT state FROM outbox WHERE user_id = 1001 AND kind = 'clinic_cancelled'"
    )
    return [str(r[0]) for r in found]


def texts(world: ConsoleWorld) -> list[str]:
    chat = world.emulator.chats[1001]
    return [str(m.message.get("text") or "") for m in chat.messages.values() if m.out]


async def blocked_then_clinic_cancels(world: ConsoleWorld) -> None:
    world.emulator.blocked.add(1001)
    await world.run(CANCEL_DAY + "!clock +1m")
    assert await unreachable(world)
    assert await notice_states(world) == ["held"]  # not dropped as «user unreachable»
    assert not any(NOTICE in t for t in texts(world))
    world.emulator.blocked.discard(1001)


def my_chat_member(status: str) -> dict[str, Any]:
    user = {"id": 1001, "is_bot": False, "first_name": "Иван", "language_code": "ru"}
    bot_user = {"id": 4242, "is_bot": True, "first_name": "Zapis"}
    old = "member" if status == "kicked" else "kicked"

    def member(state: str) -> dict[str, Any]:
        # As Telegram sends it: a "kicked" bot in a private chat has until_date 0 (forever).
        return {
            "status": state,
            "user": bot_user,
            **({"until_date": 0} if state == "kicked" else {}),
        }

    return {
        "update_id": next(_ids),
        "my_chat_member": {
            "chat": {"id": 1001, "type": "private", "first_name": "Иван"},
            "from": user,
            "date": 1_800_000_000,
            "old_chat_member": member(old),
            "new_chat_member": member(status),
        },
    }


async def feed(world: ConsoleWorld, raw: dict[str, Any]) -> None:
    update = Update.model_validate(raw, context={"bot": world.bot})
    await world.app.dispatcher.feed_update(world.bot, update)


async def test_blocked_patient_who_writes_again_gets_the_held_clinic_cancellation(
    world: ConsoleWorld,
) -> None:
    await blocked_then_clinic_cancels(world)
    await world.run("@1001\n/menu")
    assert not await unreachable(world)
    await world.run("!clock +1m")
    assert await notice_states(world) == ["sent"]
    assert any(NOTICE in t and "врач заболел" in t for t in texts(world))


async def test_unblocking_the_bot_clears_the_mark_and_sends_what_was_held(
    world: ConsoleWorld,
) -> None:
    await blocked_then_clinic_cancels(world)
    await feed(world, my_chat_member("member"))
    assert not await unreachable(world)
    await world.run("!clock +1m")
    assert await notice_states(world) == ["sent"]


async def test_blocking_the_bot_in_the_private_chat_marks_unreachable_at_once(
    world: ConsoleWorld,
) -> None:
    await feed(world, my_chat_member("kicked"))
    assert await unreachable(world)
    # Reminders are not urgent: while unreachable they are dropped, not piled up.
    await world.run("@1001\n[Мои записи]")  # any update: reachable again
    assert not await unreachable(world)
    assert "A-0000001" in world.last_text()
