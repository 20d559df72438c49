"""Dialogue flows, one Router per module; the order here is the order of matching."""

from __future__ import annotations

from aiogram import Router


def get_routers() -> list[Router]:
    # Imported here so building the routers is explicit and nothing is created at import time.
    from flows import appointments, booking, menu, onboarding, profile

    return [
        onboarding.build_router(),
        profile.build_router(),
        booking.build_router(),
        appointments.build_router(),
        menu.build_router(),  # catch-all last
    ]
