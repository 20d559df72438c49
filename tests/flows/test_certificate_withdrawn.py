"""A removed relative's open certificate request is withdrawn (ru and en).

Closing notes of 2026-11-30: the request stayed open at the clinic after the relative
was removed, and its status push (queued for the morning by the quiet hours) still
carried «Открыть заявку», which then said «Эта кнопка устарела». Now the removal
withdraws it through the same status machine (journaled), the clinic's list drops it,
the registrar's old buttons change nothing, and the queued push is cancelled.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert

from emulator.harness import ConsoleWorld
from storage.schema import patients
from tests.flows.booking_helpers import NOW, rows

L = {
    "ru": {
        "lang": "Русский", "agree": "Согласен", "male": "Мужской", "skip": "Пропустить",
        "docs": "Документы и справки", "order": "Заказать справку", "school": "086/у",
        "clinic": "№ 12", "send": "Отправить заявку", "certs": "Заявки на справки",
        "take": "Взять в работу", "ask": "Запросить сведения", "family": "Мои близкие",
        "remove": "Удалить", "yes": "Да, удалить", "withdrawn": "Отозвано заявок на справки: 1.",
        "none": "нет открытых заявок", "moved": "уже в другом статусе", "refuse": "Отказать",
        "pushed": "нужны дополнительные сведения",
    },
    "en": {
        "lang": "English", "agree": "I agree", "male": "Male", "skip": "Skip",
        "docs": "Documents", "order": "Request a certificate", "school": "086/u",
        "clinic": "№ 12", "send": "Send the request", "certs": "Certificate requests",
        "take": "Take into review", "ask": "Ask for more information", "family": "My family",
        "remove": "Remove", "yes": "Yes, remove", "withdrawn": "Certificate requests withdrawn: 1.",
        "none": "No open certificate requests", "moved": "already moved on", "refuse": "Refuse",
        "pushed": "needs more information",
    },
}  # fmt: skip


@pytest.fixture(params=["ru", "en"])
async def world(request: pytest.FixtureRequest) -> AsyncIterator[tuple[ConsoleWorld, str]]:
    lang = request.param
    t = L[lang]
    w = await ConsoleWorld.start(now=NOW, lang=lang)
    await w.run(
        f"@1001\n/start\n[{t['lang']}]\n[{t['agree']}]\n!contact\nИванов Иван Иванович\n"
        f"12.04.1985\n[{t['male']}]\n112-233-445 95\n8451999122899990\n[{t['skip']}]"
    )
    async with w.app.engine.begin() as conn:  # a child (the family dialogue has its own tests)
        await conn.execute(
            insert(patients).values(
                owner_user_id=1001,
                relation="child",
                name_enc=w.app.cipher.encrypt(json.dumps(["Иванова", "Мария", "Ивановна"])),
                birth_date_enc=w.app.cipher.encrypt("2018-05-20"),
                sex="F",
                created_at=datetime.now(UTC).replace(tzinfo=None),
            )
        )
    yield w, lang
    await w.close()


async def test_removal_withdraws_the_open_request_and_its_queued_push(
    world: tuple[ConsoleWorld, str],
) -> None:
    w, lang = world
    t = L[lang]
    await w.run(
        f"@1001\n{t['docs']}\n[~{t['order']}]\n[Иванова Мария Ивановна]\n[~{t['school']}]\n"
        f"детский сад № 15\n[~{t['clinic']}]\n[{t['send']}]"
    )
    # at night the registrar asks a question: the push waits for the morning
    await w.run(
        f"!clock 2026-12-01T23:30\n@9001\n/staff\n[{t['certs']}]\n[~№ 1-00001]\n[{t['take']}]\n"
        f"[{t['ask']}]\nКакая группа детского сада?"
    )
    queued = await rows(w, "SELECT state FROM outbox WHERE kind = 'cert_status' ORDER BY id")
    assert ("pending",) in queued
    out = await w.run(
        f"@1001\n{t['family']}\n[Иванова Мария Ивановна]\n[{t['remove']}]\n[{t['yes']}]"
    )
    assert t["withdrawn"] in out
    assert await rows(w, "SELECT status FROM certificate_requests") == [("withdrawn",)]
    journal = await rows(w, "SELECT action FROM journal WHERE action = 'certificate_withdrawn'")
    assert journal == [("certificate_withdrawn",)]
    states = await rows(w, "SELECT state FROM outbox WHERE kind = 'cert_status'")
    assert ("pending",) not in states  # the queued push is cancelled, not sent with its button
    out = await w.run("!clock +10h")
    assert t["pushed"] not in out
    # the clinic's list drops it; an old card's buttons change nothing
    out = await w.run(f"@9001\n!callback sc:refuse:1:0:0\n/staff\n[{t['certs']}]")
    assert t["moved"] in out
    assert t["none"] in w.last_text()
    assert await rows(w, "SELECT status FROM certificate_requests") == [("withdrawn",)]
