"""What to notify and when: pure planning of outbox rows (the notifier sends them).

A payload carries ids only, never rendered text: the notifier renders at
send time in the recipient's current language and the clinic's zone.
Also here: whether a due row still makes sense (a reminder for a visit that
already began is dropped), the retry backoff and the per-kind opt-outs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from domain.models import Appointment, AppointmentStatus
from domain.quiet_hours import SKIP, QuietWindow, before_quiet, in_quiet


class Kind:
    BOOKED = "booked"  # payload: appointment_id
    REMINDER = "reminder"  # payload: appointment_id, offset_minutes
    CANCELLED_BY_CLINIC = "clinic_cancelled"  # payload: appointment_id (urgent)
    MOVED_BY_CLINIC = "clinic_moved"  # payload: appointment_id (new), old_appointment_id (urgent)
    WAITLIST_OFFER = "waitlist_offer"  # payload: entry_id, slot_id
    # Certificates (domain/certificates.py): payload request_id, status, kind, clinic_id.
    CERTIFICATE_STATUS = "cert_status"
    BOOKING_FILES = "booking_files"  # payload: appointment_id (the .ics and PDF after booking)


ALL_KINDS = (
    Kind.BOOKED,
    Kind.REMINDER,
    Kind.CANCELLED_BY_CLINIC,
    Kind.MOVED_BY_CLINIC,
    Kind.WAITLIST_OFFER,
    Kind.CERTIFICATE_STATUS,
    Kind.BOOKING_FILES,
)
# What a patient may switch off in the profile. Clinic changes are not
# optional: a patient must hear that their visit is off.
OPTIONAL_KINDS = (Kind.REMINDER, Kind.WAITLIST_OFFER, Kind.BOOKED)

MAX_ATTEMPTS = 5
# A reminder closer than this to the visit is short («через 2 ч»): it means "leave
# soon", so quiet hours skip it unless QuietWindow.short_reminders says SHIFT.
SHORT_REMINDER_MINUTES = 24 * 60


class State:
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"
    HELD = "held"  # urgent, for a user who blocked the bot: sent again when they return


@dataclass(frozen=True, slots=True)
class OutboxItem:
    kind: str
    user_id: int
    due_at: datetime  # aware UTC
    idem_key: str
    payload: dict[str, object] = field(default_factory=dict)
    urgent: bool = False


def reminder_items(
    appointment: Appointment,
    offsets_minutes: list[int],
    now: datetime,
    *,
    tz: str | None = None,
    quiet: QuietWindow | None = None,
) -> list[OutboxItem]:
    """One reminder per offset that is still in the future; the key makes each unique.

    With ``tz`` and ``quiet`` a reminder that would fall in the quiet hours of
    the clinic's zone goes out just before they begin — except a short one
    (under SHORT_REMINDER_MINUTES) while ``quiet.short_reminders`` is SKIP: that
    one is not planned, since «через 2 ч» the evening before would be false and
    at 06:00 unwelcome. One that would land in the past is not planned either
    (the patient booked it moments ago).
    """
    items = []
    for offset in offsets_minutes:
        due = appointment.start - timedelta(minutes=offset)
        if tz is not None and quiet is not None and in_quiet(due, tz, quiet):
            if offset < SHORT_REMINDER_MINUTES and quiet.short_reminders == SKIP:
                continue
            due = before_quiet(due, tz, quiet)
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


def booked_item(appointment: Appointment, now: datetime) -> OutboxItem:
    return OutboxItem(
        kind=Kind.BOOKED,
        user_id=appointment.user_id,
        due_at=now,
        idem_key=f"appt:{appointment.id}:booked",
        payload={"appointment_id": appointment.id},
    )


def booking_files_item(appointment: Appointment, now: datetime) -> OutboxItem:
    """The new visit's .ics and PDF, sent by the notifier after the in-chat confirmation:
    building them (~40 ms of CPU) stays out of the «Подтвердить» update. One per visit."""
    return OutboxItem(
        kind=Kind.BOOKING_FILES,
        user_id=appointment.user_id,
        due_at=now,
        idem_key=f"appt:{appointment.id}:files",
        payload={"appointment_id": appointment.id},
    )


def clinic_cancelled_item(appointment: Appointment, now: datetime) -> OutboxItem:
    """Urgent: ignores quiet hours; the reason is read from the appointment at send time."""
    return OutboxItem(
        kind=Kind.CANCELLED_BY_CLINIC,
        user_id=appointment.user_id,
        due_at=now,
        idem_key=f"clinic:{appointment.id}:cancelled",
        payload={"appointment_id": appointment.id},
        urgent=True,
    )


def clinic_moved_item(old_id: int, new: Appointment, now: datetime) -> OutboxItem:
    return OutboxItem(
        kind=Kind.MOVED_BY_CLINIC,
        user_id=new.user_id,
        due_at=now,
        idem_key=f"clinic:{old_id}:moved:{new.id}",
        payload={"appointment_id": new.id, "old_appointment_id": old_id},
        urgent=True,
    )


def waitlist_offer_item(
    entry_id: int, user_id: int, slot_id: int, now: datetime, round_no: int = 0
) -> OutboxItem:
    return OutboxItem(
        kind=Kind.WAITLIST_OFFER,
        user_id=user_id,
        due_at=now,
        idem_key=f"wl:{entry_id}:offer:{slot_id}:{round_no}",
        payload={"entry_id": entry_id, "slot_id": slot_id},
    )


def reminder_drop_reason(
    status: AppointmentStatus | None, start: datetime | None, now: datetime
) -> str | None:
    """Why a due reminder must not go out any more, or None to send it.

    Rows due while the bot was down are sent at start only while they still
    make sense: the visit is active and has not begun. ``status`` None means
    the appointment is gone.
    """
    if status is None or start is None:
        return "appointment missing"
    if status not in (AppointmentStatus.PENDING, AppointmentStatus.CONFIRMED):
        return f"appointment {status.value}"
    if start <= now:
        return "visit already began"
    return None


def backoff(attempts: int) -> timedelta:
    """Delay before the next try after ``attempts`` failed ones: 30 s, 1, 2, 4 min ..."""
    return timedelta(seconds=30 * 2 ** max(0, attempts - 1))


def parse_optout(raw: str) -> frozenset[str]:
    return frozenset(k for k in raw.split(",") if k in OPTIONAL_KINDS)


def format_optout(kinds: frozenset[str]) -> str:
    return ",".join(sorted(k for k in kinds if k in OPTIONAL_KINDS))


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """A stored notification as the dispatcher claimed it."""

    id: int
    kind: str
    user_id: int
    due_at: datetime
    payload: dict[str, object]
    urgent: bool
    attempts: int
    idem_key: str = ""

    def ref(self, name: str) -> int | None:
        value = self.payload.get(name)
        return value if isinstance(value, int) else None


# ----------------------------------------------------------------- support (issue 10)
# Kinds of «Поддержка»: rendered by bot/support_render.py, planned by domain/tickets.py
# and bot/ticket_job.py (reviews).
TICKET_ANSWERED = "ticket_answered"  # payload: ticket_id
REVIEW_ASK = "review_ask"  # payload: appointment_id (asked once, after a completed visit)
SUPPORT_KINDS = (TICKET_ANSWERED, REVIEW_ASK)
