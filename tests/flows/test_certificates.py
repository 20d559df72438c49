"""«Справки»: request → /staff takes it, asks for more information → the patient answers in
chat → ready → the PDF (pypdf) holds the patient's name and the certificate's type; every
change a push through the outbox (held until morning in quiet hours), journaled; another
account's and another clinic's forged buttons change nothing; a refusal with its reason.

One world for the module, the tests in order like one console session (Russian).
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from pypdf import PdfReader

from emulator.harness import ConsoleWorld
from tests.flows.booking_helpers import NOW, REGISTER_1001, rows
from tests.flows.test_documents import REGISTER_ANNA_1003

pytestmark = pytest.mark.asyncio(loop_scope="module")

FILES = Path(__file__).resolve().parents[1] / "e2e" / "files"
STALE = "Эта кнопка устарела"


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def world() -> AsyncIterator[ConsoleWorld]:
    w = await ConsoleWorld.start(now=NOW, lang="ru")
    await w.run(REGISTER_1001 + REGISTER_ANNA_1003)
    yield w
    await w.close()


async def requests(world: ConsoleWorld) -> list[tuple[object, ...]]:
    return await rows(
        world, "SELECT id, user_id, clinic_id, kind, status FROM certificate_requests ORDER BY id"
    )


async def pushes(world: ConsoleWorld) -> list[tuple[object, ...]]:
    return await rows(
        world, "SELECT user_id, payload, state FROM outbox WHERE kind = 'cert_status' ORDER BY id"
    )


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


async def test_request_with_an_attached_document(world: ConsoleWorld) -> None:
    await world.run(
        f"@1001\n[Документы и справки]\n[~Загрузить документ]\n!file {FILES / 'blood-test.pdf'}\n"
        "Анализ крови"
    )
    await world.run("[Документы и справки]\n[~Заказать справку]")
    assert "Какая справка нужна?" in world.last_text()
    await world.run("[~для бассейна]")
    await world.run("ок")
    assert "от 3 до 500 символов" in world.last_text()  # refused, the step stays
    await world.run("секция плавания в бассейне «Олимп»")
    await world.run("[~Анализ крови]\n[~Дальше (приложено: 1)]")
    summary = world.last_text()
    assert "Справка: Справка для бассейна / занятий спортом" in summary
    assert "Поликлиника: ГБУЗ «Городская поликлиника № 12 ДЗМ»" in summary
    await world.run("[Отправить заявку]")
    assert "Заявка № 1-00001 отправлена в поликлинику" in world.last_text()
    assert await requests(world) == [(1, 1001, 1, "pool", "submitted")]
    encrypted = await rows(world, "SELECT purpose_enc FROM certificate_requests")
    assert "Олимп" not in str(encrypted[0][0])


async def test_other_clinic_staff_and_other_patient_cannot_touch_it(world: ConsoleWorld) -> None:
    await world.run("@9002\n/staff\n[Заявки на справки]")
    assert "нет открытых заявок" in world.last_text()
    assert ("Назад", "sm:home") in world.buttons()[-1]  # the list had no way back to /staff
    for action in ("show", "take", "ask", "ready", "refuse"):
        transcript = await world.run(f"!callback sc:{action}:1:0:0")
        assert STALE in transcript, action
    transcript = await world.run("!callback sc:doc:1:1:0")
    assert STALE in transcript
    await world.run("@1003\n[Документы и справки]")
    for action in ("show", "pdf", "answer"):
        transcript = await world.run(f"!callback ca:{action}:1")
        assert STALE in transcript, action
    assert await requests(world) == [(1, 1001, 1, "pool", "submitted")]
    assert world.last_file(1003) is None


async def test_staff_asks_for_more_information_and_the_patient_answers(
    world: ConsoleWorld,
) -> None:
    await world.run("@9001\n/staff\n[Заявки на справки]\n[~№ 1-00001]")
    staff_view = world.last_text()
    assert "Иванов Иван Иванович" in staff_view and "секция плавания" in staff_view
    await world.run("[~Анализ крови]")  # the attached document, resent to the registrar
    assert world.last_file(9001) == ("blood-test.pdf", (FILES / "blood-test.pdf").read_bytes())
    await world.run("[Взять в работу]\n[Запросить сведения]")
    await world.run("Укажите, пожалуйста, номер школы или секции")
    assert "Вопрос отправлен пациенту" in world.last_text()
    assert world.buttons() == [[("Заявки на справки", "sc:list:0:0:0")]]  # it was a dead end
    assert (await requests(world))[0][4] == "more_info"
    await world.run("@1001\n!clock +1m")
    assert "поликлинике нужны дополнительные сведения" in world.last_text(1001)
    await world.run("[Открыть заявку]")
    assert "Вопрос поликлиники: Укажите, пожалуйста, номер школы" in world.last_text()
    await world.run("[~Ответить]\nСекция плавания при школе № 1234")
    assert "Ваш ответ отправлен в поликлинику" in world.last_text()
    assert (await requests(world))[0][4] == "in_review"
    transcript = await world.run("!callback ca:answer:1")  # no second answer to one question
    assert "уже в другом статусе" in transcript


async def test_ready_certificate_pdf_holds_name_and_type(world: ConsoleWorld) -> None:
    await world.run("@9001\n/staff\n[Заявки на справки]\n[~№ 1-00001]")
    assert "Ответ: Секция плавания при школе № 1234" in world.last_text()
    await world.run("[Справка готова — выдать]")
    assert "Справка № 1-00001 выдана" in world.last_text()
    transcript = await world.run("[Назад]\n!callback sc:ready:1:0:0")  # a second tap: nothing
    assert "уже в другом статусе" in transcript
    await world.run("@1001\n!clock +1m")
    assert "справка готова" in world.last_text(1001)
    await world.run("[~Скачать PDF]")
    name, data = world.last_file(1001) or ("", b"")
    assert name == "certificate-1-00001.pdf"
    text = pdf_text(data)
    assert "Иванов Иван Иванович" in text
    assert "Справка для бассейна / занятий спортом" in text
    assert "12.04.1985" in text and "1-00001" in text and "Городская поликлиника № 12" in text
    # it stays downloadable in the section
    await world.run("[Документы и справки]\n[~Мои справки (1)]\n[~№ 1-00001]\n[~Скачать PDF]")
    assert (world.last_file(1001) or ("", b""))[1] == data
    statuses = [str(p[1]) for p in await pushes(world)]
    assert [s.split('"status": "')[1].split('"')[0] for s in statuses] == [
        "in_review",
        "more_info",
        "ready",
    ]
    journal = await rows(
        world, "SELECT action FROM journal WHERE action LIKE 'certificate_%' ORDER BY id"
    )
    assert [j[0] for j in journal] == [
        "certificate_requested",
        "certificate_document_viewed",
        "certificate_in_review",
        "certificate_more_info",
        "certificate_answered",
        "certificate_ready",
        "certificate_downloaded",
        "certificate_downloaded",
    ]


async def test_refusal_at_night_arrives_in_the_morning(world: ConsoleWorld) -> None:
    await world.run(
        "@1001\n[Документы и справки]\n[~Заказать справку]\n[~027/у]\nдля санатория\n"
        "[~Дальше]\n[Отправить заявку]"
    )
    await world.run("!clock 2026-12-01T23:00")
    await world.run("@9001\n/staff\n[Заявки на справки]\n[~№ 1-00002]\n[Отказать]")
    await world.run("Выписку выдаёт участковый терапевт на приёме")
    assert "В заявке № 1-00002 отказано" in world.last_text()
    await world.run("@1001\n!clock +2h")
    assert "поликлиника отказала" not in world.last_text(1001)  # quiet hours
    await world.run("!clock 2026-12-02T08:30")
    assert "поликлиника отказала" in world.last_text(1001)
    await world.run("[Открыть заявку]")
    assert "Причина отказа: Выписку выдаёт участковый терапевт" in world.last_text()
    assert [r[4] for r in await requests(world)] == ["ready", "refused"]
