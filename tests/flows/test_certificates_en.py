"""«Certificates» in English: request → more information → answer → ready, the PDF (printed
in Russian, as a clinic's paper is) holds the patient's name and the certificate's type."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from pypdf import PdfReader

from emulator.harness import ConsoleWorld
from tests.flows.booking_helpers import NOW, rows
from tests.flows.test_documents_en import REGISTER_1001_EN, REGISTER_1002_EN

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def world() -> AsyncIterator[ConsoleWorld]:
    w = await ConsoleWorld.start(now=NOW, lang="en")
    await w.run(REGISTER_1001_EN + REGISTER_1002_EN)
    yield w
    await w.close()


async def status(world: ConsoleWorld) -> str:
    return str((await rows(world, "SELECT status FROM certificate_requests"))[0][0])


async def test_certificate_round_trip_in_english(world: ConsoleWorld) -> None:
    await world.run("@1001\n[Documents]\n[~Request a certificate]")
    assert "Which certificate do you need?" in world.last_text()
    await world.run("[~school / kindergarten]\nkindergarten No. 15, Moscow")
    assert "Certificate: Certificate for school / kindergarten (form 086/u)" in world.last_text()
    await world.run("[Send the request]")
    assert "Request № 1-00001 is sent to the clinic" in world.last_text()
    # another account's forged buttons
    transcript = await world.run("@1002\n[Documents]\n!callback ca:show:1")
    assert "This button is out of date." in transcript
    # the clinic asks, the patient answers
    await world.run("@9001\n/staff\n[~Certificate requests]\n[~№ 1-00001]")
    await world.run(
        "[Take into review]\n[Ask for more information]\nWhich group of the kindergarten?"
    )
    await world.run("@1001\n!clock +1m")
    assert "the clinic needs more information" in world.last_text(1001)
    await world.run("[Open the certificate request]\n[~Answer]\nThe middle group")
    assert "Your answer is sent to the clinic" in world.last_text()
    assert await status(world) == "in_review"
    await world.run("@9001\n/staff\n[~Certificate requests]\n[~№ 1-00001]\n[Certificate is ready]")
    await world.run("@1001\n!clock +1m")
    assert "the certificate is ready" in world.last_text(1001)
    await world.run("[~Download PDF]")
    name, data = world.last_file(1001) or ("", b"")
    assert name == "certificate-1-00001.pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    assert "Иванов Иван Иванович" in text
    assert "Медицинская справка в школу / детский сад (форма 086/у)" in text
    assert await status(world) == "ready"
