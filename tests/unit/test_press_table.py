"""flows/press_table.py: a press reaches the same handler with the table as through
aiogram's own walk of every router and handler (and nothing else runs)."""

from __future__ import annotations

import asyncio
from typing import Any

from aiogram import Dispatcher, F, Router
from aiogram.dispatcher.event.bases import UNHANDLED, SkipHandler
from aiogram.types import CallbackQuery, User

from flows import gate
from flows.press_table import route_presses_by_prefix
from flows.ui.safe_callback import SafeCallback


class Aa(SafeCallback, prefix="aa"):
    n: int


class Ab(SafeCallback, prefix="ab"):
    n: int


class Cc(SafeCallback, prefix="cc"):
    n: int


class Dd(SafeCallback, prefix="dd"):
    n: int


def _build(calls: list[str], *, table: bool) -> Dispatcher:
    first = Router(name="first")  # gated: aa, ab

    @first.callback_query(Aa.filter(F.n > 5))
    async def aa_big(query: CallbackQuery) -> None:
        calls.append("first.aa_big")

    @first.callback_query(Ab.filter())
    async def ab(query: CallbackQuery) -> None:
        calls.append("first.ab")

    @first.callback_query(Aa.filter())
    async def aa_any(query: CallbackQuery) -> None:
        calls.append("first.aa_any")

    seen = Router(name="seen")  # not gated: a handler with no prefix filter

    @seen.callback_query(F.data == "dd:1")
    async def exact(query: CallbackQuery) -> None:
        calls.append("seen.exact")

    @seen.callback_query(Cc.filter(F.n == 2))
    async def cc_skip(query: CallbackQuery) -> None:
        calls.append("seen.cc_skip")
        raise SkipHandler

    later = Router(name="later")  # gated: cc, dd

    @later.callback_query(Cc.filter())
    async def cc(query: CallbackQuery) -> None:
        calls.append("later.cc")

    @later.callback_query(Dd.filter())
    async def dd(query: CallbackQuery) -> None:
        calls.append("later.dd")

    last = Router(name="last")  # catch-all

    @last.callback_query()
    async def anything(query: CallbackQuery) -> None:
        calls.append("last.anything")

    dp = Dispatcher()
    dp.include_routers(gate(first), gate(seen), gate(later), gate(last))
    if table:
        route_presses_by_prefix(dp)
    return dp


PRESSES = ["aa:9", "aa:1", "ab:3", "cc:2", "cc:3", "dd:1", "dd:2", "zz:1", "aa", "", "ab:x", "cc"]


def _press(dp: Dispatcher, data: str | None) -> Any:
    user = User(id=1, is_bot=False, first_name="A")
    query = CallbackQuery(id="1", from_user=user, chat_instance="c", data=data)
    return asyncio.run(dp.propagate_event(update_type="callback_query", event=query))


def test_the_table_takes_the_presses_aiogram_takes() -> None:
    plain: list[str] = []
    indexed: list[str] = []
    walk, table = _build(plain, table=False), _build(indexed, table=True)
    assert table._propagate_event is not walk._propagate_event  # installed
    for data in [*PRESSES, None]:
        plain.clear()
        indexed.clear()
        a, b = _press(walk, data), _press(table, data)
        assert indexed == plain, data
        assert (a is UNHANDLED) == (b is UNHANDLED), data
    assert _press(table, "aa:9") is not UNHANDLED


def test_installing_twice_keeps_one_table() -> None:
    calls: list[str] = []
    dp = _build(calls, table=True)
    route_presses_by_prefix(dp)
    _press(dp, "cc:2")
    assert calls == ["seen.cc_skip", "later.cc"]
