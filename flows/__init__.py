"""Dialogue flows, one Router per module; the order here is the order of matching.

Each flow module has a module-level ``router`` with decorated handlers (the
handler idiom: typed injected parameters, guard filters from flows/guards.py,
refusals left to flows/refusals.py). Modules still on ``build_router()`` are
being converted (issue 8).
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
    from flows import appointments, booking, faq, menu, onboarding, profile, refusals, step_hints

    return [
        _fresh(refusals.router),  # errors only: domain refusals answered once
        onboarding.build_router(),
        profile.build_router(),
        booking.build_router(),
        appointments.build_router(),
        *_notification_routers(),
        *_support_routers(),
        step_hints.build_router(),  # text typed at a button step: that step's hint
        _fresh(faq.router),  # free text the FAQ can answer; anything else falls to the menu
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


def _support_routers() -> list[Router]:
    """«Поддержка» (issue 10): the FAQ by topic, tickets, staff «Обращения»."""
    from flows import (
        calendar_sync,
        journal_view,
        policy_check,
        reviews,
        staff_tickets,
        support,
        tickets,
    )

    return [
        _fresh(support.router),
        _fresh(tickets.router),
        _fresh(staff_tickets.router),
        _fresh(reviews.router),
        _fresh(journal_view.router),
        _fresh(policy_check.router),
        _fresh(calendar_sync.router),
    ]
