"""Free text answered from the FAQ, wherever the dialogue expects no text.

«Как отменить запись?» typed at the main menu used to get «Не понял
сообщение». This router sits right before the catch-all (flows/menu.py): a
registered user's text with no dialogue state, not a menu button or a command,
is matched against the FAQ (domain/faq.py) in the user's language; the best
one to three entries come back as buttons, with the way to a ticket. When
nothing matches well enough the filter does not pass, and the menu answers.
"""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.filters import Filter, StateFilter
from aiogram.types import Message
from aiogram.utils.i18n import get_i18n

from domain.faq import FaqIndex, Hit
from domain.models import User, is_registered
from flows.support import SpCb, write_row
from flows.ui import faq_texts as faq
from flows.ui import keyboards as kb
from flows.ui import menu as menu_ui
from flows.ui.i18n import gettext as _

router = Router(name="faq")

# One index per language, built on first use (the texts are the catalogue's, fixed per run).
_INDEXES: dict[str, FaqIndex] = {}
MAX_QUESTION = 500  # a pasted essay is not a question to match


def index_for(locale: str) -> FaqIndex:
    found = _INDEXES.get(locale)
    if found is None:
        found = _INDEXES[locale] = FaqIndex.build(faq.entries(), locale)
    return found


def answers(text: str) -> list[Hit]:
    locale = get_i18n().current_locale
    return index_for(locale).match(text[:MAX_QUESTION], limit=3)


class FaqQuestion(Filter):
    """A registered user's free text that the FAQ can answer; injects ``hits``."""

    async def __call__(self, message: Message, user: User | None = None) -> dict[str, Any] | bool:
        text = message.text
        if not is_registered(user) or menu_ui.is_navigation(text) or not text:
            return False
        hits = answers(text)
        return {"hits": hits} if hits else False


@router.message(StateFilter(None), F.text, FaqQuestion())
async def on_question(message: Message, hits: list[Hit]) -> None:
    rows = [
        [kb.button(faq.BY_ID[h.id].question(), SpCb(action="item", key=h.id))]
        for h in hits
        if h.id in faq.BY_ID
    ]
    rows.append(write_row())
    await message.answer(
        _("Perhaps this will help — choose a question:"),
        reply_markup=kb.inline(rows),
        parse_mode=None,
    )
