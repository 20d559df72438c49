"""Reconcile our upcoming Gorzdrav visits with the owner's ``/appointments``.

A visit we hold as active that the clinic no longer lists was cancelled at the
clinic (by the registry, or the doctor's day closed): it becomes a
clinic-initiated cancellation here, so the patient gets the urgent
``clinic_cancelled`` message with the nearest alternatives, exactly as when our
own staff cancel. The owner not answering changes nothing (never cancel on a
failure). Runs as a job with a unit of work that has no remote attached, so
the cancellation is not sent back to the owner.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime

from domain import booking
from domain.errors import DomainError
from domain.schedule_source import RemoteRefused, ScheduleSource
from storage.sources.repo import RemoteVisit, SourceRepository
from storage.uow import UnitOfWorkFactory

log = logging.getLogger("zapis.gorzdrav")

REGISTRY_USER_ID = 0  # actor of a change that came from the owner's registry
REASON = "Запись отменена в поликлинике (по данным Горздрава)"


async def reconcile(uow_factory: UnitOfWorkFactory, source: ScheduleSource, now: datetime) -> int:
    """Cancel here what the owner no longer has; returns how many visits changed."""
    async with uow_factory() as uow:
        ours = await SourceRepository(uow.conn, uow.cipher).upcoming_remote_visits(source.name, now)
    groups: dict[tuple[str, str], list[RemoteVisit]] = defaultdict(list)
    for visit in ours:
        if visit.patient_external is not None:
            groups[(visit.clinic_external, visit.patient_external)].append(visit)
    changed = 0
    for (clinic_ext, patient_ext), visits in groups.items():
        try:
            theirs = {v.external_id for v in await source.visits(clinic_ext, patient_ext)}
        except RemoteRefused as exc:
            log.warning("gorzdrav reconcile: clinic %s not checked: %s", clinic_ext, exc)
            continue
        for visit in visits:
            if visit.slot_external not in theirs and await _cancel_here(uow_factory, visit, now):
                changed += 1
    return changed


async def _cancel_here(uow_factory: UnitOfWorkFactory, visit: RemoteVisit, now: datetime) -> bool:
    async with uow_factory() as uow:
        uow.schedule_remote = None  # the owner already cancelled it
        try:
            appointment = await booking.cancel_by_clinic(
                uow, now, REGISTRY_USER_ID, [visit.clinic_id], visit.appointment_id, REASON
            )
        except DomainError as exc:
            log.info("gorzdrav reconcile: %s left as is: %s", visit.appointment_id, exc)
            return False
        # Not free at the owner either; the next mirror opens it again if it is.
        await SourceRepository(uow.conn, uow.cipher).close_free_slot(appointment.slot_id)
        await uow.commit()
    return True
