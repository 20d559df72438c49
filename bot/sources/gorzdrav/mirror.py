"""Mirror Gorzdrav's directory and free slots into our tables (region ``spb`` by default).

Booking, «Мои записи», reminders and the wait list read our tables; this
keeps them in step with the owner: clinics of the configured districts (or
only the configured clinic ids), their specialties (by the clinic's own id,
with the federal code), the doctors of every specialty that has free tickets,
and each doctor's free slots (new → added, gone while free here → blocked).
One transaction per clinic; a clinic that fails is logged and skipped, and
the previous mirror of it stays as it was. Run at start and as a job.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime

from domain.schedule_source import RemoteRefused, ScheduleSource, SourceClinic
from storage.sources.repo import MirrorSlot, SourceRepository, specialty_code
from storage.uow import UnitOfWorkFactory

log = logging.getLogger("zapis.gorzdrav")

_INITIALS = re.compile(r"^[A-ZА-ЯЁ]\.(?:[A-ZА-ЯЁ]\.?)?$")


@dataclass(frozen=True, slots=True)
class MirrorScope:
    region_id: str = "spb"
    region_name_ru: str = "Санкт-Петербург"
    region_name_en: str = "Saint Petersburg"
    tz: str = "Europe/Moscow"
    districts: tuple[str, ...] = ("12",)
    clinics: tuple[str, ...] = ()  # only these clinic ids; () = every clinic of the districts


@dataclass
class MirrorReport:
    clinics: int = 0
    doctors: int = 0
    added: int = 0
    closed: int = 0
    failed: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"gorzdrav mirror: {self.clinics} clinics, {self.doctors} doctors, "
            f"{self.added} slots added, {self.closed} closed, {len(self.failed)} failed"
        )


def split_doctor_name(raw: str, comment: str) -> dict[str, str]:
    """«Абаева Р.О. 3 ТО 25/27 участки» → surname Абаева, name Р.О., the rest as qualification."""
    words = raw.split()
    surname = words[0] if words else raw
    rest = words[1:]
    initials = ""
    if rest and _INITIALS.match(rest[0]):
        initials, rest = rest[0], rest[1:]
    qualification = " ".join(rest) or comment
    return {
        "surname": surname[:128],
        "name": initials[:128],
        "patronymic": "",
        "qualification": qualification[:128],
    }


async def mirror(
    uow_factory: UnitOfWorkFactory,
    source: ScheduleSource,
    scope: MirrorScope,
    now: datetime,
    progress: bool = False,
) -> MirrorReport:
    report = MirrorReport()
    async with uow_factory() as uow:
        repo = SourceRepository(uow.conn, uow.cipher)
        await repo.ensure_region(
            scope.region_id, scope.region_name_ru, scope.region_name_en, scope.tz
        )
        await uow.commit()
    wanted = set(scope.clinics)
    for district in scope.districts:
        try:
            clinics = await source.clinics(district)
        except (RemoteRefused, Exception) as exc:
            log.warning("gorzdrav: district %s not mirrored: %s", district, exc)
            report.failed.append(f"district {district}")
            continue
        for clinic in clinics:
            if wanted and clinic.external_id not in wanted:
                continue
            try:
                await _mirror_clinic(uow_factory, source, scope, clinic, now, report)
            except Exception as exc:
                log.warning("gorzdrav: clinic %s not mirrored: %s", clinic.external_id, exc)
                report.failed.append(clinic.external_id)
                continue
            report.clinics += 1
            if progress:
                print(f"  {clinic.name}: {report.doctors} doctors so far", flush=True)
    return report


async def _mirror_clinic(
    uow_factory: UnitOfWorkFactory,
    source: ScheduleSource,
    scope: MirrorScope,
    clinic: SourceClinic,
    now: datetime,
    report: MirrorReport,
) -> None:
    specialties = await source.specialties(clinic.external_id)
    plan = []
    for spec in specialties:
        doctors = await source.doctors(clinic.external_id, spec.external_id) if spec.free else []
        plan.append(
            (spec, [(d, await source.slots(clinic.external_id, d.external_id)) for d in doctors])
        )
    async with uow_factory() as uow:
        repo = SourceRepository(uow.conn, uow.cipher)
        clinic_id = await repo.upsert_clinic(
            "gorzdrav",
            clinic.external_id,
            {
                "region_id": scope.region_id,
                "name": clinic.name[:256],
                "address": clinic.address[:512],
                "district": clinic.district[:128],
                "phone": clinic.phone[:32],
                "tz": scope.tz,
            },
            district=clinic.district[:64],
        )
        for spec, staffed in plan:
            specialty_id = await repo.upsert_specialty(
                specialty_code("gz", spec.fer_code, spec.name), spec.name[:128], spec.name[:128]
            )
            await repo.link_specialty(clinic_id, specialty_id, spec.external_id, spec.fer_code)
            for doctor, slots in staffed:
                doctor_id = await repo.upsert_doctor(
                    clinic_id, doctor.external_id, split_doctor_name(doctor.name, doctor.comment)
                )
                role_id = await repo.ensure_role(doctor_id, clinic_id, specialty_id)
                mirrored = [
                    MirrorSlot(
                        external_id=s.external_id,
                        start=s.start,
                        minutes=max(1, int((s.end - s.start).total_seconds() // 60)) or 15,
                        room=s.room[:64],
                        address=s.address[:512],
                    )
                    for s in slots
                ]
                added, closed = await repo.sync_slots(role_id, scope.region_id, mirrored, now)
                report.doctors += 1
                report.added += added
                report.closed += closed
        await uow.commit()
