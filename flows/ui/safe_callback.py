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
from typing import Any, ClassVar, Literal, Self

from aiogram.filters.callback_data import MAX_CALLBACK_LENGTH, CallbackData, CallbackQueryFilter
from aiogram.types import CallbackQuery
from magic_filter import MagicFilter
from pydantic import model_validator

MAX_INT = 2**31 - 1


def _is_day_code(code: int) -> bool:
    try:
        date(code // 10000, code // 100 % 100, code % 100)
    except ValueError:
        return False
    return True


class PrefixFirstFilter(CallbackQueryFilter):
    """aiogram's CallbackQueryFilter, answering «no» to another class's button by its prefix.

    A press is checked against every handler's filter up to the one that takes it
    (~27 per booking press); aiogram's filter splits the data and raises inside
    ``unpack`` for each one that is not its class. The outcome is the same (a
    button of another prefix never unpacks to this class: ``unpack`` compares the
    prefix too); only the refusal is cheaper. ``prefix`` also lets a router skip
    all its handlers at once (flows/__init__.py ``gate``).
    """

    __slots__ = ("head", "prefix")

    def __init__(self, *, callback_data: type[CallbackData], rule: MagicFilter | None = None):
        super().__init__(callback_data=callback_data, rule=rule)
        self.prefix: str = callback_data.__prefix__
        self.head: str = self.prefix + callback_data.__separator__

    async def __call__(self, query: CallbackQuery) -> Literal[False] | dict[str, Any]:
        data = query.data if isinstance(query, CallbackQuery) else None
        if not data or not (data.startswith(self.head) or data == self.prefix):
            return False
        return await super().__call__(query)


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

    @classmethod
    def filter(cls, rule: MagicFilter | None = None) -> CallbackQueryFilter:
        """aiogram's filter with the prefix checked first (see PrefixFirstFilter)."""
        return PrefixFirstFilter(callback_data=cls, rule=rule)

    def pack(self) -> str:
        """aiogram's ``pack`` reading the fields from ``__dict__`` (in field order).

        aiogram goes through ``model_dump`` (pydantic's serializer) for each button
        built; our fields are plain values (ints, strings, bools, enums) that
        ``model_dump(mode="python")`` returns unchanged, so the text is the same.
        """
        separator = self.__separator__
        result = [self.__prefix__]
        for key, value in self.__dict__.items():
            encoded = self._encode_value(key, value)
            if separator in encoded:
                raise ValueError(
                    f"Separator symbol {separator!r} can not be used in value {key}={encoded!r}"
                )
            result.append(encoded)
        packed = separator.join(result)
        if len(packed.encode()) > MAX_CALLBACK_LENGTH:
            raise ValueError(f"Resulted callback data is too long! len({packed!r}.encode()) > 64")
        return packed
