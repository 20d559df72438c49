"""Another section's inline button ends a typed step (flows/navigation.py), in ru and en.

Found in the console walk of 2026-11-30: a menu button or a command already ended
a step, but after pressing an inline button of another section (an FAQ topic, a
/staff menu entry) the next typed text still went to the old step — it became a
relative's name, a ticket reply, a certificate answer or the reason patients see
when their visits are cancelled. Each test opens a typed step, presses an older
message's button of another section, types, and checks the text went nowhere old.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from emulator.harness import ConsoleWorld
from tests.flows.booking_helpers import NOW, rows

pytestmark = pytest.mark.asyncio(loop_scope="module")

LABELS: dict[str, dict[str, str]] = {
    "ru": {
        "lang": "Русский", "agree": "Согласен", "male": "Мужской", "skip": "Пропустить",
        "support": "Поддержка", "topic": "Напоминания", "family": "Мои близкие",
        "add": "Добавить близкого", "child": "Ребёнок", "question": "как отменить запись",
        "faq": "Как отменить запись?", "name_refused": "фамили", "write": "Написать в поддержку",
        "category": "Технический сбой", "reply": "Ответить", "requests": "Обращения",
        "mine": "Мои обращения", "docs": "Документы и справки", "order": "Заказать справку",
        "pool": "для бассейна", "send": "Отправить заявку", "certs": "Заявки на справки",
        "take": "Взять в работу", "ask": "Запросить сведения", "open": "Открыть заявку",
        "answer": "Ответить", "book": "Записаться к врачу", "gp": "Терапевт",
        "confirm": "Подтвердить", "cancel": "Отменить приём", "day": "3 декабря",
        "will_cancel": "Причина: врач заболел", "birth": "дату рождения",
    },
    "en": {
        "lang": "English", "agree": "I agree", "male": "Male", "skip": "Skip",
        "support": "Support", "topic": "Reminders", "family": "My family",
        "add": "Add a relative", "child": "Child", "question": "how do I cancel an appointment",
        "faq": "How do I cancel", "name_refused": "surname", "write": "Write to support",
        "category": "Technical problem", "reply": "Reply", "requests": "Requests",
        "mine": "My requests", "docs": "Documents", "order": "Request a certificate",
        "pool": "for a pool", "send": "Send the request", "certs": "Certificate requests",
        "take": "Take into review", "ask": "Ask for more information",
        "open": "Open the certificate request", "answer": "Answer", "book": "Book a doctor",
        "gp": "General practitioner", "confirm": "Confirm", "cancel": "Cancel visits",
        "day": "3 December", "will_cancel": "Reason: врач заболел", "birth": "date of birth",
    },
}  # fmt: skip


def register(t: dict[str, str]) -> str:
    return (
        f"@1001\n/start\n[{t['lang']}]\n[{t['agree']}]\n!contact\nИванов Иван Иванович\n"
        f"12.04.1985\n[{t['male']}]\n112-233-445 95\n8451999122899990\n[{t['skip']}]\n"
    )


@pytest_asyncio.fixture(loop_scope="module", scope="module", params=["ru", "en"])
async def lw(request: pytest.FixtureRequest) -> AsyncIterator[tuple[ConsoleWorld, dict[str, str]]]:
    t = LABELS[request.param]
    w = await ConsoleWorld.start(now=NOW, lang=request.param)
    await w.run(register(t) + f"[{t['support']}]")  # an older message with FAQ topic buttons
    yield w, t
    await w.close()


async def test_relatives_name_step(lw: tuple[ConsoleWorld, dict[str, str]]) -> None:
    world, t = lw
    await world.run(f"@1001\n[{t['family']}]\n[{t['add']}]\n[{t['child']}]")
    await world.run(f"[{t['topic']}]")  # the support message's topic, another section
    out = await world.run(t["question"])
    assert t["faq"] in out  # the FAQ answered
    assert t["name_refused"] not in out.lower()  # not refused as a relative's name
    assert t["birth"] not in out  # nor accepted as one (the next step asks the birth date)


async def test_ticket_reply_step(lw: tuple[ConsoleWorld, dict[str, str]]) -> None:
    world, t = lw
    await world.run(
        f"@1001\n[{t['support']}]\n[{t['write']}]\n[{t['category']}]\nPDF?\n"
        f"@9001\n/staff\n[{t['requests']}]\n[~№ 1]\n[#1]\nOK\n"  # its «Ответить»
        f"@1001\n!clock +1m\n[{t['support']}]\n[{t['mine']}]\n[~№ 1]\n[{t['reply']}]"
    )
    await world.run(f"[{t['topic']}]")  # the older support message: another section
    await world.run("спасибо, всё работает")
    assert await rows(world, "SELECT count(*) FROM ticket_messages") == [(2,)]


async def test_certificate_answer_step(lw: tuple[ConsoleWorld, dict[str, str]]) -> None:
    world, t = lw
    await world.run(
        f"@1001\n{t['docs']}\n[~{t['order']}]\n[~{t['pool']}]\nсекция «Олимп»\n"
        f"[{t['send']}]\n@9001\n/staff\n[{t['certs']}]\n[~№ 1-00001]\n[{t['take']}]\n"
        f"[{t['ask']}]\nНомер школы?\n@1001\n!clock +1m\n[{t['open']}]\n[~{t['answer']}]"
    )
    await world.run(f"[{t['topic']}]")
    await world.run("школа № 1234")
    assert await rows(world, "SELECT status FROM certificate_requests") == [("more_info",)]


async def test_staff_reason_step(lw: tuple[ConsoleWorld, dict[str, str]]) -> None:
    world, t = lw
    await world.run(
        f"@1001\n[{t['book']}]\n[{t['gp']}]\n[~№ 12]\n[~Соколова]\n[3]\n[10:00]\n"
        f"[{t['confirm']}]\n@9001\n/staff\n[{t['cancel']}]\n[~Соколова]\n[~{t['day']}]"
    )
    await world.run(f"[{t['requests']}]")  # the older /staff menu: another staff section
    out = await world.run("врач заболел")
    assert t["will_cancel"] not in out  # not taken as the patients' reason
    assert await rows(world, "SELECT status FROM appointments") == [("pending",)]
    # the step itself still works when it is walked through
    await world.run(f"/staff\n[{t['cancel']}]\n[~Соколова]\n[~{t['day']}]\nврач заболел")
    assert t["will_cancel"] in world.last_text()
