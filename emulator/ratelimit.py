"""Telegram's broadcast limits as token buckets (off unless switched on).

Telegram allows about 30 messages a second overall and about one a second to
one chat sustained (a short burst passes). Breaking either is answered with
429 and ``retry_after``; the notifier must honour it, so the emulator can
produce it for real.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Bucket:
    rate: float  # tokens per second
    capacity: float
    tokens: float = -1.0
    stamp: float = 0.0

    def take(self, now: float) -> float:
        """Take one token; 0.0 when allowed, else the seconds until one is available."""
        if self.tokens < 0:
            self.tokens, self.stamp = self.capacity, now
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate


@dataclass
class RateLimiter:
    overall_per_second: float = 30.0
    per_chat_per_second: float = 1.0
    per_chat_burst: float = 3.0
    monotonic: Callable[[], float] = time.monotonic
    _overall: Bucket | None = None
    _chats: dict[int, Bucket] = field(default_factory=dict)

    def check(self, chat_id: int) -> int:
        """0 when the message may go, else retry_after in whole seconds (at least 1)."""
        now = self.monotonic()
        if self._overall is None:
            self._overall = Bucket(self.overall_per_second, self.overall_per_second)
        chat = self._chats.setdefault(
            chat_id, Bucket(self.per_chat_per_second, self.per_chat_burst)
        )
        # Peek the chat bucket first so a refused message costs no overall token.
        wait = chat.take(now)
        if wait > 0:
            return max(1, math.ceil(wait))
        wait = self._overall.take(now)
        if wait > 0:
            chat.tokens += 1.0  # give the chat token back
            return max(1, math.ceil(wait))
        return 0
