"""The row of «Профиль» that leads to issue 10's screens: journal, policy check, calendar link."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton

from flows.calendar_sync import CalSub
from flows.journal_view import JvCb
from flows.policy_check import PcCheck
from flows.ui import keyboards as kb
from flows.ui.i18n import gettext as _


def support_profile_row() -> list[InlineKeyboardButton]:
    return [
        kb.button(_("Activity journal"), JvCb()),
        kb.button(_("Check policy"), PcCheck()),
        kb.button(_("Calendar link"), CalSub()),
    ]
