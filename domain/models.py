"""Plain data the domain works with; repositories map rows to these.

All datetimes are aware UTC; local dates/times are derived with the clinic's
zone at the edge (flows), never stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import TypeGuard


class AccountLevel(StrEnum):
    NONE = "none"  # onboarding not finished
    STANDARD = "standard"  # phone + profile
    CONFIRMED = "confirmed"  # SNILS + policy match the attachment register


class Sex(StrEnum):
    MALE = "M"
    FEMALE = "F"


class AppointmentStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    RESCHEDULED = "rescheduled"
    COMPLETED = "completed"
    NO_SHOW = "no_show"

    @property
    def active(self) -> bool:
        return self in (AppointmentStatus.PENDING, AppointmentStatus.CONFIRMED)


class SlotStatus(StrEnum):
    """A slot's own state (storage/schema.py slots.status). A hold is not a status: it
    is a row of its own (holds) that expires; 'blocked' is time the clinic closed."""

    FREE = "free"
    BOOKED = "booked"
    BLOCKED = "blocked"


@dataclass(frozen=True, slots=True)
class User:
    id: int
    locale: str | None
    level: AccountLevel
    phone: str | None
    consent_at: datetime | None
    status: str = "active"
    unreachable: bool = False
    notify_optout: frozenset[str] = frozenset()
    no_show_count: int = 0


def is_registered(user: User | None) -> TypeGuard[User]:
    """The one definition: an active account that finished onboarding.

    Every section but /start and the onboarding steps asks this (through the
    ``Registered()`` filter of flows/guards.py); a deleted account or one still
    typing its profile is not registered.
    """
    return user is not None and user.status == "active" and user.level != AccountLevel.NONE


@dataclass(frozen=True, slots=True)
class StaffMember:
    """A clinic's registrar, doctor or administrator: which clinics their rights cover."""

    clinics: tuple[int, ...]
    role: str = "registrar"  # registrar | doctor | admin

    def covers(self, clinic_id: int) -> bool:
        return clinic_id in self.clinics


@dataclass(frozen=True, slots=True)
class Patient:
    id: int
    owner_user_id: int
    relation: str  # self|child|spouse|parent|other
    surname: str
    name: str
    patronymic: str
    birth_date: date | None
    sex: Sex | None
    snils: str | None
    policy: str | None
    email: str | None
    attached_clinic_id: int | None
    confirmed: bool

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.surname, self.name, self.patronymic) if p)


@dataclass(frozen=True, slots=True)
class Region:
    id: str
    name_ru: str
    name_en: str
    tz: str


@dataclass(frozen=True, slots=True)
class Clinic:
    id: int
    region_id: str
    name: str
    address: str
    district: str
    kind: str
    phone: str
    hours: str
    tz: str
    rating: float


@dataclass(frozen=True, slots=True)
class Specialty:
    id: int
    code: str
    name_ru: str
    name_en: str
    referral_required: bool
    min_age: int | None
    max_age: int | None
    sex: Sex | None
    prep_ru: str
    prep_en: str

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_ru


@dataclass(frozen=True, slots=True)
class Doctor:
    id: int
    surname: str
    name: str
    patronymic: str
    qualification: str
    experience_years: int
    rating_sum: int = 0
    rating_count: int = 0

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.surname, self.name, self.patronymic) if p)

    @property
    def rating(self) -> float | None:
        return round(self.rating_sum / self.rating_count, 1) if self.rating_count else None


@dataclass(frozen=True, slots=True)
class Slot:
    id: int
    role_id: int
    doctor_id: int
    clinic_id: int
    specialty_id: int
    region_id: str
    start: datetime  # aware UTC
    minutes: int
    kind: str  # consultation|examination|procedure
    status: SlotStatus  # a str too: StrEnum


@dataclass(frozen=True, slots=True)
class Appointment:
    id: int
    number: str
    patient_id: int
    user_id: int
    slot_id: int
    doctor_id: int
    clinic_id: int
    specialty_id: int
    start: datetime  # aware UTC
    minutes: int
    kind: str
    status: AppointmentStatus
    created_at: datetime
    referral_id: int | None = None
    cancelled_by: str | None = None
    cancel_reason: str | None = None
    rescheduled_to: int | None = None
    # The .ics event of this visit: one UID for its whole life (a move copies it to
    # the new row) and the revision last published (a move adds 1).
    calendar_uid: str = ""
    calendar_seq: int = 0


@dataclass(frozen=True, slots=True)
class Referral:
    id: int
    number: str
    patient_id: int
    specialty_id: int
    clinic_id: int | None
    issued_at: datetime
    valid_until: date
    used_appointment_id: int | None


@dataclass(slots=True)
class JournalEntry:
    user_id: int | None
    at: datetime
    action: str
    appointment_id: int | None = None
    doctor_id: int | None = None
    details: dict[str, object] = field(default_factory=dict)
