"""The cheaper press checks decide exactly as aiogram's own (flows/ui/safe_callback.py,
flows/__init__.py ``gate``, bot/lean_types.py ``flat_post_init``)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram.filters.callback_data import CallbackData, CallbackQueryFilter
from aiogram.types import CallbackQuery, InlineKeyboardButton, Update, User

import flows
from bot.lean_types import flat_post_init
from flows.ui.callbacks import BkDay, BkSlot
from flows.ui.profile_callbacks import NsOpen, ProfileCb
from flows.ui.safe_callback import PrefixFirstFilter, SafeCallback

SAMPLES: list[CallbackData] = [
    BkSlot(patient_id=3, slot_id=2_000_000_000),
    BkDay(doctor_id=7, day=20261207, page=0),
    ProfileCb(action="edit", arg="name"),
    NsOpen(),
]
PRESSES = [
    "bt:3:2000000000",
    "by:7:20261207:0",
    "pf:edit:name",
    "ns",
    "ns:1",
    "bt",
    "bt:1",
    "btx:3:4",
    "nop:wd",
    "",
]


def _query(data: str) -> CallbackQuery:
    user = User(id=1, is_bot=False, first_name="A")
    return CallbackQuery(id="1", from_user=user, chat_instance="c", data=data)


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: type(s).__name__)
def test_pack_is_aiogram_pack(sample: CallbackData) -> None:
    assert sample.pack() == CallbackData.pack(sample)


def test_prefix_first_filter_decides_as_aiogram_filter() -> None:
    async def both(cls: type[SafeCallback], data: str) -> tuple[Any, Any]:
        ours = await PrefixFirstFilter(callback_data=cls)(_query(data))
        theirs = await CallbackQueryFilter(callback_data=cls)(_query(data))
        return ours, theirs

    for cls in (BkSlot, BkDay, ProfileCb, NsOpen):
        assert isinstance(cls.filter(), PrefixFirstFilter)
        for data in PRESSES:
            ours, theirs = asyncio.run(both(cls, data))
            assert ours == theirs, (cls.__name__, data)
    matched = asyncio.run(both(NsOpen, "ns"))[0]
    assert matched == {"callback_data": NsOpen()}  # a class without fields packs to its prefix


def test_gates_list_exactly_their_handlers_prefixes() -> None:
    routers = flows.get_routers()
    gated = {r.name: r for r in routers if _gate(r) is not None}
    assert {"onboarding", "profile", "booking"} <= set(gated)
    for router in routers:
        gate = _gate(router)
        handlers = router.callback_query.handlers
        prefixes = {
            f.callback.prefix
            for h in handlers
            for f in h.filters or ()
            if isinstance(f.callback, PrefixFirstFilter)
        }
        if gate is not None:
            assert gate.prefixes == prefixes
        elif handlers:  # ungated: some handler takes a press without a prefix of ours
            assert any(
                not any(isinstance(f.callback, PrefixFirstFilter) for f in h.filters or ())
                for h in handlers
            ), router.name
    flows.get_routers()  # a second app: the gate is not added twice
    assert sum(isinstance(f.callback, flows.PrefixGate) for f in gated["booking"].callback_query._handler.filters or ()) == 1  # fmt: skip
    booking = _gate(gated["booking"])
    assert booking is not None
    assert asyncio.run(booking(_query("bt:3:4"))) is True
    assert asyncio.run(booking(_query("pf:edit:name"))) is False


def _gate(router: Any) -> flows.PrefixGate | None:
    found = [
        f.callback
        for f in router.callback_query._handler.filters or ()
        if isinstance(f.callback, flows.PrefixGate)
    ]
    return found[0] if found else None


def test_flat_post_init_keeps_the_bot_context() -> None:
    flat_post_init()
    hook = InlineKeyboardButton.model_post_init
    assert getattr(hook, "__wrapped__", None) is None  # one hook, not pydantic's chain
    assert InlineKeyboardButton(text="a", callback_data="b").bot is None
    update = Update.model_validate(
        {
            "update_id": 1,
            "message": {
                "message_id": 1,
                "date": int(datetime(2026, 12, 1, tzinfo=UTC).timestamp()),
                "chat": {"id": 1, "type": "private"},
                "text": "hi",
            },
        },
        context={"bot": "the bot"},
    )
    assert update.message is not None
    assert update.bot == update.message.bot == update.message.chat.bot == "the bot"
    assert update.message.model_copy().bot == "the bot"


@pytest.mark.parametrize(
    ("text", "data"),
    [("Терапевт", "bs:3"), ("10:30", "bt:1:2000000000"), ("‹", "x" * 64), ("1", "by:7:20261207:0")],
)
def test_checked_button_is_the_validated_button(text: str, data: str) -> None:
    from flows.ui.keyboards import button

    made = button(text, data)
    validated = InlineKeyboardButton(text=text, callback_data=data)
    assert made == validated
    assert made.__dict__ == validated.__dict__
    assert made.model_fields_set == validated.model_fields_set
    assert made.model_dump(exclude_unset=True) == validated.model_dump(exclude_unset=True)
    assert made.model_dump_json(exclude_none=True) == validated.model_dump_json(exclude_none=True)
    assert made.bot is None and made is not button(text, data)
    with pytest.raises(ValueError, match=r"1\.\.64 bytes"):
        button(text, "x" * 65)


def _all_callbacks() -> list[type[SafeCallback]]:
    import importlib
    import pkgutil

    import flows.ui

    for package in (flows, flows.ui):
        for module in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
            importlib.import_module(module.name)
    found: list[type[SafeCallback]] = []
    pending = list(SafeCallback.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        found.append(cls)
    return found


def _validated(cls: type[SafeCallback], **data: Any) -> SafeCallback:
    """What pydantic itself builds (BaseModel.__init__, not SafeCallback's fast path)."""
    made = object.__new__(cls)
    CallbackData.__init__(made, **data)
    return made


def _outcome(build: Any) -> Any:
    from pydantic import ValidationError

    try:
        made = build()
    except ValidationError as exc:
        return ("refused", [(e["loc"], e["type"]) for e in exc.errors()])
    return (
        "built",
        type(made),
        list(made.__dict__.items()),
        made.model_fields_set,
        made.__pydantic_extra__,
        made.__pydantic_private__,
        _packed(lambda: CallbackData.pack(made)),
        _packed(made.pack),
    )


def _packed(pack: Any) -> str:
    try:
        return str(pack())
    except ValueError as exc:
        return "refused: " + str(exc)[:20]


def test_callbacks_built_without_pydantic_are_the_validated_ones() -> None:
    """flows/ui/safe_callback.py ``SafeCallback.__init__``: every class of ours takes the
    fast path, and for good and bad values alike it gives what pydantic gives."""
    from flows.ui.safe_callback import _fast_fields

    classes = _all_callbacks()
    assert len(classes) > 50
    for cls in classes:
        fields = _fast_fields(cls)
        assert fields is not None, cls.__name__
        good = {n: (20261207 if n == "day" else 7) if k is int else "x" for n, k, _ in fields}
        variants: list[dict[str, Any]] = [good, {n: v for n, v in good.items() if n != "page"}]
        for name, kind, _default in fields:
            bad_values: list[Any] = (
                [-1, 2**31, 2**31 - 1, 0, True, "7", 7.0, 20261231, 20261232, None]
                if kind is int
                else ["", "y:z", 7, None, "é" * 20, "я" * 40]
            )
            variants += [{**good, name: value} for value in bad_values]
            variants.append({n: v for n, v in good.items() if n != name})
        variants.append({**good, "unknown": 1})
        for data in variants:
            ours = _outcome(lambda: cls(**data))  # noqa: B023
            theirs = _outcome(lambda: _validated(cls, **data))  # noqa: B023
            assert ours == theirs, (cls.__name__, data)
    assert BkDay.unpack("by:7:20261207:0") == BkDay(doctor_id=7, day=20261207)
    for forged in ("by:7:20261232:0", "by:-7:20261207:0", "by:7:20261207:2147483648"):
        with pytest.raises(ValueError):
            BkDay.unpack(forged)


def test_unpack_reads_presses_as_aiogram_does() -> None:
    """SafeCallback.unpack's own reading of plain numbers gives aiogram's result (or
    aiogram's refusal) for forged and odd presses of every class."""
    odd = [
        "",
        "0",
        "007",
        "1_0",
        " 5",
        "+5",
        "-5",
        "５",
        "2147483648",
        "99999999999",
        "x",
        "20261232",
    ]
    for cls in _all_callbacks():
        names = list(cls.model_fields)
        base = ["7" if n != "day" else "20261207" for n in names]
        presses = [cls.__prefix__, ":".join([cls.__prefix__, *base]), ":".join(["zz", *base])]
        presses.append(":".join([cls.__prefix__, *base, "1"]))
        for i in range(len(names)):
            for value in odd:
                parts = [*base]
                parts[i] = value
                presses.append(":".join([cls.__prefix__, *parts]))
        for press in presses:
            assert _unpacked(lambda: cls.unpack(press)) == _unpacked(  # noqa: B023
                lambda: CallbackData.unpack.__func__(cls, press)  # type: ignore[attr-defined]  # noqa: B023
            ), (cls.__name__, press)


def _unpacked(unpack: Any) -> Any:
    try:
        made = unpack()
    except (TypeError, ValueError) as exc:
        return ("refused", type(exc).__name__)
    return ("unpacked", type(made), list(made.__dict__.items()), made.model_fields_set)


def test_markups_built_without_pydantic_are_the_validated_ones() -> None:
    from aiogram.types import InlineKeyboardMarkup
    from pydantic import ValidationError

    from flows.ui.keyboards import button, inline, rows_markup

    rows = [
        [button(str(i), f"by:7:2026120{i % 9 + 1}:0") for i in range(9)],
        [button("‹", "bb:day")],
    ]
    for made in (rows_markup(rows), inline(rows)):
        validated = InlineKeyboardMarkup(inline_keyboard=[list(r) for r in made.inline_keyboard])
        assert made == validated
        assert made.__dict__ == validated.__dict__
        assert made.model_fields_set == validated.model_fields_set
        assert made.__pydantic_private__ == validated.__pydantic_private__
        assert made.model_dump_json(exclude_none=True) == validated.model_dump_json(
            exclude_none=True
        )
    assert [len(r) for r in rows_markup(rows).inline_keyboard] == [8, 1, 1]
    with pytest.raises(ValidationError):
        inline([[button("a", "b"), "not a button"]])  # type: ignore[list-item]
