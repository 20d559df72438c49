"""The Gorzdrav adapter against the local fake: every recorded answer, then failures.

Fixtures: real responses recorded by the open-source client null-nvrsk/gorzdrav-spb-api
(bot/sources/gorzdrav/fixtures/README.md).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date, datetime

import pytest

from bot.sources.gorzdrav.client import (
    ClientLimits,
    GorzdravClient,
    GorzdravRefused,
    GorzdravUnavailable,
)
from bot.sources.gorzdrav.fake import FIXTURES, FakeGorzdrav
from bot.sources.gorzdrav.source import MOSCOW, GorzdravSource
from domain.models import Patient
from domain.schedule_source import RemoteRefused, RemoteSlotGone

FAST = ClientLimits(
    timeout_seconds=0.5,
    retries=2,
    backoff_seconds=0.01,
    requests_per_second=1000,
    breaker_failures=5,
    breaker_cooldown_seconds=60,
)


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def patient(surname: str = "Иванов") -> Patient:
    return Patient(
        id=1, owner_user_id=1, relation="self", surname=surname, name="Иван",
        patronymic="Иванович", birth_date=date(1985, 4, 12), sex=None, snils=None,
        policy=None, email=None, attached_clinic_id=None, confirmed=True,
    )  # fmt: skip


@pytest.fixture
async def fake() -> AsyncIterator[FakeGorzdrav]:
    server = FakeGorzdrav(timeout_seconds=2.0)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def client(fake: FakeGorzdrav) -> AsyncIterator[GorzdravClient]:
    c = GorzdravClient(fake.base_url, FAST)
    yield c
    await c.close()


@pytest.fixture
def source(client: GorzdravClient) -> GorzdravSource:
    return GorzdravSource(client)


# --------------------------------------------------------------------------- recordings


async def test_districts_are_the_recorded_list(source: GorzdravSource) -> None:
    got = await source.districts()
    recorded = fixture("DistrictListResponse_example")["result"]
    assert [(d.external_id, d.name) for d in got] == [(r["id"], r["name"]) for r in recorded]
    assert got[0].name == "Адмиралтейский"


async def test_clinics_of_a_district_and_of_an_unknown_one(source: GorzdravSource) -> None:
    clinics = await source.clinics("12")
    recorded = fixture("DistrictResponse_example")["result"]
    assert len(clinics) == len(recorded) == 38
    first = clinics[0]
    assert (first.external_id, first.name, first.phone) == ("44", "ГП №87", "(812) 241-28-08")
    assert first.address.startswith("193232, Санкт-Петербург")
    assert await source.clinics("999") == []  # recorded: success true with an empty list


async def test_specialties_keep_local_id_and_federal_code(source: GorzdravSource) -> None:
    specs = await source.specialties("44")
    by_id = {s.external_id: s for s in specs}
    assert by_id["4"].fer_code == "27" and by_id["988"].fer_code == "27"
    assert by_id["4"].name == "Терапевт участковый" and by_id["4"].free == 1207
    assert len(specs) == len(fixture("SpecialtyListResponse_example")["result"])


async def test_doctors_of_a_specialty(source: GorzdravSource) -> None:
    doctors = await source.doctors("44", "4")
    assert len(doctors) == 16
    assert doctors[0].external_id == "п100.136"
    assert doctors[0].name == "Абаева Р.О. 3 ТО 25/27 участки"
    assert await source.doctors("44", "28") == []  # errorCode 39: none free


async def test_timetable_gives_free_days(source: GorzdravSource) -> None:
    days = await source.free_days("44", "п100.136")
    assert days[0] == date(2025, 2, 18)
    assert date(2025, 2, 17) not in days  # recordable but no free slot that day


async def test_free_slots_are_aware_moscow_times_with_room(source: GorzdravSource) -> None:
    slots = await source.slots("44", "п100.136")
    assert len(slots) == 68
    first = slots[0]
    assert first.external_id == "17.02.2025;10:30;п100.136"
    assert first.start == datetime(2025, 2, 17, 10, 30, tzinfo=MOSCOW)
    assert first.start.utcoffset().total_seconds() == 3 * 3600
    assert (first.room, first.address) == ("435", "пр. Союзный, дом 3")


async def test_no_free_tickets_recording_is_an_empty_list(
    source: GorzdravSource, fake: FakeGorzdrav
) -> None:
    assert await source.slots("44", "nobody") == []
    recorded = fixture("DoctorAppointmentsNotAvailableResponse_example")
    assert recorded["errorCode"] == 39 and recorded["success"] is False


# --------------------------------------------------------------------------- booking


async def test_create_list_and_cancel_an_appointment(
    source: GorzdravSource, fake: FakeGorzdrav
) -> None:
    pid = await source.find_patient("44", patient())
    assert pid == await source.find_patient("44", patient())  # stable id per clinic
    slot = (await source.slots("44", "п100.136"))[0]
    await source.take("44", pid, slot.external_id)
    assert [v.external_id for v in await source.visits("44", pid)] == [slot.external_id]
    assert slot.external_id not in [s.external_id for s in await source.slots("44", "п100.136")]
    await source.cancel("44", pid, slot.external_id)
    assert await source.visits("44", pid) == []


async def test_slot_taken_between_list_and_create(
    source: GorzdravSource, fake: FakeGorzdrav
) -> None:
    pid = await source.find_patient("44", patient())
    slot = (await source.slots("44", "п100.136"))[0]
    fake.take_elsewhere("44", slot.external_id)
    with pytest.raises(RemoteSlotGone):
        await source.take("44", pid, slot.external_id)


async def test_patient_not_found(source: GorzdravSource, fake: FakeGorzdrav) -> None:
    fake.unknown.add("Незнакомов")
    with pytest.raises(RemoteRefused) as caught:
        await source.find_patient("44", patient("Незнакомов"))
    assert caught.value.kind == "patient_not_found"


async def test_attachment_by_policy(source: GorzdravSource) -> None:
    assert await source.attached_clinics("8451999122899990") == ["44"]
    assert await source.attached_clinics("123") == []


# --------------------------------------------------------------------------- failures


async def test_http_500_is_retried_then_succeeds(
    client: GorzdravClient, source: GorzdravSource, fake: FakeGorzdrav
) -> None:
    fake.fail("/shared/districts", "http500", times=2)
    assert len(await source.districts()) == 18
    assert fake.requests.count("GET /shared/districts") == 3


async def test_http_500_every_time_is_unavailable(
    source: GorzdravSource, fake: FakeGorzdrav
) -> None:
    fake.fail("/shared/districts", "http500", times=3)
    with pytest.raises(RemoteRefused) as caught:
        await source.districts()
    assert caught.value.kind == "unavailable"
    assert fake.requests.count("GET /shared/districts") == 3  # 1 + 2 retries, no more


async def test_timeout_is_retried(source: GorzdravSource, fake: FakeGorzdrav) -> None:
    fake.fail("/schedule/lpu/44/specialties", "timeout")
    assert len(await source.specialties("44")) == 10


async def test_create_is_not_retried_after_a_timeout(
    source: GorzdravSource, fake: FakeGorzdrav
) -> None:
    """A create that timed out may have been done: retrying could book twice."""
    fake.fail("/appointment/create", "timeout")
    with pytest.raises(RemoteRefused) as caught:
        await source.take("44", "p1", "18.02.2025;13:00;п100.136")
    assert caught.value.kind == "unavailable"
    assert fake.requests.count("POST /appointment/create") == 1


async def test_malformed_json_is_unavailable_not_retried(
    source: GorzdravSource, fake: FakeGorzdrav
) -> None:
    fake.fail("/shared/districts", "malformed")
    with pytest.raises(RemoteRefused) as caught:
        await source.districts()
    assert caught.value.kind == "unavailable"
    assert "malformed JSON" in caught.value.message
    assert fake.requests.count("GET /shared/districts") == 1


@pytest.mark.parametrize("code", [39, 0, 1, 500])
async def test_success_false_is_a_refusal_never_retried(
    client: GorzdravClient, fake: FakeGorzdrav, code: int
) -> None:
    fake.fail("/shared/districts", f"refuse:{code}:Сервис недоступен")
    with pytest.raises(GorzdravRefused) as caught:
        await client.get("/shared/districts")
    assert (caught.value.code, caught.value.message) == (code, "Сервис недоступен")
    assert fake.requests.count("GET /shared/districts") == 1


@pytest.mark.parametrize("code", [39, 0, 2])
async def test_create_refused_with_any_code_is_slot_gone(
    source: GorzdravSource, fake: FakeGorzdrav, code: int
) -> None:
    fake.fail("/appointment/create", f"refuse:{code}:Талон занят")
    with pytest.raises(RemoteSlotGone):
        await source.take("44", "p1", "18.02.2025;13:00;п100.136")


async def test_cancel_refused_is_a_remote_refusal(
    source: GorzdravSource, fake: FakeGorzdrav
) -> None:
    with pytest.raises(RemoteRefused) as caught:
        await source.cancel("44", "p1", "18.02.2025;13:00;п100.136")
    assert caught.value.kind == "refused" and caught.value.message == "Запись не найдена"


async def test_circuit_opens_after_repeated_failures(fake: FakeGorzdrav) -> None:
    limits = ClientLimits(
        timeout_seconds=0.5, retries=0, backoff_seconds=0, requests_per_second=1000,
        breaker_failures=2, breaker_cooldown_seconds=60,
    )  # fmt: skip
    client = GorzdravClient(fake.base_url, limits)
    try:
        fake.fail("/shared/districts", "http500", times=5)
        for _ in range(2):
            with pytest.raises(GorzdravUnavailable):
                await client.get("/shared/districts")
        with pytest.raises(GorzdravUnavailable, match="circuit open"):
            await client.get("/shared/districts")
        assert fake.requests.count("GET /shared/districts") == 2  # the third never left
    finally:
        await client.close()


async def test_directory_reads_are_cached(source: GorzdravSource, fake: FakeGorzdrav) -> None:
    await source.districts()
    await source.districts()
    assert fake.requests.count("GET /shared/districts") == 1


async def test_rate_limit_spaces_requests() -> None:
    from bot.sources.gorzdrav.client import RateLimiter

    now = [0.0]
    limiter = RateLimiter(3.0, monotonic=lambda: now[0])
    await limiter.wait()
    assert limiter.next_at == pytest.approx(1 / 3)
