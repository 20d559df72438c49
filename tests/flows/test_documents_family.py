"""«Документы» and «Справки» for a relative: whose document is asked, the relative's
documents are attachable to the relative's certificate only, and the certificate names the
relative. The relative is written straight into the database (the family section's own
dialogue is tested with it)."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio
from pypdf import PdfReader
from sqlalchemy import insert

from emulator.harness import ConsoleWorld
from storage.schema import patients
from tests.flows.booking_helpers import NOW, REGISTER_1001, rows

pytestmark = pytest.mark.asyncio(loop_scope="module")

FILES = Path(__file__).resolve().parents[1] / "e2e" / "files"


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def world() -> AsyncIterator[ConsoleWorld]:
    w = await ConsoleWorld.start(now=NOW, lang="ru")
    await w.run(REGISTER_1001)
    cipher = w.app.cipher
    async with w.app.engine.begin() as conn:
        await conn.execute(
            insert(patients).values(
                owner_user_id=1001,
                relation="child",
                name_enc=cipher.encrypt(json.dumps(["Иванова", "Мария", "Ивановна"])),
                birth_date_enc=cipher.encrypt("2018-05-20"),
                sex="F",
                created_at=datetime.now(UTC).replace(tzinfo=None),
            )
        )
    yield w
    await w.close()


async def test_a_document_for_a_child(world: ConsoleWorld) -> None:
    await world.run("@1001\n[Документы и справки]\n[~Загрузить документ]")
    assert "Чей это документ?" in world.last_text()
    labels = [label for row in world.buttons() for label, _d in row]
    assert labels[:2] == ["Я — Иванов Иван Иванович", "Иванова Мария Ивановна"]
    await world.run(f"[Иванова Мария Ивановна]\n!file {FILES / 'blood-test.pdf'}\nПрививки")
    await world.run(f"[~Загрузить ещё]\n[~Я —]\n!file {FILES / 'ecg.png'}\nЭКГ папы")
    owners = await rows(
        world,
        "SELECT p.relation FROM documents d JOIN patients p ON p.id = d.patient_id ORDER BY d.id",
    )
    assert [o[0] for o in owners] == ["child", "self"]
    await world.run("[Документы и справки]\n[~Мои документы]\n[~Прививки]")
    assert "Пациент: Иванова Мария Ивановна" in world.last_text()


async def test_a_certificate_for_a_child_attaches_only_her_documents(world: ConsoleWorld) -> None:
    await world.run("[Документы и справки]\n[~Заказать справку]\n[Иванова Мария Ивановна]")
    await world.run("[~086/у]\nдетский сад № 15")
    labels = [label for row in world.buttons() for label, _d in row]
    assert "📄 Прививки" in labels and "📄 ЭКГ папы" not in labels
    papa = (await rows(world, "SELECT id FROM documents WHERE id = 2"))[0][0]
    transcript = await world.run(f"!callback cn:att:{papa}:")  # the father's ECG: not hers
    assert "Эта кнопка устарела" in transcript
    await world.run("[📄 Прививки]\n[~Дальше]")
    # the child has none; «Вы не прикреплены» read as the parent's own, and no way out
    assert "Иванова Мария Ивановна: нет поликлиники прикрепления" in world.last_text()
    assert "Вы не прикреплены" not in world.last_text()
    assert ("Отменить заявку", "dh:home:0") in world.buttons()[-1]
    transcript = await world.run("!callback cn:clinic:999999:")
    assert "Эта кнопка устарела" in transcript
    await world.run("[~№ 12]")
    assert "Пациент: Иванова Мария Ивановна" in world.last_text()
    assert "Поликлиника: ГБУЗ «Городская поликлиника № 12 ДЗМ»" in world.last_text()
    await world.run("[Отправить заявку]")
    assert (await rows(world, "SELECT document_ids FROM certificate_requests"))[0][0] == "[1]"
    await world.run("@9001\n/staff\n[Заявки на справки]\n[~№ 1-00001]\n[Взять в работу]")
    await world.run("[Справка готова — выдать]\n@1001\n!clock +1m\n[~Скачать PDF]")
    _name, data = world.last_file(1001) or ("", b"")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    assert "Иванова Мария Ивановна" in text and "20.05.2018" in text
    assert "086/у" in text


async def test_a_removed_relatives_certificate_leaves_my_certificates(world: ConsoleWorld) -> None:
    """Her request was listed after her removal and its button said «Эта кнопка устарела»."""
    await world.run("[Мои близкие]\n[Иванова Мария Ивановна]\n[Удалить]\n[Да, удалить]")
    await world.run("[Документы и справки]")
    labels = [label for row in world.buttons() for label, _d in row]
    assert "📄 Мои справки (0)" in labels
    await world.run("[~Мои справки]")
    assert "1-00001" not in world.last_text() + str(world.buttons())
