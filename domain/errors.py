"""Domain errors: raised by services, mapped to user messages at the edge (flows)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from domain.booking_ports import Clash
    from domain.models import Patient, Specialty


class DomainError(Exception):
    """Base of every refusal the user should hear about in plain words.

    A refusal that must name what it is about («Кардиолог принимает только по
    направлению…», «Иванов Иван уже записан…») carries it: the service that has
    the objects sets them with :meth:`about`, so the one place that words refusals
    (flows/refusals.py) needs nothing else.
    """

    specialty: Specialty | None = None
    patient: Patient | None = None

    def about(
        self, *, specialty: Specialty | None = None, patient: Patient | None = None
    ) -> DomainError:
        if specialty is not None and self.specialty is None:
            self.specialty = specialty
        if patient is not None and self.patient is None:
            self.patient = patient
        return self


class Stale(DomainError):
    """A button or step that no longer applies: an old message, a forged or foreign id.

    The user hears «Эта кнопка устарела» (flows/refusals.py); nothing changed.
    """


class NotRegistered(DomainError):
    """A section of the personal account pressed or typed before /start finished."""


class NotStaff(DomainError):
    """A /staff screen for someone who is not (or no longer) clinic staff."""


class NotFound(DomainError):
    pass


class NotOwner(DomainError):
    """The object in a callback does not belong to this user: a stale or forged button."""


class ValidationFailed(DomainError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class AccountNotReady(DomainError):
    """The action needs a finished onboarding or a confirmed account."""

    def __init__(self, needed: str) -> None:
        super().__init__(needed)
        self.needed = needed


class SlotTaken(DomainError):
    def __init__(self, slot_id: int, alternatives: tuple[int, ...] = ()) -> None:
        super().__init__(f"slot {slot_id} is taken")
        self.slot_id = slot_id
        self.alternatives = alternatives


class SlotUnavailable(DomainError):
    """In the past, outside the schedule, or blocked by the clinic."""


class ReferralRequired(DomainError):
    pass


class AgeSexRestricted(DomainError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # "too_young" | "too_old" | "sex"


class AlreadyBooked(DomainError):
    """One active appointment per patient per specialty; ``existing`` is that visit
    when the service knows it (the flow shows it with «move» / «cancel»)."""

    def __init__(self, existing: Clash | None = None) -> None:
        super().__init__("one active appointment per specialty")
        self.existing = existing


class VisitOverlaps(DomainError):
    """The patient already holds an active visit overlapping this time (any specialty,
    any clinic); ``clash`` is that visit, to be named to the patient."""

    def __init__(self, clash: Clash) -> None:
        super().__init__(f"overlaps appointment {clash.number}")
        self.clash = clash


class DailyCapReached(DomainError):
    pass


class NoShowRestricted(DomainError):
    """Too many missed visits while the clinic's restriction is on (settings.limits)."""

    def __init__(self, count: int, limit: int) -> None:
        super().__init__(f"{count} no-shows, limit {limit}")
        self.count = count
        self.limit = limit


class CancelWindowClosed(DomainError):
    """The appointment has started or passed."""


class ConfirmationRequired(DomainError):
    """Less than 24 h before the visit: a second confirmation is needed."""


class InvalidTransition(DomainError):
    pass


class LimitReached(DomainError):
    pass


class Duplicate(DomainError):
    pass
