"""Every upcoming visit of an account as calendar events: «Все записи в календарь» and the
private subscription URL (/calendar/<token>.ics) serve the same list.

Each event keeps the visit's calendar UID and SEQUENCE (domain/calendar.py), so
a calendar that imported one visit's file and then subscribes sees one event,
not two. The token is random (32 bytes, URL-safe); only its keyed hash is
stored, a new one replaces the old, and revoking deletes it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class CalendarVisit:
    appointment_id: int
    number: str
    uid: str
    sequence: int
    start: datetime  # aware UTC
    minutes: int
    tz: str
    specialty_ru: str
    specialty_en: str
    doctor: str
    clinic_id: int
    clinic_name: str
    address: str
    patient_name: str = ""  # a relative's «Имя Фамилия»; empty for the account's own visits

    def specialty(self, locale: str) -> str:
        return self.specialty_en if locale == "en" and self.specialty_en else self.specialty_ru


class CalendarFeedRepo(Protocol):
    async def upcoming(self, user_id: int, now: datetime) -> list[CalendarVisit]: ...
    async def replace(self, user_id: int, token: str, now: datetime) -> None: ...
    async def revoke(self, user_id: int) -> bool: ...
    async def active(self, user_id: int) -> bool: ...
    async def owner(self, token: str) -> int | None: ...


class CalendarFeedUnitOfWork(Protocol):
    @property
    def calendar_feeds(self) -> CalendarFeedRepo: ...


def new_token() -> str:
    return secrets.token_urlsafe(32)


def plausible_token(token: str) -> bool:
    """Cheap shape check before the database is asked (a 43-character URL-safe string)."""
    return 20 <= len(token) <= 64 and all(c.isalnum() or c in "-_" for c in token)
