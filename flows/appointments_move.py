"""«Перенести»: the booking wizard started from a visit, confirmed by ``booking.reschedule``.

The start (ApMove, from «Мои записи» and from the notifications) opens the
wizard in "move" mode at the visit's own calendar: the same doctor, or
another doctor of the specialty in that clinic; day → time → summary (the new
time held) are the wizard's shared steps (flows/wizard.py). The confirm action
takes the new time before the old one is released, in one transaction. Every
step re-checks that the visit is the user's and still upcoming.
"""

from __future__ import annotations

from datetime import datetime

from aiogram import Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery

from domain import booking
from domain.errors import NotOwner, SlotTaken, Stale
from domain.models import Patient, Slot, User
from domain.policy import Policy
from flows import booking_views as views
from flows.booking_common import load_details, refusal_text, send_files, show
from flows.booking_draft import DRAFT_KEY, BookingDraft, start_move
from flows.guards import Registered
from flows.ui.callbacks import ApMove, ApOpen
from flows.ui.format import details_text
from flows.ui.i18n import gettext as _
from flows.ui.keyboards import button
from flows.ui.reply import close_summary
from flows.wizard import render
from flows.wizard_loaders import Actor, Ctx, moving_visit, not_movable
from flows.wizard_outcomes import OWN_SCREEN, refusal_screen, taken
from flows.wizard_ports import WizardUoW

router = Router(name="appointments_move")


@router.callback_query(ApMove.filter(), Registered())
async def on_move(
    query: CallbackQuery,
    callback_data: ApMove,
    user: User,
    uow: WizardUoW,
    now: datetime,
    policy: Policy,
    state: FSMContext,
) -> None:
    """The start: the visit's own calendar (or why it cannot be moved any more)."""
    try:
        visit = await booking.get_owned_appointment(uow, user.id, callback_data.a)
    except NotOwner:
        raise Stale from None
    refusal = not_movable(visit, now)
    if refusal is not None:  # its own screen: the words and the way back to the visit
        back = views.markup([[button(_("Back"), ApOpen(appointment_id=visit.id))]])
        await show(query, refusal_text(refusal, None, None), back)
        return
    draft = start_move(visit, staff=False)
    await render(query, Ctx(uow, now, policy, Actor(user.id)), state, draft)


async def check_slot(ctx: Ctx, draft: BookingDraft, slot: Slot) -> None:
    """A new time for the visit: the same specialty (any of its doctors in that clinic)."""
    visit = await moving_visit(ctx, draft)
    if visit is None or slot.specialty_id != visit.specialty_id:
        raise Stale


async def confirm(
    query: CallbackQuery,
    ctx: Ctx,
    state: FSMContext,
    draft: BookingDraft,
    patient: Patient,
    slot_id: int,
) -> None:
    """The move's «Подтвердить»: the new appointment, the old one «перенесена»."""
    if draft.slot_id != slot_id:
        raise Stale  # a summary of another dialogue
    uow, now, home_tz = ctx.uow, ctx.now, ctx.policy.home_tz
    visit = await moving_visit(ctx, draft)
    assert visit is not None  # a move's draft
    try:
        new = await booking.reschedule(
            uow, now, ctx.actor.user_id, visit.id, slot_id, ctx.policy.booking
        )
    except SlotTaken as lost:
        await taken(query, ctx, draft, patient.id, lost)
        return
    except OWN_SCREEN as refused:
        await refusal_screen(query, ctx, draft, refused, patient, new=True)
        return
    await state.set_state(None)
    await state.update_data({DRAFT_KEY: None})
    details = await load_details(uow, patient, appointment=new)
    await close_summary(query.message, views.hold_line(draft.mode, ctx.policy.booking.hold_minutes))
    text = _("Moved! The new appointment number: {number}").format(number=new.number)
    if details is not None:  # files first: the confirmation stays the newest message
        text += "\n\n" + details_text(details, home_tz)
        await send_files(query, details, home_tz, now)
    await show(query, text, new=True)
