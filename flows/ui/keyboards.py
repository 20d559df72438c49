"""Small generic keyboards shared by every flow: yes/no, back, pager, reply choices.

Kept free of any flow's vocabulary: callers pass their own CallbackData
factories and labels, so booking, family and profile reuse the same shapes.
Labels are translated at call time (inside an update), never at import.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from flows.ui.i18n import gettext as _

PREV_LABEL = "‹"
NEXT_LABEL = "›"


def button(text: str, data: CallbackData | str) -> InlineKeyboardButton:
    """One inline button; ``data`` is packed here so callers never build strings by hand."""
    packed = data.pack() if isinstance(data, CallbackData) else data
    if not 1 <= len(packed.encode()) <= 64:
        raise ValueError(f"callback_data must be 1..64 bytes, got {len(packed.encode())}")
    if text.__class__ is str and packed.__class__ is str:
        return _checked_button(text, packed)
    return InlineKeyboardButton(text=text, callback_data=packed)


_TEMPLATE: list[InlineKeyboardButton] = []


def _checked_button(text: str, packed: str) -> InlineKeyboardButton:
    """The button pydantic would build from two checked strings, without validating again.

    Validation of an ``InlineKeyboardButton`` only confirms that ``text`` and
    ``callback_data`` are strings (checked just above, with the 64-byte limit) and
    fills the other fields' defaults; it cost ~5 µs of ~7 per button, and a calendar
    screen has ~50. The button is one validated once (the template: its defaults,
    extra and private parts) with the two strings put in; tests/unit/test_press_filters.py
    compares it with a validated one, field by field and serialized.
    """
    if not _TEMPLATE:
        _TEMPLATE.append(InlineKeyboardButton(text="-", callback_data="-"))
    template = _TEMPLATE[0]
    made = object.__new__(InlineKeyboardButton)
    values = dict(template.__dict__)
    values["text"] = text
    values["callback_data"] = packed
    extra = template.__pydantic_extra__
    private = template.__pydantic_private__
    object.__setattr__(made, "__dict__", values)
    object.__setattr__(made, "__pydantic_fields_set__", set(template.__pydantic_fields_set__))
    object.__setattr__(made, "__pydantic_extra__", None if extra is None else dict(extra))
    object.__setattr__(made, "__pydantic_private__", None if private is None else dict(private))
    return made


# One object per distinct shared button (shared_button); cleared when it grows this large.
_SHARED: dict[tuple[str, str], InlineKeyboardButton] = {}
MAX_SHARED = 10_000


def shared_button(text: str, data: CallbackData | str) -> InlineKeyboardButton:
    """``button(text, data)``, one object per distinct button in the process.

    For screens that are the same for everyone who looks at the same thing: a doctor's
    calendar is 38 buttons (weekdays, days; ~5 µs each to build) that differ only by the
    doctor and the days. aiogram's Telegram objects are frozen, so one button can sit in
    many keyboards. The key is all a button is made of — its text and its packed data,
    two exact strings — so what comes back is exactly what :func:`button` would build:
    it holds no user's data and decides nothing (which days are free is the caller's,
    for every screen). Only for texts that name nothing personal (day numbers,
    weekdays); a button with a person's name goes through :func:`button`.
    """
    packed = data.pack() if isinstance(data, CallbackData) else data
    if text.__class__ is not str or packed.__class__ is not str:
        return button(text, packed)
    key = (text, packed)
    found = _SHARED.get(key)
    if found is None:
        found = button(text, packed)
        if len(_SHARED) >= MAX_SHARED:
            _SHARED.clear()
        _SHARED[key] = found
    return found


def inline(rows: Sequence[Sequence[InlineKeyboardButton]]) -> InlineKeyboardMarkup:
    return _markup([list(row) for row in rows if row])


_MARKUP_TEMPLATE: list[InlineKeyboardMarkup] = []


def _markup(keyboard: list[list[InlineKeyboardButton]]) -> InlineKeyboardMarkup:
    """The keyboard pydantic would build from these fresh rows, without validating again.

    Validating an ``InlineKeyboardMarkup`` only confirms that every row is a list and
    every button an ``InlineKeyboardButton`` (kept as it is: pydantic does not validate
    a model instance again) and copies the lists: 7–20 µs a screen. When every row is
    a list of exactly such buttons, the markup is a copy of one validated template with
    ``inline_keyboard`` put in; anything else goes through pydantic (which refuses what
    is not a button). tests/unit/test_press_filters.py compares both.
    """
    for row in keyboard:
        if row.__class__ is not list:
            return InlineKeyboardMarkup(inline_keyboard=keyboard)
        for item in row:
            if item.__class__ is not InlineKeyboardButton:
                return InlineKeyboardMarkup(inline_keyboard=keyboard)
    if not _MARKUP_TEMPLATE:
        _MARKUP_TEMPLATE.append(InlineKeyboardMarkup(inline_keyboard=[]))
    template = _MARKUP_TEMPLATE[0]
    made = object.__new__(InlineKeyboardMarkup)
    values = dict(template.__dict__)
    values["inline_keyboard"] = keyboard
    extra = template.__pydantic_extra__
    private = template.__pydantic_private__
    object.__setattr__(made, "__dict__", values)
    object.__setattr__(made, "__pydantic_fields_set__", set(template.__pydantic_fields_set__))
    object.__setattr__(made, "__pydantic_extra__", None if extra is None else dict(extra))
    object.__setattr__(made, "__pydantic_private__", None if private is None else dict(private))
    return made


MAX_ROW = 8  # Telegram's (and aiogram's builder's) widest inline row
MAX_BUTTONS = 100


def rows_markup(rows: Sequence[Sequence[InlineKeyboardButton]]) -> InlineKeyboardMarkup:
    """The keyboard of the non-empty rows, a row wider than 8 split into rows of 8.

    What ``InlineKeyboardBuilder.row(...).as_markup()`` gives, without its
    ``deepcopy`` of every button (pydantic ``__deepcopy__`` per button: the
    largest single cost of rendering a wizard screen). The buttons are fresh
    objects built for this screen, so nothing is shared that could be changed.
    """
    keyboard: list[list[InlineKeyboardButton]] = []
    count = 0
    for row in rows:
        for start in range(0, len(row), MAX_ROW):
            keyboard.append(list(row[start : start + MAX_ROW]))
        count += len(row)
    if count > MAX_BUTTONS:
        raise ValueError(f"Too much buttons detected Max allowed count - {MAX_BUTTONS}")
    return _markup(keyboard)


def yes_no(
    yes: CallbackData | str,
    no: CallbackData | str,
    *,
    yes_label: str | None = None,
    no_label: str | None = None,
) -> InlineKeyboardMarkup:
    """Confirm / back pair (labels default to «Подтвердить» / «Назад»)."""
    return inline(
        [
            [
                button(yes_label or _("Confirm"), yes),
                button(no_label or _("Back"), no),
            ]
        ]
    )


def back_row(data: CallbackData | str, label: str | None = None) -> list[InlineKeyboardButton]:
    return [button(label or _("Back"), data)]


def pager_row(
    page: int,
    pages: int,
    make: Callable[[int], CallbackData | str],
) -> list[InlineKeyboardButton]:
    """«‹ 2/5 ›» row; arrows appear only where there is somewhere to go.

    ``make(page)`` returns the CallbackData for that page (0-based).
    """
    if pages <= 1:
        return []
    row: list[InlineKeyboardButton] = []
    if page > 0:
        row.append(button(PREV_LABEL, make(page - 1)))
    row.append(button(f"{page + 1}/{pages}", make(page)))
    if page < pages - 1:
        row.append(button(NEXT_LABEL, make(page + 1)))
    return row


def page_slice(items: Sequence[object], page: int, per_page: int) -> tuple[int, int, int]:
    """(clamped page, start, end) for slicing ``items``; an out-of-range page shows the last one."""
    pages = max(1, -(-len(items) // per_page))
    page = min(max(page, 0), pages - 1)
    start = page * per_page
    return page, start, min(start + per_page, len(items))


def reply(rows: Sequence[Sequence[str]], *, placeholder: str | None = None) -> ReplyKeyboardMarkup:
    """A reply keyboard of plain text buttons (the button sends its label)."""
    return ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text=label) for label in row] for row in rows if row],
        resize_keyboard=True,
        one_time_keyboard=False,
        input_field_placeholder=placeholder,
    )


def contact_request(label: str) -> ReplyKeyboardMarkup:
    """A single «share my phone» button (Telegram sends the sender's own contact)."""
    return ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text=label, request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


def remove() -> ReplyKeyboardRemove:
    return ReplyKeyboardRemove()
