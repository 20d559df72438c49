"""The service's rules as one injected value, so flows never read settings.

bot/ builds it from the settings (bot/policy.py) and the Dispatcher hands it to
every handler as ``policy: Policy``; tests build one directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.booking_rules import BookingPolicy


@dataclass(frozen=True, slots=True)
class Policy:
    booking: BookingPolicy
    home_tz: str  # the zone of a user whose region is not known yet
    max_relatives: int = 5
    document_max_bytes: int = 10 * 1024 * 1024
    waitlist_offer_minutes: int = 15
    # Support tickets: the promised answer time by category, in working minutes.
    ticket_targets_minutes: dict[str, int] = field(default_factory=dict)
    # The webhook's public base URL: the calendar subscription link (issue 10); "" = no link.
    calendar_base_url: str = ""
