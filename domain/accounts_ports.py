"""What the account services (domain/accounts.py) need from storage and hand back:
the ports storage implements, the profile they take, the verification they return.

Apart from the services so each module stays short; callers keep writing
``accounts.Profile`` etc. (re-exported there).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from domain.models import AccountLevel, JournalEntry, Patient, Sex, User
from domain.validators import Field

# --- Ports (storage implements them; the domain never imports storage) -------


class UsersPort(Protocol):
    async def get(self, user_id: int) -> User | None: ...
    async def ensure(self, user_id: int, now: datetime) -> User: ...
    async def set_locale(self, user_id: int, locale: str) -> None: ...
    async def set_consent(self, user_id: int, at: datetime | None) -> None: ...
    async def set_phone(self, user_id: int, phone: str) -> None: ...
    async def set_level(self, user_id: int, level: AccountLevel) -> None: ...
    async def self_patient(self, user_id: int) -> Patient | None: ...
    async def save_self_patient(
        self,
        user_id: int,
        *,
        surname: str,
        name: str,
        patronymic: str,
        birth_date: date | None,
        sex: Sex | None,
        snils: str | None,
        policy: str | None,
        email: str | None,
        now: datetime,
    ) -> Patient: ...
    async def set_confirmation(
        self, patient_id: int, *, confirmed: bool, clinic_id: int | None
    ) -> None: ...
    async def register_check(self, patient: Patient) -> RegisterCheck | None: ...
    async def register_misses(self, snils: str, since: datetime) -> int: ...
    async def add_register_miss(self, snils: str, now: datetime) -> None: ...
    async def patients_with_snils(self, snils: str) -> list[Patient]: ...
    async def erase(self, user_id: int, now: datetime) -> None: ...


class JournalPort(Protocol):
    async def add(self, entry: JournalEntry) -> None: ...
    async def anonymise_user(self, user_id: int, subject: str) -> None: ...


class AccountsUoW(Protocol):
    @property
    def users(self) -> UsersPort: ...
    @property
    def journal(self) -> JournalPort: ...


# --- Inputs and results ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RegisterCheck:
    """The attachment register's answer for a SNILS + policy: the clinic, and whether
    the person it lists has the patient's name, birth date and sex (never the values)."""

    clinic_id: int
    name_ok: bool
    birth_date_ok: bool
    sex_ok: bool

    @property
    def mismatched(self) -> tuple[str, ...]:
        pairs = ((Field.NAME, self.name_ok), (Field.BIRTH_DATE, self.birth_date_ok))
        return tuple(f for f, ok in (*pairs, (Field.SEX, self.sex_ok)) if not ok)


@dataclass(frozen=True, slots=True)
class Profile:
    """Validated profile values (canonical forms from domain.validators)."""

    surname: str
    name: str
    patronymic: str
    birth_date: date
    sex: Sex
    snils: str
    policy: str
    email: str | None


@dataclass(frozen=True, slots=True)
class Verification:
    level: AccountLevel
    clinic_id: int | None
    # The register lists this SNILS + policy but these fields differ (the person
    # is told which to check, never the register's values).
    to_check: tuple[str, ...] = ()
    # Too many mismatches for this SNILS lately: the register was not asked at all.
    locked: bool = False

    @property
    def confirmed(self) -> bool:
        return self.level == AccountLevel.CONFIRMED
