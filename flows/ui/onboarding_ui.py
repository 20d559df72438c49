"""Onboarding's words and keyboards, shared with «Профиль» (which edits the same fields).

Kept out of flows/onboarding.py so the profile reuses them without importing
the registration dialogue, and each module stays small.
"""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup, ReplyKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from flows.ui import keyboards as kb
from flows.ui.i18n import gettext as _
from flows.ui.safe_callback import SafeCallback

LANG_LABELS = {"ru": "Русский", "en": "English"}


class LangCb(SafeCallback, prefix="ob-l"):
    code: str  # a LANG_LABELS key


class ConsentCb(SafeCallback, prefix="ob-c"):
    pass


def language_keyboard() -> InlineKeyboardMarkup:
    keyboard = InlineKeyboardBuilder()
    for code, label in LANG_LABELS.items():
        keyboard.button(text=label, callback_data=LangCb(code=code))
    return keyboard.as_markup()


def phone_keyboard() -> ReplyKeyboardMarkup:
    return kb.contact_request(_("Share my phone number"))


def sex_keyboard() -> ReplyKeyboardMarkup:
    return kb.reply([[_("Male"), _("Female")]])


def skip_keyboard() -> ReplyKeyboardMarkup:
    return kb.reply([[_("Skip")]])


def consent_text() -> str:
    return _(
        "Before we start: consent to the processing of personal data (Federal Law No. 152-FZ).\n\n"
        "What we store: your phone number, full name, date of birth, sex, SNILS, OMS policy "
        "number and, if you give it, e-mail; your appointments and an activity journal.\n"
        "Why: to book you at a polyclinic, to check your attachment to a clinic and to remind "
        "you of visits. Stored encrypted: your full name, date of birth, SNILS, policy, phone, "
        "e-mail and what you type during a dialogue; they are shared only with the clinic "
        "you book at.\n"
        "You can see and change the data in «Profile» and erase it at any time with /delete_me.\n\n"
        "Press «I agree» to continue."
    )


def consent_keyboard() -> InlineKeyboardMarkup:
    keyboard = InlineKeyboardBuilder()
    keyboard.button(text=_("I agree"), callback_data=ConsentCb())
    return keyboard.as_markup()


def duplicate_snils_text() -> str:
    """Neutral on purpose: it neither confirms nor denies that a SNILS is in use."""
    return _(
        "I could not register the profile with these data. Please check the SNILS (and "
        "then the policy) you entered; if they are right, contact your clinic's registry "
        "or support (the «Support» section) and we will sort it out."
    )
