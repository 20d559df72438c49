"""A main-menu button or a command ends whatever step the user was on.

Without this, a step waiting for typed text (a relative's name, a ticket's text,
a certificate's purpose, a staff member's reason) stayed open after the user
went to another section with the menu, and the next thing they typed — a
question for the FAQ, say — was taken as that step's answer. This router comes
first (flows/__init__.py): it clears the dialogue state and lets the section's
own handler answer the same update (SkipHandler). An unfinished registration is
kept: /menu and the menu's buttons do not throw away what the person typed.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.fsm.context import FSMContext
from aiogram.types import Message

from flows.onboarding import Onboarding
from flows.ui import menu as menu_ui

router = Router(name="navigation")


@router.message(F.text.func(menu_ui.is_navigation))
async def leave_any_step(message: Message, state: FSMContext, raw_state: str | None) -> None:
    if raw_state is not None and raw_state not in Onboarding.__all_states_names__:
        await state.clear()
    raise SkipHandler
