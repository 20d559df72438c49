"""Forged callback data: out-of-range numbers are stale buttons, never the error handler.

Regression (issue 7, item 17): an id ≥ 2³¹ in ~26 callback types reached
PostgreSQL, which refused it (integer out of range) inside the handler, so the
user saw «Что-то пошло не так» instead of «Эта кнопка устарела».
"""

from __future__ import annotations

import inspect
import pkgutil
from collections.abc import AsyncIterator
from importlib import import_module

import pytest
from aiogram.filters.callback_data import CallbackData
from sqlalchemy.engine import make_url

import flows
import flows.ui
from emulator.harness import ConsoleWorld
from flows.ui.safe_callback import SafeCallback
from tests.conftest import PG_URL, TEST_KEY, drop_pg_database, make_pg_engine, requires_pg
from tests.flows.booking_helpers import (
    BOOK_3_DEC_10,
    NOW,
    REGISTER_1001,
    TO_DAY_3,
    appointments,
)

BIG = [2**31, 2**63, 10**20, -1]
# One representative per kind of id; {} is replaced by each forged number.
FORGED = [
    "bp:{}", "bs:{}", "bc:{}", "bd:{}", "by:{}:20261203:0", "bt:1:{}", "bt:{}:1",
    "bk:{}:1", "bk:1:{}", "bsp:{}", "bdp:{}", "bcp:{}", "al:0:{}", "ao:{}", "ac:{}:0", "af:{}:pdf", "am:{}",
    "amo:{}", "amd:1:{}", "ay:{}:1:20261203:0", "at:1:{}", "ak:{}:1", "rc:{}",
    "rbk:{}:1", "rbk:1:{}", "wo:{}:1:1", "wx:{}", "wr:1:{}:1:0:14", "by:1:{}:0",
]  # fmt: skip
STAFF_FORGED = ["sd:{}", "sy:{}:0", "sg:{}:0", "sv:{}", "sk:{}:c", "smp:{}", "smy:{}:20261203:0"]


def _callback_classes() -> list[type[CallbackData]]:
    found: list[type[CallbackData]] = []
    for package in (flows, flows.ui):
        for info in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
            module = import_module(info.name)
            for _name, obj in inspect.getmembers(module, inspect.isclass):
                if issubclass(obj, CallbackData) and obj.__module__ == module.__name__:
                    found.append(obj)
    return found


def test_every_callback_class_is_range_checked() -> None:
    classes = [c for c in _callback_classes() if c is not SafeCallback]
    assert len(classes) >= 26
    unchecked = [c.__name__ for c in classes if not issubclass(c, SafeCallback)]
    assert unchecked == []


def test_every_callback_prefix_is_unique() -> None:
    """Two classes on one prefix let one screen's button reach the other's filter: «Все записи в
    календарь» (CalAll) and the certificate actions (CertAct) were both «ca»."""
    by_prefix: dict[str, list[str]] = {}
    for cls in _callback_classes():
        if cls is not SafeCallback:
            by_prefix.setdefault(cls.__prefix__, []).append(cls.__name__)
    assert {p: names for p, names in by_prefix.items() if len(names) > 1} == {}


@pytest.mark.parametrize("data", ["ao:2147483648", "ao:-1", "by:1:20261399:0", "bs:99999999999"])
def test_out_of_range_fields_do_not_unpack(data: str) -> None:
    from flows.ui.callbacks import ApOpen, BkDay, BkSpec

    cls = {"ao": ApOpen, "by": BkDay, "bs": BkSpec}[data.split(":")[0]]
    with pytest.raises(ValueError):
        cls.unpack(data)
    assert ApOpen.unpack("ao:2147483647").appointment_id == 2**31 - 1


async def _forge_all(world: ConsoleWorld) -> None:
    await world.run(REGISTER_1001 + BOOK_3_DEC_10 + "[Мои записи]")
    for template in FORGED:
        for number in BIG:
            transcript = await world.run(f"!callback {template.format(number)}")
            assert "Эта кнопка устарела" in transcript, (template, number, transcript)
    await world.run("@9001\n/staff\n[Отменить приём]")
    for template in STAFF_FORGED:
        for number in BIG:
            transcript = await world.run(f"!callback {template.format(number)}")
            assert "Эта кнопка устарела" in transcript, (template, number, transcript)
    assert await appointments(world) == {"A-0000001": "pending"}


async def test_forged_big_ids_are_stale_buttons_sqlite() -> None:
    world = await ConsoleWorld.start(now=NOW, lang="ru")
    try:
        await _forge_all(world)
    finally:
        await world.close()


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    engine, name = await make_pg_engine()
    await engine.dispose()
    assert PG_URL is not None
    yield make_url(PG_URL).set(database=name).render_as_string(False)
    await drop_pg_database(name)


@requires_pg
async def test_forged_big_ids_are_stale_buttons_postgresql(pg_url: str) -> None:
    """Regression: «ao:2147483648» raised asyncpg's integer overflow in the handler."""
    world = await ConsoleWorld.start(
        db_url=pg_url, now=NOW, lang="ru", settings_overrides={"encryption_key": TEST_KEY}
    )
    try:
        await _forge_all(world)
    finally:
        await world.close()


def test_doctor_list_pages_still_pack_after_range_checks() -> None:
    """A specialty with more doctors than one page (Gorzdrav's clinics) pages its list; the
    page was once packed as BkDoctor(d=-(n+1)) and the range check refused it. Pages have
    their own callback now, and no doctor id is negative."""
    from flows.ui.callbacks import BkDoctor, BkDoctorPage

    for page in (0, 1, 40):
        assert BkDoctorPage.unpack(BkDoctorPage(page=page).pack()).page == page
    for forged in ("bd:-1", f"bd:{-(2**31)}", "bdp:-1"):
        with pytest.raises(ValueError):
            (BkDoctorPage if forged.startswith("bdp") else BkDoctor).unpack(forged)


async def test_forged_cancel_step_cancelled_without_confirmation() -> None:
    """«ac:1:7» (a step no button carries) fell through to the final step and cancelled."""
    world = await ConsoleWorld.start(now=NOW, lang="ru")
    try:
        await world.run(REGISTER_1001 + BOOK_3_DEC_10 + "[Мои записи]\n[~№ A-0000001]")
        transcript = await world.run("!callback ac:1:7")
        assert "Эта кнопка устарела" in transcript
        assert await appointments(world) == {"A-0000001": "pending"}
    finally:
        await world.close()


async def test_a_left_reschedule_summary_does_not_book_a_new_visit() -> None:
    """A reschedule's «Подтвердить», pressed after the patient left it for «Мои записи» and
    cancelled the visit, booked a new visit (its draft was gone, an empty booking was
    assumed): only the summary on screen confirms."""
    world = await ConsoleWorld.start(now=NOW, lang="ru")
    try:
        await world.run(
            REGISTER_1001 + BOOK_3_DEC_10 + "[Мои записи]\n[~Терапевт]\n[Перенести]\n[4]\n[14:00]"
        )
        confirm = _confirm_data(world)  # the move's summary is the newest message
        await world.run("[Мои записи]\n[~Терапевт]\n[Отменить запись]\n[Да, отменить]")
        transcript = await world.run(f"!callback {confirm}")
        assert "Эта кнопка устарела" in transcript
        assert await appointments(world) == {"A-0000001": "cancelled"}
    finally:
        await world.close()


async def test_a_time_cannot_be_confirmed_without_its_summary() -> None:
    """«bk» forged from the list of times booked at once, with no summary and no hold."""
    world = await ConsoleWorld.start(now=NOW, lang="ru")
    try:
        await world.run(REGISTER_1001 + TO_DAY_3 + "[10:00]")
        confirm = _confirm_data(world)  # the summary of 10:00; back to the day's times
        await world.run("[Назад]")
        transcript = await world.run(f"!callback {confirm}")
        assert "Эта кнопка устарела" in transcript
        assert await appointments(world) == {}
        # The same time through its summary books.
        out = await world.run("[10:00]\n[Подтвердить]")
        assert "Вы записаны" in out
    finally:
        await world.close()


def _confirm_data(world: ConsoleWorld) -> str:
    """The callback data of «Подтвердить» on the newest message with buttons."""
    for row in world.buttons(1001):
        for label, data in row:
            if label == "Подтвердить" and data:
                return data
    raise AssertionError("no «Подтвердить» on screen")
