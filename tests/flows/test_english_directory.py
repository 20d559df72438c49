"""An English booking screen shows our directory's phrases in English (issue 7, item 9).

Regression: the clinic card read «Hours: Пн–Пт 08:00–20:00» and the doctors
«врач второй категории» on English screens.
"""

from __future__ import annotations

from emulator.harness import ConsoleWorld
from tests.flows.booking_helpers import NOW

REGISTER_EN = """/start
[English]
[I agree]
!contact
Ivanov Ivan Ivanovich
12.04.1985
[Male]
112-233-445 95
8451999122899990
[Skip]
"""


async def test_english_clinic_and_doctor_cards_have_no_russian_directory_phrases() -> None:
    world = await ConsoleWorld.start(now=NOW, lang="en")
    try:
        await world.run(REGISTER_EN + "[Book a doctor]\n[General practitioner]\n[~№ 12]")
        card = world.last_text()
        assert "Hours: Mon–Fri 08:00–20:00, Sat 09:00–15:00" in card
        assert "second category doctor" in card and "doctor without a category" in card
        for russian in ("Пн", "Пт", "Сб", "категории"):
            assert russian not in card
    finally:
        await world.close()
