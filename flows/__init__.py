"""Dialogue flows, one Router per module; the order here is the order of matching.

Each flow module has a module-level ``router`` with decorated handlers (the
handler idiom: typed injected parameters, guard filters from flows/guards.py,
refusals left to flows/refusals.py). A new section adds its routers here,
before the step hints and the catch-all menu.
"""

from __future__ import annotations

from typing import Any

from aiogram import Router
from aiogram.filters import Filter

from flows.ui.safe_callback import PrefixFirstFilter


class PrefixGate(Filter):
    """A router's own callback filter: the press's prefix is one of its handlers' prefixes.

    Every callback handler of a gated router requires one CallbackData class
    (PrefixFirstFilter), so a press of another prefix cannot match any of them;
    aiogram then skips the router's handlers in one check instead of one per
    handler (~27 per booking press before the wizard's own). The routers' order,
    and each handler's filters, are unchanged.
    """

    __slots__ = ("prefixes", "separator")

    def __init__(self, prefixes: frozenset[str], separator: str) -> None:
        self.prefixes = prefixes
        self.separator = separator

    async def __call__(self, event: Any) -> bool:
        data = getattr(event, "data", None)
        return isinstance(data, str) and data.partition(self.separator)[0] in self.prefixes


def gate(router: Router) -> Router:
    """Give ``router`` a PrefixGate when every callback handler of it has a prefix (once)."""
    observer = router.callback_query
    if not observer.handlers or any(
        isinstance(f.callback, PrefixGate) for f in observer._handler.filters or ()
    ):
        return router
    prefixes: set[str] = set()
    separators: set[str] = set()
    for handler in observer.handlers:
        found = [
            f.callback for f in handler.filters or () if isinstance(f.callback, PrefixFirstFilter)
        ]
        if not found:
            return router  # a handler that may take any press: no gate
        prefixes.add(found[0].prefix)
        separators.add(found[0].callback_data.__separator__)
    if len(separators) == 1:
        observer.filter(PrefixGate(frozenset(prefixes), separators.pop()))
    return router


def _fresh(router: Router) -> Router:
    """A module-level router, free to join this Dispatcher.

    aiogram lets a router have one parent; a process that builds several apps
    (the test suite, the benchmarks) hands the same module routers to each, so
    the previous app's claim is dropped here (that app is finished with).
    """
    router._parent_router = None  # aiogram has no public detach; sub-routers keep theirs
    return gate(router)


def get_routers() -> list[Router]:
    # Imported here so building the routers is explicit and nothing is created at import time.
    from flows import (
        appointments,
        appointments_move,
        booking,
        faq,
        menu,
        navigation,
        notify_settings,
        onboarding,
        profile,
        profile_edit,
        refusals,
        reminders,
        staff,
        staff_home,
        staff_move,
        step_hints,
        waitlist,
        waitlist_mine,
        waitlist_offer,
    )

    routers = [
        _fresh(refusals.router),  # errors only: domain refusals answered once
        _fresh(navigation.router),  # a menu button or command ends any step, then skips on
        _fresh(onboarding.router),
        _fresh(profile.router),
        _fresh(profile_edit.router),  # what is typed at a profile edit step
        _fresh(booking.router),  # the booking wizard's steps (also a reschedule's, a staff move's)
        _fresh(appointments.router),
        _fresh(appointments_move.router),  # the wizard's start from a visit, the move's confirm
        _fresh(reminders.router),
        _fresh(staff.router),
        _fresh(staff_home.router),  # /staff and its menu
        _fresh(staff_move.router),  # the wizard's start from /staff, the reason step
        _fresh(waitlist.router),
        _fresh(waitlist_mine.router),
        _fresh(waitlist_offer.router),
        _fresh(notify_settings.router),
        *_records_routers(),
        *_documents_routers(),
        *_support_routers(),
        _fresh(step_hints.router),  # text typed at a button step: that step's hint
        _fresh(faq.router),  # free text the FAQ can answer; anything else falls to the menu
        _fresh(menu.router),  # catch-all last
    ]
    navigation.watch(routers)  # another section's button ends a typed step
    return routers


def _records_routers() -> list[Router]:
    """Issue 9: «Мои близкие», «История посещений», «Направления», /staff visit results."""
    from flows import (
        family,
        family_add,
        family_consent,
        family_edit,
        history,
        referrals,
        staff_visits,
    )

    return [
        _fresh(family.router),
        _fresh(family_add.router),
        _fresh(family_consent.router),
        _fresh(family_edit.router),
        _fresh(history.router),
        _fresh(referrals.router),
        _fresh(staff_visits.router),
    ]


def _documents_routers() -> list[Router]:
    """«Документы и справки» (issue 9.5–9.6) and /staff «Справки»."""
    from flows import certificates, certificates_mine, documents, staff_certificates

    return [
        _fresh(documents.router),
        _fresh(certificates.router),
        _fresh(certificates_mine.router),
        _fresh(staff_certificates.router),
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
