"""Start-up failures as one clear line: what could not be done, which setting to check.

A database that is down, a Redis that refuses, a token Telegram rejects or a
port already taken is not a bug in the bot: the operator needs one line that
says which and why, not a traceback. Each step of start-up runs inside
:func:`step`, which turns any failure into a :class:`StartupError` naming the
step; ``python -m bot`` prints it and exits with 1. Bugs after start keep
their tracebacks.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from aiogram.exceptions import TelegramUnauthorizedError

from bot.settings import StartupError

log = logging.getLogger("zapis.startup")


def reason(exc: BaseException) -> str:
    """The exception's type and first line; for SQLAlchemy errors the driver's own error."""
    inner = getattr(exc, "orig", None) or exc
    text = str(inner).strip().splitlines()[0] if str(inner).strip() else ""
    return f"{type(inner).__name__}: {text}"[:300] if text else type(inner).__name__


@contextlib.asynccontextmanager
async def step(what: str) -> AsyncIterator[None]:
    """``async with step("cannot use the database (ZAPIS_DATABASE_URL)"): ...``"""
    try:
        yield
    except StartupError:
        raise
    except TelegramUnauthorizedError:
        raise StartupError(
            "start-up error: Telegram rejected the token (ZAPIS_BOT_TOKEN): Unauthorized"
        ) from None
    except Exception as exc:
        raise StartupError(f"start-up error: {what}: {reason(exc)}") from exc
