"""Where to answer a button press: the button's message, even when Telegram calls it inaccessible.

A button on a message older than 48 hours arrives with an InaccessibleMessage
(date 0): it has no text or keyboard, but it still names the chat and can
``.answer()`` into it. Handlers that only send a new message take either kind,
so an old button neither crashes them (the old ``assert isinstance(…,
Message)`` ran after the work was committed — /delete_me erased the data and
then told the user «Ваши данные в безопасности») nor is refused.

A press with no message at all is an inline-mode button, which this bot never
sends: routers that use ``of()`` filter those out with ``HAS_MESSAGE``, so the
catch-all answers them as stale buttons.
"""

from __future__ import annotations

from aiogram import F
from aiogram.types import CallbackQuery, InaccessibleMessage, InlineKeyboardMarkup, Message

from flows.ui import methods

ChatMessage = Message | InaccessibleMessage
HAS_MESSAGE = F.message


def of(query: CallbackQuery) -> ChatMessage:
    """The button's message; its router filters with HAS_MESSAGE, so it is never None."""
    message = query.message
    if message is None:  # pragma: no cover - excluded by HAS_MESSAGE
        raise LookupError("a callback query without a message passed HAS_MESSAGE")
    return message


async def close_summary(message: ChatMessage | None, hold: str) -> None:
    """After «Подтвердить»: the summary loses its buttons and its «held for N min, press
    «Confirm»» line (``hold``), which a made booking made false. An old message whose text
    is gone (inaccessible) or differs only loses nothing it does not have."""
    if not isinstance(message, Message):
        return
    text = message.text or ""
    if hold and hold in text:
        await methods.edit_text(message, text.replace(hold, "").rstrip(), None)
    else:
        await message.edit_reply_markup(reply_markup=None)


def unchanged(message: Message, text: str, markup: InlineKeyboardMarkup | None) -> bool:
    """The message already shows this text and these buttons: an edit would be refused
    («message is not modified»), so a screen answers the press and sends nothing (a
    «Обновить» with nothing new, the same button pressed twice)."""
    if message.text != text:
        return False

    def rows(m: InlineKeyboardMarkup | None) -> list[list[tuple[str, str | None]]]:
        if m is None:
            return []
        return [[(btn.text, btn.callback_data) for btn in row] for row in m.inline_keyboard]

    return rows(message.reply_markup) == rows(markup)
