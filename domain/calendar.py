"""A visit's calendar identity: the UID every .ics file of that visit carries.

A pure function of the visit's first number, so storage (filling rows that
have none) and flows (building a file) agree without flows importing storage.
"""

from __future__ import annotations

CALENDAR_UID_DOMAIN = "zapis.bot"


def calendar_uid(number: str) -> str:
    """The .ics UID of a visit first booked as ``number`` (what every file so far carried;
    migration 0002_calendar fills older rows with the same)."""
    return f"appointment-{number}@{CALENDAR_UID_DOMAIN}"
