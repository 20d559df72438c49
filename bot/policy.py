"""The injected Policy (domain/policy.py) built from the settings, once per app."""

from __future__ import annotations

from bot.settings import Settings
from domain.booking_rules import BookingPolicy
from domain.models import StaffMember
from domain.policy import Policy
from domain.quiet_hours import QuietWindow


def booking_policy(settings: Settings) -> BookingPolicy:
    limits = settings.limits
    return BookingPolicy(
        hold_minutes=limits.hold_minutes,
        daily_cap=limits.daily_booking_cap,
        one_active_per_specialty=limits.one_active_per_specialty,
        reminder_offsets_minutes=tuple(settings.reminder_offsets_minutes),
        quiet=QuietWindow(
            settings.quiet_hours.start, settings.quiet_hours.end, settings.reminder_quiet_policy
        ),
        no_show_limit=limits.no_show_limit,
        no_show_restriction=limits.no_show_restriction,
        offer_lead_minutes=limits.offer_lead_minutes,
    )


def policy_from(settings: Settings) -> Policy:
    limits = settings.limits
    return Policy(
        booking=booking_policy(settings),
        home_tz=settings.default_tz,
        max_relatives=limits.max_relatives,
        document_max_bytes=limits.document_max_bytes,
        waitlist_offer_minutes=limits.waitlist_offer_minutes,
        ticket_targets_minutes=dict(settings.ticket_targets_minutes),
        calendar_base_url=settings.webhook.base_url.rstrip("/"),
    )


def staff_member(settings: Settings, telegram_id: int) -> StaffMember | None:
    member = settings.staff.get(telegram_id)
    if member is None:
        return None
    return StaffMember(clinics=tuple(member.clinics), role=member.role)
