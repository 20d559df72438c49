"""Two defects of the older closing notes, found still there on 2026-11-30 (ru and en).

- After a one-tap rebook the clinic's cancel notice kept «Ближайшее свободное время —
  запись в одно касание:» with no time under it; it now names the visit booked instead.
- /delete_me cancelled upcoming visits without the METHOD:CANCEL .ics a patient's or a
  clinic's cancellation sends, so the phone's calendar kept a visit that will not happen.
"""

from __future__ import annotations

import pytest

from emulator.harness import ConsoleWorld
from tests.flows.booking_helpers import NOW

L = {
    "ru": ("Русский", "Согласен", "Мужской", "Пропустить", "Записаться к врачу", "Терапевт",
           "Подтвердить", "Отменить приём", "3 декабря", "запись в одно касание",
           "Вместо него вы записаны: запись № A-0000002", "Удалить данные"),
    "en": ("English", "I agree", "Male", "Skip", "Book a doctor", "General practitioner",
           "Confirm", "Cancel visits", "3 December", "one tap books",
           "Booked instead: appointment № A-0000002", "Erase my data"),
}  # fmt: skip


@pytest.mark.parametrize("lang", ["ru", "en"])
async def test_rebook_closes_the_offer_and_erasure_withdraws_the_calendar_event(
    lang: str,
) -> None:
    lang_b, agree, male, skip, book, gp, confirm, cancel, day, offer, instead, erase = L[lang]
    world = await ConsoleWorld.start(now=NOW, lang=lang)
    try:
        await world.run(
            f"@1001\n/start\n[{lang_b}]\n[{agree}]\n!contact\nИванов Иван Иванович\n12.04.1985\n"
            f"[{male}]\n112-233-445 95\n8451999122899990\n[{skip}]\n"
            f"[{book}]\n[{gp}]\n[~№ 12]\n[~Соколова]\n[3]\n[10:00]\n[{confirm}]\n!jobs notifier\n"
            f"@9001\n/staff\n[{cancel}]\n[~Соколова]\n[~{day}]\nврач заболел\n[{confirm}]\n"
            "@1001\n!clock +1m"
        )
        assert offer in world.last_text()
        out = await world.run("[#1]")
        notice = out.split("(edited)", 1)[1].split("\n<@", 1)[0]
        assert offer not in notice and instead in notice
        await world.run(f"/delete_me\n[{erase}]")
        name, data = world.last_file(1001) or ("", b"")
        assert name == "appointment-A-0000002-cancelled.ics"
        assert b"METHOD:CANCEL" in data
    finally:
        await world.close()
