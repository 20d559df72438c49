"""flows/navigation.py: which steps another section's button ends (the one table)."""

from __future__ import annotations

from typing import Any

from aiogram.fsm.state import StatesGroup

import flows
from flows import navigation


def test_every_dialogue_state_is_typed_or_a_button_step() -> None:
    """A new StatesGroup must say whether another section's button ends it."""
    flows.get_routers()  # imports every flow module
    known = {group for group, _routers in navigation.TYPED_STEPS} | set(navigation.BUTTON_STEPS)

    def groups(cls: type[Any]) -> list[type[StatesGroup]]:
        return [g for sub in cls.__subclasses__() for g in (sub, *groups(sub))]

    ours = {g for g in groups(StatesGroup) if g.__module__.startswith("flows.")}
    assert ours and ours <= known, ours - known


def test_a_press_keeps_only_its_own_steps() -> None:
    assert navigation.continues_step("AddRelative:full_name", "family_add")
    assert not navigation.continues_step("AddRelative:full_name", "support")
    assert navigation.continues_step("BookingStates:day", "support")  # a button step
    assert navigation.continues_step(None, "support")
