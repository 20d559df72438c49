"""``python -m bot export-fhir --since DATE``: our appointments as a FHIR R4 Bundle.

Status: pending/confirmed → booked, cancelled → cancelled with the reason
(who cancelled as the R4 cancellation-reason code: ``pat`` the patient,
``prov`` the clinic), completed → fulfilled, no_show → noshow; a rescheduled
visit is exported as cancelled (reason «rescheduled to № …») and its new visit
as a booked Appointment of its own. The Bundle is validated with
``fhir.resources`` (R4B) before it is written, so what leaves is well-formed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from storage.sources.fhir_repo import ExportRow, FhirRepository
from storage.uow import UnitOfWorkFactory

STATUS = {
    "pending": "booked",
    "confirmed": "booked",
    "cancelled": "cancelled",
    "rescheduled": "cancelled",
    "completed": "fulfilled",
    "no_show": "noshow",
}
REASON_SYSTEM = "http://terminology.hl7.org/CodeSystem/appointment-cancellation-reason"
NUMBER_SYSTEM = "urn:zapis:appointment-number"


def _reason(row: ExportRow, numbers: dict[int, str]) -> dict[str, Any] | None:
    if row.status == "rescheduled":
        new = numbers.get(row.rescheduled_to or 0, "")
        text = f"rescheduled to {new}".strip() if new else "rescheduled"
        code = "pat"
    elif row.status == "cancelled":
        code = "prov" if row.cancelled_by == "clinic" else "pat"
        text = row.cancel_reason or (
            "cancelled by the clinic" if code == "prov" else "cancelled by the patient"
        )
    else:
        return None
    return {"coding": [{"system": REASON_SYSTEM, "code": code}], "text": text}


def appointment(row: ExportRow, numbers: dict[int, str]) -> dict[str, Any]:
    end = row.start.timestamp() + row.minutes * 60
    resource: dict[str, Any] = {
        "resourceType": "Appointment",
        "id": f"zapis-{row.id}",
        "identifier": [{"system": NUMBER_SYSTEM, "value": row.number}],
        "status": STATUS.get(row.status, "booked"),
        "start": row.start.isoformat(),
        "end": datetime.fromtimestamp(end, row.start.tzinfo).isoformat(),
        "minutesDuration": row.minutes,
        "created": row.created_at.isoformat(),
        "participant": [
            {
                "actor": {
                    "reference": f"Patient/zapis-{row.patient_id}",
                    "display": row.patient_name,
                },
                "status": "accepted",
            },
            {
                "actor": {
                    "reference": f"Practitioner/{row.doctor_fhir_id or f'zapis-{row.doctor_id}'}",
                    "display": row.doctor_name,
                },
                "status": "accepted",
            },
        ],
    }
    if row.slot_external and row.slot_external.startswith("fhir:"):
        resource["slot"] = [{"reference": f"Slot/{row.slot_external[5:]}"}]
    reason = _reason(row, numbers)
    if reason is not None:
        resource["cancelationReason"] = reason
    return resource


async def export_fhir(
    uow_factory: UnitOfWorkFactory, since: datetime, now: datetime
) -> tuple[str, int]:
    """The Bundle as JSON and how many Appointments it holds."""
    async with uow_factory() as uow:
        rows = await FhirRepository(uow.conn, uow.cipher).appointments_since(since)
    numbers = {r.id: r.number for r in rows}
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": now.isoformat(),
        "entry": [
            {"fullUrl": f"urn:zapis:appointment:{r.id}", "resource": appointment(r, numbers)}
            for r in rows
        ],
    }
    checked = Bundle.model_validate(bundle)
    return checked.model_dump_json(indent=2), len(rows)
