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


ISSUE_9_ACTIONS = [
    "family.added", "family.edited", "family.removed", "family.consent_requested",
    "family.consent_approved", "family.consent_declined", "family.request_approved",
    "family.request_declined", "family.request_withdrawn", "history.pdf", "visit.results",
    "document_added", "document_deleted", "document_sent", "certificate_requested",
    "certificate_answered", "certificate_downloaded", "certificate_in_review",
    "certificate_more_info", "certificate_ready", "certificate_refused",
    "certificate_document_viewed", "account.deleted",
]  # fmt: skip


def test_the_sections_actions_have_words_not_codes() -> None:
    """The journal printed «history.pdf», «document_added», «family.added» as they are stored."""
    from aiogram.utils.i18n import I18n

    from domain.journal_view import Item
    from flows.journal_view import describe

    i18n = I18n(path="locales", default_locale="ru", domain="messages")
    with i18n.context(), i18n.use_locale("ru"):
        raw = [a for a in ISSUE_9_ACTIONS if describe(Item(at=NOW, action=a)) == a]
    assert raw == []


async def test_an_uploaded_document_is_journaled_in_words(world: ConsoleWorld) -> None:
    files = "tests/e2e/files"
    await world.run(
        REGISTER_1001
        + f"[Документы и справки]\n[~Загрузить документ]\n!file {files}/ecg.png\nЭКГ\n"
    )
    out = await world.run("[Профиль]\n[Журнал действий]")
    assert "Загружен документ" in out and "document_added" not in out
