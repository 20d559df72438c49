"""A local fake of Gorzdrav's API: the recorded answers (fixtures/) plus stateful booking.

For tests and ``python -m bot console --source gorzdrav``: the same client
that talks to the city's server talks to this on loopback. What it serves:

- the recorded districts, the recorded clinics of district 12 (any other district
  answers the recorded empty list), the recorded specialties for every clinic;
- the recorded doctors for specialty "4" (Терапевт участковый, as recorded), and
  «нет свободных талонов» (errorCode 39, as recorded) for any other;
- for every recorded doctor, the recorded free slots relabelled with its id, minus
  those taken; a doctor not in the list answers errorCode 39;
- ``shift_days`` moves every recorded date so the schedule lies ahead of any clock.

State: patients found by name and birth date (any name when ``auto_register``),
appointments created and cancelled, attachments by policy. Failure injection:
``fail(path_prefix, kind)`` with kind ``http500`` | ``timeout`` | ``malformed`` |
``refuse:<code>:<message>`` for the next matching request(s); ``take_elsewhere``
takes a slot as another registry would; ``cancel_at_clinic`` drops a visit.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

FIXTURES = Path(__file__).parent / "fixtures"
RECORDED_DISTRICT = "12"
RECORDED_SPECIALTY = "4"
RECORDED_DOCTOR = "п100.136"
NO_TICKETS = {
    "success": False,
    "errorCode": 39,
    "message": "Отсутствуют свободные талоны. Попробуйте записаться позже или обратитесь "
    "в регистратуру медорганизации",
}

_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})T")
_DOTTED = re.compile(r"(\d{2})\.(\d{2})\.(\d{4});")


def shift_text(text: str, days: int) -> str:
    """Move every ISO date (``2025-02-17T``) and slot-id date (``17.02.2025;``) by ``days``."""
    if not days:
        return text

    def iso(m: re.Match[str]) -> str:
        moved = date(int(m[1]), int(m[2]), int(m[3])) + timedelta(days=days)
        return moved.isoformat() + "T"

    def dotted(m: re.Match[str]) -> str:
        moved = date(int(m[3]), int(m[2]), int(m[1])) + timedelta(days=days)
        return moved.strftime("%d.%m.%Y") + ";"

    return _DOTTED.sub(dotted, _ISO.sub(iso, text))


def load_fixture(name: str, shift_days: int = 0) -> dict[str, Any]:
    text = (FIXTURES / f"{name}.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(shift_text(text, shift_days))
    return data


def ok(result: Any) -> dict[str, Any]:
    return {"result": result, "success": True, "errorCode": 0, "message": None}


def refusal(code: int, message: str) -> dict[str, Any]:
    return {"success": False, "errorCode": code, "message": message}


@dataclass
class Visit:
    lpu: str
    patient_id: str
    slot: dict[str, Any]


@dataclass
class FakeGorzdrav:
    shift_days: int = 0
    auto_register: bool = True
    attachment_lpus: list[int] = field(default_factory=lambda: [44])
    patients: dict[tuple[str, str, str, str, str], str] = field(default_factory=dict)
    unknown: set[str] = field(default_factory=set)  # surnames the registry never finds
    visits: dict[tuple[str, str], Visit] = field(default_factory=dict)  # (lpu, slot id)
    failures: list[tuple[str, str]] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    timeout_seconds: float = 30.0
    runner: web.AppRunner | None = None
    base_url: str = ""

    # --- control ------------------------------------------------------------------------
    def fail(self, path_prefix: str, kind: str, times: int = 1) -> None:
        self.failures.extend([(path_prefix, kind)] * times)

    def take_elsewhere(self, lpu: str, slot_id: str) -> None:
        slot = next(s for s in self._doctor_slots(slot_id.rsplit(";", 1)[1]) if s["id"] == slot_id)
        self.visits[(lpu, slot_id)] = Visit(lpu, "someone-else", slot)

    def cancel_at_clinic(self, lpu: str, slot_id: str) -> None:
        self.visits.pop((lpu, slot_id), None)

    # --- data ---------------------------------------------------------------------------
    def _fixture(self, name: str) -> dict[str, Any]:
        return load_fixture(name, self.shift_days)

    def _doctor_ids(self) -> set[str]:
        return {d["id"] for d in self._fixture("SpecialtyDoctorsListResponse_example")["result"]}

    def _doctor_slots(self, doctor: str) -> list[dict[str, Any]]:
        if doctor not in self._doctor_ids():
            return []
        text = json.dumps(
            self._fixture("DoctorAppointmentsResponse_example")["result"], ensure_ascii=False
        )
        slots: list[dict[str, Any]] = json.loads(text.replace(RECORDED_DOCTOR, doctor))
        return slots

    def _free(self, lpu: str, doctor: str) -> list[dict[str, Any]]:
        return [s for s in self._doctor_slots(doctor) if (lpu, s["id"]) not in self.visits]

    def _lpus(self) -> list[dict[str, Any]]:
        lpus: list[dict[str, Any]] = self._fixture("DistrictResponse_example")["result"]
        return lpus

    # --- handlers -----------------------------------------------------------------------
    async def districts(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(self._fixture("DistrictListResponse_example"))

    async def lpus(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["district"] == RECORDED_DISTRICT:
            return web.json_response(self._fixture("DistrictResponse_example"))
        return web.json_response(self._fixture("DistrictResponse_invalid"))

    async def lpu(self, request: web.Request) -> web.StreamResponse:
        lpu = request.match_info["lpu"]
        found = [c for c in self._lpus() if str(c["id"]) == lpu]
        return web.json_response(ok(found[0]) if found else refusal(0, "ЛПУ не найдено"))

    async def specialties(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(self._fixture("SpecialtyListResponse_example"))

    async def doctors(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["specialty"] == RECORDED_SPECIALTY:
            return web.json_response(self._fixture("SpecialtyDoctorsListResponse_example"))
        return web.json_response(NO_TICKETS)

    async def timetable(self, request: web.Request) -> web.StreamResponse:
        doctor = request.match_info["doctor"]
        if doctor not in self._doctor_ids():
            return web.json_response(NO_TICKETS)
        data = self._fixture("DoctorTimetableResponse_example")
        text = json.dumps(data, ensure_ascii=False).replace(RECORDED_DOCTOR, doctor)
        return web.json_response(json.loads(text))

    async def appointments(self, request: web.Request) -> web.StreamResponse:
        lpu, doctor = request.match_info["lpu"], request.match_info["doctor"]
        if doctor == RECORDED_DOCTOR and not self.visits:
            return web.json_response(self._fixture("DoctorAppointmentsResponse_example"))
        free = self._free(lpu, doctor)
        return web.json_response(ok(free) if free else NO_TICKETS)

    async def patient_search(self, request: web.Request) -> web.StreamResponse:
        q = request.query
        key = tuple(
            q.get(k, "").strip().lower()
            for k in ("lpuId", "lastName", "firstName", "middleName", "birthdate")
        )
        found = self.patients.get(key)  # type: ignore[arg-type]
        if found is None and self.auto_register and q.get("lastName") not in self.unknown:
            found = hashlib.sha1("|".join(key).encode()).hexdigest()[:8]
            self.patients[key] = found  # type: ignore[index]
        if found is None:
            return web.json_response(refusal(0, "Пациент не найден"))
        return web.json_response(ok(found))

    async def create(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        lpu, slot_id = str(body.get("lpuId")), str(body.get("appointmentId"))
        doctor = slot_id.rsplit(";", 1)[-1]
        slot = next((s for s in self._free(lpu, doctor) if s["id"] == slot_id), None)
        if slot is None:
            return web.json_response(NO_TICKETS)
        self.visits[(lpu, slot_id)] = Visit(lpu, str(body.get("patientId")), slot)
        return web.json_response(ok(None))

    async def cancel(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        key = (str(body.get("lpuId")), str(body.get("appointmentId")))
        visit = self.visits.get(key)
        if visit is None or visit.patient_id != str(body.get("patientId")):
            return web.json_response(refusal(0, "Запись не найдена"))
        del self.visits[key]
        return web.json_response(ok(None))

    async def patient_visits(self, request: web.Request) -> web.StreamResponse:
        lpu, patient = request.query.get("lpuId", ""), request.query.get("patientId", "")
        lpu_name = next((c["lpuShortName"] for c in self._lpus() if str(c["id"]) == lpu), "")
        result = [
            {
                "appointmentId": v.slot["id"],
                "visitStart": v.slot["visitStart"],
                "lpuShortName": lpu_name,
                "lpuAddress": v.slot["address"],
                "doctorRendingConsultation": v.slot["id"].rsplit(";", 1)[-1],
                "specialityRendingConsultation": "Терапевт участковый",
            }
            for v in self.visits.values()
            if v.lpu == lpu and v.patient_id == patient
        ]
        return web.json_response(ok(result))

    async def attachment(self, request: web.Request) -> web.StreamResponse:
        policy = request.query.get("polisN", "")
        if not (len(policy) == 16 and policy.isdigit()):
            return web.json_response(refusal(0, "Некорректный номер полиса"))
        lpus = [c for c in self._lpus() if c["id"] in self.attachment_lpus]
        return web.json_response(ok(lpus))

    @web.middleware
    async def inject(self, request: web.Request, handler: Any) -> web.StreamResponse:
        path = request.path.removeprefix("/api/v2")
        self.requests.append(f"{request.method} {path}")
        for i, (prefix, kind) in enumerate(self.failures):
            if path.startswith(prefix):
                del self.failures[i]
                return await self._failure(kind)
        response: web.StreamResponse = await handler(request)
        return response

    async def _failure(self, kind: str) -> web.StreamResponse:
        if kind == "http500":
            return web.Response(status=500, text="Internal Server Error")
        if kind == "timeout":
            await asyncio.sleep(self.timeout_seconds)
            return web.json_response(ok(None))
        if kind == "malformed":
            return web.Response(text='{"result": [', content_type="application/json")
        _, code, message = kind.split(":", 2)
        return web.json_response(refusal(int(code), message))

    # --- server -------------------------------------------------------------------------
    def app(self) -> web.Application:
        app = web.Application(middlewares=[self.inject])
        r = app.router
        p = "/api/v2"
        r.add_get(p + "/shared/districts", self.districts)
        r.add_get(p + "/shared/district/{district}/lpus", self.lpus)
        r.add_get(p + "/shared/lpu/{lpu}", self.lpu)
        r.add_get(p + "/schedule/lpu/{lpu}/specialties", self.specialties)
        r.add_get(p + "/schedule/lpu/{lpu}/speciality/{specialty}/doctors", self.doctors)
        r.add_get(p + "/schedule/lpu/{lpu}/doctor/{doctor}/timetable", self.timetable)
        r.add_get(p + "/schedule/lpu/{lpu}/doctor/{doctor}/appointments", self.appointments)
        r.add_get(p + "/patient/search", self.patient_search)
        r.add_post(p + "/appointment/create", self.create)
        r.add_post(p + "/appointment/cancel", self.cancel)
        r.add_get(p + "/appointments", self.patient_visits)
        r.add_get(p + "/oms/attachment/lpus", self.attachment)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on loopback; returns the base URL to give the client."""
        self.runner = web.AppRunner(self.app(), access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, host, port)
        await site.start()
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        bound = sockets[0].getsockname()[1] if sockets else port
        self.base_url = f"http://{host}:{bound}/api/v2"
        return self.base_url

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None
