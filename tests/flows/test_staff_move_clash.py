"""A registrar's move does not offer times that clash with the patient's other visits (ru, en).

Closing notes of 2026-11-30 (issue 7 review): the registrar was offered 14:00 on a day the
patient was at the ophthalmologist 14:00–14:20, and was refused only after «Подтвердить».
"""

from __future__ import annotations

import pytest

from emulator.harness import ConsoleWorld
from tests.flows.booking_helpers import NOW

L = {
    "ru": ("Русский", "Согласен", "Мужской", "Пропустить", "Записаться к врачу", "Терапевт",
           "Подтвердить", "Офтальмолог", "4 дек. 14:00", "Перенести приём"),
    "en": ("English", "I agree", "Male", "Skip", "Book a doctor", "General practitioner",
           "Confirm", "Ophthalmologist", "4 Dec 14:00", "Move a visit"),
}  # fmt: skip


@pytest.mark.parametrize("lang", ["ru", "en"])
async def test_the_move_leaves_out_times_of_the_patients_other_visit(lang: str) -> None:
    lang_b, agree, male, skip, book, gp, confirm, eye, eye_time, move = L[lang]
    world = await ConsoleWorld.start(now=NOW, lang=lang)
    try:
        await world.run(
            f"@1001\n/start\n[{lang_b}]\n[{agree}]\n!contact\nИванов Иван Иванович\n12.04.1985\n"
            f"[{male}]\n112-233-445 95\n8451999122899990\n[{skip}]\n"
            f"[{book}]\n[{gp}]\n[~№ 12]\n[~Соколова]\n[3]\n[10:00]\n[{confirm}]\n"
            f"[{book}]\n[{eye}]\n[~№ 12]\n[#1]\n[~{eye_time}]\n[{confirm}]"  # 14:00–14:20
        )
        await world.run(f"@9001\n/staff\n[{move}]\n[~A-0000001]\n[4]")
        times = [label for row in world.buttons() for label, _data in row]
        assert "14:00" not in times and "14:12" not in times  # the ophthalmologist's 20 min
        assert "14:24" in times
    finally:
        await world.close()
