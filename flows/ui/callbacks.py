"""CallbackData of the booking dialogue and «Мои записи»: short prefixes, ids only.

Every class packs to well under Telegram's 64 bytes (``tests/flows`` check
the longest realistic values). Names never travel in callbacks; handlers look
objects up by id and check the user owns them (patients, appointments).
Days travel as ``YYYYMMDD`` integers (8 digits) to stay short and sortable.
"""

from __future__ import annotations

from datetime import date

from flows.ui.safe_callback import SafeCallback


def day_code(day: date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


def day_from_code(code: int) -> date:
    return date(code // 10000, code // 100 % 100, code % 100)


class Noop(SafeCallback, prefix="nop"):
    """A button that does nothing but explain (a day without free time, a page counter)."""

    why: str  # "day" | "page"


# --- the booking wizard (a booking, the patient's reschedule, the registrar's move share
# these: the draft in the FSM says which wizard it is; flows/booking_draft.py)
class BkPatient(SafeCallback, prefix="bp"):
    patient_id: int


class BkSpecPage(SafeCallback, prefix="bsp"):
    page: int


class BkSpec(SafeCallback, prefix="bs"):
    specialty_id: int


class BkClinicPage(SafeCallback, prefix="bcp"):
    page: int


class BkClinic(SafeCallback, prefix="bc"):
    clinic_id: int


class BkDoctor(SafeCallback, prefix="bd"):
    doctor_id: int  # 0 = any doctor, earliest time


class BkDoctorPage(SafeCallback, prefix="bdp"):
    page: int  # page of the doctors list


class BkDay(SafeCallback, prefix="by"):
    doctor_id: int
    day: int  # YYYYMMDD (clinic-local)
    page: int = 0  # page of the day's times


class BkSlot(SafeCallback, prefix="bt"):
    patient_id: int
    slot_id: int


class BkConfirm(SafeCallback, prefix="bk"):
    patient_id: int
    slot_id: int


class BkBack(SafeCallback, prefix="bb"):
    to: str  # a step of the wizard: patient|specialty|clinic|doctor|day|slot


class BkJump(SafeCallback, prefix="bj"):
    """A shortcut to another step: the therapist after a referral refusal, all clinics again,
    the wait list, another doctor of the specialty (a reschedule)."""

    to: str  # therapist|clinics|waitlist|doctors


class MvList(SafeCallback, prefix="sml"):
    """/staff «Перенести приём»: the upcoming visits of the staff member's clinics."""


class MvPick(SafeCallback, prefix="smp"):
    """The registrar's move starts at this visit's calendar."""

    appointment_id: int


# --- «Мои записи»
class ApList(SafeCallback, prefix="al"):
    past: int  # 0 upcoming, 1 past
    page: int


class ApOpen(SafeCallback, prefix="ao"):
    appointment_id: int


class ApCancel(SafeCallback, prefix="ac"):
    appointment_id: int
    step: int  # 0 ask, 1 first confirmation given (late cancels ask again), 2 final


class ApFile(SafeCallback, prefix="af"):
    appointment_id: int
    kind: str  # ics|pdf


# --- «Перенести» (reschedule): a = appointment id
class ApMove(SafeCallback, prefix="am"):
    """Start a reschedule at the visit's own calendar (the wizard in "move" mode).

    The field keeps its short name: «Мои записи» (flows/appointments.py) and the
    notifications (bot/notify_render.py) build this button too."""

    a: int
