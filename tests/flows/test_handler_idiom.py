"""Issue 8.1: the sections are written in one handler idiom, so a new flow copies any handler.

Each converted module has a module-level ``router`` (no ``build_router``
closure), its handlers take typed injected parameters (no ``**data``), and
get_routers() lists it with the catch-all (flows/menu.py) last.
"""

from __future__ import annotations

import inspect
from importlib import import_module

import pytest
from aiogram import Router

from flows import get_routers

CONVERTED = [
    "flows.onboarding",
    "flows.profile",
    "flows.profile_edit",
    "flows.appointments",
    "flows.reminders",
    "flows.waitlist",
    "flows.waitlist_mine",
    "flows.waitlist_offer",
    "flows.notify_settings",
    "flows.staff",
    "flows.staff_home",
    "flows.menu",
    "flows.step_hints",
]


def _handlers(router: Router) -> list[object]:
    return [
        handler.callback for observer in router.observers.values() for handler in observer.handlers
    ]


@pytest.mark.parametrize("name", CONVERTED)
def test_module_router_with_typed_handlers(name: str) -> None:
    module = import_module(name)
    assert isinstance(getattr(module, "router", None), Router), name
    assert not hasattr(module, "build_router"), name
    handlers = _handlers(module.router)
    assert handlers, name
    for callback in handlers:
        params = inspect.signature(callback).parameters.values()  # type: ignore[arg-type]
        assert all(p.kind is not p.VAR_KEYWORD for p in params), (name, callback)
        assert all(p.annotation is not inspect.Parameter.empty for p in params), callback


def test_every_converted_router_is_listed_once_and_the_catch_all_is_last() -> None:
    routers = get_routers()
    names = [r.name for r in routers]
    assert len(names) == len(set(names))
    for name in CONVERTED:
        assert import_module(name).router in routers, name
    assert routers[-1] is import_module("flows.menu").router
    assert routers[0] is import_module("flows.refusals").router
