"""Calendar sync (issue 10.6): «Все записи в календарь» and the subscription URL.

A calendar client is modelled by the rule every client applies (RFC 5546): an
event is keyed by UID, a PUBLISH with a SEQUENCE not lower than the stored one
replaces it, a CANCEL withdraws it. Files are read by vobject, not by the
library that wrote them. The subscription URL serves the same feed; a wrong or
revoked token answers 404.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import vobject
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.calendar_route import add_calendar_route
from emulator.harness import ConsoleWorld
from tests.flows.booking_helpers import BOOK_3_DEC_10, NOW, REGISTER_1001
from tests.notify_world import sent_files

MOVE_TO_4_DEC_14 = "[Мои записи]\n[~№ A-0000001]\n[Перенести]\n[4]\n[14:00]\n[Подтвердить]\n"
CANCEL_A2 = "[Мои записи]\n[~№ A-0000002]\n[Отменить запись]\n[Да, отменить]\n"
ALL = "[Мои записи]\n[Все записи в календарь]\n"


class CalendarClient:
    """Events by UID as a calendar app keeps them."""

    def __init__(self) -> None:
        self.events: dict[str, tuple[int, str, datetime]] = {}  # uid → (seq, status, start)

    def apply(self, data: bytes) -> None:
        cal = vobject.readOne(data.decode())
        method = cal.method.value if hasattr(cal, "method") else "PUBLISH"
        for event in cal.vevent_list if hasattr(cal, "vevent_list") else []:
            uid, seq = event.uid.value, int(event.sequence.value)
            stored = self.events.get(uid)
            if stored is not None and seq < stored[0]:
                continue
            status = "CANCELLED" if method == "CANCEL" else event.status.value
            self.events[uid] = (seq, status, event.dtstart.value.astimezone(UTC))


@pytest.fixture
async def world() -> AsyncIterator[ConsoleWorld]:
    w = await ConsoleWorld.start(
        now=NOW, lang="ru", settings_overrides={"webhook": {"base_url": "https://bot.example"}}
    )
    yield w
    await w.close()


def _last_ics(world: ConsoleWorld) -> tuple[str, bytes]:
    name, data = [f for f in sent_files(world.emulator, 1001) if f[0].endswith(".ics")][-1]
    return name, data


async def test_all_visits_file_keeps_each_visits_uid_through_move_and_cancel(
    world: ConsoleWorld,
) -> None:
    client = CalendarClient()
    await world.run(REGISTER_1001 + BOOK_3_DEC_10)
    client.apply(_last_ics(world)[1])  # the booking's own file
    await world.run(ALL)
    name, data = _last_ics(world)
    assert name == "appointments.ics"
    client.apply(data)
    assert len(client.events) == 1  # the same event, not a second one
    ((seq, status, start),) = client.events.values()
    assert (seq, status, start) == (0, "CONFIRMED", datetime(2026, 12, 3, 7, 0, tzinfo=UTC))
    await world.run(MOVE_TO_4_DEC_14 + ALL)
    client.apply(_last_ics(world)[1])
    ((seq, status, start),) = client.events.values()
    assert (seq, status, start) == (1, "CONFIRMED", datetime(2026, 12, 4, 11, 0, tzinfo=UTC))
    await world.run(CANCEL_A2)
    name, data = _last_ics(world)
    assert name == "appointment-A-0000002-cancelled.ics"
    client.apply(data)
    ((seq, status, _start),) = client.events.values()
    assert (seq, status) == (2, "CANCELLED")
    out = await world.run("[Мои записи]")
    assert "Все записи в календарь" not in out  # nothing upcoming: no empty file offered


async def test_subscription_url_serves_the_feed_and_404s_wrong_or_revoked(
    world: ConsoleWorld,
) -> None:
    await world.run(REGISTER_1001 + BOOK_3_DEC_10)
    out = await world.run("[Профиль]\n[Календарь по ссылке]\n[Получить ссылку]")
    match = re.search(r"https://bot\.example(/calendar/[A-Za-z0-9_-]+\.ics)", out)
    assert match, out
    path = match.group(1)
    webapp = web.Application()
    add_calendar_route(webapp, world.app)
    async with TestClient(TestServer(webapp)) as http:
        response = await http.get(path)
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/calendar")
        cal = vobject.readOne((await response.read()).decode())
        assert len(cal.vevent_list) == 1 and "Терапевт" in cal.vevent.summary.value
        assert (await http.get(path.replace(path[12:20], "AAAAAAAA"))).status == 404
        assert (await http.get("/calendar/short.ics")).status == 404
        # a new link turns the old one off
        out = await world.run("[Профиль]\n[Календарь по ссылке]\n[Новая ссылка]")
        new = re.search(r"https://bot\.example(/calendar/[A-Za-z0-9_-]+\.ics)", out)
        assert new and new.group(1) != path
        assert (await http.get(path)).status == 404
        assert (await http.get(new.group(1))).status == 200
        await world.run("[Отключить ссылку]")
        assert "Ссылка отключена" in world.last_text(1001)
        assert (await http.get(new.group(1))).status == 404


async def test_no_subscription_link_without_a_webhook_url() -> None:
    w = await ConsoleWorld.start(now=NOW, lang="ru")
    try:
        out = await w.run(REGISTER_1001 + "[Профиль]\n[Календарь по ссылке]")
        assert "недоступна" in out
    finally:
        await w.close()


async def test_erasing_the_account_turns_the_link_off(world: ConsoleWorld) -> None:
    await world.run(REGISTER_1001 + BOOK_3_DEC_10)
    out = await world.run("[Профиль]\n[Календарь по ссылке]\n[Получить ссылку]")
    match = re.search(r"https://bot\.example(/calendar/[A-Za-z0-9_-]+\.ics)", out)
    assert match
    await world.run("/delete_me\n[Удалить данные]")
    webapp = web.Application()
    add_calendar_route(webapp, world.app)
    async with TestClient(TestServer(webapp)) as http:
        assert (await http.get(match.group(1))).status == 404
