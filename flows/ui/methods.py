"""A step's Bot API calls built without pydantic validating what we just built.

Every press of the booking wizard ends in ``message.edit_text(text, reply_markup=…,
parse_mode=None)`` and ``query.answer()`` (flows/booking_common.py ``show``). aiogram
builds each method object with a full pydantic validation of its ~11 fields — the
keyboard (already a validated ``InlineKeyboardMarkup``), the text, the ids — ~10–25 µs
for an object whose every value is already of its field's type. Here the object is a
copy of the first one aiogram's own shortcut built in this process (the template: the
same fields set, the defaults) with the values of this call put in, when each value is
exactly of the type its field declares (an ``int`` id, a ``str`` text, a markup or
None); anything else goes through aiogram's shortcut as before. The result compares
equal to aiogram's, field by field, fields set and serialized
(tests/unit/test_lean_methods.py). ``send_text`` does the same for
``bot.send_message(chat_id, text, reply_markup=…, parse_mode=None)`` («Подтвердить»'s
confirmation, a refusal after it: ~13 µs of validation each).
"""

from __future__ import annotations

import inspect
from typing import Any

from aiogram import Bot
from aiogram.methods import AnswerCallbackQuery, EditMessageText, SendMessage
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from pydantic import BaseModel

_TEMPLATES: dict[type, BaseModel] = {}


def _copy(template: BaseModel, bot: Any, values: dict[str, Any]) -> Any:
    made = object.__new__(template.__class__)
    fields = dict(template.__dict__)
    fields.update(values)
    object.__setattr__(made, "__dict__", fields)
    object.__setattr__(made, "__pydantic_fields_set__", set(template.__pydantic_fields_set__))
    extra = template.__pydantic_extra__
    object.__setattr__(made, "__pydantic_extra__", None if extra is None else dict(extra))
    object.__setattr__(made, "__pydantic_private__", {"_bot": bot})
    return made


def edit_text(message: Message, text: str, markup: InlineKeyboardMarkup | None) -> EditMessageText:
    """``message.edit_text(text, reply_markup=markup, parse_mode=None)``."""
    chat = message.chat
    business = message.business_connection_id
    if (
        text.__class__ is not str
        or chat.id.__class__ is not int
        or message.message_id.__class__ is not int
        or (business is not None and business.__class__ is not str)
        or (markup is not None and markup.__class__ is not InlineKeyboardMarkup)
    ):
        return message.edit_text(text, reply_markup=markup, parse_mode=None)
    template = _TEMPLATES.get(EditMessageText)
    if template is None:  # the first one is aiogram's own; its copy is the template
        first = message.edit_text(text, reply_markup=markup, parse_mode=None)
        _TEMPLATES[EditMessageText] = first.model_copy()
        return first
    values = {
        "chat_id": chat.id,
        "message_id": message.message_id,
        "business_connection_id": business,
        "text": text,
        "reply_markup": markup,
    }
    made: EditMessageText = _copy(template, message.bot, values)
    return made


def answer(query: CallbackQuery) -> AnswerCallbackQuery:
    """``query.answer()`` (stops the button's spinner, shows nothing)."""
    if query.id.__class__ is not str:
        return query.answer()
    template = _TEMPLATES.get(AnswerCallbackQuery)
    if template is None:
        first = query.answer()
        _TEMPLATES[AnswerCallbackQuery] = first.model_copy()
        return first
    made: AnswerCallbackQuery = _copy(template, query.bot, {"callback_query_id": query.id})
    return made


# Bot.send_message passes every one of its parameters to SendMessage by keyword: these
# are the ones send_text leaves at their defaults (read from its signature, so an aiogram
# upgrade that adds one is followed; tests/unit/test_lean_methods.py compares).
_SEND_DEFAULTS: dict[str, Any] = {
    name: parameter.default
    for name, parameter in inspect.signature(Bot.send_message).parameters.items()
    if name not in ("self", "chat_id", "text", "parse_mode", "reply_markup", "request_timeout")
}


def send_text(
    bot: Bot, chat_id: int, text: str, markup: InlineKeyboardMarkup | None
) -> SendMessage:
    """``bot.send_message(chat_id, text, reply_markup=markup, parse_mode=None)``'s method,
    bound to ``bot`` (``await`` it to send, as the shortcut does)."""
    values: dict[str, Any] = {"chat_id": chat_id, "text": text, "reply_markup": markup}
    template = _TEMPLATES.get(SendMessage)
    if (
        template is None
        or text.__class__ is not str
        or chat_id.__class__ is not int
        or (markup is not None and markup.__class__ is not InlineKeyboardMarkup)
    ):
        built = SendMessage(**_SEND_DEFAULTS, parse_mode=None, **values).as_(bot)
        if template is None and text.__class__ is str and chat_id.__class__ is int:
            _TEMPLATES[SendMessage] = built.model_copy()
        return built
    made: SendMessage = _copy(template, bot, values)
    return made
