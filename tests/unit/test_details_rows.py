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
