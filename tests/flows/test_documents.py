"""«Документы»: upload PDF/JPG/PNG (as a document or a photo), refusals by type, content and
size on the same step with nothing saved, resend by file id, delete with confirmation,
metadata encrypted, and another account's forged buttons changing nothing.

One world for the module (Russian); the English run is tests/flows/test_documents_en.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from emulator.harness import ConsoleWorld
from tests.flows.booking_helpers import NOW, REGISTER_1001, REGISTER_1002, rows

# A second confirmed account (the attachment register's Смирнова, clinic 2).
REGISTER_ANNA_1003 = """@1003
/start
[Русский]
[Согласен]
!contact
Смирнова Анна Сергеевна
03.09.1990
[Женский]
203-948-576 79
7700002345678910
[Пропустить]
"""

pytestmark = pytest.mark.asyncio(loop_scope="module")

FILES = Path(__file__).resolve().parents[1] / "e2e" / "files"
STALE = "Эта кнопка устарела"


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def world() -> AsyncIterator[ConsoleWorld]:
    w = await ConsoleWorld.start(now=NOW, lang="ru")
    await w.run(REGISTER_1001 + REGISTER_1002 + REGISTER_ANNA_1003)
    yield w
    await w.close()


async def documents(world: ConsoleWorld, user_id: int = 1001) -> list[tuple[object, ...]]:
    return await rows(
        world,
        "SELECT id, kind, sent_as, size, meta_enc, deleted_at FROM documents"
        " WHERE user_id = :u ORDER BY id",
        u=user_id,
    )


def callbacks(world: ConsoleWorld, user_id: int, prefix: str) -> list[str]:
    return [d for row in world.buttons(user_id) for _l, d in row if d and d.startswith(prefix)]


async def test_section_is_built_and_upload_accepts_pdf_jpg_png(world: ConsoleWorld) -> None:
    await world.run("@1001\n[Документы и справки]")
    assert "недоступен" not in world.last_text()
    assert "Документы и справки" in world.last_text()
    await world.run(f"[~Загрузить документ]\n!file {FILES / 'blood-test.pdf'}")
    assert "Файл PDF принят" in world.last_text()
    await world.run("Анализ крови, ноябрь")
    assert "Сохранено: «Анализ крови, ноябрь»" in world.last_text()
    await world.run(f"[~Загрузить ещё]\n!photo {FILES / 'xray.jpg'}\nРентген грудной клетки")
    await world.run(f"[~Загрузить ещё]\n!file {FILES / 'ecg.png'}\nЭКГ")
    saved = await documents(world)
    assert [(k, s) for _i, k, s, *_ in saved] == [
        ("pdf", "document"),
        ("jpg", "photo"),
        ("png", "document"),
    ]
    for row in saved:  # the title and the file name are encrypted at rest
        assert "Анализ" not in str(row[4]) and "blood-test" not in str(row[4])


async def test_exe_renamed_pdf_is_refused_on_the_same_step(world: ConsoleWorld) -> None:
    before = await documents(world)
    await world.run(f"[Документы и справки]\n[~Загрузить документ]\n!file {FILES / 'setup.pdf'}")
    assert "не настоящий PDF, JPG или PNG" in world.last_text()
    await world.run(f"!file {FILES / 'archive.zip'}")
    assert "Файлы «.zip» не принимаются" in world.last_text()
    assert await documents(world) == before  # nothing half-saved
    # still on the file step: the next file is taken without starting again
    await world.run(f"!file {FILES / 'ecg.png'}")
    assert "Файл PNG принят" in world.last_text()
    await world.run("[Документы и справки]")  # leaving the step keeps nothing
    assert await documents(world) == before


async def test_over_limit_file_is_refused(world: ConsoleWorld, tmp_path: Path) -> None:
    before = await documents(world)
    big = tmp_path / "scan.pdf"
    big.write_bytes(b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024))  # 10 MB + 9 bytes
    await world.run(f"[Документы и справки]\n[~Загрузить документ]\n!file {big}")
    assert "Файл больше 10 МБ" in world.last_text()
    assert await documents(world) == before


async def test_list_download_and_delete_with_confirmation(world: ConsoleWorld) -> None:
    await world.run("[Документы и справки]\n[~Мои документы (3)]")
    labels = [label for row in world.buttons(1001) for label, _d in row]
    assert labels[:3] == ["📄 ЭКГ", "📄 Рентген грудной клетки", "📄 Анализ крови, ноябрь"]
    await world.run("[~Анализ крови]\n[~Скачать]")
    _name, data = world.last_file(1001) or ("", b"")
    assert data == (FILES / "blood-test.pdf").read_bytes()
    await world.run("[Документы и справки]\n[~Мои документы]\n[~ЭКГ]\n[~Удалить]")
    assert "Удалить документ «ЭКГ»?" in world.last_text()
    await world.run("[Нет, оставить]")
    assert [r[5] for r in await documents(world)] == [None, None, None]
    await world.run("[~Удалить]\n[Да, удалить]")
    assert "Удалено: «ЭКГ»" in world.last_text()
    assert [r[5] is None for r in await documents(world)] == [True, True, False]
    journal = await rows(
        world,
        "SELECT action FROM journal WHERE user_id = 1001 AND action LIKE 'document_%' ORDER BY id",
    )
    assert [j[0] for j in journal] == ["document_added"] * 3 + ["document_sent", "document_deleted"]


async def test_a_standard_account_is_told_to_confirm_it(world: ConsoleWorld) -> None:
    await world.run("@1002\n[Документы и справки]")
    assert "нужна подтверждённая учётная запись" in world.last_text(1002)
    transcript = await world.run("!callback dh:upload:0")
    assert "нужна подтверждённая учётная запись" in transcript


async def test_another_accounts_forged_document_buttons_change_nothing(
    world: ConsoleWorld,
) -> None:
    before = await documents(world)
    ids = [int(str(r[0])) for r in before if r[5] is None]
    patient = (await rows(world, "SELECT id FROM patients WHERE owner_user_id = 1001"))[0][0]
    await world.run("@1003\n[Документы и справки]")
    for action in ("show", "get", "del", "delok"):
        transcript = await world.run(f"!callback da:{action}:{ids[0]}")
        assert STALE in transcript, (action, transcript)
    transcript = await world.run(f"!callback dp:{patient}")
    assert STALE in transcript
    for forged in ("da:get:2147483648", "da:delok:-1", "dp:99999999999", "dh:list:-5"):
        assert STALE in await world.run(f"!callback {forged}"), forged
    assert world.last_file(1003) is None  # nothing was sent to the other account
    assert await documents(world) == before
    # and the owner's deleted document is gone for the owner too
    deleted = next(int(str(r[0])) for r in before if r[5] is not None)
    transcript = await world.run(f"@1001\n[Документы и справки]\n!callback da:get:{deleted}")
    assert STALE in transcript
