"""The main menu (SPEC §11): a reply keyboard whose labels are also the handlers' filters."""

from __future__ import annotations

from aiogram.types import KeyboardButton, Message, ReplyKeyboardMarkup
from aiogram.utils.i18n import lazy_gettext as __

from flows.ui.i18n import gettext as _

# Lazy labels: the reply button sends its text back, so the same string is the filter.
BOOK = __("Book a doctor")
MY_APPOINTMENTS = __("My appointments")
HISTORY = __("Visit history")
FAMILY = __("My family")
DOCUMENTS = __("Documents")
SUPPORT = __("Support")
PROFILE = __("Profile")


def main_menu() -> ReplyKeyboardMarkup:
    rows = [
        [BOOK, MY_APPOINTMENTS],
        [HISTORY, FAMILY],
        [DOCUMENTS, SUPPORT],
        [PROFILE],
    ]
    return ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text=str(label)) for label in row] for row in rows],
        resize_keyboard=True,
        input_field_placeholder=_("Choose a section"),
    )


MAIN_MENU_LABEL = __("Main menu")


def labels() -> set[str]:
    """Every main-menu label in the current language (each one is also a handler's filter)."""
    items = (BOOK, MY_APPOINTMENTS, HISTORY, FAMILY, DOCUMENTS, SUPPORT, PROFILE, MAIN_MENU_LABEL)
    return {str(label) for label in items}


def is_navigation(text: str | None) -> bool:
    """A main-menu button or a command: never a dialogue step's answer, it leaves the step."""
    return text is not None and (text in labels() or text.startswith("/"))


def not_navigation(message: Message) -> bool:
    """Filter of a step's answer handlers: menu buttons and commands pass on to their own."""
    return not is_navigation(message.text)
