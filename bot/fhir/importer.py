"""``python -m bot import-fhir FILE_OR_DIR``: a clinic's schedule as FHIR R4 into the local source.

Resources: Organization (→ clinic), Location (→ the address and room of the
slots whose Schedule names it), Practitioner (→ doctor), HealthcareService
(→ specialty offered by a clinic), PractitionerRole (→ doctor works as a
specialty in a clinic), Schedule (→ that role's calendar), Slot (→ a slot).
Each is validated with ``fhir.resources`` (R4B models: R4-compatible for these
resources), then by our rules (references resolvable, Slot status known, end
after start, SNILS checksum of a Practitioner where the Russian FHIR Core
naming system for SNILS is used). All in ONE transaction in dependency order:
any rejected resource → every rejection is printed as ``file:line: Type/id:
reason`` and nothing is written. Keyed by FHIR ids (clinic_sources 'fhir',
doctors.fhir_id, fhir_links, slot_sources), so importing the same files again
updates rows instead of duplicating them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from bot.fhir.read import Raw, files_of, read_file
from domain.errors import ValidationFailed
from domain.validators import parse_snils
from storage.sources.fhir_repo import FhirRepository
from storage.uow import UnitOfWorkFactory

ORDER = (
    "Organization",
    "Location",
    "Practitioner",
    "HealthcareService",
    "PractitionerRole",
    "Schedule",
    "Slot",
)
# Russian FHIR Core / ЕГИСЗ naming systems (OIDs of the federal registers).
SNILS_SYSTEMS = {"urn:oid:1.2.643.100.3", "urn:oid:1.2.643.2.69.1.1.1.6.223"}
SLOT_STATUS = {"free": "free", "busy": "blocked", "busy-unavailable": "blocked"}
SLOT_DROPPED = {"busy-tentative", "entered-in-error"}


class Rejected(Exception):
    pass


@dataclass
class ImportReport:
    counts: Counter[str] = field(default_factory=Counter)
    added_slots: int = 0
    rejected: list[str] = field(default_factory=list)

    def line(self) -> str:
        parts = ", ".join(f"{self.counts[k]} {k}" for k in ORDER if self.counts[k])
        if self.rejected:
            return f"import-fhir: {len(self.rejected)} rejected, nothing imported"
        return f"import-fhir: {parts or 'nothing'} imported ({self.added_slots} new slots)"


@dataclass
class Options:
    region_id: str = "msk"
    tz: str = "Europe/Moscow"


def _ref_id(ref: Any, kind: str) -> str:
    reference = getattr(ref, "reference", None) or ""
    prefix = f"{kind}/"
    if not reference.startswith(prefix):
        raise Rejected(f"expects a reference to {kind}, got {reference or 'none'!r}")
    return str(reference[len(prefix) :])


def _coding(concepts: Any) -> tuple[str, str] | None:
    for concept in concepts or []:
        for coding in concept.coding or []:
            if coding.code:
                return str(coding.code), str(coding.display or concept.text or coding.code)
    return None


def _address(addresses: Any) -> str:
    for a in addresses or []:
        if a.text:
            return str(a.text)
        parts = [a.postalCode, a.city, *(a.line or [])]
        text = ", ".join(str(p) for p in parts if p)
        if text:
            return text
    return ""


def _phone(telecom: Any) -> str:
    return next((str(t.value) for t in telecom or [] if t.system == "phone" and t.value), "")


class Importer:
    def __init__(self, repo: FhirRepository, options: Options, report: ImportReport) -> None:
        self.repo = repo
        self.options = options
        self.report = report
        self.handlers: dict[str, Callable[[Any], Any]] = {
            "Organization": self.organization,
            "Location": self.location,
            "Practitioner": self.practitioner,
            "HealthcareService": self.service,
            "PractitionerRole": self.role,
            "Schedule": self.schedule,
            "Slot": self.slot,
        }

    async def run(self, raws: list[Raw]) -> None:
        models: list[tuple[Raw, Any]] = []
        for raw in raws:
            kind = raw.data.get("resourceType")
            if kind not in ORDER:
                self.report.rejected.append(f"{raw.origin}: {raw.label}: not a supported type")
                continue
            try:
                models.append((raw, get_fhir_model_class(kind).model_validate(raw.data)))
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(p) for p in first["loc"]) or "resource"
                self.report.rejected.append(f"{raw.origin}: {raw.label}: {where}: {first['msg']}")
        models.sort(key=lambda item: ORDER.index(item[1].get_resource_type()))
        for raw, model in models:
            try:
                await self.handlers[model.get_resource_type()](model)
            except Rejected as exc:
                self.report.rejected.append(f"{raw.origin}: {raw.label}: {exc}")
                continue
            self.report.counts[model.get_resource_type()] += 1

    # --- resources ----------------------------------------------------------------------
    async def _clinic(self, ref: Any) -> int:
        found = await self.repo.clinic_by_external("fhir", _ref_id(ref, "Organization"))
        if found is None:
            raise Rejected(f"unknown {ref.reference}")
        return found

    async def organization(self, org: Any) -> None:
        if not org.name:
            raise Rejected("an Organization needs a name")
        o = self.options
        await self.repo.ensure_region(o.region_id, o.region_id, o.region_id, o.tz)
        address = _address(org.address)
        await self.repo.upsert_clinic(
            "fhir",
            str(org.id),
            {
                "region_id": o.region_id,
                "name": str(org.name)[:256],
                "address": address[:512],
                "phone": _phone(org.telecom)[:32],
                "tz": o.tz,
                "fhir_id": str(org.id),
            },
        )

    async def location(self, loc: Any) -> None:
        clinic_id = await self._clinic(loc.managingOrganization)
        data = {"address": _address([loc.address] if loc.address else []), "room": loc.name or ""}
        await self.repo.put_link("Location", str(loc.id), clinic_id, data)

    async def practitioner(self, doc: Any) -> None:
        name = (doc.name or [None])[0]
        if name is None or not name.family:
            raise Rejected("a Practitioner needs name.family")
        for ident in doc.identifier or []:
            if ident.system in SNILS_SYSTEMS:
                try:
                    parse_snils(str(ident.value or ""))
                except ValidationFailed as exc:
                    raise Rejected(f"SNILS {ident.value!r}: {exc.reason}") from exc
        given = [str(g) for g in name.given or []]
        values = {
            "surname": str(name.family)[:128],
            "name": (given[0] if given else "")[:128],
            "patronymic": " ".join(given[1:])[:128],
        }
        await self.repo.upsert_doctor_by_fhir(str(doc.id), values)

    async def _specialty(self, concepts: Any) -> int:
        found = _coding(concepts)
        if found is None:
            raise Rejected("needs a specialty coding (type or specialty)")
        code, display = found
        existing = await self.repo.conn.scalar(self._spec_by_code(code))
        if existing is not None:
            return int(existing)
        return await self.repo.upsert_specialty(f"fhir-{code}"[:32], display[:128], display[:128])

    @staticmethod
    def _spec_by_code(code: str) -> Any:
        from sqlalchemy import select

        from storage.schema import specialties

        return select(specialties.c.id).where(specialties.c.code == code)

    async def service(self, svc: Any) -> None:
        clinic_id = await self._clinic(svc.providedBy)
        specialty_id = await self._specialty([*(svc.specialty or []), *(svc.type or [])])
        await self.repo.link_specialty(clinic_id, specialty_id, f"fhir:{svc.id}", "")
        await self.repo.put_link(
            "HealthcareService", str(svc.id), specialty_id, {"clinic": clinic_id}
        )

    async def role(self, role: Any) -> None:
        doctor_id = await self.repo.doctor_by_fhir(_ref_id(role.practitioner, "Practitioner"))
        if doctor_id is None:
            raise Rejected(f"unknown {role.practitioner.reference}")
        clinic_id = await self._clinic(role.organization)
        if role.healthcareService:
            svc = _ref_id(role.healthcareService[0], "HealthcareService")
            link = await self.repo.link("HealthcareService", svc)
            if link is None or link[0] is None:
                raise Rejected(f"unknown HealthcareService/{svc}")
            specialty_id = link[0]
        else:
            specialty_id = await self._specialty(role.specialty)
        role_id = await self.repo.ensure_role(doctor_id, clinic_id, specialty_id)
        await self.repo.put_link("PractitionerRole", str(role.id), role_id, {})

    async def schedule(self, sched: Any) -> None:
        role_id: int | None = None
        place: dict[str, Any] = {}
        for actor in sched.actor or []:
            reference = actor.reference or ""
            kind, _, ident = reference.partition("/")
            link = (
                await self.repo.link(kind, ident)
                if kind in ("PractitionerRole", "Location")
                else None
            )
            if link is None:
                raise Rejected(f"unknown actor {reference!r}")
            if kind == "PractitionerRole":
                role_id = link[0]
            else:
                place = link[1]
        if role_id is None:
            raise Rejected("a Schedule needs a PractitionerRole actor")
        await self.repo.put_link("Schedule", str(sched.id), role_id, place)

    async def slot(self, slot: Any) -> None:
        link = await self.repo.link("Schedule", _ref_id(slot.schedule, "Schedule"))
        if link is None or link[0] is None:
            raise Rejected(f"unknown {slot.schedule.reference}")
        status = str(slot.status)
        if status in SLOT_DROPPED:
            return
        if status not in SLOT_STATUS:
            raise Rejected(f"status {status!r} is not a Slot status")
        if slot.end <= slot.start:
            raise Rejected("end is not after start")
        minutes = int((slot.end - slot.start).total_seconds() // 60)
        added = await self.repo.upsert_slot(
            link[0],
            f"fhir:{slot.id}",
            slot.start,
            minutes,
            SLOT_STATUS[status],
            str(link[1].get("room", ""))[:64],
            str(link[1].get("address", ""))[:512],
        )
        self.report.added_slots += int(added)


async def import_fhir(
    uow_factory: UnitOfWorkFactory,
    path: Path,
    options: Options,
    progress: Callable[[str], None] | None = None,
) -> ImportReport:
    """Import every file under ``path`` in one transaction (see the module docstring)."""
    report = ImportReport()
    raws: list[Raw] = []
    for file in files_of(path):
        raws += read_file(file)
        if progress:
            progress(f"read {file.name}: {len(raws)} resources so far")
    async with uow_factory() as uow:
        await Importer(FhirRepository(uow.conn, uow.cipher), options, report).run(raws)
        if report.rejected:
            await uow.rollback()
        else:
            await uow.commit()
    return report
