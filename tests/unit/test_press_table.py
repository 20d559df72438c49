"""flows/press_table.py: a press reaches the same handler with the table as through
aiogram's own walk of every router and handler (and nothing else runs)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from aiogram import Dispatcher, F, Router
from aiogram.dispatcher.event.bases import UNHANDLED, SkipHandler
from aiogram.types import CallbackQuery, Chat, Message, User

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

    words = Router(name="words")  # messages only: nothing for a press

    @words.message(F.text == "hi")
    async def hi(message: Message) -> None:
        calls.append("words.hi")

    @words.message(F.text.startswith("h"))
    async def h_skip(message: Message) -> None:
        calls.append("words.h_skip")
        raise SkipHandler

    empty = Router(name="empty")  # nothing at all

    last = Router(name="last")  # catch-all

    @last.message()
    async def any_text(message: Message) -> None:
        calls.append("last.any_text")

    @last.callback_query()
    async def anything(query: CallbackQuery) -> None:
        calls.append("last.anything")

    dp = Dispatcher()
    dp.include_routers(gate(first), gate(words), gate(seen), gate(empty), gate(later), gate(last))
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


def _say(dp: Dispatcher, text: str) -> Any:
    message = Message(
        message_id=1,
        date=datetime(2026, 1, 1, tzinfo=UTC),
        chat=Chat(id=1, type="private"),
        from_user=User(id=1, is_bot=False, first_name="A"),
        text=text,
    )
    return asyncio.run(dp.propagate_event(update_type="message", event=message))


def test_messages_take_the_same_handlers() -> None:
    plain: list[str] = []
    indexed: list[str] = []
    walk, table = _build(plain, table=False), _build(indexed, table=True)
    for text in ("hi", "ho", "x"):
        plain.clear()
        indexed.clear()
        _say(walk, text)
        _say(table, text)
        assert indexed == plain, text
    assert indexed == ["last.any_text"]


def test_a_router_that_also_wants_a_message_is_skipped_like_any_gated_one() -> None:
    """A gate beside attribute checks (``F.message``, flows/ui/reply.py): a press of
    another prefix skips the router; its own presses meet both filters as before."""

    def build(calls: list[str], *, table: bool) -> Dispatcher:
        with_message = Router(name="with_message")
        with_message.callback_query.filter(F.message)

        @with_message.callback_query(Aa.filter())
        async def aa(query: CallbackQuery) -> None:
            calls.append("with_message.aa")

        picky = Router(name="picky")  # a root check that is not only attribute reads
        picky.callback_query.filter(F.data.len() > 0)

        @picky.callback_query(Cc.filter())
        async def cc(query: CallbackQuery) -> None:
            calls.append("picky.cc")

        last = Router(name="last")

        @last.callback_query()
        async def anything(query: CallbackQuery) -> None:
            calls.append("last.anything")

        dp = Dispatcher()
        dp.include_routers(gate(with_message), gate(picky), gate(last))
        if table:
            route_presses_by_prefix(dp)
        return dp

    plain: list[str] = []
    indexed: list[str] = []
    walk, table = build(plain, table=False), build(indexed, table=True)
    message = Message(
        message_id=1,
        date=datetime(2026, 1, 1, tzinfo=UTC),
        chat=Chat(id=1, type="private"),
        text="x",
    )
    user = User(id=1, is_bot=False, first_name="A")
    for data in ["aa:1", "cc:1", "zz:1", "aa", None]:
        for on in (message, None):
            plain.clear()
            indexed.clear()
            query = CallbackQuery(id="1", from_user=user, chat_instance="c", data=data, message=on)
            a = asyncio.run(walk.propagate_event(update_type="callback_query", event=query))
            b = asyncio.run(table.propagate_event(update_type="callback_query", event=query))
            assert indexed == plain, (data, on)
            assert (a is UNHANDLED) == (b is UNHANDLED), (data, on)
    from flows.press_table import _skippable_gate

    assert _skippable_gate(table.sub_routers[0]) is not None
    assert _skippable_gate(table.sub_routers[1]) is None
