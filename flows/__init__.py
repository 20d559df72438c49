"""Dialogue flows, one Router per module; the order here is the order of matching."""

from __future__ import annotations

from aiogram import Router


def get_routers() -> list[Router]:
    # Imported here so building the routers is explicit and nothing is created at import time.
    from flows import appointments, booking, menu, onboarding, profile, step_hints

    return [
        onboarding.build_router(),
        profile.build_router(),
        booking.build_router(),
        appointments.build_router(),
        *_notification_routers(),
        step_hints.build_router(),  # text typed at a button step: that step's hint
        menu.build_router(),  # catch-all last
    ]


def _notification_routers() -> list[Router]:
    """Buttons of reminders, clinic changes and wait-list offers; /staff; notification settings."""
    from flows import notify_settings, reminders, staff, waitlist

    return [
        reminders.build_router(),
        staff.build_router(),
        waitlist.build_router(),
        notify_settings.build_router(),
    ]
