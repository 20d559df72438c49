"""Screens that ended a task without a button now have a way back (ru and en).

Closing notes of 2026-11-30 (and 2026-12-01: the reason prompt of a cancellation): /staff «Обращения» with none open, «Отменено приёмов: N»,
the registrar's «Перенесено» and «Календарь по ссылке» on a server without a public
base URL ended with no button: the staff member (the patient) had to type /staff
(/menu) to go on. Each now offers the staff menu (or «Профиль», where the link lives).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from emulator.harness import ConsoleWorld
from tests.flows.booking_helpers import NOW

pytestmark = pytest.mark.asyncio(loop_scope="module")

L = {
    "ru": {
        "lang": "Русский", "agree": "Согласен", "male": "Мужской", "skip": "Пропустить",
        "book": "Записаться к врачу", "gp": "Терапевт", "confirm": "Подтвердить",
        "requests": "Обращения", "cancel": "Отменить приём", "move": "Перенести приём",
        "day": "4 декабря", "day3": "3 декабря", "menu": "Меню сотрудника", "back": "Назад", "profile": "Профиль",
        "calendar": "Календарь по ссылке", "staff_home": "что нужно сделать?",
        "profile_card": "Ваш профиль",
    },
    "en": {
        "lang": "English", "agree": "I agree", "male": "Male", "skip": "Skip",
        "book": "Book a doctor", "gp": "General practitioner", "confirm": "Confirm",
        "requests": "Requests", "cancel": "Cancel visits", "move": "Move a visit",
        "day": "4 December", "day3": "3 December", "menu": "Staff menu", "back": "Back", "profile": "Profile",
        "calendar": "Calendar link", "staff_home": "what would you like to do?",
        "profile_card": "Your profile",
    },
}  # fmt: skip


@pytest_asyncio.fixture(loop_scope="module", scope="module", params=["ru", "en"])
async def lw(request: pytest.FixtureRequest) -> AsyncIterator[tuple[ConsoleWorld, dict[str, str]]]:
    t = L[request.param]
    w = await ConsoleWorld.start(now=NOW, lang=request.param)
    await w.run(
        f"@1001\n/start\n[{t['lang']}]\n[{t['agree']}]\n!contact\nИванов Иван Иванович\n"
        f"12.04.1985\n[{t['male']}]\n112-233-445 95\n8451999122899990\n[{t['skip']}]\n"
        f"[{t['book']}]\n[{t['gp']}]\n[~№ 12]\n[~Соколова]\n[3]\n[10:00]\n[{t['confirm']}]"
    )
    yield w, t
    await w.close()


def labels(world: ConsoleWorld) -> list[tuple[str, str | None]]:
    return [b for row in world.buttons() for b in row]


async def test_no_open_tickets_has_a_way_back(lw: tuple[ConsoleWorld, dict[str, str]]) -> None:
    world, t = lw
    await world.run(f"@9001\n/staff\n[{t['requests']}]")
    assert labels(world) == [(t["back"], "sm:home")]
    await world.run(f"[{t['back']}]")
    assert t["staff_home"] in world.last_text()


async def test_a_move_and_a_cancel_end_with_the_staff_menu(
    lw: tuple[ConsoleWorld, dict[str, str]],
) -> None:
    world, t = lw
    await world.run(f"@9001\n/staff\n[{t['move']}]\n[~A-0000001]\n[4]\n[14:00]\nврач на учёбе")
    await world.run(f"[{t['confirm']}]")
    assert "A-0000002" in world.last_text()
    assert labels(world) == [(t["menu"], "sm:home")]
    await world.run(f"/staff\n[{t['cancel']}]\n[~Соколова]\n[~{t['day']}]\nврач заболел")
    await world.run(f"[{t['confirm']}]")
    assert labels(world) == [(t["menu"], "sm:home")]
    await world.run(f"[{t['menu']}]")
    assert t["staff_home"] in world.last_text()


async def test_calendar_link_without_a_base_url_goes_back_to_the_profile(
    lw: tuple[ConsoleWorld, dict[str, str]],
) -> None:
    world, t = lw
    await world.run(f"@1001\n{t['profile']}\n[{t['calendar']}]")
    assert [label for label, _data in labels(world)] == [t["back"]]
    await world.run(f"[{t['back']}]")
    assert t["profile_card"] in world.last_text()


async def test_back_from_the_reason_ends_the_step(lw: tuple[ConsoleWorld, dict[str, str]]) -> None:
    """«Назад» on the confirmation (or the staff menu) leaves the reason step: the next
    text typed is not taken as a new cancellation reason for the old doctor and day."""
    world, t = lw
    await world.run(  # a visit of its own: an earlier test may have cancelled the first one
        f"@1002\n/start\n[{t['lang']}]\n[{t['agree']}]\n!contact\nПетров Пётр Петрович\n"
        f"01.02.1980\n[{t['male']}]\n123-456-789 64\n1234567890123452\n[{t['skip']}]\n"
        f"[{t['book']}]\n[{t['gp']}]\n[~№ 12]\n[~Соколова]\n[3]\n[11:30]\n[{t['confirm']}]"
    )
    await world.run(f"@9001\n/staff\n[{t['cancel']}]\n[~Соколова]\n[~{t['day3']}]\nврач заболел")
    assert [label for label, _data in labels(world)][-1] == t["back"]
    await world.run(f"[{t['back']}]\nкурсы повышения квалификации")
    assert "курсы повышения" not in world.last_text()
    assert "/staff" in world.last_text()  # the staff hint of the catch-all, not a confirmation
    await world.run(f"/staff\n[{t['cancel']}]\n[~Соколова]\n[~{t['day3']}]")
    await world.run("/menu\nврач заболел")
    assert "врач заболел" not in world.last_text()


async def test_the_reason_prompt_has_a_way_back(lw: tuple[ConsoleWorld, dict[str, str]]) -> None:
    """The prompt for a cancellation's reason offered no button: «Назад» now returns to
    the choice of doctor and ends the step (what is typed next is no reason)."""
    world, t = lw
    await world.run(
        f"@1003\n/start\n[{t['lang']}]\n[{t['agree']}]\n!contact\nСидоров Семён Ильич\n"
        f"03.03.1975\n[{t['male']}]\n111-222-333 72\n7777888899990000\n[{t['skip']}]\n"
        f"[{t['book']}]\n[{t['gp']}]\n[~№ 12]\n[~Соколова]\n[3]\n[12:06]\n[{t['confirm']}]"
    )
    await world.run(f"@9001\n/staff\n[{t['cancel']}]\n[~Соколова]\n[~{t['day3']}]")
    assert labels(world) == [(t["back"], "sm:cancel")]
    await world.run(f"[{t['back']}]")
    assert "Соколова" in world.last_text() or any("Соколова" in b for b, _d in labels(world))
    await world.run("отпуск")
    assert "отпуск" not in world.last_text()
