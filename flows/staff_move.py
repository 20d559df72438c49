"""/staff «Перенести приём»: the booking wizard started by a registrar from a visit of their clinic.

The visit list (MvList, linked from flows/staff.py) → MvPick opens the wizard
in "staff" mode at the visit's calendar (the same doctor's free days) → a time
→ the reason, typed → the summary → ``booking.reschedule_by_clinic``; the
patient gets the urgent ``clinic_moved`` notification with the new time and
the reason. The day, time, back and confirm buttons are the wizard's own
(flows/booking.py); ownership here is the staff member's clinics, checked on
every step (flows/wizard.py), so a forged id is «устарела».
"""

from __future__ import annotations

from datetime import datetime

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from domain import booking
from domain.errors import Stale, VisitOverlaps
from domain.models import Slot, StaffMember
from domain.policy import Policy
from flows import booking_views as views
from flows.booking_common import clash_line, refuse, show
from flows.booking_draft import DRAFT_KEY, BookingDraft, start_move
from flows.guards import Staff
from flows.staff_common import StMenu, staff_menu_markup, visit_label
from flows.ui.callbacks import MvList, MvPick
from flows.ui.i18n import gettext as _
from flows.ui.keyboards import button
from flows.ui.menu import not_navigation
from flows.wizard import StaffMoveStates, Wizard, render
from flows.wizard_loaders import Actor, Ctx, moving_visit, visit_to_move
from flows.wizard_ports import StaffWizardUoW, WizardUoW

__all__ = ["MvList", "router"]

MAX_REASON = 300

router = Router(name="staff_move")


@router.callback_query(MvList.filter(), Staff())
async def on_list(
    query: CallbackQuery, staff: StaffMember, uow: StaffWizardUoW, now: datetime
) -> None:
    visits = await uow.staff.visits(staff.clinics, after=now, limit=30)
    if not visits:
        await show(query, _("No upcoming visits in your clinics."))
        return
    rows = [[button(visit_label(v), MvPick(appointment_id=v.id))] for v in visits]
    rows.append([button(_("Back"), StMenu(to="home"))])
    await show(query, _("Which visit is to be moved?"), views.markup(rows))


@router.callback_query(MvPick.filter(), Staff())
async def on_pick(
    query: CallbackQuery,
    callback_data: MvPick,
    staff: StaffMember,
    uow: WizardUoW,
    now: datetime,
    policy: Policy,
    state: FSMContext,
) -> None:
    """The start: the visit's calendar (its doctor's free days)."""
    ctx = Ctx(uow, now, policy, Actor(query.from_user.id, staff.clinics))
    visit = await visit_to_move(ctx, callback_data.appointment_id)
    draft = start_move(visit, staff=True)
    await render(query, ctx, state, draft)


async def check_slot(ctx: Ctx, draft: BookingDraft, slot: Slot) -> None:
    """A new time of the same doctor (the registrar moves within the doctor's own time)."""
    visit = await moving_visit(ctx, draft)
    if visit is None or slot.doctor_id != visit.doctor_id:
        raise Stale


_reason = (StateFilter(StaffMoveStates.reason), not_navigation)  # /staff, /menu leave the step


@router.message(*_reason, F.text, Wizard())
async def on_reason(message: Message, state: FSMContext, draft: BookingDraft, ctx: Ctx) -> None:
    reason = (message.text or "").strip()
    if draft.mode != "staff" or draft.step != "reason":
        raise Stale
    if not reason or len(reason) > MAX_REASON:
        await message.answer(_("Please type the reason as text (up to 300 characters)."))
        return
    await render(message, ctx, state, draft.at("summary", reason=reason))


@router.message(*_reason)
async def on_reason_bad(message: Message) -> None:
    await message.answer(_("Please type the reason as text (up to 300 characters)."))


async def confirm(
    query: CallbackQuery, ctx: Ctx, state: FSMContext, draft: BookingDraft, slot_id: int
) -> None:
    """The registrar's «Подтвердить»: the clinic moves the visit and tells the patient."""
    clinics = ctx.actor.clinics
    if draft.step != "summary" or draft.slot_id != slot_id or not draft.reason or not clinics:
        raise Stale
    visit = await moving_visit(ctx, draft)
    assert visit is not None  # a move's draft
    try:
        new = await booking.reschedule_by_clinic(
            ctx.uow,
            ctx.now,
            ctx.actor.user_id,
            clinics,
            visit.id,
            slot_id,
            ctx.policy.booking,
            draft.reason,
        )
    except VisitOverlaps as clash:  # worded for the registrar, not the patient
        text = _("The patient has another visit at that time: {visit}. Choose another time.")
        await refuse(query, text.format(visit=clash_line(clash.clash)))
        return
    await state.set_state(None)
    await state.update_data({DRAFT_KEY: None})
    await show(
        query,
        _(
            "Moved: the new appointment number is {number}. A notice to the patient is queued; "
            "/staff lists any that Telegram refuses to deliver."
        ).format(number=new.number),
        staff_menu_markup(),
    )
