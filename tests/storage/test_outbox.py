"""The outbox repository: claiming with a lease, marking, cancelling (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from domain.notifications import OutboxItem
from storage.uow import UnitOfWorkFactory

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def item(n: int, due: datetime, user: int = 1) -> OutboxItem:
    return OutboxItem(
        kind="reminder", user_id=user, due_at=due, idem_key=f"k:{n}", payload={"appointment_id": n}
    )


async def test_claim_takes_due_rows_oldest_first_and_leases_them(
    engine: AsyncEngine, uow_factory: UnitOfWorkFactory
) -> None:
    async with uow_factory() as uow:
        await uow.outbox.add(
            [item(1, NOW), item(2, NOW - timedelta(minutes=5)), item(3, NOW + timedelta(hours=1))],
            NOW,
        )
        await uow.commit()
    async with uow_factory() as uow:
        rows = await uow.outbox.claim_due(NOW, 10, "w1", timedelta(minutes=2))
        await uow.commit()
    assert [r.idem_key for r in rows] == ["k:2", "k:1"]  # the future row is not due
    assert rows[0].payload == {"appointment_id": 2}
    async with uow_factory() as uow:
        # Leased: another worker gets nothing until the lease runs out.
        assert (
            await uow.outbox.claim_due(NOW + timedelta(minutes=1), 10, "w2", timedelta(minutes=2))
            == []
        )
        again = await uow.outbox.claim_due(
            NOW + timedelta(minutes=3), 10, "w2", timedelta(minutes=2)
        )
        await uow.commit()
    assert sorted(r.idem_key for r in again) == ["k:1", "k:2"]


async def test_mark_sent_failed_retry_and_cancel(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.outbox.add([item(n, NOW) for n in range(1, 5)], NOW)
        await uow.commit()
    async with uow_factory() as uow:
        rows = await uow.outbox.claim_due(NOW, 10, "w", timedelta(minutes=2))
        ids = [r.id for r in rows]
        await uow.outbox.mark_sent([ids[0]], NOW)
        await uow.outbox.mark_failed(ids[1], "400: chat not found")
        await uow.outbox.reschedule_retry(ids[2], NOW + timedelta(minutes=1), "timeout")
        await uow.outbox.mark_cancelled(ids[3], "opted out")
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.outbox.counts() == {"sent": 1, "failed": 1, "pending": 1, "cancelled": 1}
        retried = await uow.outbox.get(ids[2])
        assert retried is not None and retried["attempts"] == 1 and retried["claimed_until"] is None
        failed = await uow.outbox.get(ids[1])
        assert failed is not None and failed["last_error"] == "400: chat not found"
        # The retried row is due again a minute later, claimable at once (lease released).
        assert await uow.outbox.claim_due(NOW, 10, "w", timedelta(minutes=2)) == []
        later = await uow.outbox.claim_due(
            NOW + timedelta(minutes=1), 10, "w", timedelta(minutes=2)
        )
        assert [r.id for r in later] == [ids[2]]


async def test_cancel_for_appointment_and_user(uow_factory: UnitOfWorkFactory) -> None:
    reminder = OutboxItem(
        kind="reminder",
        user_id=7,
        due_at=NOW,
        idem_key="appt:5:reminder:120",
        payload={"appointment_id": 5, "offset_minutes": 120},
    )
    other = OutboxItem(
        kind="reminder",
        user_id=7,
        due_at=NOW,
        idem_key="appt:50:reminder:120",
        payload={"appointment_id": 50, "offset_minutes": 120},
    )
    async with uow_factory() as uow:
        await uow.outbox.add([reminder, other, item(9, NOW, user=8)], NOW)
        assert await uow.outbox.cancel_for_appointment(5) == 1
        assert await uow.outbox.cancel_for_user(7, "user blocked the bot") == 1
        await uow.commit()
        rows = await uow.outbox.claim_due(NOW, 10, "w", timedelta(minutes=2))
    assert [r.user_id for r in rows] == [8]
