"""domain/lifecycle.py: the appointment's status transitions as a table, one helper."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from domain import booking
from domain.errors import InvalidTransition
from domain.lifecycle import TRANSITIONS, Event, next_status, sources, transition
from domain.models import AppointmentStatus as S
from storage.crypto import PersonalDataCipher
from storage.schema import appointment_events, journal
from storage.uow import UnitOfWorkFactory
from tests.storage.builders import NOW, World

POLICY = booking.BookingPolicy()


def test_the_table_moves_active_visits_only() -> None:
    assert next_status(None, Event.BOOK) is S.PENDING
    assert next_status(S.PENDING, Event.CONFIRM) is S.CONFIRMED
    for event in (Event.CANCEL_BY_PATIENT, Event.CANCEL_BY_CLINIC, Event.ERASE):
        assert next_status(S.CONFIRMED, event) is S.CANCELLED
    assert next_status(S.PENDING, Event.RESCHEDULE) is S.RESCHEDULED
    assert next_status(S.CONFIRMED, Event.NO_SHOW) is S.NO_SHOW
    assert sources(Event.CONFIRM) == (S.PENDING,)
    # Nothing leaves a final status.
    finals = (S.CANCELLED, S.RESCHEDULED, S.COMPLETED, S.NO_SHOW)
    assert not [key for key in TRANSITIONS if key[0] in finals]


@pytest.mark.parametrize(
    ("status", "event"),
    [
        (S.CANCELLED, Event.CONFIRM),
        (S.CONFIRMED, Event.CONFIRM),
        (S.COMPLETED, Event.CANCEL_BY_PATIENT),
        (S.RESCHEDULED, Event.RESCHEDULE),
        (S.NO_SHOW, Event.COMPLETE),
        (S.PENDING, Event.BOOK),
        (None, Event.CANCEL_BY_CLINIC),
    ],
)
def test_an_invalid_transition_is_refused(status: S | None, event: Event) -> None:
    with pytest.raises(InvalidTransition):
        next_status(status, event)


@pytest.fixture
async def world(sqlite_engine: AsyncEngine) -> AsyncIterator[World]:
    yield await World.build(sqlite_engine, n_slots=4, n_users=2)


async def test_transition_writes_status_event_and_journal_or_nothing(
    world: World, sqlite_engine: AsyncEngine, cipher: PersonalDataCipher
) -> None:
    a = world.user_ids[0]
    uows = UnitOfWorkFactory(sqlite_engine, cipher)
    async with uows() as uow:
        visit = await booking.book(uow, NOW, a, world.patient_of(a), world.slots()[0], POLICY)
        later = NOW + timedelta(minutes=1)
        after = await transition(
            uow, later, visit, Event.CONFIRM, actor="patient", actor_user_id=a, journal_user_id=a
        )
        assert after is S.CONFIRMED
        # The same event again, from the status it saw (pending): the conditional
        # UPDATE finds it confirmed now and refuses; nothing more is written.
        with pytest.raises(InvalidTransition):
            await transition(
                uow,
                later,
                visit,
                Event.CONFIRM,
                actor="patient",
                actor_user_id=a,
                journal_user_id=a,
            )
        current = await uow.appointments.get(visit.id)
        assert current is not None and current.status is S.CONFIRMED
        with pytest.raises(InvalidTransition):  # the table: confirmed → confirmed is no move
            await transition(
                uow,
                later,
                current,
                Event.CONFIRM,
                actor="patient",
                actor_user_id=a,
                journal_user_id=a,
            )
        events = [
            r.status
            for r in await uow.conn.execute(
                select(appointment_events.c.status)
                .where(appointment_events.c.appointment_id == visit.id)
                .order_by(appointment_events.c.id)
            )
        ]
        actions = [r.action for r in await uow.conn.execute(select(journal.c.action))]
        await uow.commit()
    assert events == ["pending", "confirmed"]
    assert actions == ["appointment.booked", "appointment.confirmed"]
