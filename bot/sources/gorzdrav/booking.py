"""The booking services' remote port for Gorzdrav slots (domain.schedule_source.RemoteBooking).

A slot mirrored from Gorzdrav has a row in slot_sources; for it the take goes
to ``appointment/create`` first, with the patient's id in that clinic (found
by ``patient/search`` once and kept in external_patients), and only then does
the booking service write our own record. A slot the owner says is gone is
closed here at once so nobody else picks it. A cancel goes to
``appointment/cancel`` first; when the owner refuses, it is asked for the
patient's visits: a visit it no longer has may be cancelled here too, any
other failure keeps our visit active (RemoteCancelFailed).
"""

from __future__ import annotations

import logging
from typing import Any

from domain.models import Appointment, Patient, Slot
from domain.ports import Clock
from domain.schedule_source import (
    RemoteCancelFailed,
    RemoteRefused,
    RemoteSlotGone,
    RemoteTake,
    ScheduleSource,
)
from storage.sources.repo import SourceRepository

log = logging.getLogger("zapis.gorzdrav")


def _repo(uow: Any) -> SourceRepository:
    return SourceRepository(uow.conn, uow.cipher)


class GorzdravBooking:
    def __init__(self, source: ScheduleSource, clock: Clock) -> None:
        self.source = source
        self.clock = clock

    async def _patient_id(
        self, repo: SourceRepository, clinic_id: int, clinic_ext: str, patient: Patient
    ) -> tuple[str, bool]:
        """(the patient's id in that clinic, whether it was just found by patient/search)."""
        known = await repo.external_patient(patient.id, clinic_id)
        if known is not None:
            return known, False
        return await self.source.find_patient(clinic_ext, patient), True

    async def take(self, uow: object, slot: Slot, patient: Patient) -> RemoteTake | None:
        repo = _repo(uow)
        ref = await repo.slot_ref(slot.id)
        if ref is None or ref.source != self.source.name:
            return None
        # No write of ours before the owner answers: on SQLite a write would hold the
        # database's write lock for the whole network call.
        try:
            patient_ext, found = await self._patient_id(
                repo, ref.clinic_id, ref.clinic_external, patient
            )
            await self.source.take(ref.clinic_external, patient_ext, ref.slot_external)
        except RemoteSlotGone:
            await repo.close_free_slot(slot.id)
            raise RemoteSlotGone(slot.id) from None
        except RemoteRefused as exc:
            raise RemoteRefused(exc.kind, exc.message, ref.phone) from exc
        if found:
            await repo.put_external_patient(
                patient.id, ref.clinic_id, patient_ext, self.clock.now()
            )
        return RemoteTake(ref.clinic_external, patient_ext, ref.slot_external)

    async def undo(self, take: RemoteTake) -> None:
        try:
            await self.source.cancel(take.clinic_id, take.patient_id, take.slot_id)
        except RemoteRefused as exc:
            log.error("gorzdrav: could not give back %s after a local refusal: %s", take, exc)

    async def cancel(self, uow: object, appointment: Appointment) -> None:
        repo = _repo(uow)
        ref = await repo.slot_ref(appointment.slot_id)
        if ref is None or ref.source != self.source.name:
            return
        patient_ext = await repo.external_patient(appointment.patient_id, ref.clinic_id)
        if patient_ext is None:
            raise RemoteCancelFailed("refused", "no patient id in this clinic", ref.phone)
        try:
            await self.source.cancel(ref.clinic_external, patient_ext, ref.slot_external)
            return
        except RemoteRefused as exc:
            failure = exc
        try:
            visits = await self.source.visits(ref.clinic_external, patient_ext)
        except RemoteRefused:
            visits = None
        if visits is not None and ref.slot_external not in {v.external_id for v in visits}:
            return  # the owner has no such visit any more: cancelling ours is right
        raise RemoteCancelFailed(failure.kind, failure.message, ref.phone) from failure
