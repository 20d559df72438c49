"""A 429 from the Bot API is waited out and the request repeated, never an internal error.

Telegram answers «Too Many Requests: retry after N» when a bot sends faster
than it allows (about 30 messages a second overall, about one a second to a
chat). A handler's reply that meets one must simply go a little later: this
session middleware sleeps ``retry_after`` and repeats the same request, a
bounded number of times and for a bounded total wait, and only then lets the
TelegramRetryAfter through (the error handler logs it without apologising).

The notifier has its own 429 policy (it pauses every send through the shared
limiter and may put a row back in the queue instead of sleeping), so it turns
this one off for its own requests with :func:`own_429_policy`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramRetryAfter

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.methods import Response, TelegramMethod

log = logging.getLogger("zapis.ratelimit")

_retry_here: ContextVar[bool] = ContextVar("zapis_retry_429", default=True)


@contextlib.contextmanager
def own_429_policy() -> Iterator[None]:
    """Requests made inside (and in tasks started inside) handle 429 themselves."""
    token = _retry_here.set(False)
    try:
        yield
    finally:
        _retry_here.reset(token)


class RetryAfter429(BaseRequestMiddleware):
    def __init__(
        self,
        *,
        max_attempts: int = 8,
        max_total_wait: float = 30.0,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.max_attempts = max_attempts
        self.max_total_wait = max_total_wait
        self.sleep = sleep

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[Any],
        bot: Bot,
        method: TelegramMethod[Any],
    ) -> Response[Any]:
        if not _retry_here.get():
            return await make_request(bot, method)
        waited = 0.0
        attempt = 1
        while True:
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                wait = float(exc.retry_after)
                if attempt >= self.max_attempts or waited + wait > self.max_total_wait:
                    raise
                log.info(
                    "429 on %s: retrying in %ss (attempt %s)", method.__api_method__, wait, attempt
                )
                await self.sleep(wait)
                waited += wait
                attempt += 1
