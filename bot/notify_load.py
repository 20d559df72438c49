"""A claimed batch before rendering: everything it renders from, and which rows still go.

``load_batch`` reads the recipients and every object the batch's rows refer to
in a few queries (not one per row); ``sendable`` decides per row whether it
still makes sense now (opt-out, unreachable user, a visit that already began,
quiet hours) and records the outcome of those that do not. A module of its own:
what a batch reads and the per-row rules are apart from the send pipeline
(bot/notifier.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.notify_marks import Marks
from bot.notify_parts import RenderContext
from bot.notify_render import load_booking_files
from domain.alternatives import alternatives
from domain.family import Kind as FamilyKind
from domain.notifications import OPTIONAL_KINDS, Kind, OutboxRow, reminder_drop_reason
from domain.quiet_hours import QuietWindow, defer_late
from storage.repos.notify_context import NotifyContextRepository, Recipient, VisitInfo
from storage.uow import SqlUnitOfWork, UnitOfWorkFactory


async def load_batch(
    uow_factory: UnitOfWorkFactory,
    rows: list[OutboxRow],
    now: datetime,
    *,
    home_tz: str,
    button_offset: int,
    offer_lead: timedelta,
) -> tuple[dict[int, Recipient], RenderContext]:
    """The batch's recipients and render context (one unit of work, a few queries)."""
    ctx = RenderContext(home_tz=home_tz, now=now, button_offset=button_offset)
    appointment_ids: set[int] = set()
    slot_ids: set[int] = set()
    entry_ids: set[int] = set()
    for row in rows:
        for name in ("appointment_id", "old_appointment_id"):
            ref = row.ref(name)
            if ref is not None:
                appointment_ids.add(ref)
        if row.kind == Kind.WAITLIST_OFFER:
            slot = row.ref("slot_id")
            entry = row.ref("entry_id")
            if slot is not None:
                slot_ids.add(slot)
            if entry is not None:
                entry_ids.add(entry)
    async with uow_factory() as uow:
        repo = NotifyContextRepository(uow.conn, uow.cipher)
        recipients = await repo.recipients(r.user_id for r in rows)
        ctx.appointments = await repo.appointments(appointment_ids)
        ctx.slots = await repo.slots(slot_ids)
        offers = await repo.live_offers(entry_ids, now)
        ctx.offer_until = {
            entry: until
            for entry, (slot, until) in offers.items()
            if any(
                r.ref("entry_id") == entry and r.ref("slot_id") == slot
                for r in rows
                if r.kind == Kind.WAITLIST_OFFER
            )
        }
        await load_booking_files(uow, rows, ctx)
        await load_requesters(uow, rows, ctx)
        for row in rows:
            if row.kind != Kind.CANCELLED_BY_CLINIC:
                continue
            ref = row.ref("appointment_id")
            visit = ctx.appointments.get(ref) if ref is not None else None
            if visit is None:
                continue
            ctx.alternatives[row.id] = await clinic_alternatives(
                repo, uow, visit, now, now + offer_lead
            )
    return recipients, ctx


async def load_requesters(uow: SqlUnitOfWork, rows: list[OutboxRow], ctx: RenderContext) -> None:
    """Who asks, for each relative request of the batch (a request withdrawn meanwhile or
    an erased asker: no name, and the row is not rendered)."""
    for row in rows:
        request_id = row.ref("request_id") if row.kind == FamilyKind.CONSENT_REQUEST else None
        if request_id is None:
            continue
        request = await uow.family.request(request_id)
        asker = await uow.users.self_patient(request.owner_user_id) if request else None
        if asker is not None and asker.full_name:
            ctx.requesters[row.id] = asker.full_name


def sendable(
    row: OutboxRow,
    recipient: Recipient | None,
    ctx: RenderContext,
    now: datetime,
    marks: Marks,
    *,
    quiet: QuietWindow,
    default_locale: str,
) -> str | None:
    """The recipient's language, or None when the row is not to be sent now (its
    outcome is recorded in ``marks``)."""
    if row.user_id <= 0:  # a group, supergroup or channel id: never anything personal
        marks.cancelled.append((row.id, "not a private chat"))
        return None
    if recipient is None or recipient.status != "active":
        marks.cancelled.append((row.id, "no such user"))
        return None
    if recipient.unreachable:
        if row.urgent:  # sent when the user comes back (UserRepository.mark_reachable)
            marks.held.append((row.id, "user unreachable"))
        else:
            marks.cancelled.append((row.id, "user unreachable"))
        return None
    if row.kind in OPTIONAL_KINDS and row.kind in recipient.optout:
        marks.cancelled.append((row.id, "opted out"))
        return None
    visit = None
    if row.kind == Kind.REMINDER:
        ref = row.ref("appointment_id")
        visit = ctx.appointments.get(ref) if ref is not None else None
        reason = reminder_drop_reason(
            visit.status if visit else None, visit.start if visit else None, now
        )
        if reason is not None:
            marks.cancelled.append((row.id, reason))
            return None
    # Found late (the bot was down) inside quiet hours: wait for the morning if
    # the visit is still ahead then, else it is too late to be useful.
    deferral = (
        None
        if visit is None
        else defer_late(now, row.due_at, visit.start, visit.clinic_tz, quiet, urgent=row.urgent)
    )
    if deferral is not None:
        if deferral.retry_at is not None:
            marks.retry.append((row.id, deferral.retry_at, deferral.reason, False))
        else:
            marks.cancelled.append((row.id, deferral.reason))
        return None
    return recipient.locale if recipient.locale in ("ru", "en") else default_locale


async def clinic_alternatives(
    repo: NotifyContextRepository,
    uow: SqlUnitOfWork,
    visit: VisitInfo,
    now: datetime,
    not_before: datetime,
) -> list[VisitInfo]:
    """The times offered instead of a visit the clinic cancelled: chosen by the domain's
    one ``alternatives()`` (the doctor's day off, same clinic first, no overlap with the
    patient's other visits), shown with what the message needs."""
    if visit.slot_id is None:
        return []
    ids = await alternatives(
        uow,
        now,
        visit.slot_id,
        not_before=not_before,
        day_off=True,
        patient_id=visit.patient_id,
        moving_id=visit.appointment_id,
    )
    return await repo.slot_infos(ids)
