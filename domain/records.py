"""Visit results, visit history and referrals: the rules, the services, the ports.

The clinic side (a registrar or doctor in /staff) closes a visit with its
result — conclusion, recommendations, prescriptions — and may issue a referral
to a specialty valid until a date; the patient is told «Результаты приёма
готовы» through the outbox. The patient side reads: the history of past visits
of self and relatives (filters, sort), one visit in detail, the referrals with
their status and the legal waiting time: under the state guarantee programme a
specialist on referral within 14 working days of issue. Pure rules here;
services take the unit of work and ``now`` and never commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

from domain.booking_ports import BookingUnitOfWork
from domain.booking_rules import ACTIVE, check_staff, owner_of
from domain.errors import InvalidTransition, NotOwner, Stale, ValidationFailed
from domain.lifecycle import Event, transition
from domain.models import Appointment, AppointmentStatus, JournalEntry, Referral, Specialty
from domain.notifications import OutboxItem

LEGAL_WAIT_WORKING_DAYS = 14  # specialist on referral, state guarantee programme
WAIT_WARNING_WORKING_DAYS = 3  # «the legal wait is about to be breached»
MAX_RESULT_TEXT = 2000
REFERRAL_VALIDITY_DAYS = (30, 60, 90)
VISIT_RESULTS = "visit_results"  # outbox kind; payload: appointment_id


class RefStatus:
    ACTIVE = "active"
    USED = "used"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class VisitResult:
    conclusion: str
    recommendations: str = ""
    prescriptions: str = ""


@dataclass(frozen=True, slots=True)
class ReferralView:
    """A referral with the names the patient sees."""

    referral: Referral
    patient_name: str
    specialty_ru: str
    specialty_en: str
    doctor_name: str
    referral_required: bool = True


@dataclass(frozen=True, slots=True)
class HistoryItem:
    """One visit as the history shows it: names resolved, result and referrals attached."""

    appointment: Appointment
    owner_user_id: int
    patient_name: str
    relation: str
    specialty_ru: str
    specialty_en: str
    doctor_name: str
    clinic_name: str
    clinic_tz: str
    result: VisitResult | None = None
    referrals: tuple[ReferralView, ...] = ()

    def specialty(self, locale: str) -> str:
        return self.specialty_en if locale == "en" else self.specialty_ru


@dataclass(frozen=True, slots=True)
class HistoryFilter:
    """The history's buttons: None = any. ``period_days`` counts back from today."""

    patient_id: int | None = None
    specialty_id: int | None = None
    doctor_id: int | None = None
    clinic_id: int | None = None
    period_days: int | None = None
    only_done: bool = False  # hide cancelled and missed visits
    newest_first: bool = True


# --- Pure rules ----------------------------------------------------------------------


def add_working_days(start: date, days: int) -> date:
    """``days`` working days (Mon–Fri) after ``start``; holidays are not modelled."""
    day = start
    left = days
    while left > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            left -= 1
    return day


def working_days_between(start: date, end: date) -> int:
    """Working days in (start, end]; negative when ``end`` is before ``start``."""
    if end < start:
        return -working_days_between(end, start)
    return sum(1 for n in range(1, (end - start).days + 1) if (start + timedelta(n)).weekday() < 5)


def legal_deadline(issued_day: date) -> date:
    return add_working_days(issued_day, LEGAL_WAIT_WORKING_DAYS)


def referral_status(referral: Referral, today: date) -> str:
    if referral.used_appointment_id is not None:
        return RefStatus.USED
    if referral.valid_until < today:
        return RefStatus.EXPIRED
    return RefStatus.ACTIVE


def wait_warning(referral: Referral, today: date) -> bool:
    """An active referral whose legal wait ends within a few working days (or has ended)."""
    if referral_status(referral, today) != RefStatus.ACTIVE:
        return False
    deadline = legal_deadline(referral.issued_at.date())
    return working_days_between(today, deadline) <= WAIT_WARNING_WORKING_DAYS


def in_history(appointment: Appointment, now: datetime) -> bool:
    """A past visit: finished, missed, or whose time has passed (cancelled ones too);
    a moved visit is not (its new row is the visit)."""
    if appointment.status is AppointmentStatus.RESCHEDULED:
        return False
    if appointment.status in (AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW):
        return True
    return appointment.start <= now


def apply_filter(
    items: Iterable[HistoryItem], f: HistoryFilter, now: datetime
) -> list[HistoryItem]:
    since = now - timedelta(days=f.period_days) if f.period_days else None
    done = (AppointmentStatus.COMPLETED, *ACTIVE)
    chosen = [
        i
        for i in items
        if (f.patient_id is None or i.appointment.patient_id == f.patient_id)
        and (f.specialty_id is None or i.appointment.specialty_id == f.specialty_id)
        and (f.doctor_id is None or i.appointment.doctor_id == f.doctor_id)
        and (f.clinic_id is None or i.appointment.clinic_id == f.clinic_id)
        and (since is None or i.appointment.start >= since)
        and (not f.only_done or i.appointment.status in done)
    ]
    chosen.sort(key=lambda i: (i.appointment.start, i.appointment.id), reverse=f.newest_first)
    return chosen


def clean_text(text: str, field: str, *, required: bool) -> str:
    value = text.strip()
    if required and not value:
        raise ValidationFailed(field, "empty")
    if len(value) > MAX_RESULT_TEXT:
        raise ValidationFailed(field, "too_long")
    return value


# --- Ports -------------------------------------------------------------------------


class RecordsRepository(Protocol):
    async def history(self, user_id: int) -> list[HistoryItem]: ...
    async def item(self, appointment_id: int) -> HistoryItem | None: ...
    async def clinic_visits(
        self, clinic_ids: Sequence[int], after: datetime, before: datetime
    ) -> list[HistoryItem]: ...
    async def save_result(
        self, appointment_id: int, result: VisitResult, staff_user_id: int, now: datetime
    ) -> None: ...
    async def add_referral(
        self,
        *,
        patient_id: int,
        specialty_id: int,
        clinic_id: int | None,
        doctor_id: int,
        source_appointment_id: int,
        issued_by_user_id: int,
        issued_at: datetime,
        valid_until: date,
    ) -> Referral: ...
    async def referrals_of(self, user_id: int) -> list[ReferralView]: ...
    async def referral(self, referral_id: int) -> tuple[ReferralView, int] | None: ...
    async def specialties(self) -> list[Specialty]: ...


class RecordsUoW(BookingUnitOfWork, Protocol):
    @property
    def records(self) -> RecordsRepository: ...


# --- Services ------------------------------------------------------------------------


async def owned_item(uow: RecordsUoW, user_id: int, appointment_id: int) -> HistoryItem:
    """A visit of the user or a relative, else Stale (a forged or foreign button)."""
    item = await uow.records.item(appointment_id)
    if item is None or item.owner_user_id != user_id:
        raise Stale
    return item


async def export_visit(
    uow: RecordsUoW, now: datetime, user_id: int, appointment_id: int
) -> HistoryItem:
    """A visit of the user's for its PDF summary; the export is journaled (ids only)."""
    item = await owned_item(uow, user_id, appointment_id)
    await uow.journal.add(
        JournalEntry(
            user_id=user_id,
            at=now,
            action="history.pdf",
            appointment_id=appointment_id,
            doctor_id=item.appointment.doctor_id,
        )
    )
    return item


async def owned_referral(uow: RecordsUoW, user_id: int, referral_id: int) -> ReferralView:
    found = await uow.records.referral(referral_id)
    if found is None or found[1] != user_id:
        raise Stale
    return found[0]


async def complete_visit(
    uow: RecordsUoW,
    now: datetime,
    staff_user_id: int,
    staff_clinics: Iterable[int],
    appointment_id: int,
    result: VisitResult,
    referral: tuple[int, int] | None = None,  # (specialty_id, validity days)
) -> Appointment:
    """Staff close a visit of their clinic with its result (and optionally a referral).

    An active visit that has started becomes completed; a completed one gets its
    result (re)written. Anything else — another clinic's visit (Stale), one not
    started, cancelled or missed (InvalidTransition) — changes nothing. The
    patient's account is told through the outbox («Результаты приёма готовы»).
    """
    try:
        appointment = check_staff(await uow.appointments.get(appointment_id), staff_clinics)
    except NotOwner as exc:  # another clinic's visit, or none
        raise Stale from exc
    repo = uow.appointments
    if appointment.status.active:
        if appointment.start > now:
            raise InvalidTransition("visit has not started")
        await transition(  # domain/lifecycle.py: status + event + journal, or nothing
            uow,
            now,
            appointment,
            Event.COMPLETE,
            actor="staff",
            actor_user_id=staff_user_id,
            journal_user_id=await owner_of(uow, appointment),
        )
        await uow.outbox.cancel_for_appointment(appointment.id)
    elif appointment.status is not AppointmentStatus.COMPLETED:
        raise InvalidTransition(f"visit is {appointment.status.value}")
    await uow.records.save_result(appointment.id, result, staff_user_id, now)
    issued: Referral | None = None
    if referral is not None:
        specialty_id, days = referral
        if days not in REFERRAL_VALIDITY_DAYS:
            raise Stale
        before = await uow.records.item(appointment.id)
        if before is not None and any(
            v.referral.specialty_id == specialty_id for v in before.referrals
        ):
            referral = None  # saved again: this visit's referral to it is already issued
    if referral is not None:
        specialty_id, days = referral
        issued = await uow.records.add_referral(
            patient_id=appointment.patient_id,
            specialty_id=specialty_id,
            clinic_id=None,
            doctor_id=appointment.doctor_id,
            source_appointment_id=appointment.id,
            issued_by_user_id=staff_user_id,
            issued_at=now,
            valid_until=(now + timedelta(days=days)).date(),
        )
    await uow.outbox.add(
        [
            OutboxItem(
                kind=VISIT_RESULTS,
                user_id=appointment.user_id,
                due_at=now,
                idem_key=f"visit:{appointment.id}:results:{now.isoformat()}",
                payload={"appointment_id": appointment.id},
            )
        ],
        now,
    )
    patient = await repo.get_patient(appointment.patient_id)
    owner = patient.owner_user_id if patient else None
    details: dict[str, object] = {"staff_user_id": staff_user_id}
    if issued is not None:
        details["referral_id"] = issued.id
    await uow.journal.add(
        JournalEntry(
            user_id=owner,
            at=now,
            action="visit.results",
            appointment_id=appointment.id,
            doctor_id=appointment.doctor_id,
            details=details,
        )
    )
    updated = await repo.get(appointment.id)
    assert updated is not None
    return updated
