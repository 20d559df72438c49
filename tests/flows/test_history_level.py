"""SPEC §1: visit-history details need a confirmed account, as documents and certificates do.

The list stays open to a standard account (it is the user's own bookings); a visit's
details (results, prescriptions, referrals) and its PDF are refused with the documents'
wording — found in the closing notes of 2026-11-30: history did not check the level.
The demo patient @5001 is confirmed and has completed visits; a policy edit sends the
account back to standard (SPEC §1), as a person would get there.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from emulator.harness import ConsoleWorld
from tests.flows.booking_helpers import NOW

SCRIPT = {
    "ru": ("[История посещений]", "[✏️ Полис ОМС]", "Для подробностей приёма и их PDF нужна"),
    "en": ("[Visit history]", "[✏️ OMS policy]", "Visit details and their PDF need"),
}


@pytest.fixture
async def world() -> AsyncIterator[ConsoleWorld]:
    w = await ConsoleWorld.start(now=NOW, lang="ru", demo_history=True)
    yield w
    await w.close()


@pytest.mark.parametrize("lang", ["ru", "en"])
async def test_details_and_pdf_need_a_confirmed_account(world: ConsoleWorld, lang: str) -> None:
    history, edit_policy, refused = SCRIPT[lang]
    await world.run("@5001\n/menu")
    if lang == "en":
        await world.run("[Профиль]\n[Язык]\n[English]")
    await world.run(f"{history[1:-1]}\n[#1]")
    assert refused not in world.last_text()  # confirmed: the details open
    details = world.last_text()
    await world.run(f"{'Profile' if lang == 'en' else 'Профиль'}\n{edit_policy}\n1234567890123452")
    out = await world.run(f"{history[1:-1]}\n[#1]")
    assert refused in out and details not in out
    out = await world.run("!callback hix:1")  # the PDF of a visit, forged from the list
    assert refused in out
    assert world.last_file(5001) is None  # no visit PDF sent
