"""``python -m emulator --source gorzdrav``: region spb booked through the fake Gorzdrav.

In the emulator package (not bot/sources/): only the console uses it, and bot never
imports the emulator (the layer contract in pyproject.toml).
"""

from __future__ import annotations

from typing import Any

from bot.sources.wiring import start_sources
from emulator.harness import ConsoleWorld


def source_overrides(source: str | None) -> dict[str, Any] | None:
    """Settings for the console: the recorded fake on loopback, one clinic (ГП №87)."""
    if source != "gorzdrav":
        return None
    gorzdrav = {"fake": True, "clinics": ["44"], "mirror_minutes": 60}  # !clock +1d: 24 runs
    return {"sources": {"spb": "gorzdrav"}, "gorzdrav": gorzdrav}


async def start_console_sources(world: ConsoleWorld) -> None:
    report = await start_sources(world.world.app, world.clock.now())
    if report is not None:
        print(report.line(), flush=True)
