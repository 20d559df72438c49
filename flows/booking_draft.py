"""BookingDraft: the booking wizard's progress as one frozen value under one FSM key.

Before, the choices lived in ten loose ``bk_*`` keys (and ``mv_*`` for the
registrar's move), a negative doctor id meant a page, and «Назад» was a
hand-written jump per screen. Now a draft says which wizard it is (``mode``:
a booking, the patient's reschedule, the registrar's move), which step is on
screen, and what was chosen; ``back()`` is the previous step's draft, so every
«Назад» is the same one line. The draft is only what the dialogue remembers:
every id in it is checked again against the user (or the staff member's
clinics) whenever a step is loaded (flows/wizard.py).

Stored compactly (short keys, defaults left out) under ``DRAFT_KEY``; the FSM
storage is encrypted at rest already (storage/fsm.py).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any, Literal, get_args

from domain.models import Appointment

Mode = Literal["book", "move", "staff"]
StepName = Literal["patient", "specialty", "clinic", "doctor", "day", "slot", "reason", "summary"]

DRAFT_KEY = "bk"  # the one FSM data key of the wizard
MODES: tuple[Mode, ...] = get_args(Mode)
STEP_NAMES: tuple[StepName, ...] = get_args(StepName)

# Field → its short key in the stored form (order is irrelevant; defaults are left out).
_SHORT = {
    "mode": "m",
    "step": "s",
    "patient_id": "p",
    "multi": "mu",
    "specialty_id": "sp",
    "region": "r",
    "clinic_id": "c",
    "doctor_id": "d",
    "day": "dy",
    "slot_id": "t",
    "spec_page": "sg",
    "clinic_page": "cg",
    "doctor_page": "dg",
    "slot_page": "tg",
    "query": "q",
    "appointment_id": "a",
    "origin_doctor_id": "od",
    "reason": "rs",
}
_LONG = {short: name for name, short in _SHORT.items()}


@dataclass(frozen=True, slots=True)
class BookingDraft:
    """What the wizard has chosen so far; ``step`` is the screen being shown."""

    mode: Mode = "book"
    step: StepName = "patient"
    patient_id: int | None = None
    multi: bool = False  # the account has several patients: the patient step exists
    specialty_id: int | None = None
    region: str | None = None  # where clinics are searched (the patient's attachment)
    clinic_id: int | None = None
    doctor_id: int | None = None  # 0 = any doctor, the earliest times
    day: int | None = None  # YYYYMMDD, the clinic's local day
    slot_id: int | None = None  # the time on the summary (held for a patient)
    spec_page: int = 0
    clinic_page: int = 0
    doctor_page: int = 0
    slot_page: int = 0
    query: str | None = None  # words typed at the clinic step
    appointment_id: int | None = None  # move / staff: the visit being moved
    origin_doctor_id: int | None = None  # move: that visit's doctor (the first calendar)
    reason: str | None = None  # staff: the reason the patient will be told

    # ------------------------------------------------------------------ moving on

    def at(self, step: StepName, **changes: Any) -> BookingDraft:
        """This draft on another step, with the choices of that step."""
        return replace(self, step=step, **changes)

    def back(self) -> BookingDraft | None:
        """The previous step's draft (its own choice undone), or None at the wizard's start."""
        step = self.step
        if step == "summary":
            if self.mode == "staff":
                return self.at("reason", slot_id=None, reason=None)
            return self.at("slot", slot_id=None)
        if step == "reason":
            return self.at("slot", slot_id=None, reason=None)
        if step == "slot":
            return self.at("day", day=None, slot_page=0, slot_id=None)
        if step == "day":
            if self.mode == "book":
                return self.at("doctor", doctor_id=None, day=None)
            if self.mode == "move" and self.doctor_id != self.origin_doctor_id:
                return self.at("doctor", doctor_id=None, day=None)
            return None  # the move starts at the visit's own calendar
        if step == "doctor":
            if self.mode == "move":  # «another doctor» was a side step from the calendar
                return self.at("day", doctor_id=self.origin_doctor_id, doctor_page=0)
            if self.mode == "book":
                return self.at("clinic", clinic_id=None, doctor_id=None, doctor_page=0)
            return None
        if step == "clinic" and self.mode == "book":
            return self.at(
                "specialty",
                specialty_id=None,
                clinic_id=None,
                clinic_page=0,
                query=None,
                spec_page=0,
            )
        if step == "specialty" and self.mode == "book" and self.multi:
            return self.at("patient", patient_id=None, specialty_id=None, spec_page=0)
        return None

    def back_to(self, step: StepName) -> BookingDraft | None:
        """«Назад» to a named step: back() until that step (None: it is not behind us)."""
        draft: BookingDraft | None = self
        while draft is not None and draft.step != step:
            draft = draft.back()
        return draft

    # ------------------------------------------------------------------ storage

    def dump(self) -> dict[str, Any]:
        """The compact stored form: short keys, default values left out."""
        return {
            short: value
            for name, short, default in _STORED
            if (value := getattr(self, name)) != default
        }

    @classmethod
    def load(cls, stored: object) -> BookingDraft | None:
        """The draft back from its stored form; None when absent or not a draft of ours."""
        if not isinstance(stored, dict):
            return None
        try:
            values = {_LONG[key]: value for key, value in stored.items()}
            draft = cls(**values)
        except (KeyError, TypeError):
            return None
        if draft.mode not in MODES or draft.step not in STEP_NAMES:
            return None
        return draft


_DEFAULT = BookingDraft()
# (field, its short key, its default) in field order: what dump() walks on every step.
_STORED = tuple((f.name, _SHORT[f.name], getattr(_DEFAULT, f.name)) for f in fields(BookingDraft))


def start_move(visit: Appointment, *, staff: bool) -> BookingDraft:
    """A move (the patient's reschedule or the registrar's move) starts at the visit's calendar."""
    return BookingDraft(
        mode="staff" if staff else "move",
        step="day",
        patient_id=visit.patient_id,
        specialty_id=visit.specialty_id,
        clinic_id=visit.clinic_id,
        doctor_id=visit.doctor_id,
        appointment_id=visit.id,
        origin_doctor_id=visit.doctor_id,
    )
