"""Callback data of reviews: the ask's stars (sent by the notifier) and the doctor's page."""

from __future__ import annotations

from flows.ui.safe_callback import SafeCallback


class RvRate(SafeCallback, prefix="rv"):
    """A score for a completed visit (``score`` 0: open the review to edit it)."""

    appointment_id: int
    score: int = 0


class RvText(SafeCallback, prefix="rw"):
    """``action`` text: add/replace the text; skip: keep the score only."""

    appointment_id: int
    action: str = "text"


class RvDoctor(SafeCallback, prefix="rd"):
    """«Отзывы» on a doctor card: the texts, a page at a time."""

    doctor_id: int
    page: int = 0


class RvHide(SafeCallback, prefix="rh"):
    """Staff: hide a review's text (the score stays)."""

    review_id: int
