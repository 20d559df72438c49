"""A two-week calendar keyboard: days with free time are buttons, the others only explain.

Week rows run Monday to Sunday under a header of weekday names, as in every
calendar (rows that began on today's weekday read as misaligned weeks). The
days of the first week before today and of the last week after the window
are shown disabled: pressing one only explains. Within a window shorter than
four weeks the day number alone is unambiguous; the message text names the
month(s).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, timedelta

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton

from flows.ui.callbacks import Noop
from flows.ui.format import date_text
from flows.ui.keyboards import shared_button

WINDOW_DAYS = 14
BUSY_MARK = "·"
# The calendar's buttons that only explain: a weekday, a past day, a day after the
# window, a day without free time (packed once: they never change).
WEEKDAY, PAST, LATER, BUSY = (Noop.packed(why=why) for why in ("wd", "past", "later", "day"))


def window(today: date, days: int = WINDOW_DAYS) -> list[date]:
    return [today + timedelta(days=i) for i in range(days)]


def day_label(day: date, free: bool) -> str:
    """«3» for a day with free time, «·3» for one without (pressing it only explains)."""
    return str(day.day) if free else f"{BUSY_MARK}{day.day}"


def calendar_rows(
    days: list[date],
    free: Iterable[date],
    make: Callable[[date], CallbackData | str],
    locale: str,
) -> list[list[InlineKeyboardButton]]:
    """Weekday header (Mon–Sun) + one button per day of the weeks that hold ``days``.

    ``make(day)`` is a free day's button data (its packed text is cheapest). The buttons
    are the process's shared ones (flows/ui/keyboards.py ``shared_button``): a calendar
    is the same for everyone who looks at the same doctor's same free days.
    """
    free_set = set(free)
    rows: list[list[InlineKeyboardButton]] = []
    if not days:
        return rows
    first = days[0] - timedelta(days=days[0].weekday())  # Monday of the first week
    last = days[-1] + timedelta(days=6 - days[-1].weekday())  # Sunday of the last week
    grid = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    rows.append([shared_button(date_text(d, "EEEEEE", locale), WEEKDAY) for d in grid[:7]])
    for start in range(0, len(grid), 7):
        rows.append(
            [_day_button(d, days[0], days[-1], free_set, make) for d in grid[start : start + 7]]
        )
    return rows


def _day_button(
    d: date, start: date, end: date, free: set[date], make: Callable[[date], CallbackData | str]
) -> InlineKeyboardButton:
    if d < start:
        return shared_button(f"{BUSY_MARK}{d.day}", PAST)
    if d > end:
        return shared_button(f"{BUSY_MARK}{d.day}", LATER)
    if d in free:
        return shared_button(day_label(d, True), make(d))
    return shared_button(day_label(d, False), BUSY)


def months_caption(days: list[date], locale: str) -> str:
    """«декабрь 2026» or «декабрь 2026 – январь 2027» for the message text."""
    if not days:
        return ""
    first = date_text(days[0], "LLLL y", locale)
    last = date_text(days[-1], "LLLL y", locale)
    return first if first == last else f"{first} – {last}"
