"""FHIR R4 import: a hand-made bundle with every supported resource type, re-imported
without duplicates; a broken resource is rejected with its line and nothing is written."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.fhir.importer import Options, import_fhir
from storage.crypto import PersonalDataCipher
from storage.schema import (
    clinics,
    doctor_roles,
    doctors,
    fhir_links,
    slot_sources,
    slots,
    specialties,
)
from storage.uow import UnitOfWorkFactory

BUNDLE = Path(__file__).parent / "fhir" / "clinic_bundle.json"
TABLES = (clinics, doctors, specialties, doctor_roles, slots, slot_sources, fhir_links)


async def counts(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as conn:
        return {
            t.name: int(await conn.scalar(select(func.count()).select_from(t)) or 0) for t in TABLES
        }


async def test_bundle_with_every_type_imports(
    engine: AsyncEngine, cipher: PersonalDataCipher
) -> None:
    uow = UnitOfWorkFactory(engine, cipher)
    report = await import_fhir(uow, BUNDLE, Options(region_id="spb"))
    assert report.rejected == []
    assert dict(report.counts) == {
        "Organization": 1, "Location": 1, "Practitioner": 1, "HealthcareService": 1,
        "PractitionerRole": 1, "Schedule": 1, "Slot": 3,
    }  # fmt: skip
    assert report.added_slots == 3
    async with engine.connect() as conn:
        clinic = (await conn.execute(select(clinics))).one()
        assert clinic.name == "Поликлиника № 112 (FHIR)" and clinic.region_id == "spb"
        assert clinic.address == "191025, Санкт-Петербург, Невский пр., 112"
        assert clinic.phone == "+7 812 555-01-12"
        doctor = (await conn.execute(select(doctors))).one()
        assert (doctor.surname, doctor.name, doctor.patronymic) == ("Петрова", "Анна", "Сергеевна")
        rows = (
            await conn.execute(
                select(slots.c.start_utc, slots.c.status, slots.c.minutes, slot_sources.c.room)
                .join(slot_sources, slot_sources.c.slot_id == slots.c.id)
                .order_by(slots.c.start_utc)
            )
        ).all()
    assert [(r.start_utc, r.status, r.minutes, r.room) for r in rows] == [
        (datetime(2026, 12, 2, 7, 0), "free", 15, "каб. 212"),
        (datetime(2026, 12, 2, 7, 15), "free", 15, "каб. 212"),
        (datetime(2026, 12, 2, 7, 30), "blocked", 15, "каб. 212"),
    ]
    assert report.line().startswith("import-fhir: 1 Organization, 1 Location")


async def test_reimport_updates_without_duplicates(
    engine: AsyncEngine, cipher: PersonalDataCipher, tmp_path: Path
) -> None:
    uow = UnitOfWorkFactory(engine, cipher)
    await import_fhir(uow, BUNDLE, Options(region_id="spb"))
    before = await counts(engine)
    data = json.loads(BUNDLE.read_text(encoding="utf-8"))
    data["entry"][0]["resource"]["name"] = "Поликлиника № 112"
    data["entry"][6]["resource"]["start"] = "2026-12-02T09:45:00+03:00"
    changed = tmp_path / "again.json"
    changed.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    report = await import_fhir(uow, changed, Options(region_id="spb"))
    assert report.rejected == [] and report.added_slots == 0
    assert await counts(engine) == before
    async with engine.connect() as conn:
        assert await conn.scalar(select(clinics.c.name)) == "Поликлиника № 112"
        assert await conn.scalar(select(func.min(slots.c.start_utc))) == datetime(
            2026, 12, 2, 6, 45
        )


async def test_broken_resource_is_rejected_with_its_line_and_nothing_imported(
    engine: AsyncEngine, cipher: PersonalDataCipher, tmp_path: Path
) -> None:
    uow = UnitOfWorkFactory(engine, cipher)
    empty = await counts(engine)
    text = BUNDLE.read_text(encoding="utf-8")
    text = text.replace('"start": "2026-12-02T10:15:00+03:00"', '"start": "tomorrow morning"')
    text = text.replace('"value": "112-233-445 95"', '"value": "112-233-445 96"')
    broken = tmp_path / "broken.json"
    broken.write_text(text, encoding="utf-8")
    report = await import_fhir(uow, broken, Options(region_id="spb"))
    lines = [n + 1 for n, line in enumerate(text.splitlines()) if '"resource"' in line]
    assert report.rejected[0] == (
        f"broken.json:{lines[7]}: Slot/slot-2: start: Value error, "
        "Instant value string does not match spec regex."
    )
    assert report.rejected[1].startswith(
        f"broken.json:{lines[2]}: Practitioner/pr-petrova: SNILS '112-233-445 96'"
    )
    # What depended on the rejected doctor is rejected too, each with its own line.
    assert report.rejected[2] == (
        f"broken.json:{lines[4]}: PractitionerRole/role-petrova: unknown Practitioner/pr-petrova"
    )
    assert len(report.rejected) == 6
    assert report.line() == "import-fhir: 6 rejected, nothing imported"
    assert await counts(engine) == empty


async def test_directory_of_ndjson_files(
    engine: AsyncEngine, cipher: PersonalDataCipher, tmp_path: Path
) -> None:
    data = json.loads(BUNDLE.read_text(encoding="utf-8"))
    resources = [e["resource"] for e in data["entry"]]
    (tmp_path / "a.ndjson").write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in resources[:6]), encoding="utf-8"
    )
    bad = dict(resources[6], status="maybe")
    (tmp_path / "b.ndjson").write_text(json.dumps(bad), encoding="utf-8")
    report = await import_fhir(UnitOfWorkFactory(engine, cipher), tmp_path, Options())
    assert report.rejected == ["b.ndjson:1: Slot/slot-1: status 'maybe' is not a Slot status"]
