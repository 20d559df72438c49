"""The last line of defence: log the exception with an id, tell the user only the id."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable

from aiogram.exceptions import TelegramRetryAfter
from aiogram.types import ErrorEvent
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.i18n import telegram_locale

log = logging.getLogger("zapis.errors")


def new_error_id() -> str:
    """The short id a log line and what the user (or Telegram) sees have in common."""
    return secrets.token_hex(4)


def log_unprocessable(raw: object, exc: BaseException, *, what: str) -> str:
    """One log line, with an id, for an update that cannot be processed; returns the id.

    ``what`` says at which step (e.g. "cannot parse"); the exception's first
    lines (for a validation error: the first missing field) find the cause — no traceback, so a replayed example or
    a probe cannot fill the log.
    """
    error_id = new_error_id()
    update_id = raw.get("update_id") if isinstance(raw, dict) else None
    first = " / ".join(line.strip() for line in str(exc).strip().splitlines()[:3])[:300]
    log.error(
        "%s update %s (error id %s): %s: %s", what, update_id, error_id, type(exc).__name__, first
    )
    return error_id


def make_error_handler(i18n: I18n) -> Callable[[ErrorEvent], Awaitable[bool]]:
    async def on_error(event: ErrorEvent) -> bool:
        error_id = new_error_id()
        if isinstance(event.exception, TelegramRetryAfter):
            # Still rate-limited after the session's bounded retries (RetryAfter429): an
            # apology would meet the same 429; the user's next tap works again.
            log.warning(
                "rate limited %s in update %s: retry after %ss",
                error_id,
                event.update.update_id,
                event.exception.retry_after,
            )
            return True
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
