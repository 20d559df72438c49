"""The notifier end to end against the Bot API emulator: rendering, opt-outs, 429, 403, drops."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import vobject
from aiogram import Bot
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.i18n import build_i18n
from bot.notifier import Notifier
from bot.ratelimit import RateLimiter
from domain.models import Appointment, AppointmentStatus
from domain.notifications import (
    Kind,
    OutboxItem,
    booked_item,
    clinic_cancelled_item,
    clinic_moved_item,
    reminder_items,
    waitlist_offer_item,
)
from emulator.core import EmulatorCore
from emulator.ratelimit import RateLimiter as EmuLimiter
from emulator.session import EmulatorSession
from storage.crypto import PersonalDataCipher
from storage.uow import UnitOfWorkFactory
from tests.conftest import TEST_KEY, make_sqlite_engine
from tests.notify_world import World, make_world, sent_files

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # 12:00 in Moscow


class Env:
    def __init__(self, engine: AsyncEngine, world: World) -> None:
        self.engine = engine
        self.world = world
        self.core = EmulatorCore(now=lambda: NOW)
        self.bot = Bot(self.core.token, session=EmulatorSession(self.core))
        self.uow = UnitOfWorkFactory(engine, PersonalDataCipher(TEST_KEY))
        self.notifier = Notifier(
            uow_factory=self.uow,
            i18n=build_i18n("ru"),
            bot=self.bot,
            limiter=RateLimiter(enabled=False),
            worker_id="test",
        )

    def texts(self, chat_id: int) -> list[str]:
        """The text messages (a notice's .ics travels as a document beside its text)."""
        chat = self.core.chats.get(chat_id)
        if chat is None:
            return []
        return [m.message["text"] for m in chat.messages.values() if "text" in m.message]

    def files(self, chat_id: int) -> list[tuple[str, bytes]]:
        return sent_files(self.core, chat_id)

    def buttons(self, chat_id: int) -> list[str]:
        chat = self.core.chats[chat_id]
        last = list(chat.messages.values())[-1]
        rows = (last.markup or {}).get("inline_keyboard", [])
        return [b["text"] for row in rows for b in row]

    async def counts(self) -> dict[str, int]:
        async with self.uow() as uow:
            return await uow.outbox.counts()


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    engine = await make_sqlite_engine(tmp_path)
    world = await make_world(engine, NOW - timedelta(days=2))
    e = Env(engine, world)
    yield e
    await e.bot.session.close()
    await engine.dispose()


def appt(aid: int, user: int, start: datetime) -> Appointment:
    return Appointment(
        id=aid,
        number=f"A-{aid:06d}",
        patient_id=user,
        user_id=user,
        slot_id=0,
        doctor_id=1,
        clinic_id=1,
        specialty_id=1,
        start=start,
        minutes=20,
        kind="consultation",
        status=AppointmentStatus.PENDING,
        created_at=NOW,
    )


@pytest.mark.parametrize("locale", ["ru", "en"])
async def test_every_kind_renders_in_the_recipients_language(env: Env, locale: str) -> None:
    w = env.world
    uid = await w.user(1001, locale)
    start = NOW + timedelta(hours=24)
    a1 = await w.appointment(uid, start)
    a2 = await w.appointment(
        uid, NOW + timedelta(days=3), status="cancelled", reason="Врач заболел"
    )
    a3 = await w.appointment(
        uid, NOW + timedelta(days=4), status="rescheduled", reason="Отпуск врача"
    )
    a4 = await w.appointment(uid, NOW + timedelta(days=5))
    free = await w.slot(NOW + timedelta(days=2))
    entry_slot = await w.slot(NOW + timedelta(days=1))  # held for the offer: never an alternative
    await w.slot(NOW + timedelta(days=7))
    await w.slot(NOW + timedelta(days=8))
    await w.slot(NOW + timedelta(days=9))
    from sqlalchemy import insert

    from storage.repos.base import to_db
    from storage.schema import holds, wait_list

    async with env.engine.begin() as conn:
        await conn.execute(
            insert(wait_list).values(
                id=1,
                patient_id=uid,
                user_id=uid,
                specialty_id=1,
                region_id="77",
                status="offered",
                offered_slot_id=entry_slot,
                offer_until=to_db(NOW + timedelta(minutes=15)),
                created_at=to_db(NOW),
            )
        )
        await conn.execute(
            insert(holds).values(
                user_id=uid,
                slot_id=entry_slot,
                patient_id=uid,
                expires_at=to_db(NOW + timedelta(minutes=15)),
                purpose="waitlist",
            )
        )
    a1_ = appt(a1, uid, start)
    items = [
        booked_item(a1_, NOW),
        OutboxItem(
            Kind.REMINDER,
            uid,
            NOW,
            f"appt:{a1}:reminder:1440",
            {"appointment_id": a1, "offset_minutes": 1440},
        ),
        clinic_cancelled_item(appt(a2, uid, NOW), NOW),
        clinic_moved_item(a3, appt(a4, uid, NOW), NOW),
        waitlist_offer_item(1, uid, entry_slot, NOW),
    ]
    await w.outbox(items)
    stats = await env.notifier.run(NOW)
    assert stats.sent == 5, stats
    texts = env.texts(uid)
    assert len(texts) == 5
    booked, reminder, cancelled, moved, offer = texts
    # The clinic's cancellation withdraws the calendar event, its move publishes it again.
    (cancel_name, cancel_ics), (moved_name, moved_ics) = env.files(uid)
    withdrawn = vobject.readOne(cancel_ics.decode())
    assert withdrawn.method.value == "CANCEL" and withdrawn.vevent.status.value == "CANCELLED"
    assert withdrawn.vevent.uid.value == f"appointment-A-{a2:06d}@zapis.bot"
    assert withdrawn.vevent.sequence.value == "1"
    republished = vobject.readOne(moved_ics.decode())
    assert republished.method.value == "PUBLISH"
    assert republished.vevent.uid.value == f"appointment-A-{a4:06d}@zapis.bot"
    assert republished.vevent.dtstart.value.astimezone(UTC) == NOW + timedelta(days=5)
    assert cancel_name.endswith("-cancelled.ics") and moved_name.endswith(".ics")
    if locale == "ru":
        assert "Вы записаны" in booked and "Терапевт — Петрова Анна Сергеевна" in booked
        assert (
            "Напоминание" in reminder
            and "через 1 день" in reminder
            and "Подготовка: Натощак" in reminder
        )
        assert "Поликлиника отменила" in cancelled and "Причина: Врач заболел" in cancelled
        assert "Поликлиника перенесла" in moved and "Причина: Отпуск врача" in moved
        assert "Освободилось время" in offer
    else:
        assert "You are booked" in booked and "Therapist" in booked
        assert "Reminder" in reminder and "On an empty stomach" in reminder
        assert "The clinic has cancelled" in cancelled and "Reason: Врач заболел" in cancelled
        assert "The clinic has moved" in moved
        assert "A time you are waiting for" in offer
    # Buttons: the last message is the offer.
    assert env.buttons(uid) == (
        ["Записаться", "Пропустить"] if locale == "ru" else ["Book", "Skip"]
    )
    chat = env.core.chats[uid]
    msgs = [m for m in chat.messages.values() if "text" in m.message]
    labels = [b["text"] for row in msgs[1].markup["inline_keyboard"] for b in row]
    assert labels == (
        ["Приду", "Перенести", "Отменить"]
        if locale == "ru"
        else ["I'll come", "Reschedule", "Cancel"]
    )
    alternatives = [b for row in msgs[2].markup["inline_keyboard"] for b in row]
    assert len(alternatives) == 3  # nearest first, the held slot left out
    assert alternatives[0]["callback_data"] == f"rbk:{a2}:{free}"


async def test_reminder_for_a_cancelled_or_begun_visit_never_goes_out(env: Env) -> None:
    w = env.world
    uid = await w.user(1001)
    cancelled = await w.appointment(uid, NOW + timedelta(hours=5), status="cancelled")
    began = await w.appointment(uid, NOW - timedelta(minutes=1))
    fine = await w.appointment(uid, NOW + timedelta(hours=2))
    items = [
        OutboxItem(
            Kind.REMINDER,
            uid,
            NOW - timedelta(hours=3),
            f"appt:{a}:reminder:120",
            {"appointment_id": a, "offset_minutes": 120},
        )
        for a in (cancelled, began, fine)
    ]
    await w.outbox(items)
    stats = await env.notifier.run(NOW)
    assert (stats.sent, stats.cancelled) == (1, 2)
    assert len(env.texts(uid)) == 1
    async with env.uow() as uow:
        rows = await uow.outbox.for_user(uid)
    reasons = {r["idem_key"]: (r["state"], r["last_error"]) for r in rows}
    assert reasons[f"appt:{cancelled}:reminder:120"] == ("cancelled", "appointment cancelled")
    assert reasons[f"appt:{began}:reminder:120"] == ("cancelled", "visit already began")


async def test_opt_out_of_a_kind_cancels_only_that_kind(env: Env) -> None:
    w = env.world
    uid = await w.user(1001, optout="reminder")
    a = await w.appointment(uid, NOW + timedelta(hours=2))
    a_ = appt(a, uid, NOW + timedelta(hours=2))
    await w.outbox([*reminder_items(a_, [60], NOW - timedelta(hours=2)), booked_item(a_, NOW)])
    stats = await env.notifier.run(NOW + timedelta(minutes=61))
    assert (stats.sent, stats.cancelled) == (1, 1)
    assert "Вы записаны" in env.texts(uid)[0]


async def test_blocked_user_is_marked_unreachable_and_their_rows_cancelled(env: Env) -> None:
    w = env.world
    uid = await w.user(1001)
    a = await w.appointment(uid, NOW + timedelta(days=3))
    a_ = appt(a, uid, NOW + timedelta(days=3))
    await w.outbox([booked_item(a_, NOW), *reminder_items(a_, [1440, 120], NOW)])
    env.core.blocked.add(uid)
    stats = await env.notifier.run(NOW)
    assert stats.failed == 1
    async with env.uow() as uow:
        user = await uow.users.get(uid)
        assert user is not None and user.unreachable
        rows = await uow.outbox.for_user(uid)
    assert sorted(r["state"] for r in rows) == ["cancelled", "cancelled", "failed"]
    assert any(str(r["last_error"]).startswith("403") for r in rows)


async def test_429_from_the_emulator_is_waited_out_and_nothing_is_lost(env: Env) -> None:
    """Our limiter is off here, so the emulator's limits bite: every row still arrives."""
    w = env.world
    env.core.set_rate_limits(True, EmuLimiter(overall_per_second=5, per_chat_burst=1))
    uids = [await w.user(2000 + n) for n in range(8)]
    items = []
    for uid in uids:
        a = await w.appointment(uid, NOW + timedelta(days=3))
        items.append(booked_item(appt(a, uid, NOW), NOW))
    await w.outbox(items)
    stats = await env.notifier.run(NOW)
    assert stats.throttled >= 1, "the emulator should have answered 429 at least once"
    assert stats.sent == 8
    assert all(len(env.texts(uid)) == 1 for uid in uids)
    assert await env.counts() == {"sent": 8}


async def test_other_errors_retry_with_backoff_then_fail(env: Env) -> None:
    w = env.world
    uid = await w.user(1001)
    a = await w.appointment(uid, NOW + timedelta(days=3))
    await w.outbox([booked_item(appt(a, uid, NOW), NOW)])

    class Broken(EmulatorSession):
        async def make_request(self, bot, method, timeout=None):  # type: ignore[no-untyped-def]
            raise ConnectionResetError("network down")

    env.notifier.bot = Bot(env.core.token, session=Broken(env.core))
    moment = NOW
    for _ in range(10):
        await env.notifier.run(moment)
        moment += timedelta(hours=1)
    await env.notifier.bot.session.close()
    async with env.uow() as uow:
        (row,) = await uow.outbox.for_user(uid)
    assert row["state"] == "failed" and "network down" in str(row["last_error"])
    assert row["attempts"] == 5
