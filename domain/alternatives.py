"""The free slots offered instead of one that is gone: same doctor first, then the specialty.

Used when a slot was taken under the patient («Это время уже заняли», via
domain.booking_rules.slot_taken) and by the clinic's cancel notice.
"""

from __future__ import annotations

from datetime import datetime

from domain.booking_ports import BookingUnitOfWork, SlotContext


async def alternatives(
    uow: BookingUnitOfWork,
    now: datetime,
    slot_id: int,
    n: int = 3,
    *,
    ctx: SlotContext | None = None,
    not_before: datetime | None = None,
) -> tuple[int, ...]:
    """The ``n`` free slots nearest in time to ``slot_id``: same doctor first,
    then the same specialty in the region. Slots held by anyone are skipped, and
    none starts before ``not_before`` (the policy's lead time from now)."""
    if ctx is None:
        ctx = await uow.appointments.slot_context(slot_id)
    if ctx is None:
        return ()
    slot = ctx.slot
    repo = uow.appointments
    found = await repo.nearest_free(
        around=slot.start,
        now=now,
        exclude={slot_id},
        limit=n,
        doctor_id=slot.doctor_id,
        not_before=not_before,
    )
    if len(found) < n:
        found += await repo.nearest_free(
            around=slot.start,
            now=now,
            exclude={slot_id, *found},
            limit=n - len(found),
            specialty_id=slot.specialty_id,
            region_id=slot.region_id,
            not_before=not_before,
        )
    return tuple(found)
