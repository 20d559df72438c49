"""Pure booking rules: each takes plain values and raises a domain error or returns.

No I/O and no clock: the service gathers the facts (counts, the referral, the
visit's local date) and passes them in, so every rule is testable with values.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum

from domain.booking_ports import Clash
from domain.errors import (
    AgeSexRestricted,
    AlreadyBooked,
    CancelWindowClosed,
    ConfirmationRequired,
    DailyCapReached,
    NoShowRestricted,
    ReferralRequired,
    SlotUnavailable,
    VisitOverlaps,
)
from domain.models import Patient, Referral, SlotStatus, Specialty

# Cancelling later than this before the visit needs a second confirmation (SPEC §4).
LATE_CANCEL_WINDOW = timedelta(hours=24)
# Daily cap window: a rolling 24 hours rather than a local calendar day, so the
# rule means the same thing for every zone and cannot be gamed around midnight.
DAILY_CAP_WINDOW = timedelta(hours=24)
# State guarantee programme: a specialist visit by referral within 14 working days.
REFERRAL_WAIT_WORKING_DAYS = 14


def age_on(birth_date: date, day: date) -> int:
    """Full years on ``day`` (a 29 February birthday counts on 1 March in other years)."""
    years = day.year - birth_date.year
    if (day.month, day.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


def check_age_sex(patient: Patient, specialty: Specialty, visit_day: date) -> None:
    """A paediatrician only for children, a gynaecologist only for women, etc.

    Limits are inclusive (``max_age=17`` admits a 17-year-old). A patient with
    no birth date / sex on file is not refused: onboarding requires both, so
    missing values mean imported data we cannot judge.
    """
    if patient.birth_date is not None:
        age = age_on(patient.birth_date, visit_day)
        if specialty.min_age is not None and age < specialty.min_age:
            raise AgeSexRestricted("too_young")
        if specialty.max_age is not None and age > specialty.max_age:
            raise AgeSexRestricted("too_old")
    if specialty.sex is not None and patient.sex is not None and patient.sex != specialty.sex:
        raise AgeSexRestricted("sex")


def referral_usable(
    referral: Referral, patient_id: int, specialty_id: int, visit_day: date
) -> bool:
    return (
        referral.patient_id == patient_id
        and referral.specialty_id == specialty_id
        and referral.used_appointment_id is None
        and referral.valid_until >= visit_day
    )


def check_referral(
    specialty: Specialty, patient_id: int, referral: Referral | None, visit_day: date
) -> Referral | None:
    """Referral-only specialties need a valid unused referral; returns the one to use."""
    if not specialty.referral_required:
        return None
    if referral is None or not referral_usable(referral, patient_id, specialty.id, visit_day):
        raise ReferralRequired(specialty.code)
    return referral


def check_slot_bookable(slot_start: datetime, slot_status: str, now: datetime) -> None:
    """No booking in the past (a started slot counts as past) or of a blocked slot.

    A 'booked' slot is not checked here: that is a race, answered by SlotTaken
    with alternatives rather than by a rule.
    """
    if slot_start <= now:
        raise SlotUnavailable("past")
    if slot_status not in (SlotStatus.FREE, SlotStatus.BOOKED):
        raise SlotUnavailable(slot_status)


def check_one_active(
    active_same_specialty: int, enabled: bool, existing: Clash | None = None
) -> None:
    """One upcoming active appointment per patient per specialty (configurable);
    ``existing`` (that appointment, when known) is named in the refusal."""
    if enabled and active_same_specialty > 0:
        raise AlreadyBooked(existing)


def overlaps(a_start: datetime, a_minutes: int, b_start: datetime, b_minutes: int) -> bool:
    """Two visits [start, start + minutes) share any moment (touching ends do not)."""
    a_end = a_start + timedelta(minutes=a_minutes)
    b_end = b_start + timedelta(minutes=b_minutes)
    return a_start < b_end and b_start < a_end


def check_no_overlap(clash: Clash | None) -> None:
    """A patient cannot be in two places at once: any active visit overlapping the new
    one (any specialty, any clinic) refuses it, naming that visit."""
    if clash is not None:
        raise VisitOverlaps(clash)


def check_daily_cap(created_in_window: int, cap: int) -> None:
    """``created_in_window`` = appointments the account created in the last 24 h.

    Every booking counts, including later cancelled ones and the new
    appointment a reschedule creates: the cap is against churn, not against
    holding slots. Reschedules themselves are not refused by the cap.
    """
    if created_in_window >= cap:
        raise DailyCapReached()


def check_no_show(count: int, limit: int, enabled: bool) -> None:
    """Missed-visit restriction (off by default): at ``limit`` no-shows booking is refused."""
    if enabled and count >= limit:
        raise NoShowRestricted(count, limit)


class CancelKind(StrEnum):
    ONE_CONFIRMATION = "one"  # more than 24 h ahead
    TWO_CONFIRMATIONS = "two"  # less than 24 h ahead: warn, then confirm again


def cancel_kind(start: datetime, now: datetime) -> CancelKind:
    """How many confirmations a patient's cancellation needs; started/past → refused."""
    if start <= now:
        raise CancelWindowClosed()
    if start - now < LATE_CANCEL_WINDOW:
        return CancelKind.TWO_CONFIRMATIONS
    return CancelKind.ONE_CONFIRMATION


def check_cancel(start: datetime, now: datetime, *, confirmed_twice: bool) -> CancelKind:
    kind = cancel_kind(start, now)
    if kind is CancelKind.TWO_CONFIRMATIONS and not confirmed_twice:
        raise ConfirmationRequired()
    return kind


def add_working_days(start: date, days: int) -> date:
    """``start`` plus ``days`` working days (Mon–Fri; public holidays are not modelled)."""
    current = start
    left = days
    while left > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            left -= 1
    return current


def referral_deadline(issued_on: date) -> date:
    """The last day by which the specialist visit is due under the guarantee programme."""
    return add_working_days(issued_on, REFERRAL_WAIT_WORKING_DAYS)


def referral_wait_breached(issued_on: date, visit_day: date) -> bool:
    return visit_day > referral_deadline(issued_on)
