"""The free slots offered instead of one that is gone — the one algorithm for both cases.

Used when a slot was taken under the patient («Это время уже заняли», via
domain.booking_rules.slot_taken) and when the clinic cancelled a visit (the
notifier's ``clinic_cancelled`` message offers one-tap rebooking,
bot/notifier.py). The rules, in order of preference:

- taken under the patient: the same doctor nearest in time to the lost slot,
  then the same specialty in the region;
- cancelled by the clinic (``day_off``): that doctor's day is off, so never the
  same doctor on the same local day; the same clinic first, then the region,
  soonest first; never a time that overlaps another visit of the patient (the
  one-tap rebook would refuse it).

Always: free, not held by anyone, not a blocked doctor, none starting before
``not_before`` (the policy's lead time from now: nobody reaches a clinic in ten
minutes).

Spread (``spread`` = the asking account): in a rush every loser of one slot was
offered the same three nearest times, so they met again on those. With a spread
key the first alternative is still the nearest, the other two are picked among
the next nearest (``_WINDOW`` in all) by the key, so the losers of one slot
scatter over the free times instead of colliding again. Deterministic (no
randomness, no clock): the same account asking about the same slot gets the
same offer.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from domain.booking_ports import BookingUnitOfWork, SlotContext

# Candidates fetched per tier when some are filtered in Python (overlaps).
_POOL = 20
# The nearest free times a spread offer is picked from (the first always offered).
_WINDOW = 10


def local_day_bounds(moment: datetime, tz: str) -> tuple[datetime, datetime]:
    """[start, end) of ``moment``'s local day in ``tz``, as aware datetimes."""
    zone = ZoneInfo(tz)
    day = moment.astimezone(zone).date()
    start = datetime.combine(day, time(0), zone)
    return start, datetime.combine(day + timedelta(days=1), time(0), zone)


async def alternatives(
    uow: BookingUnitOfWork,
    now: datetime,
    slot_id: int,
    n: int = 3,
    *,
    ctx: SlotContext | None = None,
    not_before: datetime | None = None,
    day_off: bool = False,
    patient_id: int | None = None,
    moving_id: int | None = None,
    spread: int | None = None,
    candidates: list[int] | None = None,
) -> tuple[int, ...]:
    """Up to ``n`` free slot ids instead of ``slot_id`` (see the module's rules).

    ``day_off``: the clinic cancelled the visit on ``slot_id``; ``patient_id`` (and
    the cancelled visit ``moving_id``, which does not count) for the overlap rule.
    ``spread``: the asking account, to scatter a rush's losers (module docstring);
    ``candidates``: ``repo.alternative_candidates`` already read (with the take).
    """
    if ctx is None:
        ctx = await uow.appointments.slot_context(slot_id)
    if ctx is None:
        return ()
    slot = ctx.slot
    repo = uow.appointments
    if not day_off:
        if candidates is None:
            per_side = _WINDOW if spread is not None else n
            candidates = await repo.alternative_candidates(slot, now, not_before, per_side)
        return spread_pick(candidates, n, spread)
    lo, hi = local_day_bounds(slot.start, ctx.clinic_tz)
    picked: list[int] = []
    for clinic_id in (slot.clinic_id, None):
        pool = await repo.nearest_free(
            around=not_before or now,
            now=now,
            exclude={slot_id, *picked},
            limit=_POOL,
            specialty_id=slot.specialty_id,
            region_id=slot.region_id,
            clinic_id=clinic_id,
            skip_doctor_between=(slot.doctor_id, lo, hi),
            not_before=not_before,
        )
        for candidate in pool:
            if len(picked) >= n:
                break
            if patient_id is not None and await _overlaps(uow, candidate, patient_id, moving_id):
                continue
            picked.append(candidate)
    return tuple(picked[:n])


async def _overlaps(
    uow: BookingUnitOfWork, slot_id: int, patient_id: int, moving_id: int | None
) -> bool:
    found = await uow.appointments.slot_context(slot_id)
    if found is None:
        return True
    clash = await uow.appointments.overlapping(
        patient_id, found.slot.start, found.slot.minutes, moving_id
    )
    return clash is not None


def spread_pick(candidates: list[int], n: int, key: int | None) -> tuple[int, ...]:
    """``n`` of ``candidates`` (in order of preference): the first ``n`` without a key;
    with one, the first and ``n - 1`` of the next nearest (``_WINDOW`` in all) chosen by
    the key, in their order of preference."""
    if key is None or len(candidates) <= n or n <= 1:
        return tuple(candidates[:n])
    window = candidates[:_WINDOW]
    rest = window[1:]
    start = (key * 2654435761) % len(rest)
    chosen = {window[0], *(rest[(start + i) % len(rest)] for i in range(n - 1))}
    return tuple(c for c in window if c in chosen)
