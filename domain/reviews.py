"""Reviews of doctors: one per completed visit, by the account that booked it.

Asked once after the visit is marked completed (bot/ticket_job.py plans the
outbox row; quiet hours respected). A score of 1–5, an optional text; the
author may change both for 7 days. Staff of the doctor's clinic may hide an
abusive text with a reason: the score stays in the doctor's average. The
doctor's ``rating_sum`` / ``rating_count`` follow every new or changed score,
so every list and card that shows the rating is up to date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from domain.errors import DomainError, Stale
from domain.models import AppointmentStatus, JournalEntry, StaffMember
from domain.notifications import REVIEW_ASK, OutboxItem
from domain.quiet_hours import QuietWindow, in_quiet, quiet_end_after

EDIT_DAYS = 7
# The ask comes a while after the visit was marked completed: the results («Результаты
# приёма готовы») first, the question about the doctor later, not both in one minute.
ASK_DELAY = timedelta(hours=1)
ASK_WITHIN = timedelta(days=3)  # a visit completed longer ago is not asked about any more
MAX_TEXT = 1000


class ReviewLocked(DomainError):
    """The 7 days to change a review have passed."""


class ReviewTextInvalid(DomainError):
    """Empty or too long."""


@dataclass(frozen=True, slots=True)
class Review:
    id: int
    appointment_id: int
    doctor_id: int
    user_id: int | None
    rating: int
    text: str
    created_at: datetime
    hidden_reason: str | None = None

    @property
    def hidden(self) -> bool:
        return self.hidden_reason is not None

    def editable(self, now: datetime) -> bool:
        return now - self.created_at <= timedelta(days=EDIT_DAYS)


@dataclass(frozen=True, slots=True)
class Visit:
    """What a review needs of an appointment."""

    appointment_id: int
    user_id: int
    patient_id: int
    doctor_id: int
    clinic_id: int
    status: AppointmentStatus
    clinic_tz: str


class ReviewRepo(Protocol):
    async def visit(self, appointment_id: int) -> Visit | None: ...
    async def for_appointment(self, appointment_id: int) -> Review | None: ...
    async def get(self, review_id: int) -> Review | None: ...
    async def add(self, visit: Visit, rating: int, now: datetime) -> int: ...
    async def set_rating(self, review_id: int, rating: int, now: datetime) -> None: ...
    async def set_text(self, review_id: int, text: str, now: datetime) -> None: ...
    async def hide(self, review_id: int, staff_id: int, reason: str, now: datetime) -> None: ...
    async def add_to_doctor(self, doctor_id: int, delta_sum: int, delta_count: int) -> None: ...
    async def doctor_clinics(self, doctor_id: int) -> tuple[int, ...]: ...
    async def doctor_rating(self, doctor_id: int) -> tuple[float | None, int] | None: ...
    async def texts(self, doctor_id: int, limit: int, offset: int) -> tuple[list[Review], int]: ...


class ReviewJournal(Protocol):
    async def add(self, entry: JournalEntry) -> None: ...


class ReviewsUnitOfWork(Protocol):
    @property
    def reviews(self) -> ReviewRepo: ...
    @property
    def journal(self) -> ReviewJournal: ...


def ask_item(visit: Visit, now: datetime, quiet: QuietWindow) -> OutboxItem:
    """The one ask per visit (its key makes it once), ASK_DELAY after it was planned;
    never in the quiet hours of the clinic."""
    due = now + ASK_DELAY
    if in_quiet(due, visit.clinic_tz, quiet):
        due = quiet_end_after(due, visit.clinic_tz, quiet)
    return OutboxItem(
        kind=REVIEW_ASK,
        user_id=visit.user_id,
        due_at=due,
        idem_key=f"review:{visit.appointment_id}:ask",
        payload={"appointment_id": visit.appointment_id},
    )


async def _own_visit(uow: ReviewsUnitOfWork, user_id: int, appointment_id: int) -> Visit:
    visit = await uow.reviews.visit(appointment_id)
    if visit is None or visit.user_id != user_id or visit.status is not AppointmentStatus.COMPLETED:
        raise Stale
    return visit


async def rate(
    uow: ReviewsUnitOfWork, user_id: int, appointment_id: int, score: int, now: datetime
) -> Review:
    """A new score for the visit, or a changed one within 7 days; the doctor's sum follows."""
    if not 1 <= score <= 5:
        raise Stale
    visit = await _own_visit(uow, user_id, appointment_id)
    existing = await uow.reviews.for_appointment(appointment_id)
    if existing is None:
        await uow.reviews.add(visit, score, now)
        await uow.reviews.add_to_doctor(visit.doctor_id, score, 1)
        action = "review.added"
    else:
        if not existing.editable(now):
            raise ReviewLocked(str(existing.id))
        await uow.reviews.set_rating(existing.id, score, now)
        await uow.reviews.add_to_doctor(visit.doctor_id, score - existing.rating, 0)
        action = "review.changed"
    await uow.journal.add(
        JournalEntry(
            user_id=user_id,
            at=now,
            action=action,
            appointment_id=appointment_id,
            doctor_id=visit.doctor_id,
            details={"rating": score},
        )
    )
    review = await uow.reviews.for_appointment(appointment_id)
    assert review is not None
    return review


async def own_review(uow: ReviewsUnitOfWork, user_id: int, appointment_id: int) -> Review:
    await _own_visit(uow, user_id, appointment_id)
    review = await uow.reviews.for_appointment(appointment_id)
    if review is None:
        raise Stale
    return review


async def write_text(
    uow: ReviewsUnitOfWork, user_id: int, appointment_id: int, text: str, now: datetime
) -> Review:
    review = await own_review(uow, user_id, appointment_id)
    if not review.editable(now):
        raise ReviewLocked(str(review.id))
    body = text.strip()
    if not body or len(body) > MAX_TEXT:
        raise ReviewTextInvalid(str(len(body)))
    await uow.reviews.set_text(review.id, body, now)
    return await own_review(uow, user_id, appointment_id)


async def hide_text(
    uow: ReviewsUnitOfWork,
    staff: StaffMember,
    staff_id: int,
    review_id: int,
    reason: str,
    now: datetime,
) -> Review:
    """Staff of one of the doctor's clinics hide the text; the score stays in the average."""
    review = await uow.reviews.get(review_id)
    if review is None or not any(
        staff.covers(c) for c in await uow.reviews.doctor_clinics(review.doctor_id)
    ):
        raise Stale
    body = reason.strip()
    if not body or len(body) > 300:
        raise ReviewTextInvalid(str(len(body)))
    await uow.reviews.hide(review_id, staff_id, body, now)
    await uow.journal.add(
        JournalEntry(
            user_id=review.user_id,
            at=now,
            action="review.hidden",
            appointment_id=review.appointment_id,
            doctor_id=review.doctor_id,
            details={"staff": staff_id},
        )
    )
    found = await uow.reviews.get(review_id)
    assert found is not None
    return found
