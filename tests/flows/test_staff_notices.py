"""The clinic's staff are told what waits for them (domain/staff_notices.py): a new ticket,
a patient's reply, a new certificate request, a patient's answer — once, to the registrars
and administrators of that clinic only, numbers and categories without what the patient
wrote, never in the quiet hours; what the staff already acted on is not told."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from emulator.harness import ConsoleWorld
from tests.flows.booking_helpers import NOW, REGISTER_1001, rows
from tests.flows.test_documents_en import REGISTER_1001_EN

TEXT = "Не могу открыть PDF подтверждения"
NEW_TICKET = "[Поддержка]\n[Написать в поддержку]\n[Технический сбой]\n" + TEXT + "\n"
CERTIFICATE = (
    "[Документы и справки]\n[~Заказать справку]\n[~для бассейна]\n"
    "секция плавания в бассейне «Олимп»\n[Отправить заявку]\n"
)


async def started(now: object = NOW, lang: str = "ru") -> ConsoleWorld:
    return await ConsoleWorld.start(now=now, lang=lang)  # type: ignore[arg-type]


@pytest.fixture
async def world() -> AsyncIterator[ConsoleWorld]:
    w = await started()
    yield w
    await w.close()


def lines_to(transcript: str, user: int) -> list[str]:
    return [line for line in transcript.splitlines() if line.startswith(f"<@{user} ")]


async def test_a_new_ticket_and_a_reply_are_told_once_to_the_clinic_staff(
    world: ConsoleWorld,
) -> None:
    await world.run(REGISTER_1001 + NEW_TICKET)
    out = await world.run("!clock +1m")
    told = lines_to(out, 9001)
    assert len(told) == 1 and "📩 Новое обращение № 1 (Технический сбой)" in told[0]
    assert "ответ обещан до" in told[0]
    assert "📩 Новое обращение № 1" in "\n".join(lines_to(out, 9009))  # the clinic's admin
    assert not lines_to(out, 9002)  # another clinic's registrar hears nothing
    assert TEXT not in out  # what the patient wrote stays behind the button
    assert "📩" not in await world.run("!clock +1m")  # once

    await world.run("@9001\n[Открыть обращение]")
    assert TEXT in world.last_text(9001)  # the button opens it (the clinic checked again)
    await world.run("@1001\n[Поддержка]\n[~Мои обращения]\n[~№ 1]\n[Ответить]\nФайл не открывается")
    out = await world.run("!clock +1m")
    assert "📩 Пациент ответил в обращении № 1 (Технический сбой)." in "\n".join(
        lines_to(out, 9001)
    )
    await world.run("@1001\n[Поддержка]\n[~Мои обращения]\n[~№ 1]\n[Ответить]\nЕщё раз")
    await world.run("@9001\n/staff\n[Обращения]\n[~№ 1]\n[Ответить]\nПереотправили файл.")
    assert "📩" not in await world.run("!clock +1m")  # answered before the job ran: nothing waits
    assert await rows(world, "SELECT staff_notice_at FROM tickets") == [(None,)]


async def test_nothing_is_told_in_the_quiet_hours_it_waits_for_the_morning() -> None:
    night = NOW + timedelta(hours=11)  # 23:00 in Moscow
    world = await started(night)
    try:
        await world.run(REGISTER_1001 + NEW_TICKET)
        assert "📩" not in await world.run("!clock +60m")
        out = await world.run("!clock +9h")  # 09:00
        assert "📩 Новое обращение № 1" in "\n".join(lines_to(out, 9001))
    finally:
        await world.close()


async def test_a_certificate_request_and_the_patient_answer_are_told(world: ConsoleWorld) -> None:
    await world.run(REGISTER_1001 + CERTIFICATE)
    assert "Заявка № 1-00001 отправлена" in world.last_text(1001)
    out = await world.run("!clock +1m")
    told = "\n".join(lines_to(out, 9001))
    assert "📄 Новая заявка на справку № 1-00001 (Справка для бассейна" in told
    assert "Олимп" not in out
    await world.run("@9001\n[Открыть заявку]")
    assert "секция плавания" in world.last_text(9001)
    await world.run("[Взять в работу]\n[Запросить сведения]\nНомер школы?")
    assert "📄" not in await world.run("!clock +1m")  # the staff's own steps are not told back
    await world.run("@1001\n[Открыть заявку]\n[~Ответить]\nШкола № 1234")
    out = await world.run("!clock +1m")
    assert "📄 Пациент ответил на вопрос поликлиники по заявке на справку № 1-00001" in "\n".join(
        lines_to(out, 9001)
    )


async def test_each_staff_member_is_told_in_their_own_language() -> None:
    """The registrar chose English in the bot, the administrator never opened it (the
    deployment's Russian); the English-speaking patient's text never shows in a push."""
    world = await ConsoleWorld.start(now=NOW, lang="en")
    try:
        await world.run("@9001\n/start\n[English]")
        await world.run(REGISTER_1001_EN)
        await world.run("[Support]\n[Write to support]\n[Technical problem]\nPDF <b>broken</b>")
        out = await world.run("!clock +1m")
        told = "\n".join(lines_to(out, 9001))
        assert "📩 New request № 1 (Technical problem); the promised answer is by" in told
        assert "📩 Новое обращение № 1 (Технический сбой)" in "\n".join(lines_to(out, 9009))
        assert "broken" not in out
        await world.run("@9001\n[Open the request]")
        assert "PDF <b>broken</b>" in world.last_text(9001)  # escaped, shown as typed
        out = await world.run("!clock +4h")  # unanswered: escalated to the admin, in Russian
        assert "⚠️ Обращение № 1" in "\n".join(lines_to(out, 9009))
    finally:
        await world.close()
