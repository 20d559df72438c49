"""What /staff (flows/staff.py) and its «Перенести приём» (flows/staff_move.py) share.

A module of its own so both import it at module top: staff → staff_move →
staff_common, no cycle.
"""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from domain.flow_ports import StaffVisit
from flows.ui.format import fmt_short_day, fmt_time, local
from flows.ui.i18n import gettext as _
from flows.ui.safe_callback import SafeCallback


class StMenu(SafeCallback, prefix="sm"):
    to: str  # cancel|mark|home


def visit_label(v: StaffVisit) -> str:
    when = f"{fmt_short_day(local(v.start, v.tz).date())} {fmt_time(v.start, v.tz)}"
    return f"{when} · {v.doctor_name.split(' ')[0]} · № {v.number}"


def staff_menu_markup() -> InlineKeyboardMarkup:
    """The way back from a /staff screen that ends a task (a result, an empty list)."""
    builder = InlineKeyboardBuilder()
    builder.button(text=_("Staff menu"), callback_data=StMenu(to="home"))
    return builder.as_markup()
