"""The console's notifier paces its sends on the emulated world's wall (emulator/wall.py).

A booking's files (.ics and PDF) go to one chat one second apart. Offline that
second is skipped instead of waited, and the emulator's limits, when on, judge the
sends on the same wall clock: they see them spaced as Telegram would, so nothing
is refused. Judged on the real clock instead, the same sends are refused — the
check below is what would catch a notifier that stopped pacing.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable

import pytest

from emulator.harness import ConsoleWorld
from emulator.ratelimit import RateLimiter as EmuLimiter
from emulator.wall import SimulatedWall
from tests.flows.booking_helpers import NOW, REGISTER_1001, TO_DAY_3

BOOKED = TO_DAY_3 + "[10:00]\n[Подтвердить]\n"


@pytest.fixture
async def world() -> AsyncIterator[ConsoleWorld]:
    w = await ConsoleWorld.start(now=NOW, lang="ru")
    await w.run(REGISTER_1001 + BOOKED)
    yield w
    await w.close()


def strict_limits(monotonic: Callable[[], float]) -> EmuLimiter:
    """A message to a chat only 0.8 s after the last one (the bot spaces them by 1 s)."""
    return EmuLimiter(per_chat_per_second=1.25, per_chat_burst=1, monotonic=monotonic)


async def documents_after_notifier(world: ConsoleWorld) -> tuple[list[str], list[int | None]]:
    """The notifier's tick: the names of the documents sent and the statuses refused."""
    assert await world.jobs.run_now("notifier") is None
    await world.emulator.flush()
    events = world.emulator.drain()
    sent = [
        str(e.message.message["document"]["file_name"])
        for e in events
        if e.kind == "sent" and e.message is not None and "document" in e.message.message
    ]
    return sent, [e.status for e in events if e.kind == "refused"]


async def test_the_files_wait_their_second_on_the_wall_and_the_emulator_agrees(
    world: ConsoleWorld,
) -> None:
    wall = world.emulator.wall
    # No burst to a chat: the second file must come at least 0.8 s after the first.
    world.emulator.set_rate_limits(True, strict_limits(wall.monotonic))
    skipped = wall.skipped
    sent, refused = await documents_after_notifier(world)
    assert len(sent) == 2 and any(name.endswith(".pdf") for name in sent)
    assert refused == []
    # The rest of the second after building the PDF (real time) was skipped, not waited.
    assert 0.5 <= wall.skipped - skipped <= 1.0


async def test_judged_on_the_real_clock_the_same_sends_are_refused(world: ConsoleWorld) -> None:
    world.emulator.set_rate_limits(True, strict_limits(time.monotonic))
    sent, refused = await documents_after_notifier(world)
    assert refused == [429]  # the second file came less than a real second after the first
    assert len(sent) == 1


async def test_a_wait_moves_the_wall_at_once_and_real_time_still_counts() -> None:
    wall = SimulatedWall()
    before, real = wall.monotonic(), time.monotonic()
    await wall.sleep(30.0)
    await wall.sleep(-1.0)  # a wait already over moves nothing
    assert wall.skipped == 30.0
    assert wall.monotonic() - before >= 30.0
    assert time.monotonic() - real < 30.0
