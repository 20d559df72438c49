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

    def __init__(self, /, **data: Any) -> None:
        """Our own buttons' values (exact ints and strings) are checked here, not by pydantic.

        A button built by a flow passes plain ``int`` / ``str`` values for fields
        declared ``int`` / ``str``: pydantic's validation returns them unchanged and
        then runs :meth:`_numbers_in_range`; a calendar screen built ~45 of these
        (~10 µs each). Here the same range and date checks run on the values and the
        object is what pydantic would have built (fields in declaration order,
        defaults filled in, ``model_fields_set`` = the names passed). Anything else —
        a press unpacked from the client's strings, a value out of range, a missing
        or unknown field, a class with other validators — goes through pydantic as
        before, which raises its ValidationError. tests/unit/test_press_filters.py
        compares both ways for every class of ours.
        """
        fields = _fast_fields(type(self))
        if fields is not None:
            values = _checked_values(fields, data, type(self).signed)
            if values is not None:
                object.__setattr__(self, "__dict__", values)
                object.__setattr__(self, "__pydantic_fields_set__", set(data))
                object.__setattr__(self, "__pydantic_extra__", None)
                object.__setattr__(self, "__pydantic_private__", None)
                return
        super().__init__(**data)

    @model_validator(mode="after")
    def _numbers_in_range(self) -> Self:
        # Runs for what pydantic validates (a press from the client, and any value that
        # is not an exact int or str): the fields' values straight from __dict__.
        for name, value in self.__dict__.items():
            if value.__class__ is bool or not isinstance(value, int):
                continue
            if not _number_ok(name, value, self.signed):
                low = -MAX_INT if name in self.signed else 0
                if not low <= value <= MAX_INT:
                    raise ValueError(f"{name}={value} is out of range")
                raise ValueError(f"{name}={value} is not a date")
        return self

    @classmethod
    def unpack(cls, value: str) -> Self:
        """aiogram's ``unpack``, reading plain decimal numbers itself.

        Every press is unpacked once (the filter of the handler that takes it). A part
        for an ``int`` field that is 1–10 ASCII digits becomes ``int(part)`` — what
        pydantic makes of it — and goes through the same checks as a button built here
        (:meth:`__init__`); any other press (a sign, spaces, another count of parts,
        another prefix) is aiogram's ``unpack`` with pydantic's validation, as before.
        """
        fields = _fast_fields(cls)
        if fields is not None:
            prefix, *parts = value.split(cls.__separator__)
            if prefix == cls.__prefix__ and len(parts) == len(fields):
                data: dict[str, Any] = {}
                for (name, kind, default), part in zip(fields, parts, strict=True):
                    if not part and default is not _REQUIRED and default != "":
                        data[name] = default  # as aiogram reads an empty optional part
                    elif kind is str:
                        data[name] = part
                    elif 0 < len(part) <= 10 and part.isascii() and part.isdigit():
                        data[name] = int(part)
                    else:
                        break
                else:
                    return cls(**data)
        return super().unpack(value)

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
        return _joined(self.__prefix__, self.__separator__, self.__dict__, self._encode_value)

    @classmethod
    def packed(cls, /, **data: Any) -> str:
        """``cls(**data).pack()`` without keeping the object: a screen that only needs
        the button's text (a day's times: 24 buttons) skips building ~24 objects.

        The values meet the checks of :meth:`__init__`'s fast path (exact ints and
        strings, ranges, real days, every required field and no unknown one); anything
        else builds the object, so pydantic refuses what it refuses, as before.
        """
        fields = _fast_fields(cls)
        values = None if fields is None else _checked_values(fields, data, cls.signed)
        if values is None:
            return cls(**data).pack()
        return _joined(cls.__prefix__, cls.__separator__, values, None)


def _joined(prefix: str, separator: str, values: dict[str, Any], encode: Any) -> str:
    """The packed text of ``values`` (in field order), with aiogram's two refusals."""
    result = [prefix]
    for key, value in values.items():
        kind = value.__class__
        # An exact int or str encodes as aiogram's _encode_value would: str(value).
        encoded = str(value) if kind is int else value if kind is str else None
        if encoded is None:
            encoded = encode(key, value)
        if separator in encoded:
            raise ValueError(
                f"Separator symbol {separator!r} can not be used in value {key}={encoded!r}"
            )
        result.append(encoded)
    packed = separator.join(result)
    # (At most 4 bytes a character: 16 characters or fewer always fit in 64 bytes.)
    if len(packed) > MAX_CALLBACK_LENGTH // 4 and len(packed.encode()) > MAX_CALLBACK_LENGTH:
        raise ValueError(f"Resulted callback data is too long! len({packed!r}.encode()) > 64")
    return packed


# --- Building our own buttons' CallbackData without pydantic's validation (see __init__)

# Per class: (name, declared type, default or _REQUIRED) of each field in order, or None
# when the class is not plain enough for the fast path.
_FAST: dict[type, tuple[tuple[str, type, Any], ...] | None] = {}
_REQUIRED = object()
_DAYS: dict[int, bool] = {}  # day code -> is a real date (a few hundred codes in use)


def _fast_fields(cls: type[SafeCallback]) -> tuple[tuple[str, type, Any], ...] | None:
    try:
        return _FAST[cls]
    except KeyError:
        pass
    found: tuple[tuple[str, type, Any], ...] | None = None
    decorators = cls.__pydantic_decorators__
    plain = (
        cls.model_config.get("extra") != "allow"
        and not cls.__private_attributes__
        and set(decorators.model_validators) == {"_numbers_in_range"}
        and not decorators.field_validators
        and not decorators.validators
        and not decorators.root_validators
        and not decorators.field_serializers
        and not decorators.model_serializers
        and not decorators.computed_fields
    )
    spec: list[tuple[str, type, Any]] = []
    for name, field in cls.model_fields.items():
        kind = field.annotation
        default: Any = _REQUIRED if field.is_required() else field.default
        if (
            kind not in (int, str)
            or field.metadata
            or field.alias
            or field.default_factory
            or (default is not _REQUIRED and default.__class__ is not kind)
        ):
            plain = False
            break
        spec.append((name, kind, default))
    if plain:
        found = tuple(spec)
    _FAST[cls] = found
    return found


def _number_ok(name: str, value: int, signed: frozenset[str]) -> bool:
    """What _numbers_in_range accepts: 0..2³¹−1 (± for a signed field); a day a real date."""
    if not (-MAX_INT if name in signed else 0) <= value <= MAX_INT:
        return False
    if name == "day" and value:
        known = _DAYS.get(value)
        if known is None:
            if len(_DAYS) >= 10_000:
                _DAYS.clear()
            known = _DAYS[value] = _is_day_code(value)
        return known
    return True


def _checked_values(
    fields: tuple[tuple[str, Any, Any], ...], data: dict[str, Any], signed: frozenset[str]
) -> dict[str, Any] | None:
    """The fields' values in order when every one given is an exact int/str of its
    declared type and passes the range checks, every required one is given and none
    is unknown; else None (pydantic decides, and raises)."""
    values: dict[str, Any] = {}
    used = 0
    value: Any
    for name, kind, default in fields:
        if name in data:
            value = data[name]
            used += 1
            if value.__class__ is not kind:
                return None
            if kind is int and not _number_ok(name, value, signed):
                return None
        elif default is _REQUIRED:
            return None
        else:
            value = default
        values[name] = value
    return values if used == len(data) else None
