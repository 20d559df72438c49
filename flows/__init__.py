"""Dialogue flows, one Router per module; the order here is the order of matching.

Each flow module has a module-level ``router`` with decorated handlers (the
handler idiom: typed injected parameters, guard filters from flows/guards.py,
refusals left to flows/refusals.py). Modules still on ``build_router()`` are
being converted (issue 8): booking, appointments_move, staff_move.
"""

from __future__ import annotations

from aiogram import Router


def _fresh(router: Router) -> Router:
    """A module-level router, free to join this Dispatcher.

    aiogram lets a router have one parent; a process that builds several apps
    (the test suite, the benchmarks) hands the same module routers to each, so
    the previous app's claim is dropped here (that app is finished with).
    """
    router._parent_router = None
    for sub in router.sub_routers:
        _fresh(sub)
    return router


def get_routers() -> list[Router]:
    # Imported here so building the routers is explicit and nothing is created at import time.
    from flows import (
        appointments,
        booking,
        menu,
        notify_settings,
        onboarding,
        profile,
        refusals,
        reminders,
        staff,
        step_hints,
        waitlist,
    )

    return [
        _fresh(refusals.router),  # errors only: domain refusals answered once
        _fresh(onboarding.router),
        _fresh(profile.router),
        booking.build_router(),
        _fresh(appointments.router),
        *_move_routers(),
        _fresh(reminders.router),
        _fresh(staff.router),
        *_staff_move_routers(),
        _fresh(waitlist.router),
        _fresh(notify_settings.router),
        # New sections (family, history, documents, support) join here, before the hints.
        _fresh(step_hints.router),  # text typed at a button step: that step's hint
        _fresh(menu.router),  # catch-all last
    ]


def _move_routers() -> list[Router]:
    """«Перенести» of «Мои записи» (flows/appointments_move.py), right after its list."""
    from flows import appointments_move

    router = Router(name="appointments_move")
    appointments_move.register(router)
    return [router]


def _staff_move_routers() -> list[Router]:
    """/staff «Перенести приём» (flows/staff_move.py), right after /staff."""
    from flows import staff_move

    return [staff_move.build_router()]
