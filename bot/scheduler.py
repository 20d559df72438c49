"""Periodic jobs: the notifier and the wait list, on the injected clock.

Two interval jobs, no per-reminder jobs: the outbox table *is* the schedule,
so nothing is lost when the process restarts (APScheduler's in-memory job
store only holds these two). ``register_jobs`` puts them into ``app.jobs`` as
``ScheduledJob(name, every_seconds, run(now))``; production runs them with
APScheduler (``start_scheduler``), the console's ``!clock`` runs the same
functions with the virtual clock's "now".
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.app_state import App, Job, ScheduledJob
from bot.notifier import Notifier
from bot.ratelimit import RateLimiter
from bot.ticket_job import run_support
from bot.waitlist_job import run_waitlist
from domain.quiet_hours import QuietWindow

if TYPE_CHECKING:
    from aiogram import Bot

log = logging.getLogger("zapis.scheduler")

NOTIFIER_EVERY_SECONDS = 30
WAITLIST_EVERY_SECONDS = 60


def quiet_window(app: App) -> QuietWindow:
    q = app.settings.quiet_hours
    return QuietWindow(q.start, q.end, app.settings.reminder_quiet_policy)


def build_notifier(app: App, *, limiter: RateLimiter | None = None) -> Notifier:
    s = app.settings
    return Notifier(
        uow_factory=app.uow,
        i18n=app.i18n,
        bot=None,
        limiter=limiter or RateLimiter(),
        home_tz=s.default_tz,
        default_locale=s.default_locale,
        quiet=quiet_window(app),
        reminder_offsets=tuple(s.reminder_offsets_minutes),
        lease=timedelta(minutes=2),
        offer_lead=timedelta(minutes=s.limits.offer_lead_minutes),
    )


def register_jobs(app: App, pacing: RateLimiter | None = None) -> None:
    """Add the notifier and wait-list jobs to ``app.jobs`` (called by build_app)."""
    if any(job.name == "notifier" for job in app.jobs):
        return
    notifier = build_notifier(app, limiter=pacing)

    async def notify(now: datetime) -> None:
        notifier.bot = app.bot
        stats = await notifier.run(now)
        if stats.claimed:
            log.info("notifier: %s", stats)

    async def waitlist(now: datetime) -> None:
        await run_waitlist(app, now)

    # The wait list first: an offer it makes goes out in the same tick of the notifier.
    app.jobs.append(ScheduledJob("waitlist", WAITLIST_EVERY_SECONDS, waitlist))
    app.jobs.append(ScheduledJob("support", 60, partial(run_support, app)))  # bot/ticket_job.py
    app.jobs.append(ScheduledJob("notifier", NOTIFIER_EVERY_SECONDS, notify))


class RunningJobs:
    """APScheduler plus the job runs in flight, so stopping waits for nothing half-done.

    APScheduler's ``shutdown`` does not wait for coroutine jobs; a notifier
    batch still running when the engine is disposed would be left dangling.
    """

    def __init__(self, scheduler: AsyncIOScheduler) -> None:
        self.scheduler = scheduler
        self.in_flight: set[asyncio.Task[None]] = set()

    async def stop(self, grace_seconds: float = 30.0) -> None:
        """No new runs; let the runs in flight finish (a batch is short) before the engine goes.

        Cancelling a run mid-query is worse than waiting: an aiosqlite
        connection cancelled inside a statement is terminated by SQLAlchemy
        in a shielded task that can outlive the event loop.
        """
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if not self.in_flight:
            return
        _done, pending = await asyncio.wait(set(self.in_flight), timeout=grace_seconds)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)


def start_scheduler(app: App, bot: Bot) -> RunningJobs:
    """Production: APScheduler (in-memory job store) runs ``app.jobs`` on the system clock."""
    if app.bot is None:
        app.attach_bot(bot)
    register_jobs(app)
    sched = AsyncIOScheduler(timezone="UTC")
    running = RunningJobs(sched)
    for job in app.jobs:

        async def tick(run: Job = job.run) -> None:
            task = asyncio.current_task()
            assert task is not None
            running.in_flight.add(task)
            try:
                await run(app.clock.now())
            finally:
                running.in_flight.discard(task)

        sched.add_job(
            tick,
            "interval",
            seconds=job.every_seconds,
            id=job.name,
            coalesce=True,
            max_instances=1,
            next_run_time=app.clock.now(),  # rows due while we were down go out at start
        )
    sched.start()
    return running
