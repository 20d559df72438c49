"""What «Журнал действий» shows: the periods and kinds a patient filters by (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from domain.models import Patient

PERIODS = {"7": 7, "30": 30, "365": 365, "all": 0}  # days back; 0 = everything
KINDS = {
    "all": ("",),
    "visits": ("appointment.", "review.", "waitlist."),
    "account": ("account.", "profile."),
    "support": ("ticket.",),
    "notices": ("notification.",),
}


@dataclass(frozen=True, slots=True)
class Item:
    at: datetime
    action: str
    details: dict[str, object] = field(default_factory=dict)


def since(period: str, now: datetime) -> datetime | None:
    days = PERIODS.get(period, 30)
    return now - timedelta(days=days) if days else None


class JournalViewRepo(Protocol):
    async def items(
        self, user_id: int, since: datetime | None, prefixes: tuple[str, ...]
    ) -> list[Item]: ...


class JournalUsers(Protocol):
    async def self_patient(self, user_id: int) -> Patient | None: ...


class JournalViewUnitOfWork(Protocol):
    @property
    def journal_view(self) -> JournalViewRepo: ...
    @property
    def users(self) -> JournalUsers: ...
