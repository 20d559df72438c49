"""Paging of long inline lists: a page of item buttons plus the «‹ n/N ›» row.

The counter button is a Noop (pressing it only answers), so no page is ever
a dead end and every list stays within Telegram's 100-button limit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton

from flows.ui.callbacks import Noop
from flows.ui.keyboards import NEXT_LABEL, PREV_LABEL, button

T = TypeVar("T")

PER_PAGE = 8


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    page: int  # 0-based, clamped
    pages: int
    total: int

    @property
    def offset(self) -> int:
        return self.page * PER_PAGE


def clamp(page: int, total: int, per_page: int = PER_PAGE) -> tuple[int, int]:
    """(clamped page, number of pages) for ``total`` items; an out-of-range page shows the last."""
    pages = max(1, -(-total // per_page))
    return min(max(page, 0), pages - 1), pages


def paginate(items: Sequence[T], page: int, per_page: int = PER_PAGE) -> Page[T]:
    """Slice an in-memory list (specialties, appointments) into one page."""
    page, pages = clamp(page, len(items), per_page)
    start = page * per_page
    return Page(list(items[start : start + per_page]), page, pages, len(items))


def pager_row(
    page: int, pages: int, make: Callable[[int], CallbackData]
) -> list[InlineKeyboardButton]:
    """«‹ 2/5 ›»; the arrows appear only where there is somewhere to go."""
    if pages <= 1:
        return []
    row: list[InlineKeyboardButton] = []
    if page > 0:
        row.append(button(PREV_LABEL, make(page - 1)))
    row.append(button(f"{page + 1}/{pages}", Noop(why="page")))
    if page < pages - 1:
        row.append(button(NEXT_LABEL, make(page + 1)))
    return row
