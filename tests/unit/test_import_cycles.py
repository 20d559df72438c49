"""Issue 8.5: the import cycles once hidden by imports inside functions stay broken.

Each pair imported the other (one direction at module top, the other inside a
function or under TYPE_CHECKING). grimp builds the whole import graph of our
five packages, function-level and TYPE_CHECKING imports included, so a cycle
that comes back by either door fails here. The layer rule itself is checked by
``lint-imports`` (./dev.sh test) against the contract in pyproject.toml.
"""

from __future__ import annotations

import grimp
import pytest

PAIRS = [
    ("bot.app", "bot.scheduler"),
    ("bot.scheduler", "bot.waitlist_job"),
    ("bot.app", "bot.sources.wiring"),
    ("flows.staff", "flows.staff_move"),
    ("emulator.core", "emulator.methods"),
    ("emulator.core", "emulator.groups"),
]


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("emulator", "bot", "flows", "storage", "domain", cache_dir=None)


@pytest.mark.parametrize(("upper", "lower"), PAIRS)
def test_no_import_cycle_between(graph: grimp.ImportGraph, upper: str, lower: str) -> None:
    assert graph.find_shortest_chain(importer=lower, imported=upper) is None


def test_storage_does_not_import_the_emulator(graph: grimp.ImportGraph) -> None:
    """The emulator's persistence once lived in storage/ and imported the emulator."""
    assert graph.find_shortest_chain(importer="storage", imported="emulator") is None
