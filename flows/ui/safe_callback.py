"""The base of every CallbackData of ours: numbers are range-checked when a button is unpacked.

A callback's data comes from the client and can be forged. Ids are INTEGER
columns (PostgreSQL: 2³¹−1 at most), so an id such as 9999999999 reached the
database and failed there with an overflow, i.e. in the error handler. Here
every integer field must lie in 0..2³¹−1 and every ``day`` field must be 0 or
a real ``YYYYMMDD`` date; anything else fails validation, the class's filter
does not match, and the catch-all answers «Эта кнопка устарела»
(flows/menu.py). A test checks that every CallbackData in flows derives from
this class.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Self

from aiogram.filters.callback_data import CallbackData
from pydantic import model_validator

MAX_INT = 2**31 - 1


def _is_day_code(code: int) -> bool:
    try:
        date(code // 10000, code // 100 % 100, code % 100)
    except ValueError:
        return False
    return True


class SafeCallback(CallbackData, prefix="_"):
    """Not used itself (its prefix is a placeholder); subclasses give their own prefix."""

    # Fields that may be negative (within the same magnitude): BkDoctor.d packs a page as -(n+1).
    signed: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _numbers_in_range(self) -> Self:
        # Runs for every button built too (not only for what a client sends): the fields'
        # values straight from __dict__, not through pydantic's __iter__.
        for name, value in self.__dict__.items():
            if value.__class__ is bool or not isinstance(value, int):
                continue
            low = -MAX_INT if name in self.signed else 0
            if not low <= value <= MAX_INT:
                raise ValueError(f"{name}={value} is out of range")
            if name == "day" and value and not _is_day_code(value):
                raise ValueError(f"{name}={value} is not a date")
        return self
