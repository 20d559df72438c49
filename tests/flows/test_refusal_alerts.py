"""Refusals to a button press must reach the person: Telegram takes at most 200
characters in a pop-up, and a longer one (the overlap refusal names the visit in
the way) was refused with MESSAGE_TOO_LONG, so the registrar's press went unanswered.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from emulator.harness import ConsoleWorld
from flows.booking_common import ALERT_LIMIT, refuse
from tests.flows.booking_helpers import REGISTER_1001

NOW = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)  # 09:00 in Moscow: 11:30 today is ahead
TWO_VISITS = (
    "[Записаться к врачу]\n[Терапевт]\n[~№ 12]\n[~Соколова]\n[3]\n[10:00]\n[Подтвердить]\n"
    "[Записаться к врачу]\n[Хирург]\n[~№ 45]\n[~Павлов]\n[1]\n[~11:30]\n[Подтвердить]\n"
    "!jobs notifier\n"  # the visits' .ics and PDF (outbox), before the clinic's notice
)


@pytest.fixture
async def world() -> AsyncIterator[ConsoleWorld]:
    w = await ConsoleWorld.start(now=NOW, lang="ru")
    yield w
    await w.close()


async def test_staff_move_onto_the_patients_other_visit_went_unanswered(
    world: ConsoleWorld,
) -> None:
    first, second = TWO_VISITS.split("[Записаться к врачу]\n[Хирург]")
    await world.run(REGISTER_1001 + first)
    # the registrar's day screen is open before the patient books the surgeon at 11:30 (a
    # clashing time is no longer offered: only a screen older than the booking has one)
    await world.run("@9001\n/staff\n[Перенести приём]\n[#1]\n[1]")
    await world.run("@1001\n[Записаться к врачу]\n[Хирург]" + second)
    transcript = await world.run("@9001\n[11:30]\nврач < 1 ставки\n[Подтвердить]")
    assert "У пациента в это время другой приём" in transcript
    assert "Павлов" in transcript and "A-0000002" in transcript
    assert "MESSAGE_TOO_LONG" not in transcript and "unhandled" not in transcript


class _Chat:
    def __init__(self) -> None:
        self.sent: list[str] = []

    async def answer(self, text: str, **_kw: Any) -> None:
        self.sent.append(text)


class _Query:
    def __init__(self) -> None:
        self.message = _Chat()
        self.answers: list[tuple[str | None, bool]] = []

    async def answer(self, text: str | None = None, show_alert: bool = False) -> None:
        self.answers.append((text, show_alert))


async def test_a_long_refusal_goes_to_the_chat_not_into_a_pop_up() -> None:
    short, long = _Query(), _Query()
    await refuse(short, "нельзя")  # type: ignore[arg-type]
    await refuse(long, "х" * (ALERT_LIMIT + 1))  # type: ignore[arg-type]
    assert short.answers == [("нельзя", True)] and short.message.sent == []
    assert long.answers == [(None, False)] and long.message.sent == ["х" * (ALERT_LIMIT + 1)]


async def test_clinic_cancel_offered_a_time_that_overlaps_the_patients_other_visit(
    world: ConsoleWorld,
) -> None:
    """The one-tap alternatives after a clinic cancellation offered «1 дек. 11:30 · Соколова»
    on top of the patient's 11:30 surgeon visit; tapping it was refused."""
    await world.run(REGISTER_1001 + TWO_VISITS)
    await world.run(
        "@9001\n/staff\n[Отменить приём]\n[~Соколова]\n[~3 декабря]\nврач заболел\n[Подтвердить]"
    )
    await world.run("@1001\n!clock +1m")
    labels = [label for row in world.buttons(1001) for label, _d in row]
    assert labels, "the notice offers alternatives"
    assert not any("11:30" in label and "1 дек." in label for label in labels), labels
