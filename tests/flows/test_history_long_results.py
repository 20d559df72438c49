"""Visit results at their longest (2,000 characters each) still show every section.

Regression: the three texts in full passed Telegram's 4,096 characters, so the end of
the message — the prescriptions and the referral — was cut off, unseen by the patient.
Each long text is now shortened in the chat, with a pointer to the PDF that has it whole.
"""

from __future__ import annotations

import io

from pypdf import PdfReader

from emulator.harness import ConsoleWorld
from tests.flows.booking_helpers import BOOK_3_DEC_10, NOW, REGISTER_1001

CONCLUSION = ("Заключение подробное. " * 100)[:2000]
ADVICE = ("Рекомендации подробные. " * 100)[:2000]
DRUGS = ("Назначено лекарство. " * 100)[:1988] + "КОНЕЦ_СПИСКА"


async def test_every_section_shows_and_the_pdf_has_the_whole_text() -> None:
    world = await ConsoleWorld.start(now=NOW, lang="ru")
    try:
        await world.run(REGISTER_1001 + BOOK_3_DEC_10 + "!clock 2026-12-03T10:30")
        await world.run(
            "@9001\n/staff\n[Результаты приёма]\n[~A-0000001]\n"
            f"{CONCLUSION}\n{ADVICE}\n{DRUGS}\n"
            "[Кардиолог]\n[30 дней]\n[Сохранить и уведомить пациента]\n!clock +1m"
        )
        await world.run("@1001\n[Подробнее]")
        text = world.last_text()
        assert len(text) <= 4096 and not text.endswith("…")
        for label in ("Заключение: ", "Рекомендации: ", "Назначения: ", "Направления: Кардиолог"):
            assert label in text
        assert "КОНЕЦ_СПИСКА" not in text
        assert "Здесь текст сокращён: полностью он — в PDF (кнопка ниже)." in text
        await world.run("[PDF]")
        found = world.last_file()
        assert found is not None
        pdf = "".join(p.extract_text() for p in PdfReader(io.BytesIO(found[1])).pages)
        assert "КОНЕЦ_СПИСКА" in pdf.replace("\n", "")
    finally:
        await world.close()
