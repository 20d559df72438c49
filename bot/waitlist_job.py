"""The wait-list job: expire offers and entries, offer freed slots (see domain/waitlist.py)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.app import App


async def run_waitlist(app: App, now: datetime) -> None:
    return None
