"""English screens show our directory's Russian phrases translated (issue 7, item 9).

Regression: an English clinic card said «Hours: Пн–Пт 08:00–20:00» and a
doctor card «врач второй категории».
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from aiogram.utils.i18n import I18n

from flows.ui.directory_text import hours_text, qualification_text
from storage.demo_data import QUALIFICATIONS

LOCALES = Path(__file__).resolve().parents[2] / "locales"


@pytest.fixture
def i18n() -> Iterator[I18n]:
    i18n = I18n(path=LOCALES, default_locale="ru", domain="messages")
    with i18n.context():
        yield i18n


def test_hours_and_qualifications_in_english(i18n: I18n) -> None:
    with i18n.use_locale("en"):
        assert hours_text("Пн–Пт 08:00–20:00, Сб 09:00–15:00") == (
            "Mon–Fri 08:00–20:00, Sat 09:00–15:00"
        )
        assert qualification_text("врач второй категории") == "second category doctor"
        assert qualification_text("кандидат медицинских наук, врач высшей категории") == (
            "Candidate of Medical Sciences, highest category doctor"
        )
        assert qualification_text("заслуженный врач РФ") == "заслуженный врач РФ"  # not ours
        for q in QUALIFICATIONS:  # every phrase of our demo directory has an English form
            assert not any("а" <= ch <= "я" for ch in qualification_text(q).lower()), q


def test_russian_screens_keep_the_directory_wording(i18n: I18n) -> None:
    with i18n.use_locale("ru"):
        assert hours_text("Пн–Пт 08:00–20:00") == "Пн–Пт 08:00–20:00"
        for q in QUALIFICATIONS:
            assert qualification_text(q) == q
