"""Main menu, stale buttons, and the catch-all (last router).

The catch-all answers a registered patient with the main menu. Clinic staff
with no patient account of their own (a registrar, an administrator) came to
work, not to register: their stray message points to /staff, with the staff
menu one tap away, and mentions /start only for booking as a patient.
"""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, Filter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from domain.errors import NotRegistered, Stale
from domain.models import StaffMember, User, is_registered
from flows.guards import Registered
from flows.onboarding import Onboarding
from flows.refusals import refusal_text
from flows.staff_common import staff_menu_markup
from flows.ui import menu as ui
from flows.ui.i18n import gettext as _

router = Router(name="menu")


@router.message(Command("menu"))
@router.message(F.text == ui.MAIN_MENU_LABEL)
async def show_menu(message: Message, user: User | None, state: FSMContext) -> None:
    current = await state.get_state()
    if current is not None and current not in Onboarding.__all_states_names__:
        await state.clear()  # the menu leaves any dialogue but an unfinished registration
    if not is_registered(user):  # told here: a raised refusal would roll the clear() back
        await message.answer(refusal_text(NotRegistered()))
        return
    await message.answer(_("Main menu. Choose a section."), reply_markup=ui.main_menu())


@router.callback_query()
async def stale_button(query: CallbackQuery) -> None:
    raise Stale  # no handler before this one knew the button: an old or forged one


class StaffWithoutAccount(Filter):
    """Clinic staff (settings) with no registered patient account; injects ``staff``.

    Does not refuse: anyone else goes on to ``anything_else`` (a patient's menu, or
    «send /start» for someone who has not registered)."""

    async def __call__(
        self, event: Message, user: User | None = None, staff: StaffMember | None = None
    ) -> dict[str, Any] | bool:
        if staff is not None and not is_registered(user):
            return {"staff": staff}
        return False


@router.message(StaffWithoutAccount())
async def staff_elsewhere(message: Message) -> None:
    """What a registrar expects: their own menu, not a patient's registration prompt."""
    await message.answer(
        _(
            "You are clinic staff: your menu is /staff — cancel, move and mark visits, "
            "visit results, certificate requests and patients' requests. To book a doctor "
            "for yourself as a patient, register with /start."
        ),
        reply_markup=staff_menu_markup(),
    )


@router.message(Registered())
async def anything_else(message: Message) -> None:
    await message.answer(
        _("I did not understand that. Please choose a section from the menu."),
        reply_markup=ui.main_menu(),
    )
