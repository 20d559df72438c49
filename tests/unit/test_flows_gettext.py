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


def test_plurals_and_the_locale_as_aiogram_says_them() -> None:
    from aiogram.utils.i18n import get_i18n
    from aiogram.utils.i18n import ngettext as aiogram_ngettext

    from flows.ui.i18n import current_locale, ngettext

    i18n = build_i18n("ru")
    assert current_locale() is None
    plural = ("{years} year of experience", "{years} years of experience")
    with i18n.context():
        for locale in (*i18n.available_locales, "de"):
            with i18n.use_locale(locale):
                assert current_locale() == get_i18n().current_locale == locale
                for n in (0, 1, 2, 5, 11, 21, 101):
                    assert ngettext(*plural, n) == aiogram_ngettext(*plural, n), (locale, n)
        with i18n.use_locale("ru"):
            assert ngettext(*plural, 5) != plural[1]  # (a translation, not the msgid)
    with pytest.raises(LookupError):
        ngettext(*plural, 2)
