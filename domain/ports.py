"""Protocols the domain depends on; storage and bot provide the implementations."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class Clock(Protocol):
    """The only source of "now" for the domain (aware UTC datetimes)."""

    def now(self) -> datetime: ...


class Random(Protocol):
    def randint(self, a: int, b: int) -> int: ...
