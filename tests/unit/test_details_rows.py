"""A visit's details (flows/ui/format.py ``details_rows``): the labels are remembered per
locale, so each language must still get its own words, whichever came first, and the
status its own label."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from aiogram.utils.i18n import I18n

from domain.models import Appointment, AppointmentStatus, Clinic, Doctor, Patient, Specialty
from flows.ui.format import Details, details_rows, status_label

LOCALES = Path(__file__).resolve().parents[2] / "locales"


def _details(status: AppointmentStatus) -> Details:
    clinic = Clinic(1, "msk", "ГП 1", "ул. 1", "ЦАО", "adult", "+7 495", "", "Europe/Moscow", 4.5)
    doctor = Doctor(3, "Иванов", "Иван", "Иванович", "терапевт", 10)
    spec = Specialty(1, "therapist", "Терапевт", "Therapist", False, None, None, None, "", "")
    patient = Patient(5, 7, "self", "Петров", "Пётр", "", None, None, None, None, None, None, True)
    start = datetime(2026, 12, 2, 6, 30, tzinfo=UTC)
    visit = Appointment(
        id=9, number="A-0000009", patient_id=5, user_id=7, slot_id=11, doctor_id=3,
        clinic_id=1, specialty_id=1, start=start, minutes=20, kind="consultation",
        status=status, created_at=start,
    )  # fmt: skip
    return Details(patient, doctor, clinic, spec, start, 20, "consultation", visit.number, visit)


def test_each_locale_gets_its_own_labels_and_status() -> None:
    i18n = I18n(path=LOCALES, default_locale="ru", domain="messages")
    with i18n.context():
        for loc in ("en", "ru", "en", "ru"):
            with i18n.use_locale(loc):
                for status in AppointmentStatus:
                    if status is AppointmentStatus.CANCELLED:
                        continue
                    rows = dict(details_rows(_details(status), "Europe/Moscow"))
                    words = ("Patient", "Doctor", "Duration", "Status")
                    if loc == "en":
                        assert all(w in rows for w in words), rows
                        assert rows["Duration"] == "20 min" and rows["Type"] == "consultation"
                        assert rows["Doctor"].endswith("(Therapist)")
                    else:
                        assert not any(w in rows for w in words), rows
                        assert rows["Пациент"] == "Петров Пётр" and "(Терапевт)" in rows["Врач"]
                        assert rows["Вид приёма"] == "консультация", rows
                    assert rows["Status" if loc == "en" else "Статус"] == status_label(
                        _details(status).appointment  # type: ignore[arg-type]
                    )
                labels = {
                    status_label(_details(s).appointment)
                    for s in AppointmentStatus
                    if s is not AppointmentStatus.CANCELLED
                }  # type: ignore[arg-type]
                assert len(labels) == 5


def test_remembered_doctor_cards_and_buttons_follow_everything_they_show() -> None:
    """flows/ui/format.py remembers a doctor's card and button: each is the text built
    afresh for the same doctor (rating included), nearest time, zones and locale."""
    from datetime import timedelta

    from domain.models import Slot, SlotStatus
    from flows.ui.format import _doctor_button, _doctor_card, doctor_button, doctor_card

    i18n = I18n(path=LOCALES, default_locale="ru", domain="messages")
    base = Doctor(3, "Иванов", "Иван", "Иванович", "терапевт", 10)
    rated = Doctor(3, "Иванов", "Иван", "Иванович", "терапевт", 10, rating_sum=9, rating_count=2)
    start = datetime(2026, 12, 2, 6, 30, tzinfo=UTC)
    slot = Slot(1, 1, 3, 1, 1, "msk", start, 20, "consultation", SlotStatus.FREE)
    later = Slot(
        2, 1, 3, 1, 1, "msk", start + timedelta(days=1), 20, "consultation", SlotStatus.FREE
    )
    seen: set[str] = set()
    with i18n.context():
        for loc in ("ru", "en", "ru", "en"):
            with i18n.use_locale(loc):
                for doctor in (base, rated):
                    for nearest in (None, slot, later):
                        for tz in ("Europe/Moscow", "Asia/Novosibirsk"):
                            at = None if nearest is None else nearest.start
                            card = doctor_card(doctor, nearest, tz, "Europe/Moscow")
                            assert card == _doctor_card.__wrapped__(
                                doctor, at, tz, "Europe/Moscow", loc
                            )
                            label = doctor_button(doctor, nearest, tz)
                            fresh = _doctor_button.__wrapped__(
                                doctor.surname, doctor.name, doctor.patronymic, at, tz, loc
                            )
                            assert label == fresh
                            seen.add(card)
    # every combination reads differently: none was served another's text
    assert len(seen) == 2 * 2 * 3 * 2 - 2 * 2  # (no nearest time: the zone is not named)
