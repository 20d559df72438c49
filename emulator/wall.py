"""The emulated world's wall clock: real time plus every pacing wait it skipped.

The bot paces what it sends (bot/ratelimit.py: one message a second to a chat,
30 a second overall) on a monotonic clock, and the emulator's own limits
(emulator/ratelimit.py), when switched on, judge the sends on one too. Offline
nobody is on the other end, so a pacing wait need not pass in real time: it
moves this clock forward at once instead. Both sides read the same clock, so the
emulator still sees the sends spaced as the bot spaced them, and a booking's
confirmation with its two files no longer costs a console script two real
seconds. Real time still counts too (a 429's real wait moves it as well).

Production never uses this: the live bot paces on ``time.monotonic`` and
``asyncio.sleep``.
"""

from __future__ import annotations

import asyncio
import time


class SimulatedWall:
    def __init__(self) -> None:
        self.skipped = 0.0  # seconds of waiting skipped so far

    def monotonic(self) -> float:
        return time.monotonic() + self.skipped

    async def sleep(self, seconds: float) -> None:
        """Skip the wait; still let the other tasks run, as a real wait would."""
        if seconds > 0:
            self.skipped += seconds
        await asyncio.sleep(0)
