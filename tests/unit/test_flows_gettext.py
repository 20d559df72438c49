"""flows/ui/i18n.py's ``gettext`` says what aiogram's says, in every locale and outside one."""

from __future__ import annotations

import pytest
from aiogram.utils.i18n import gettext as aiogram_gettext

from bot.i18n import build_i18n
from flows.ui.i18n import _CURRENT, gettext

TEXTS = ["Back", "Confirm", "Choose a time.", "no such text in the catalogue", ""]


def test_the_same_texts_as_aiogram_in_every_locale() -> None:
    i18n = build_i18n("ru")
    assert _CURRENT is not None  # the fast path is the one under test
    with i18n.context():
        for locale in (*i18n.available_locales, "de"):
            with i18n.use_locale(locale):
                for text in TEXTS:
                    assert gettext(text) == aiogram_gettext(text), (locale, text)
        assert gettext("Back") == aiogram_gettext("Back")  # the default locale
        assert gettext("Back") != "Back"  # (ru: a translation, not the msgid)
        plural = ("{years} year of experience", "{years} years of experience")
        assert gettext(*plural, 5) == aiogram_gettext(*plural, 5)


def test_outside_an_update_it_fails_as_aiogram_does() -> None:
    with pytest.raises(LookupError):
        aiogram_gettext("Back")
    with pytest.raises(LookupError):
        gettext("Back")
