"""«Профиль» → «Журнал действий» (issue 10.4): the account's actions, filtered and paged, and
the PDF (Cyrillic, the account's name, the period, the generation time on the app clock)."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import pytest
from pypdf import PdfReader

from emulator.harness import ConsoleWorld
from tests.flows.booking_helpers import BOOK_3_DEC_10, NOW, REGISTER_1001


@pytest.fixture
async def world() -> AsyncIterator[ConsoleWorld]:
    w = await ConsoleWorld.start(now=NOW, lang="ru")
    yield w
    await w.close()


async def test_journal_lists_and_filters_the_accounts_actions(world: ConsoleWorld) -> None:
    await world.run(REGISTER_1001 + BOOK_3_DEC_10 + "!clock +2m\n")
    out = await world.run("[Профиль]\n[Журнал действий]")
    assert "Журнал действий · 30 дней · Всё" in out
    assert "Регистрация" in out and "Запись на приём № A-0000001" in out
    assert "Отправлено подтверждение записи" in out  # a notification sent, from the outbox
    out = await world.run("[Аккаунт]")
    assert "Регистрация" in out and "Запись на приём" not in out
    out = await world.run("[Приёмы]")
    assert "Запись на приём № A-0000001" in out and "Регистрация" not in out
    out = await world.run("[Поддержка]")
    assert "За этот период ничего нет" in out


async def test_journal_pdf_holds_the_actions_name_period_and_time(world: ConsoleWorld) -> None:
    await world.run(REGISTER_1001 + BOOK_3_DEC_10)
    await world.run("[Профиль]\n[Журнал действий]\n[7 дней]\n[PDF]")
    found = world.last_file(1001)
    assert found is not None
    name, data = found
    assert name == "journal-20261201.pdf"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    text = " ".join(text.split())
    assert "Журнал действий" in text
    assert "Иванов Иван Иванович" in text
    assert "с 24.11.2026 по 01.12.2026" in text
    assert "01.12.2026 12:00" in text  # generated at the app clock's time (Moscow)
    assert "Запись на приём № A-0000001" in text
    assert "Регистрация" in text
