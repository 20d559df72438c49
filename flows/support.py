"""«Поддержка»: the FAQ by topic, and the way to a ticket when the FAQ has no answer.

The section opens on the topics; a topic lists its questions; a question
shows its short answer. Every text is in the message catalogues
(flows/ui/faq_texts.py). A question may also be typed: flows/faq.py answers
free text wherever the dialogue expects none, this section included.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from domain.errors import Stale
from domain.models import User
from flows.guards import Registered
from flows.ui import faq_texts as faq
from flows.ui import keyboards as kb
from flows.ui import menu as menu_ui
from flows.ui.i18n import gettext as _
from flows.ui.safe_callback import SafeCallback
from flows.ui.support_callbacks import TkList, TkNew

router = Router(name="support")


class SpCb(SafeCallback, prefix="sp"):
    """Support navigation: ``action`` home | topic | item; ``key`` a topic or an entry id."""

    action: str
    key: str = ""


def write_row() -> list[InlineKeyboardButton]:
    return [kb.button(_("Did not find an answer? Write to support"), TkNew())]


def home_markup() -> InlineKeyboardMarkup:
    topics = [kb.button(t.title(), SpCb(action="topic", key=t.id)) for t in faq.TOPICS]
    rows = [topics[i : i + 2] for i in range(0, len(topics), 2)]
    rows.append([kb.button(_("Write to support"), TkNew())])
    rows.append([kb.button(_("My requests"), TkList())])
    return kb.inline(rows)


def home_text() -> str:
    return _(
        "Support. Choose a topic, or just type your question: the bot will look for the "
        "answer. If it does not help, write to support — the clinic's staff answer here."
    )


def answer_markup(back: SpCb) -> InlineKeyboardMarkup:
    return kb.inline([write_row(), kb.back_row(back)])


@router.message(F.text == menu_ui.SUPPORT, Registered())
async def on_support(message: Message, user: User) -> None:
    await message.answer(home_text(), reply_markup=home_markup(), parse_mode=None)


@router.callback_query(SpCb.filter(F.action == "home"), Registered())
async def on_home(query: CallbackQuery, user: User) -> None:
    await _show(query, home_text(), home_markup())


@router.callback_query(SpCb.filter(F.action == "topic"), Registered())
async def on_topic(query: CallbackQuery, callback_data: SpCb, user: User) -> None:
    title = faq.topic_title(callback_data.key)
    if not title:
        raise Stale
    rows = [
        [kb.button(item.question(), SpCb(action="item", key=item.id))]
        for item in faq.items_of(callback_data.key)
    ]
    rows.append(write_row())
    rows.append(kb.back_row(SpCb(action="home")))
    await _show(query, _("«{topic}»: choose a question.").format(topic=title), kb.inline(rows))


@router.callback_query(SpCb.filter(F.action == "item"), Registered())
async def on_item(query: CallbackQuery, callback_data: SpCb, user: User) -> None:
    item = faq.BY_ID.get(callback_data.key)
    if item is None:
        raise Stale
    text = f"❓ {item.question()}\n\n{item.answer()}"
    await _show(query, text, answer_markup(SpCb(action="topic", key=item.topic)))


async def _show(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(text, reply_markup=markup, parse_mode=None)
