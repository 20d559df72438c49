"""A press goes straight to the routers and handlers that can take its prefix.

aiogram walks a callback query through every router in order, and through every
handler of a router in order, until one takes it. Most of them refuse by the
press's prefix alone: a gated router (flows/__init__.py ``gate``) by its
``PrefixGate`` root filter, a handler by its leading ``PrefixFirstFilter``. Each
refusal still costs aiogram's per-router wrapping and per-filter call (the
update's data copied into keyword arguments several times): ~27 refusals
before the booking wizard's own handler.

``route_presses_by_prefix(dp)`` keeps, per prefix, the list of the Dispatcher's
routers that could take it — every router, in order, except a gated one whose
gate refuses that prefix — and, per gated router, its handlers that could take
it — every handler, in order, except one whose first filter is another
prefix's ``PrefixFirstFilter``. What is left out is exactly what would have
refused the press without doing anything else: a router is left out only when
its other root filters only read attributes (``F.message``) and it has no outer
middleware of its own on ``callback_query``; a handler only when the refusing filter is its first. For
every kind of update (a message too), a router with nothing for it — no handler,
root filter or outer middleware on that observer, no sub-router — is left out
as well. A Dispatcher whose gates use more than one separator keeps aiogram's
own walk.
"""

from __future__ import annotations

from typing import Any

from aiogram import Dispatcher, Router
from aiogram.dispatcher.event.bases import REJECTED, UNHANDLED, SkipHandler
from aiogram.dispatcher.event.handler import FilterObject, HandlerObject
from aiogram.dispatcher.event.telegram import TelegramEventObserver
from aiogram.types import TelegramObject
from magic_filter.operations import GetAttributeOperation

from flows import PrefixGate
from flows.ui.safe_callback import PrefixFirstFilter

_UNKNOWN = "\x00unknown prefix"  # one entry for every prefix no gate or handler names


def _skippable_gate(router: Router) -> PrefixGate | None:
    """The router's PrefixGate when a refusal by it is all the router would do: its root
    filters are the gate and attribute checks (``F.message``: flows/ui/reply.py), which
    neither fail nor change anything whatever their order, so a press the gate refuses
    never enters the router either way."""
    observer = router.callback_query
    if observer.outer_middleware._middlewares:
        return None
    filters = observer._handler.filters or []
    gates = [f.callback for f in filters if isinstance(f.callback, PrefixGate)]
    if len(gates) != 1 or not all(f.callback is gates[0] or _reads_only(f) for f in filters):
        return None
    return gates[0]


def _reads_only(flt: FilterObject) -> bool:
    """A magic filter made only of attribute reads: magic_filter turns a missing
    attribute into a refusal, so it cannot raise."""
    operations: tuple[object, ...] = getattr(flt.magic, "_operations", None) or ()
    return bool(operations) and all(isinstance(op, GetAttributeOperation) for op in operations)


def _inert(router: Router, update_type: str) -> bool:
    """The router can do nothing with this kind of update: aiogram's walk through it
    would check no filter, run no middleware of its own and call no handler."""
    if router.sub_routers:
        return False
    observer = router.observers.get(update_type)
    if observer is None:
        return True
    return not (
        observer.handlers or observer._handler.filters or observer.outer_middleware._middlewares
    )


def _first_prefix(handler: HandlerObject) -> str | None:
    filters = handler.filters or []
    first = filters[0].callback if filters else None
    return first.prefix if isinstance(first, PrefixFirstFilter) else None


class _HandlerTable:
    """A gated router's callback handlers that may take a prefix, in their order."""

    __slots__ = ("by_prefix", "observer", "version")

    def __init__(self, observer: TelegramEventObserver) -> None:
        self.observer = observer
        self.version: tuple[int, int] = (-1, -1)
        self.by_prefix: dict[str, list[HandlerObject]] = {}

    def handlers_for(self, prefix: str) -> list[HandlerObject]:
        handlers = self.observer.handlers
        version = (id(handlers), len(handlers))
        if version != self.version:  # built lazily, again if handlers were registered since
            self.by_prefix = {}
            self.version = version
        found = self.by_prefix.get(prefix)
        if found is None:
            known = {_first_prefix(h) for h in handlers}
            key = prefix if prefix in known else _UNKNOWN
            found = self.by_prefix.get(key)
            if found is None:
                found = [h for h in handlers if _first_prefix(h) in (None, prefix)]
                self.by_prefix[key] = found
            if key == prefix:
                self.by_prefix[prefix] = found
        return found


def _indexed_trigger(observer: TelegramEventObserver, separator: str) -> Any:
    """aiogram's TelegramEventObserver.trigger over the handlers that may take the prefix."""
    table = _HandlerTable(observer)
    original = getattr(observer.trigger, "aiogram_trigger", observer.trigger)

    async def trigger(event: TelegramObject, **kwargs: Any) -> Any:
        data = getattr(event, "data", None)
        if not isinstance(data, str):
            return await original(event, **kwargs)
        for handler in table.handlers_for(data.partition(separator)[0]):
            kwargs["handler"] = handler
            result, found = await handler.check(event, **kwargs)
            if result:
                kwargs.update(found)
                try:
                    wrapped_inner = observer.outer_middleware.wrap_middlewares(
                        observer._resolve_middlewares(), handler.call
                    )
                    return await wrapped_inner(event, kwargs)
                except SkipHandler:
                    continue
        return UNHANDLED

    trigger.aiogram_trigger = original  # type: ignore[attr-defined]  # (a module router joins several apps)
    return trigger


def route_presses_by_prefix(dp: Dispatcher) -> None:
    """Install the press table on ``dp`` (after its routers are included)."""
    gates = {id(r): g for r in dp.sub_routers if (g := _skippable_gate(r)) is not None}
    separators = {g.separator for g in gates.values()}
    if len(separators) != 1:
        return
    separator = separators.pop()
    for router in dp.sub_routers:
        if id(router) in gates and not router.sub_routers:
            observer = router.callback_query
            observer.trigger = _indexed_trigger(observer, separator)  # type: ignore[method-assign]
    known: set[str] = set().union(*(g.prefixes for g in gates.values()))
    routers_by_prefix: dict[str, list[Router]] = {}
    routers_by_type: dict[str, list[Router]] = {}
    included = (id(dp.sub_routers), len(dp.sub_routers))

    def routers_for(update_type: str, prefix: str | None) -> list[Router]:
        nonlocal included
        if (id(dp.sub_routers), len(dp.sub_routers)) != included:  # a router joined later
            routers_by_prefix.clear()
            routers_by_type.clear()
            included = (id(dp.sub_routers), len(dp.sub_routers))
        if prefix is None:
            found = routers_by_type.get(update_type)
            if found is None:
                found = [r for r in dp.sub_routers if not _inert(r, update_type)]
                routers_by_type[update_type] = found
            return found
        key = prefix if prefix in known else _UNKNOWN
        found = routers_by_prefix.get(key)
        if found is None:
            found = [
                r
                for r in routers_for("callback_query", None)
                if id(r) not in gates or (key != _UNKNOWN and key in gates[id(r)].prefixes)
            ]
            routers_by_prefix[key] = found
        return found

    original = dp._propagate_event

    async def _propagate_event(
        observer: TelegramEventObserver | None,
        update_type: str,
        event: TelegramObject,
        **kwargs: Any,
    ) -> Any:
        if observer is None:
            return await original(observer, update_type, event, **kwargs)
        # aiogram's Router._propagate_event, over the routers that may take this event.
        result, found = await observer.check_root_filters(event, **kwargs)
        if not result:
            return UNHANDLED
        kwargs.update(found)
        response = await observer.trigger(event, **kwargs)
        if response is not UNHANDLED:
            return UNHANDLED if response is REJECTED else response
        data = getattr(event, "data", None) if update_type == "callback_query" else None
        prefix = data.partition(separator)[0] if isinstance(data, str) else None
        for router in routers_for(update_type, prefix):
            response = await router.propagate_event(update_type=update_type, event=event, **kwargs)
            if response is not UNHANDLED:
                break
        return response

    dp._propagate_event = _propagate_event  # type: ignore[method-assign]
