"""Pure booking rules, with plain values."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from domain import rules
from domain.errors import (
    AgeSexRestricted,
    AlreadyBooked,
    CancelWindowClosed,
    ConfirmationRequired,
    DailyCapReached,
    ReferralRequired,
    SlotUnavailable,
)
from domain.models import Patient, Referral, Sex, Specialty

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def patient(birth: date | None = date(1980, 5, 17), sex: Sex | None = Sex.MALE) -> Patient:
    return Patient(
        id=7,
        owner_user_id=1,
        relation="self",
        surname="Иванов",
        name="Иван",
        patronymic="",
        birth_date=birth,
        sex=sex,
        snils=None,
        policy=None,
        email=None,
        attached_clinic_id=None,
        confirmed=False,
    )


def specialty(**kw: object) -> Specialty:
    base: dict[str, object] = {
        "id": 2,
        "code": "cardiologist",
        "name_ru": "Кардиолог",
        "name_en": "Cardiologist",
        "referral_required": False,
        "min_age": None,
        "max_age": None,
        "sex": None,
        "prep_ru": "",
        "prep_en": "",
    }
    base.update(kw)
    return Specialty(**base)  # type: ignore[arg-type]


def referral(**kw: object) -> Referral:
    base: dict[str, object] = {
        "id": 1,
        "number": "R-1",
        "patient_id": 7,
        "specialty_id": 2,
        "clinic_id": None,
        "issued_at": NOW,
        "valid_until": date(2026, 12, 10),
        "used_appointment_id": None,
    }
    base.update(kw)
    return Referral(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("birth", "day", "age"),
    [
        (date(2000, 6, 15), date(2026, 6, 14), 25),
        (date(2000, 6, 15), date(2026, 6, 15), 26),
        (date(2008, 2, 29), date(2026, 2, 28), 17),
        (date(2008, 2, 29), date(2026, 3, 1), 18),
    ],
)
def test_age_on(birth: date, day: date, age: int) -> None:
    assert rules.age_on(birth, day) == age


def test_paediatrician_only_for_children() -> None:
    paed = specialty(min_age=0, max_age=17)
    rules.check_age_sex(patient(date(2009, 12, 2)), paed, date(2026, 12, 1))  # 16
    rules.check_age_sex(patient(date(2008, 12, 2)), paed, date(2026, 12, 1))  # 17, inclusive
    with pytest.raises(AgeSexRestricted) as err:
        rules.check_age_sex(patient(date(2008, 12, 1)), paed, date(2026, 12, 1))  # 18 today
    assert err.value.reason == "too_old"
    with pytest.raises(AgeSexRestricted) as err:
        rules.check_age_sex(patient(date(2020, 1, 1)), specialty(min_age=18), date(2026, 12, 1))
    assert err.value.reason == "too_young"


def test_sex_limit_and_unknown_values() -> None:
    gyn = specialty(sex=Sex.FEMALE)
    rules.check_age_sex(patient(sex=Sex.FEMALE), gyn, date(2026, 12, 1))
    with pytest.raises(AgeSexRestricted) as err:
        rules.check_age_sex(patient(sex=Sex.MALE), gyn, date(2026, 12, 1))
    assert err.value.reason == "sex"
    rules.check_age_sex(patient(None, None), specialty(min_age=18, sex=Sex.FEMALE), date.today())


def test_referral_needed_only_for_referral_specialties() -> None:
    day = date(2026, 12, 5)
    assert rules.check_referral(specialty(), 7, None, day) is None
    cardio = specialty(referral_required=True)
    with pytest.raises(ReferralRequired):
        rules.check_referral(cardio, 7, None, day)
    good = referral()
    assert rules.check_referral(cardio, 7, good, day) is good
    assert rules.check_referral(cardio, 7, referral(valid_until=day), day) is not None
    for bad in (
        referral(valid_until=date(2026, 12, 4)),  # expired before the visit
        referral(used_appointment_id=3),  # already spent
        referral(patient_id=8),  # someone else's
        referral(specialty_id=3),  # another specialty
    ):
        with pytest.raises(ReferralRequired):
            rules.check_referral(cardio, 7, bad, day)


def test_slot_bookable() -> None:
    rules.check_slot_bookable(NOW + timedelta(minutes=1), "free", NOW)
    rules.check_slot_bookable(NOW + timedelta(minutes=1), "booked", NOW)  # a race, not a rule
    for start, status in ((NOW, "free"), (NOW - timedelta(hours=1), "free")):
        with pytest.raises(SlotUnavailable):
            rules.check_slot_bookable(start, status, NOW)
    with pytest.raises(SlotUnavailable):
        rules.check_slot_bookable(NOW + timedelta(days=1), "blocked", NOW)


def test_one_active_and_daily_cap() -> None:
    rules.check_one_active(0, True)
    rules.check_one_active(3, False)
    with pytest.raises(AlreadyBooked):
        rules.check_one_active(1, True)
    rules.check_daily_cap(5, 6)
    with pytest.raises(DailyCapReached):
        rules.check_daily_cap(6, 6)


def test_cancel_window() -> None:
    assert rules.cancel_kind(NOW + timedelta(hours=24), NOW) is rules.CancelKind.ONE_CONFIRMATION
    assert (
        rules.cancel_kind(NOW + timedelta(hours=23, minutes=59), NOW)
        is rules.CancelKind.TWO_CONFIRMATIONS
    )
    with pytest.raises(CancelWindowClosed):
        rules.cancel_kind(NOW, NOW)  # started
    with pytest.raises(CancelWindowClosed):
        rules.check_cancel(NOW - timedelta(days=1), NOW, confirmed_twice=True)
    with pytest.raises(ConfirmationRequired):
        rules.check_cancel(NOW + timedelta(hours=2), NOW, confirmed_twice=False)
    assert rules.check_cancel(NOW + timedelta(hours=2), NOW, confirmed_twice=True)
    assert rules.check_cancel(NOW + timedelta(days=3), NOW, confirmed_twice=False)


def test_referral_waiting_time() -> None:
    monday = date(2026, 11, 30)
    assert rules.add_working_days(monday, 5) == date(2026, 12, 7)
    assert rules.add_working_days(date(2026, 12, 4), 1) == date(2026, 12, 7)  # Fri → Mon
    deadline = rules.referral_deadline(monday)
    assert deadline == date(2026, 12, 18)
    assert not rules.referral_wait_breached(monday, deadline)
    assert rules.referral_wait_breached(monday, deadline + timedelta(days=1))
