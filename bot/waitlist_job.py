"""The wait-list job: time out offers, expire entries, offer free slots (domain/waitlist.py).

Runs every 60 s in every process (one at a time, see run_waitlist) on the injected
clock (bot/scheduler.py), so the console's ``!clock`` drives it like production's
APScheduler does.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.app_state import App
from domain import waitlist
from storage.locks import exclusive_job

log = logging.getLogger("zapis.waitlist")


async def run_waitlist(app: App, now: datetime) -> waitlist.RunStats:
    """Every process schedules it; one at a time runs it (storage.locks: an advisory lock
    on PostgreSQL), so two processes never offer the same freed slot at once. Each step
    commits on its own (the job is its own entrypoint: domain/waitlist.py never commits),
    so a failure in matching keeps the time-outs and expiries."""
    async with exclusive_job(app.engine, "waitlist") as mine:
        if not mine:
            return waitlist.RunStats()
        limits = app.settings.limits
        stats = waitlist.RunStats()
        async with app.uow() as uow:
            stats.timed_out = await waitlist.time_out_offers(uow, now)
            await uow.commit()
            stats.expired = await waitlist.expire_ended(uow, now)
            await uow.commit()
            stats.offered = await waitlist.match(
                uow,
                now,
                limits.waitlist_offer_minutes,
                timedelta(minutes=limits.offer_lead_minutes),
            )
            await uow.commit()
    if stats.timed_out or stats.expired or stats.offered:
        log.info("waitlist: %s", stats)
    return stats
