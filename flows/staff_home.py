"""/staff: the staff member's home screen — the notices Telegram refused, then the menu.

The menu's buttons lead to the sections of clinic staff: cancel a doctor's
visits and mark visits (flows/staff.py), move a visit (flows/staff_move.py),
visit results (flows/staff_visits.py), certificate requests
(flows/staff_certificates.py) and patients' requests (flows/staff_tickets.py).
A module of its own: the entry and its menu are shared by every staff section
(each «Назад» / «Меню сотрудника» comes back to it), apart from any one task.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from aiogram import Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from domain.flow_ports import SectionsUnitOfWork
from domain.models import StaffMember
from domain.policy import Policy
from flows.guards import Staff
from flows.staff_common import StMenu
from flows.staff_move import MvList
from flows.staff_visits import SvList
from flows.ui.docs_callbacks import StCert
from flows.ui.format import fmt_when
from flows.ui.i18n import gettext as _
from flows.ui.support_callbacks import StTk

router = Router(name="staff_home")

FAILED_NOTICES_WINDOW = timedelta(days=7)  # /staff lists failed notices this recent


def staff_home_markup() -> InlineKeyboardMarkup:
    """The staff menu: one button per staff section."""
    keyboard = InlineKeyboardBuilder()
    keyboard.button(text=_("Cancel visits"), callback_data=StMenu(to="cancel"))
    keyboard.button(text=_("Move a visit"), callback_data=MvList())
    keyboard.button(text=_("Mark a visit"), callback_data=StMenu(to="mark"))
    keyboard.button(text=_("Visit results"), callback_data=SvList())  # flows/staff_visits.py
    keyboard.button(text=_("Certificate requests"), callback_data=StCert(action="list"))
    keyboard.button(text=_("Requests"), callback_data=StTk(action="list"))  # flows/staff_tickets.py
    keyboard.adjust(1)
    return keyboard.as_markup()


@router.message(Command("staff"), Staff())
async def on_staff(
    message: Message,
    state: FSMContext,
    staff: StaffMember,
    uow: SectionsUnitOfWork,
    now: datetime,
    policy: Policy,
) -> None:
    await state.clear()
    text = _("Clinic staff: what would you like to do?")
    failed = await uow.staff.failed_notices(staff.clinics, now - FAILED_NOTICES_WINDOW)
    if failed:
        tz = policy.home_tz
        lines = [_("⚠️ Notices Telegram refused to deliver (call these patients):")]
        lines += [
            _("№ {number}, {when}: {error}").format(
                number=n.number, when=fmt_when(n.at, tz, tz), error=n.error
            )
            for n in failed
        ]
        text = "\n".join(lines) + "\n\n" + text
    await message.answer(text, reply_markup=staff_home_markup(), parse_mode=None)
