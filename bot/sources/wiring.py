"""Wiring of the schedule sources into the app (called by bot/app.py and the console).

``ZAPIS_SOURCES='{"spb": "gorzdrav"}'`` makes region ``spb`` Gorzdrav's: its
directory is mirrored into our tables at start and every
``ZAPIS_GORZDRAV__MIRROR_MINUTES``, the booking services take and cancel its
slots there first (``uow.schedule_remote``), and a reconcile job turns visits
cancelled at the clinic into clinic-initiated changes. With
``ZAPIS_GORZDRAV__FAKE=true`` the recorded fake (bot/sources/gorzdrav/fake.py)
is started on loopback and used instead of ``ZAPIS_GORZDRAV__BASE_URL``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.app_state import App, ScheduledJob
from bot.settings import Settings
from bot.sources.gorzdrav.booking import GorzdravBooking
from bot.sources.gorzdrav.client import ClientLimits, GorzdravClient
from bot.sources.gorzdrav.fake import FakeGorzdrav
from bot.sources.gorzdrav.mirror import MirrorReport, MirrorScope, mirror
from bot.sources.gorzdrav.reconcile import reconcile
from bot.sources.gorzdrav.source import GorzdravSource
from storage.sources.repo import SourceRepository
from storage.uow import UnitOfWorkFactory

log = logging.getLogger("zapis.gorzdrav")

RECORDED_FIRST_DAY = date(2025, 2, 17)  # the first day of the recorded schedule


@dataclass
class GorzdravRuntime:
    client: GorzdravClient
    source: GorzdravSource
    booking: GorzdravBooking
    scope: MirrorScope
    plain_uow: UnitOfWorkFactory  # no remote attached: for the mirror and reconcile
    fake: FakeGorzdrav | None = None
    started: bool = False

    async def close(self) -> None:
        await self.client.close()
        if self.fake is not None:
            await self.fake.stop()


def gorzdrav_region(settings: Settings) -> str | None:
    return next((r for r, s in sorted(settings.sources.items()) if s == "gorzdrav"), None)


def runtime_of(app: App) -> GorzdravRuntime | None:
    found = app.dispatcher.workflow_data.get("gorzdrav")
    return found if isinstance(found, GorzdravRuntime) else None


def attach_sources(app: App) -> None:
    """Build the Gorzdrav runtime when a region uses it; no network until ``start_sources``."""
    region = gorzdrav_region(app.settings)
    if region is None:
        return
    g = app.settings.gorzdrav
    limits = ClientLimits(
        timeout_seconds=g.timeout_seconds,
        retries=g.retries,
        requests_per_second=1000.0 if g.fake else g.requests_per_second,
    )
    # The fake's address is known only once it listens (start_sources); until then nothing
    # may leave the machine.
    client = GorzdravClient("http://127.0.0.1:9/not-started" if g.fake else g.base_url, limits)
    source = GorzdravSource(client)
    runtime = GorzdravRuntime(
        client=client,
        source=source,
        booking=GorzdravBooking(source, app.clock),
        scope=MirrorScope(region_id=region, districts=tuple(g.districts), clinics=tuple(g.clinics)),
        plain_uow=UnitOfWorkFactory(app.engine, app.cipher),
        fake=FakeGorzdrav() if g.fake else None,
    )
    app.uow.schedule_remote = runtime.booking
    app.dispatcher["gorzdrav"] = runtime
    app.closers.append(runtime.close)  # App.close: the client and the fake, if any

    async def mirror_job(now: datetime) -> None:
        if runtime.started:
            log.info("%s", (await mirror(runtime.plain_uow, source, runtime.scope, now)).line())

    async def reconcile_job(now: datetime) -> None:
        if runtime.started:
            changed = await reconcile(runtime.plain_uow, source, now)
            if changed:
                log.info("gorzdrav reconcile: %d visits cancelled at the clinic", changed)

    app.jobs.append(ScheduledJob("gorzdrav-mirror", g.mirror_minutes * 60, mirror_job))
    app.jobs.append(ScheduledJob("gorzdrav-reconcile", g.reconcile_minutes * 60, reconcile_job))


async def start_sources(app: App, now: datetime) -> MirrorReport | None:
    """Start the fake (if configured) and mirror once; None when no region is remote."""
    runtime = runtime_of(app)
    if runtime is None:
        return None
    if runtime.fake is not None and runtime.fake.runner is None:
        tomorrow = now.astimezone(ZoneInfo(runtime.scope.tz)).date() + timedelta(days=1)
        runtime.fake.shift_days = (tomorrow - RECORDED_FIRST_DAY).days
        runtime.client.base_url = await runtime.fake.start()
    report = await mirror(runtime.plain_uow, runtime.source, runtime.scope, now)
    runtime.started = True
    if runtime.fake is not None:
        await attach_demo_patients(runtime)
    return report


async def attach_demo_patients(runtime: GorzdravRuntime) -> int:
    """The demo patients' attachment, asked of the registry by policy (console only)."""
    from storage.demo_data import DEMO_PATIENTS

    done = 0
    for person in DEMO_PATIENTS:
        if not person["policy"]:
            continue
        lpus = await runtime.source.attached_clinics(person["policy"])
        async with runtime.plain_uow() as uow:
            repo = SourceRepository(uow.conn, uow.cipher)
            clinic_id = await repo.clinic_by_external("gorzdrav", lpus[0]) if lpus else None
            if clinic_id is None:
                continue
            snils = "".join(ch for ch in person["snils"] if ch.isdigit())
            await repo.attach(snils, person["policy"], clinic_id)
            await uow.commit()
            done += 1
    return done
