"""A two-week calendar keyboard: days with free time are buttons, the others only explain.

Rows of seven start at the first day shown (today in the clinic's zone), with
a header row of weekday names for those columns, so no padding buttons are
needed. Within a window shorter than four weeks the day number alone is
unambiguous; the message text names the month(s).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, timedelta

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton
from babel.dates import format_date

from flows.ui.callbacks import Noop
from flows.ui.keyboards import button

WINDOW_DAYS = 14
BUSY_MARK = "·"


def window(today: date, days: int = WINDOW_DAYS) -> list[date]:
    return [today + timedelta(days=i) for i in range(days)]


def day_label(day: date, free: bool) -> str:
    """«3» for a day with free time, «·3» for one without (pressing it only explains)."""
    return str(day.day) if free else f"{BUSY_MARK}{day.day}"


def calendar_rows(
    days: list[date],
    free: Iterable[date],
    make: Callable[[date], CallbackData],
    locale: str,
) -> list[list[InlineKeyboardButton]]:
    """Weekday header + one button per day, seven a row."""
    free_set = set(free)
    rows: list[list[InlineKeyboardButton]] = []
    if not days:
        return rows
    rows.append(
        [
            button(format_date(d, "EEEEEE", locale=locale), Noop(why="wd"))
            for d in days[: min(7, len(days))]
        ]
    )
    for start in range(0, len(days), 7):
        row = []
        for d in days[start : start + 7]:
            is_free = d in free_set
            row.append(button(day_label(d, is_free), make(d) if is_free else Noop(why="day")))
        rows.append(row)
    return rows


def months_caption(days: list[date], locale: str) -> str:
    """«декабрь 2026» or «декабрь 2026 – январь 2027» for the message text."""
    if not days:
        return ""
    first = format_date(days[0], "LLLL y", locale=locale)
    last = format_date(days[-1], "LLLL y", locale=locale)
    return first if first == last else f"{first} – {last}"
