"""Wording defects of the closing notes of 2026-11-30 (ru and en).

- The booking summary kept «Это время закреплено за вами на 5 мин. Нажмите
  «Подтвердить»…» after «Подтвердить» had booked it (only its buttons went).
- The staff certificate card printed the patient's birth date with a weekday.
- «добавлен(а)», «удалён(а)» although a neutral phrasing reads as well.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import pytest_asyncio
from sqlalchemy import insert

from emulator.harness import ConsoleWorld
from storage.schema import patients
from tests.flows.booking_helpers import NOW

L = {
    "ru": {
        "lang": "Русский", "agree": "Согласен", "male": "Мужской", "skip": "Пропустить",
        "book": "Записаться к врачу", "gp": "Терапевт", "confirm": "Подтвердить",
        "summary": "Проверьте данные записи", "press": "Нажмите «Подтвердить»",
        "appointments": "Мои записи", "move": "Перенести", "moving": "Перенести запись",
        "docs": "Документы и справки", "order": "Заказать справку", "pool": "для бассейна",
        "send": "Отправить заявку", "certs": "Заявки на справки", "family": "Мои близкие",
        "remove": "Удалить", "yes": "Да, удалить",
    },
    "en": {
        "lang": "English", "agree": "I agree", "male": "Male", "skip": "Skip",
        "book": "Book a doctor", "gp": "General practitioner", "confirm": "Confirm",
        "summary": "Please check the booking", "press": "Press «Confirm»",
        "appointments": "My appointments", "move": "Reschedule", "moving": "Move the appointment",
        "docs": "Documents", "order": "Request a certificate", "pool": "for a pool",
        "send": "Send the request", "certs": "Certificate requests", "family": "My family",
        "remove": "Remove", "yes": "Yes, remove",
    },
}  # fmt: skip


def edited(transcript: str, head: str) -> str:
    """The text of the last «(edited)» message of the transcript that starts with ``head``."""
    found = ""
    for block in transcript.split("\n<@")[1:]:
        first, _, rest = block.partition("\n")
        if "(edited)" in first and head in first:
            found = first + "\n" + rest
    return found


pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(loop_scope="module", scope="module", params=["ru", "en"])
async def lw(request: pytest.FixtureRequest) -> AsyncIterator[tuple[ConsoleWorld, dict[str, str]]]:
    t = L[request.param]
    w = await ConsoleWorld.start(now=NOW, lang=request.param)
    await w.run(
        f"@1001\n/start\n[{t['lang']}]\n[{t['agree']}]\n!contact\nИванов Иван Иванович\n"
        f"12.04.1985\n[{t['male']}]\n112-233-445 95\n8451999122899990\n[{t['skip']}]"
    )
    yield w, t
    await w.close()


async def test_the_summary_loses_its_press_confirm_line_once_booked(
    lw: tuple[ConsoleWorld, dict[str, str]],
) -> None:
    world, t = lw
    await world.run(f"@1001\n[{t['book']}]\n[{t['gp']}]\n[~№ 12]\n[~Соколова]\n[3]\n[10:00]")
    assert t["press"] in world.last_text()
    out = await world.run(f"[{t['confirm']}]")
    summary = edited(out, t["summary"])
    assert summary and "A-0000001" not in summary  # the summary itself, edited
    assert t["press"] not in summary
    assert "Соколова" in summary  # the booking's details stay
    # a reschedule's summary too
    await world.run(f"{t['appointments']}\n[~A-0000001]\n[{t['move']}]\n[4]\n[14:00]")
    assert t["press"] in world.last_text()
    out = await world.run(f"[{t['confirm']}]")
    summary = edited(out, t["moving"])
    assert summary and t["press"] not in summary


async def test_staff_certificate_card_birth_date_has_no_weekday(
    lw: tuple[ConsoleWorld, dict[str, str]],
) -> None:
    world, t = lw
    await world.run(
        f"@1001\n{t['docs']}\n[~{t['order']}]\n[~{t['pool']}]\nсекция «Олимп»\n[{t['send']}]\n"
        f"@9001\n/staff\n[{t['certs']}]\n[~№ 1-00001]"
    )
    card = world.last_text()
    assert "Иванов Иван Иванович, 12.04.1985" in card
    for weekday in ("вс,", "Sun,", "воскресенье", "Sunday"):  # 12.04.1985 was a Friday
        assert weekday not in card
    assert "пт," not in card and "Fri," not in card


async def test_relatives_wording_is_neutral(lw: tuple[ConsoleWorld, dict[str, str]]) -> None:
    world, t = lw
    async with world.app.engine.begin() as conn:
        await conn.execute(
            insert(patients).values(
                owner_user_id=1001,
                relation="child",
                name_enc=world.app.cipher.encrypt(json.dumps(["Иванова", "Мария", "Ивановна"])),
                birth_date_enc=world.app.cipher.encrypt("2018-05-20"),
                sex="F",
                created_at=datetime.now(UTC).replace(tzinfo=None),
            )
        )
    out = await world.run(
        f"@1001\n{t['family']}\n[Иванова Мария Ивановна]\n[{t['remove']}]\n[{t['yes']}]"
    )
    assert "(а)" not in out
    assert "Иванова Мария Ивановна" in world.last_text()
