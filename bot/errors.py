"""The last line of defence: log the exception with an id, tell the user only the id."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable

from aiogram.types import ErrorEvent
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.i18n import telegram_locale

log = logging.getLogger("zapis.errors")


def make_error_handler(i18n: I18n) -> Callable[[ErrorEvent], Awaitable[bool]]:
    async def on_error(event: ErrorEvent) -> bool:
        error_id = secrets.token_hex(4)
        log.error(
            "unhandled error %s in update %s: %s",
            error_id,
            event.update.update_id,
            type(event.exception).__name__,
            exc_info=event.exception,
        )
        update = event.update
        origin = update.callback_query or update.message
        tg_user = origin.from_user if origin is not None else None
        locale = telegram_locale(tg_user) or i18n.default_locale
        with i18n.context(), i18n.use_locale(locale):
            text = _(
                "Something went wrong on our side. Your data is safe. Error code: {error_id}. "
                "Please try again or send /start."
            ).format(error_id=error_id)
        try:
            if update.callback_query is not None:
                await update.callback_query.answer(text, show_alert=True)
            elif update.message is not None:
                await update.message.answer(text)
        except Exception:  # the apology itself must never raise
            log.exception("could not report error %s to the user", error_id)
        return True

    return on_error
