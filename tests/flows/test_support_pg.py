"""«Поддержка» on PostgreSQL: a ticket's life with escalation, a review, the journal, the feed
(the SQL of tickets, reviews, journal view and calendar feeds on the second engine)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.engine import make_url

from emulator.harness import ConsoleWorld
from tests.conftest import PG_URL, TEST_KEY, drop_pg_database, make_pg_engine, requires_pg
from tests.flows import test_reviews, test_support_tickets


@pytest.fixture
async def world() -> AsyncIterator[ConsoleWorld]:
    engine, name = await make_pg_engine()
    await engine.dispose()
    assert PG_URL is not None
    url = make_url(PG_URL).set(database=name).render_as_string(False)
    w = await ConsoleWorld.start(
        db_url=url, now=test_reviews.NOW, lang="ru", settings_overrides={"encryption_key": TEST_KEY}
    )
    yield w
    await w.close()
    await drop_pg_database(name)


@requires_pg
async def test_ticket_escalation_on_postgresql(world: ConsoleWorld) -> None:
    await test_support_tickets.test_escalation_to_the_clinic_admin_on_the_virtual_clock(world)


@requires_pg
async def test_review_life_on_postgresql(world: ConsoleWorld) -> None:
    await test_reviews.test_review_after_completion_once_per_visit_and_the_average(world)


@requires_pg
async def test_forged_ids_on_postgresql(world: ConsoleWorld) -> None:
    await test_reviews.test_forged_ticket_of_another_user_changes_nothing(world)


@requires_pg
async def test_journal_on_postgresql(world: ConsoleWorld) -> None:
    out = await world.run(test_reviews.REGISTER_1001 + "[Профиль]\n[Журнал действий]\n[Аккаунт]")
    assert "Регистрация" in out
