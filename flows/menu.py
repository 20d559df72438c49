"""Main menu, sections not built yet, stale buttons, and the catch-all (last router)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from domain.models import AccountLevel, User
from flows.onboarding import Onboarding
from flows.ui import menu as ui

# Sections of SPEC §11 whose flows are not built yet: they say so plainly
# instead of pretending to work.
NOT_BUILT = (ui.HISTORY, ui.FAMILY, ui.DOCUMENTS)


def build_router() -> Router:
    router = Router(name="menu")

    @router.message(Command("menu"))
    @router.message(F.text == ui.MAIN_MENU_LABEL)
    async def show_menu(message: Message, user: User | None, state: FSMContext) -> None:
        current = await state.get_state()
        if current is not None and current not in Onboarding.__all_states_names__:
            await state.clear()  # the menu leaves any dialogue but an unfinished registration
        await _send_menu(message, user)

    @router.message(F.text.in_(NOT_BUILT))
    async def not_built(message: Message, user: User | None) -> None:
        if not _registered(user):
            await message.answer(_("Send /start to register first."))
            return
        await message.answer(
            _(
                "The section «{section}» is not available yet: we are building it. "
                "Booking, your appointments and your profile already work."
            ).format(section=message.text),
            reply_markup=ui.main_menu(),
        )

    @router.callback_query()
    async def stale_button(query: CallbackQuery) -> None:
        await query.answer(_("This button is out of date."), show_alert=False)

    @router.message()
    async def anything_else(message: Message, user: User | None) -> None:
        await _send_menu(message, user, unknown=True)

    return router


def _registered(user: User | None) -> bool:
    return user is not None and user.level != AccountLevel.NONE


async def _send_menu(message: Message, user: User | None, *, unknown: bool = False) -> None:
    if not _registered(user):
        await message.answer(_("Send /start to register first."))
        return
    text = (
        _("I did not understand that. Please choose a section from the menu.")
        if unknown
        else _("Main menu. Choose a section.")
    )
    await message.answer(text, reply_markup=ui.main_menu())
