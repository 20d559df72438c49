"""Every «…» an FAQ answer names is a label the bot really shows, in both languages.

Regression: the answers told patients to press «Отменить приём» / «Cancel visit» and
«В календарь» / «Calendar», while the buttons read «Отменить запись» / «Cancel
appointment» and «Календарь (.ics)» / «Calendar (.ics)».
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.i18n import build_i18n
from flows.ui.faq_texts import ITEMS

QUOTED = re.compile(r"«([^«»]+)»")
LOCALES = Path(__file__).resolve().parents[2] / "locales"


@pytest.mark.parametrize("locale", ["ru", "en"])
def test_every_quoted_name_in_an_answer_is_a_label_of_the_bot(locale: str) -> None:
    with open(LOCALES / locale / "LC_MESSAGES" / "messages.po", "rb") as po:
        catalog = read_po(po)
    labels = {str(m.string) for m in catalog if m.id and isinstance(m.string, str)}
    i18n = build_i18n("ru")
    with i18n.context(), i18n.use_locale(locale):
        answers = [item.answer() for item in ITEMS]
    named = {name for answer in answers for name in QUOTED.findall(answer)}
    assert named, "the answers name buttons"
    assert sorted(named - labels) == []
