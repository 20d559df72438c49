"""The notifier: only private chats (issue 7.1), urgent notices held for an unreachable user
(7.12), each row marked right after its send (7.18)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.session.middlewares.base import NextRequestMiddlewareType
from aiogram.methods import TelegramMethod

from domain.notifications import booked_item, clinic_cancelled_item
from tests.unit.test_notifications_delivery import NOW, Env, appt, env

__all__ = ["env"]  # the fixture, shared with test_notifications_delivery


async def test_a_group_chat_id_never_gets_a_notice(env: Env) -> None:
    w = env.world
    group = await w.user(-1001000000200)  # a row that somehow names a group chat
    a = await w.appointment(group, NOW + timedelta(days=3))
    await w.outbox([booked_item(appt(a, group, NOW + timedelta(days=3)), NOW)])
    stats = await env.notifier.run(NOW)
    assert (stats.sent, stats.cancelled) == (0, 1)
    async with env.uow() as uow:
        (row,) = await uow.outbox.for_user(group)
    assert (row["state"], row["last_error"]) == ("cancelled", "not a private chat")
    assert env.core.drain() == []  # nothing was even attempted


async def test_urgent_notice_for_an_unreachable_user_is_held_not_dropped(env: Env) -> None:
    w = env.world
    uid = await w.user(1001)
    a = await w.appointment(uid, NOW + timedelta(days=3), status="cancelled", reason="Врач болен")
    b = await w.appointment(uid, NOW + timedelta(days=4))
    async with env.uow() as uow:
        await uow.outbox.mark_user_unreachable(uid)
        await uow.commit()
    await w.outbox(
        [
            clinic_cancelled_item(appt(a, uid, NOW + timedelta(days=3)), NOW),
            booked_item(appt(b, uid, NOW + timedelta(days=4)), NOW),
        ]
    )
    stats = await env.notifier.run(NOW)
    assert (stats.sent, stats.held, stats.cancelled) == (0, 1, 1)
    async with env.uow() as uow:
        states = {r["kind"]: r["state"] for r in await uow.outbox.for_user(uid)}
        assert states == {"clinic_cancelled": "held", "booked": "cancelled"}
        assert await uow.users.mark_reachable(uid, NOW + timedelta(hours=1)) == 1
        await uow.commit()
    stats = await env.notifier.run(NOW + timedelta(hours=1))
    assert stats.sent == 1
    assert "Врач болен" in env.texts(uid)[-1]


@pytest.mark.parametrize("max_unmarked", [1, 2])
async def test_sent_rows_are_marked_within_max_unmarked_sends(env: Env, max_unmarked: int) -> None:
    """A crash re-sends at most the rows sent but not yet marked: at most ``max_unmarked``
    (group commit, issue 12) plus the sends in flight; 1 is the old one-by-one contract."""
    w = env.world
    uids = [await w.user(3000 + n) for n in range(5)]
    for uid in uids:
        a = await w.appointment(uid, NOW + timedelta(days=3))
        await w.outbox([booked_item(appt(a, uid, NOW + timedelta(days=3)), NOW)])
    env.notifier.concurrency = 1
    env.notifier.max_unmarked = max_unmarked
    sent_before_each_send: list[int] = []

    async def probe(
        make_request: NextRequestMiddlewareType[Any], bot: Bot, method: TelegramMethod[Any]
    ) -> Any:
        async with env.uow() as uow:
            counts = await uow.outbox.counts()
        sent_before_each_send.append(counts.get("sent", 0))
        return await make_request(bot, method)

    env.bot.session.middleware(probe)
    stats = await env.notifier.run(NOW)
    assert stats.sent == 5
    # Before the n-th send, all but at most max_unmarked - 1 earlier rows are committed.
    assert all(
        n - (max_unmarked - 1) <= before <= n for n, before in enumerate(sent_before_each_send)
    ), sent_before_each_send
    if max_unmarked == 1:
        assert sent_before_each_send == [0, 1, 2, 3, 4]
