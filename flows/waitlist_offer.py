"""A wait-list offer answered: «Записаться» books the held time, «Пропустить» passes it on.

The offer arrives from the wait-list job as an outbox notice
(bot/notify_clinic.py) with flows.ui.notify_callbacks.WlOffer buttons; the
entry and the slot are checked by domain/waitlist.py against the user's own
entries. A module of its own: the answer is a booking, apart from joining
(flows/waitlist.py) and the list of entries (flows/waitlist_mine.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from aiogram import Router
from aiogram.types import CallbackQuery, Message

from domain import waitlist
from domain.errors import DomainError, NotOwner, SlotTaken, Stale, VisitOverlaps
from domain.flow_ports import SectionsUnitOfWork
from domain.models import User
from domain.policy import Policy
from flows.booking_common import (
    load_details,
    mark_confirmed_in_chat,
    refusal_text,
    refuse,
    send_files,
)
from flows.guards import Registered
from flows.ui.format import details_text
from flows.ui.i18n import gettext as _
from flows.ui.notify_callbacks import WlOffer

router = Router(name="waitlist_offer")


@router.callback_query(WlOffer.filter(), Registered())
async def on_offer(
    query: CallbackQuery,
    callback_data: WlOffer,
    user: User,
    uow: SectionsUnitOfWork,
    now: datetime,
    policy: Policy,
) -> None:
    """«Записаться» books the held slot; «Пропустить» passes it to the next subscriber."""
    cb = callback_data
    if not cb.go:
        try:
            await waitlist.decline(
                uow,
                now,
                user.id,
                cb.entry_id,
                cb.slot_id,
                policy.waitlist_offer_minutes,
                timedelta(minutes=policy.booking.offer_lead_minutes),
            )
        except DomainError:  # not theirs, or the offer is over
            raise Stale from None
        await _close_offer(query)
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.answer(
                _("Skipped: the time goes to the next person. You stay on the wait list.")
            )
        return
    try:
        appointment = await waitlist.accept(
            uow, now, user.id, cb.entry_id, cb.slot_id, policy.booking
        )
    except NotOwner:
        raise Stale from None
    except DomainError as exc:  # accept() put the entry back on the list: kept, not rolled back
        if isinstance(exc, (SlotTaken, VisitOverlaps)):  # this offer is over: its buttons go
            await _close_offer(query)
        await refuse(query, refusal_text(exc, None, None))
        return
    await _close_offer(query)
    await query.answer()
    patient = await uow.users.patient(appointment.patient_id)
    details = await load_details(uow, patient, appointment=appointment) if patient else None
    if details is None or not isinstance(query.message, Message):
        return
    await send_files(query, details, policy.home_tz, now)
    await query.message.answer(
        _("✅ Booked from the wait list! Appointment number: {number}").format(
            number=appointment.number
        )
        + "\n\n"
        + details_text(details, policy.home_tz),
        parse_mode=None,
    )
    await mark_confirmed_in_chat(uow, appointment, now)


async def _close_offer(query: CallbackQuery) -> None:
    if isinstance(query.message, Message) and query.message.reply_markup is not None:
        await query.message.edit_reply_markup(reply_markup=None)
