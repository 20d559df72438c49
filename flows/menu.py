"""Main menu, stale buttons, and the catch-all (last router)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from domain.errors import NotRegistered, Stale
from domain.models import User, is_registered
from flows.guards import Registered
from flows.onboarding import Onboarding
from flows.refusals import refusal_text
from flows.ui import menu as ui

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


@router.message(Registered())
async def anything_else(message: Message) -> None:
    await message.answer(
        _("I did not understand that. Please choose a section from the menu."),
        reply_markup=ui.main_menu(),
    )
