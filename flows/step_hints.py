"""What a typed message (or a sticker, a photo) means in the middle of a button step.

The booking steps (patient, specialty, doctor, day, time, summary) are answered
with buttons only; anything typed there fell through to the catch-all and got
«Не понял сообщение. Выберите раздел в меню», as if the dialogue had ended.
Each such step now says what it is waiting for, and the buttons above stay
usable. A main-menu button or a command is not an answer: it passes on to its
own handler (this router sits just before the catch-all).

The other dialogue states have fallbacks next to their flows: onboarding,
profile edits, staff reasons; the clinic step searches whatever is typed.
"""

from __future__ import annotations

from collections.abc import Callable

from aiogram import Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import Message

from flows.booking import BookingStates
from flows.ui import menu as menu_ui
from flows.ui.i18n import gettext as _
from flows.waitlist import WaitListSteps

router = Router(name="step_hints")

HINTS: dict[State, Callable[[], str]] = {
    BookingStates.patient: lambda: _("Choose who the appointment is for with a button above."),
    BookingStates.specialty: lambda: _("Choose a specialty with a button above."),
    BookingStates.clinic: lambda: _("Choose a clinic with a button above, or type its name."),
    BookingStates.doctor: lambda: _("Choose a doctor with a button above."),
    BookingStates.day: lambda: _("Choose a day with a button above."),
    BookingStates.slot: lambda: _("Choose a time with a button above."),
    BookingStates.summary: lambda: _(
        "Press «Confirm» above to book this time, or «Back» to choose another."
    ),
    WaitListSteps.period: lambda: _("Choose for how long to wait with a button above."),
    WaitListSteps.time_of_day: lambda: _("Choose the time of day with a button above."),
}


@router.message(StateFilter(BookingStates, WaitListSteps), menu_ui.not_navigation)
async def on_step_message(message: Message, state: FSMContext) -> None:
    current = await state.get_state()
    hint = next((hint for step, hint in HINTS.items() if step.state == current), None)
    if hint is not None:  # every booking step has one (tests/flows check)
        await message.answer(hint())
