"""«Documents» in English: the three accepted types, the renamed program and the over-limit
file refused with their reasons, a forged button of another account changing nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from emulator.harness import ConsoleWorld
from tests.flows.booking_helpers import NOW, rows

pytestmark = pytest.mark.asyncio(loop_scope="module")

FILES = Path(__file__).resolve().parents[1] / "e2e" / "files"
REGISTER_EN = """@{uid}
/start
[English]
[I agree]
!contact
{name}
12.04.1985
[Male]
{snils}
{policy}
[Skip]
"""
REGISTER_1001_EN = REGISTER_EN.format(
    uid=1001,
    name="Иванов Иван Иванович",
    snils="112-233-445 95",
    policy="8451999122899990",
)
REGISTER_1002_EN = (
    REGISTER_EN.format(
        uid=1002,
        name="Смирнова Анна Сергеевна",
        snils="203-948-576 79",
        policy="7700002345678910",
    )
    .replace("12.04.1985", "03.09.1990")
    .replace("[Male]", "[Female]")
)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def world() -> AsyncIterator[ConsoleWorld]:
    w = await ConsoleWorld.start(now=NOW, lang="en")
    await w.run(REGISTER_1001_EN + REGISTER_1002_EN)
    yield w
    await w.close()


async def kinds(world: ConsoleWorld) -> list[str]:
    found = await rows(world, "SELECT kind FROM documents WHERE deleted_at IS NULL ORDER BY id")
    return [str(r[0]) for r in found]


async def test_pdf_jpg_png_accepted_in_english(world: ConsoleWorld) -> None:
    await world.run("@1001\n[Documents]")
    assert "Documents and certificates" in world.last_text()
    await world.run(f"[~Upload a document]\n!file {FILES / 'blood-test.pdf'}")
    assert "PDF file accepted" in world.last_text()
    await world.run("Blood test")
    assert "Saved: «Blood test»." in world.last_text()
    await world.run(f"[~Upload another]\n!photo {FILES / 'xray.jpg'}\nChest X-ray")
    await world.run(f"[~Upload another]\n!photo {FILES / 'ecg.png'}\nECG")
    assert await kinds(world) == ["pdf", "jpg", "png"]


async def test_renamed_program_and_big_file_refused_in_english(
    world: ConsoleWorld, tmp_path: Path
) -> None:
    await world.run(f"[Documents]\n[~Upload a document]\n!file {FILES / 'setup.pdf'}")
    assert "This file is not a real PDF, JPG or PNG" in world.last_text()
    big = tmp_path / "scan.png"
    big.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * (10 * 1024 * 1024))
    await world.run(f"!file {big}")
    assert "The file is larger than 10 MB" in world.last_text()
    assert await kinds(world) == ["pdf", "jpg", "png"]


async def test_forged_document_buttons_in_english(world: ConsoleWorld) -> None:
    first = (await rows(world, "SELECT id FROM documents ORDER BY id"))[0][0]
    transcript = await world.run(f"@1002\n[Documents]\n!callback da:delok:{first}")
    assert "This button is out of date." in transcript
    transcript = await world.run(f"!callback da:get:{first}")
    assert "This button is out of date." in transcript
    assert world.last_file(1002) is None
    assert await kinds(world) == ["pdf", "jpg", "png"]
