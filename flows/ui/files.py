"""The files a visit comes with: the .ics calendar event and the PDF confirmation.

One calendar event per visit (see documents/ics.py): an active visit is
published under its UID at its SEQUENCE; a cancelled one is withdrawn with
METHOD:CANCEL at SEQUENCE + 1. Only an active visit has a confirmation to
show at the clinic: a cancelled, moved, missed or finished one gets no PDF
(it would be titled «Подтверждение» for a visit that will not happen).
Both the chat flows (``files_for``) and the notifier (``visit_ics``, for the
clinic's cancellations and moves) build the event here, so both say the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from documents import Organizer, appointment_ics, appointment_pdf
from domain.calendar import calendar_uid
from domain.models import AppointmentStatus
from flows.ui.format import Details, details_rows, preparation, specialty_name
from flows.ui.i18n import gettext as _


@dataclass(frozen=True, slots=True)
class VisitFile:
    name: str
    data: bytes
    caption: str


def visit_ics(
    *,
    number: str,
    uid: str,
    sequence: int,
    start: datetime,
    minutes: int,
    tz: str,
    specialty: str,
    doctor: str,
    clinic_id: int,
    clinic_name: str,
    address: str,
    description: str,
    stamp: datetime,
    cancelled: bool,
) -> VisitFile:
    """The visit's calendar event; ``cancelled`` withdraws it (one revision above ``sequence``)."""
    data = appointment_ics(
        uid=uid,
        sequence=sequence + 1 if cancelled else sequence,
        start=start,
        minutes=minutes,
        tz=tz,
        summary=_("Doctor's appointment: {specialty} — {doctor}").format(
            specialty=specialty, doctor=doctor
        ),
        location=f"{clinic_name}, {address}",
        description=description,
        stamp=stamp,
        organizer=Organizer.clinic(clinic_id, clinic_name),
        cancelled=cancelled,
    )
    if cancelled:
        return VisitFile(
            f"appointment-{number}-cancelled.ics",
            data,
            _(
                "Appointment № {number} is cancelled: open this file to remove it from your"
                " calendar"
            ).format(number=number),
        )
    return VisitFile(f"appointment-{number}.ics", data, _("Add the visit to your calendar"))


def files_for(
    d: Details, home_tz: str, stamp: datetime, *, only: str | None = None
) -> list[VisitFile]:
    """The .ics event and/or (``only``: "ics"|"pdf") the PDF confirmation of the visit.

    A cancelled visit: the cancellation .ics only. Moved, missed or finished: nothing.
    """
    a = d.appointment
    status = a.status if a is not None else AppointmentStatus.PENDING
    cancelled = status is AppointmentStatus.CANCELLED
    if not status.active and not cancelled:
        return []
    number = d.number or "draft"
    prep = preparation(d.specialty)
    files: list[VisitFile] = []
    if only in (None, "ics"):
        description = "\n".join(f"{label}: {value}" for label, value in details_rows(d, home_tz))
        files.append(
            visit_ics(
                number=number,
                uid=a.calendar_uid if a is not None and a.calendar_uid else calendar_uid(number),
                sequence=a.calendar_seq if a is not None else 0,
                start=d.start,
                minutes=d.minutes,
                tz=d.clinic.tz,
                specialty=specialty_name(d.specialty),
                doctor=d.doctor.full_name,
                clinic_id=d.clinic.id,
                clinic_name=d.clinic.name,
                address=d.clinic.address,
                description=description + (f"\n\n{prep}" if prep and not cancelled else ""),
                stamp=stamp,
                cancelled=cancelled,
            )
        )
    if only in (None, "pdf") and not cancelled:
        pdf = appointment_pdf(
            title=_("Appointment confirmation"),
            rows=details_rows(d, home_tz),
            created=stamp,
            notes_title=_("Preparation") if prep else "",
            notes=prep,
            footer=_("Show this confirmation at the clinic's reception. Booked via Zapis."),
        )
        files.append(
            VisitFile(f"appointment-{number}.pdf", pdf, _("Confirmation to show at the clinic"))
        )
    return files
