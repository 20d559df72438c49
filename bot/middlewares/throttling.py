"""Per-user token bucket: a flood of updates from one account is dropped, not queued."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject
from aiogram.types import User as TgUser


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
    ) -> None:
        if rate_per_second <= 0 or burst < 1:
            raise ValueError("throttling needs a positive rate and a burst of at least 1")
        self.rate = rate_per_second
        self.burst = float(burst)
        self.monotonic = monotonic
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
            return None
        return await handler(event, data)
