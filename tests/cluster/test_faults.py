"""Issue 12: three webhook processes on PostgreSQL + Redis, 300 users, three faults.

One cluster (3 × ``python -m bot webhook`` sharing one port with SO_REUSEPORT —
or behind the round-robin proxy with ``ZAPIS_CLUSTER_PROXY=1`` — the
emulated Telegram delivering webhooks with Telegram's retries and per-chat
order) on a fresh PostgreSQL database and a Redis this module starts itself.
One run of ``ZAPIS_CLUSTER_USERS`` (default 300, the issue's figure)
registered users, all at once: each books, then a third cancel and a third
move; a user whose dialogue a fault cut starts over from the menu once, as a
person would. While they run, three faults land one after the other, each at
its own moment of the run:

1. SIGKILL of a bot process (restarted at once);
2. Redis restarted (every dialogue state gone);
3. every PostgreSQL session of the database terminated.

Right after each fault the database must hold (no slot twice, every booking's
confirmation row sent or pending, no lease left hanging); at the end
:func:`tests.cluster.harness.check_after` also checks that no update was lost
(every one answered 2xx, after retries) and that no chat shows a traceback.
One run instead of one per fault keeps the issue's 300 users within about
two minutes on a 2-core machine.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
import pytest_asyncio
from sqlalchemy import text

from tests.cluster.harness import (
    ClusterRun,
    RedisServer,
    check_after,
    check_database,
    run_users,
    running_cluster,
)
from tests.conftest import PG_URL, REDIS_URL

pytestmark = [
    pytest.mark.skipif(PG_URL is None, reason="ZAPIS_TEST_PG_URL is not set (cluster tests)"),
    # The cluster runs on a Redis of its own (restarted mid-run), but like every other
    # Redis test it runs only where Redis tests were asked for.
    pytest.mark.skipif(REDIS_URL is None, reason="ZAPIS_TEST_REDIS_URL is not set (cluster tests)"),
    pytest.mark.skipif(
        not RedisServer.available(), reason="redis-server is not installed (cluster tests)"
    ),
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.timeout(420),
]

USERS = int(os.environ.get("ZAPIS_CLUSTER_USERS", "300"))
# The processes share one port (SO_REUSEPORT, the kernel spreads the connections: what
# bench/cluster.py measures); ZAPIS_CLUSTER_PROXY=1 puts the round-robin proxy in front
# instead (what `python -m bot cluster` runs).
PROXY = os.environ.get("ZAPIS_CLUSTER_PROXY", "") == "1"
# About ten updates per user and round; each fault lands once this many updates were
# answered since the start — or at once, when a slow restart before it let more through
# (a loaded machine), so every fault still lands while the users are booking.
KILL_AT, REDIS_AT, PG_AT = USERS * 2, USERS * 3, USERS * 4


@dataclass
class Scenario:
    run: ClusterRun
    ids: list[int]
    # fault → what check_database found right after it (empty: all good)
    after: dict[str, list[str]] = field(default_factory=dict)
    landed: set[str] = field(default_factory=set)
    killed_restarted: bool = False
    terminated: int = 0
    final: list[str] = field(default_factory=list)
    last_messages: set[str] = field(default_factory=set)


async def after_delivered(run: ClusterRun, target: int, users: asyncio.Task[None]) -> bool:
    """Until ``target`` updates were answered in all (the fault lands mid-run); False if
    the users finished first (then there is no "mid-run" left to break)."""
    while run.side.delivery.stats.delivered < target:
        if users.done():
            return False
        await asyncio.sleep(0.05)
    return not users.done()


async def faults(scenario: Scenario, redis: RedisServer, users: asyncio.Task[None]) -> None:
    run, ids = scenario.run, scenario.ids
    victim = run.cluster.bots[1]
    if await after_delivered(run, KILL_AT, users):
        victim.kill()  # SIGKILL: no clean-up, as an OOM kill
        scenario.landed.add("kill")
        await run.cluster.restart(victim)
        scenario.killed_restarted = victim.starts == 2
        scenario.after["kill"] = await check_database(run, ids, in_flight=5)
    if await after_delivered(run, REDIS_AT, users):
        await redis.stop()  # every dialogue state is gone, requests fail meanwhile
        scenario.landed.add("redis")
        await asyncio.sleep(0.5)
        await redis.start()
        scenario.after["redis"] = await check_database(run, ids, in_flight=5)
    if await after_delivered(run, PG_AT, users):
        async with run.engine.connect() as conn:
            scenario.terminated = int(
                await conn.scalar(
                    text(
                        "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE datname = :db AND pid <> pg_backend_pid()"
                    ),
                    {"db": run.db_name},
                )
                or 0
            )
            await conn.commit()
        scenario.landed.add("postgres")
        await asyncio.sleep(1.0)  # the sessions' updates fail, are replayed or answered
        scenario.after["postgres"] = await check_database(run, ids, in_flight=5)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def scenario() -> AsyncIterator[Scenario]:
    redis = RedisServer()
    await redis.start()
    try:
        async with running_cluster(redis.url, 3, reuse_port=not PROXY) as run:
            ids = await run.add_users(610_000, USERS)
            done = Scenario(run, ids)
            users = asyncio.create_task(run_users(run, ids, concurrency=USERS, again=1))
            await asyncio.gather(users, faults(done, redis, users))
            done.final = await check_after(run, ids, in_flight=5)
            done.last_messages = {run.side.last_text(uid)[:60] for uid in ids}
            print(
                f"\n{USERS} users: {dict(run.outcomes)}; delivery failures "
                f"{run.side.delivery.stats.statuses}; faults landed: {sorted(done.landed)}; "
                f"PostgreSQL sessions terminated: {done.terminated}"
            )
            yield done
    finally:
        await redis.stop()


async def test_a_process_killed_mid_run_loses_nothing(scenario: Scenario) -> None:
    assert "kill" in scenario.landed, "the users finished before the kill"
    assert scenario.killed_restarted
    # Updates the killed process had taken are answered by Telegram's retry, elsewhere;
    # a confirmation said twice only for an update committed just before the kill.
    assert scenario.after["kill"] == []


async def test_redis_restarted_mid_run_nothing_half_written(scenario: Scenario) -> None:
    assert "redis" in scenario.landed, "the users finished before the Redis restart"
    assert scenario.after["redis"] == []


async def test_postgres_sessions_terminated_mid_run_nothing_half_written(
    scenario: Scenario,
) -> None:
    assert "postgres" in scenario.landed, "the users finished before the sessions were cut"
    assert scenario.terminated > 0
    assert scenario.after["postgres"] == []


async def test_after_all_three_no_update_lost_and_every_dialogue_ended_in_a_message(
    scenario: Scenario,
) -> None:
    run = scenario.run
    assert scenario.final == []
    # Every dialogue, cut or not, ended on a message from the bot (a step, «this button
    # is out of date», or the error line with its code), never in silence.
    assert all(run.side.last_text(uid) for uid in scenario.ids)
    assert run.outcomes["booked"] > USERS // 2
    assert run.outcomes["cancelled"] > 0 and run.outcomes["moved"] > 0
    # The processes carry on after all three: a fresh user books end to end.
    late = await run.add_users(629_000, 3)
    before = run.outcomes["booked"]
    await run_users(run, late)
    assert run.outcomes["booked"] == before + 3
