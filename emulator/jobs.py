"""Driving the app's periodic jobs on the virtual clock when the console moves it.

Each job runs at its own interval, in time order across jobs, with the clock
set to the moment it falls due, so a reminder due at 10:00 goes out with
"now" = 10:00 and prints in the order it would have in real life. A long jump
(``!clock +3d`` with a 30-second job) is capped at MAX_RUNS runs per job: the
step grows to span/MAX_RUNS, so work stays bounded and each job still runs
at least every few minutes of virtual time.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.clock import VirtualClock
from emulator.script import parse_delta

MAX_RUNS = 500
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2})?)?")


class JobRunner:
    def __init__(self, jobs: Sequence[Any], clock: VirtualClock) -> None:
        self.jobs = jobs
        self.clock = clock
        self.last_run: dict[str, datetime] = {}

    def target(self, arg: str, default_tz: str) -> datetime:
        delta = parse_delta(arg)
        if delta is not None:
            return self.clock.now() + delta
        if not _ISO.match(arg.strip()):
            raise ValueError(f"!clock wants +90m, +25h, +3d or a date-time, not {arg!r}")
        moment = datetime.fromisoformat(arg.strip())
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=ZoneInfo(default_tz))
        if moment < self.clock.now():
            raise ValueError(f"the clock only moves forward (it is {self.clock.now().isoformat()})")
        return moment

    def _due(self, start: datetime, target: datetime) -> list[tuple[datetime, int]]:
        span = (target - start).total_seconds()
        due: list[tuple[datetime, int]] = []
        for index, job in enumerate(self.jobs):
            step = timedelta(seconds=max(float(job.every_seconds), span / MAX_RUNS, 1.0))
            moment = self.last_run.get(job.name, start) + step
            while moment <= target:
                due.append((moment, index))
                moment += step
        due.sort(key=lambda item: (item[0], item[1]))
        return due

    async def run_now(self, name: str = "") -> str | None:
        """Run every job (or the one named) once at the clock's moment; why one failed, or None."""
        jobs = [job for job in self.jobs if not name or job.name == name]
        if not jobs:
            known = ", ".join(job.name for job in self.jobs)
            raise ValueError(f"!jobs: no job {name!r} (there are: {known})")
        now = self.clock.now()
        for job in jobs:
            self.last_run[job.name] = now
            try:
                await job.run(now)
            except Exception as exc:
                return f"job {job.name} failed: {type(exc).__name__}: {exc}"
        return None

    async def advance(self, target: datetime) -> AsyncIterator[str | None]:
        """Move the clock to ``target``, running jobs as they fall due; yields after each run
        (None, or why the job failed)."""
        start = self.clock.now()
        for moment, index in self._due(start, target):
            job = self.jobs[index]
            self.clock.set(moment)
            self.last_run[job.name] = moment
            error = None
            try:
                await job.run(moment)
            except Exception as exc:
                error = f"job {job.name} failed: {type(exc).__name__}: {exc}"
            yield error
        self.clock.set(target)
