"""Per-user token bucket: a flood of updates from one account is dropped, not queued.

A dropped button press is still answered (a short «too often» toast), so the
button stops spinning and the user knows why nothing happened.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery, TelegramObject, Update
from aiogram.types import User as TgUser
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.i18n import telegram_locale

log = logging.getLogger("zapis.throttling")


class ThrottlingMiddleware(BaseMiddleware):
    """Each user has ``burst`` tokens refilled at ``rate_per_second``; an update costs one.

    ``monotonic`` is injectable so tests drive time instead of sleeping.
    """

    def __init__(
        self,
        rate_per_second: float,
        burst: int = 20,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        i18n: I18n | None = None,
    ) -> None:
        if rate_per_second <= 0 or burst < 1:
            raise ValueError("throttling needs a positive rate and a burst of at least 1")
        self.rate = rate_per_second
        self.burst = float(burst)
        self.monotonic = monotonic
        self.i18n = i18n  # for the short answer to a throttled button press
        self._buckets: dict[int, tuple[float, float]] = {}

    def allow(self, user_id: int, now: float | None = None) -> bool:
        now = self.monotonic() if now is None else now
        tokens, last = self._buckets.get(user_id, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens < 1.0:
            self._buckets[user_id] = (tokens, now)
            return False
        self._buckets[user_id] = (tokens - 1.0, now)
        if len(self._buckets) > 100_000:  # forget idle users instead of growing forever
            self._buckets.clear()
        return True

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        tg_user: TgUser | None = data.get("event_from_user")
        if tg_user is not None and not self.allow(tg_user.id):
            query = event.callback_query if isinstance(event, Update) else None
            if query is not None:  # a pressed button must stop spinning, with a reason
                await self._answer_throttled(query, tg_user)
            return None
        return await handler(event, data)

    async def _answer_throttled(self, query: CallbackQuery, tg_user: TgUser) -> None:
        if self.i18n is None:
            text = None
        else:
            locale = telegram_locale(tg_user) or self.i18n.default_locale
            with self.i18n.context(), self.i18n.use_locale(locale):
                text = _("Too many presses: wait a moment and try again.")
        try:
            await query.answer(text)
        except TelegramAPIError as exc:  # an old query, a flood: nothing more to do
            log.debug("could not answer a throttled press: %s", exc)
