"""Magic filters (``F.text == …``, ``Cb.filter(F.action == …)``'s ``F`` part) run in the
event loop, not in a thread.

aiogram calls every filter that is not a coroutine function through
``asyncio.to_thread`` — including ``MagicFilter.resolve``, a few microseconds of pure
attribute checks. That is one thread-pool hop per update and filter (~0.1 ms on an
idle 2-core machine, milliseconds when it is loaded: the largest single cost of a
booking step in bench/dialogue.py's profile). Called once on the routers before the
Dispatcher includes them: each such filter gets an ``async`` wrapper, the same check.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aiogram import Router
from aiogram.dispatcher.event.handler import FilterObject


def _inline(flt: FilterObject) -> None:
    if flt.awaitable or flt.magic is None:
        return
    resolve = flt.callback

    async def check(*args: Any, **kwargs: Any) -> Any:
        return resolve(*args, **kwargs)

    flt.callback = check
    flt.awaitable = True


def inline_magic_filters(routers: Iterable[Router]) -> None:
    """Every magic filter of these routers (and their sub-routers), handlers' and observers'."""
    for router in routers:
        for observer in router.observers.values():
            own = getattr(observer, "_handler", None)  # router-wide filters (observer.filter)
            for flt in (own.filters if own is not None else None) or []:
                _inline(flt)
            for handler in observer.handlers:
                for flt in handler.filters or []:
                    _inline(flt)
        inline_magic_filters(router.sub_routers)
