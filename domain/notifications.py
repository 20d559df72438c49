"""What to notify and when: pure planning of outbox rows (the notifier sends them).

A payload carries ids only, never rendered text: the notifier renders at
send time in the recipient's current language and the clinic's zone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from domain.models import Appointment


class Kind:
    BOOKED = "booked"
    REMINDER = "reminder"  # payload: appointment_id, offset_minutes
    CANCELLED_BY_CLINIC = "clinic_cancelled"
    MOVED_BY_CLINIC = "clinic_moved"
    WAITLIST_OFFER = "waitlist_offer"


@dataclass(frozen=True, slots=True)
class OutboxItem:
    kind: str
    user_id: int
    due_at: datetime  # aware UTC
    idem_key: str
    payload: dict[str, object] = field(default_factory=dict)
    urgent: bool = False


def reminder_items(
    appointment: Appointment, offsets_minutes: list[int], now: datetime
) -> list[OutboxItem]:
    """One reminder per offset that is still in the future; the key makes each unique."""
    items = []
    for offset in offsets_minutes:
        due = appointment.start - timedelta(minutes=offset)
        if due <= now:
            continue
        items.append(
            OutboxItem(
                kind=Kind.REMINDER,
                user_id=appointment.user_id,
                due_at=due,
                idem_key=f"appt:{appointment.id}:reminder:{offset}",
                payload={"appointment_id": appointment.id, "offset_minutes": offset},
            )
        )
    return items
