"""Gorzdrav as a ScheduleSource: the endpoints, their JSON shapes, and their refusals.

Ids are the server's strings (clinic ids are integers there; we keep text).
Times come naive in Moscow time and leave here aware. Refusals become the
domain's: «нет свободных талонов» (errorCode 39) and any refusal to create an
appointment on a listed slot → RemoteSlotGone; a failed patient search →
RemoteRefused("patient_not_found"); no usable answer → RemoteRefused("unavailable").
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.sources.gorzdrav.client import (
    GorzdravClient,
    GorzdravRefused,
    GorzdravUnavailable,
)
from domain.models import Patient
from domain.schedule_source import (
    RemoteRefused,
    RemoteSlotGone,
    SourceClinic,
    SourceDistrict,
    SourceDoctor,
    SourceSlot,
    SourceSpecialty,
    SourceVisit,
)

MOSCOW = ZoneInfo("Europe/Moscow")
NO_TICKETS = 39  # «Отсутствуют свободные талоны»
# Refusal codes whose meaning is known from recordings and public clients.
KNOWN_CODES = {NO_TICKETS: "no free tickets"}


def local_time(value: str) -> datetime:
    """'2025-02-17T10:30:00' (Moscow, no offset) → aware datetime."""
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=MOSCOW)


def _list(result: Any) -> list[dict[str, Any]]:
    if result is None:
        return []
    if not isinstance(result, list):
        raise GorzdravUnavailable("result is not a list")
    return [item for item in result if isinstance(item, dict)]


def _s(item: dict[str, Any], key: str) -> str:
    value = item.get(key)
    return "" if value is None else str(value)


def _int(item: dict[str, Any], key: str) -> int:
    value = item.get(key)
    return int(value) if isinstance(value, int | float) else 0


def _slot(item: dict[str, Any]) -> SourceSlot:
    return SourceSlot(
        external_id=_s(item, "id"),
        start=local_time(_s(item, "visitStart")),
        end=local_time(_s(item, "visitEnd")),
        room=_s(item, "room"),
        address=_s(item, "address"),
    )


async def _ask(call: Any, *, phone: str = "") -> Any:
    """Run a client call; no usable answer → RemoteRefused('unavailable')."""
    try:
        return await call
    except GorzdravUnavailable as exc:
        raise RemoteRefused("unavailable", str(exc), phone) from exc


class GorzdravSource:
    name = "gorzdrav"

    def __init__(self, client: GorzdravClient) -> None:
        self.client = client
        self.ttl = client.limits.directory_ttl_seconds
        self.slots_ttl = client.limits.slots_ttl_seconds

    # --- directory ----------------------------------------------------------------------
    async def districts(self) -> list[SourceDistrict]:
        result = await _ask(self.client.get("/shared/districts", ttl=self.ttl))
        return [SourceDistrict(_s(d, "id"), _s(d, "name")) for d in _list(result)]

    async def clinics(self, district_id: str) -> list[SourceClinic]:
        result = await _ask(self.client.get(f"/shared/district/{district_id}/lpus", ttl=self.ttl))
        return [
            SourceClinic(
                external_id=_s(c, "id"),
                name=_s(c, "lpuShortName") or _s(c, "lpuFullName"),
                full_name=_s(c, "lpuFullName"),
                address=_s(c, "address"),
                phone=_s(c, "phone"),
                district=_s(c, "districtName"),
            )
            for c in _list(result)
            if c.get("isActive", True)
        ]

    async def specialties(self, clinic_id: str) -> list[SourceSpecialty]:
        result = await _ask(self.client.get(f"/schedule/lpu/{clinic_id}/specialties", ttl=self.ttl))
        return [
            SourceSpecialty(
                external_id=_s(s, "id"),
                fer_code=_s(s, "ferId"),
                name=_s(s, "name"),
                free=_int(s, "countFreeTicket"),
            )
            for s in _list(result)
        ]

    async def doctors(self, clinic_id: str, specialty_id: str) -> list[SourceDoctor]:
        path = f"/schedule/lpu/{clinic_id}/speciality/{specialty_id}/doctors"
        try:
            result = await _ask(self.client.get(path, ttl=self.ttl))
        except GorzdravRefused as exc:
            if exc.code == NO_TICKETS:
                return []
            raise RemoteRefused("refused", exc.message) from exc
        return [
            SourceDoctor(
                external_id=_s(d, "id"),
                name=_s(d, "name"),
                comment=_s(d, "comment"),
                free=_int(d, "freeTicketCount"),
            )
            for d in _list(result)
        ]

    async def free_days(self, clinic_id: str, doctor_id: str) -> list[date]:
        path = f"/schedule/lpu/{clinic_id}/doctor/{doctor_id}/timetable"
        result = await _ask(self.client.get(path, ttl=self.slots_ttl))
        days = {
            local_time(_s(day, "visitStart")).date()
            for day in _list(result)
            if day.get("recordableDay") and day.get("appointments")
        }
        return sorted(days)

    async def slots(self, clinic_id: str, doctor_id: str) -> list[SourceSlot]:
        """Free slots of a doctor; «нет свободных талонов» is an empty list, not an error."""
        path = f"/schedule/lpu/{clinic_id}/doctor/{doctor_id}/appointments"
        try:
            result = await _ask(self.client.get(path, ttl=self.slots_ttl))
        except GorzdravRefused as exc:
            if exc.code == NO_TICKETS:
                return []
            raise RemoteRefused("refused", exc.message) from exc
        return [_slot(s) for s in _list(result)]

    # --- patients and appointments ------------------------------------------------------
    async def find_patient(self, clinic_id: str, patient: Patient) -> str:
        params = {
            "lpuId": clinic_id,
            "lastName": patient.surname,
            "firstName": patient.name,
            "middleName": patient.patronymic,
            "birthdate": (
                patient.birth_date.isoformat() + "T00:00:00" if patient.birth_date else ""
            ),
        }
        try:
            result = await _ask(self.client.get("/patient/search", params))
        except GorzdravRefused as exc:
            raise RemoteRefused("patient_not_found", exc.message) from exc
        if not result:
            raise RemoteRefused("patient_not_found", "")
        return str(result)

    async def take(self, clinic_id: str, patient_id: str, slot_id: str) -> None:
        body = {"lpuId": int(clinic_id), "patientId": patient_id, "appointmentId": slot_id}
        try:
            await _ask(self.client.post("/appointment/create", body))
        except GorzdravRefused as exc:
            raise RemoteSlotGone(0) from exc
        finally:
            self.client.cache.drop(f"/schedule/lpu/{clinic_id}/doctor/")

    async def cancel(self, clinic_id: str, patient_id: str, slot_id: str) -> None:
        body = {"lpuId": int(clinic_id), "patientId": patient_id, "appointmentId": slot_id}
        try:
            await self.client.post("/appointment/cancel", body)
        except GorzdravRefused as exc:
            raise RemoteRefused("refused", exc.message) from exc
        except GorzdravUnavailable as exc:
            raise RemoteRefused("unavailable", str(exc)) from exc
        finally:
            self.client.cache.drop(f"/schedule/lpu/{clinic_id}/doctor/")

    async def visits(self, clinic_id: str, patient_id: str) -> list[SourceVisit]:
        params = {"lpuId": clinic_id, "patientId": patient_id}
        try:
            result = await _ask(self.client.get("/appointments", params))
        except GorzdravRefused as exc:
            if exc.code == NO_TICKETS:
                return []
            raise RemoteRefused("refused", exc.message) from exc
        return [
            SourceVisit(
                external_id=_s(v, "appointmentId"),
                start=local_time(_s(v, "visitStart")),
                clinic_name=_s(v, "lpuShortName"),
                doctor=_s(v, "doctorRendingConsultation"),
                specialty=_s(v, "specialityRendingConsultation"),
            )
            for v in _list(result)
        ]

    async def attached_clinics(self, policy: str) -> list[str]:
        try:
            result = await _ask(self.client.get("/oms/attachment/lpus", {"polisN": policy}))
        except GorzdravRefused:
            return []
        return [_s(c, "id") for c in _list(result)]
