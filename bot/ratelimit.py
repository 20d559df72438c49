"""Outgoing rate limiter: 30 messages a second overall, one a second per chat.

Used by the notifier so a broadcast never earns a 429 in the first place
(Telegram's limits: about 30 messages/s to different chats, about one per
second to the same chat). A 429 that still arrives pauses *all* sending for
``retry_after`` (Telegram counts the flood per bot, not per chat).

Time and sleep are injected so tests run on a fake clock in no wall time.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

# A little slack over one second: our clock and the server's do not tick together.
WINDOW_SLACK = 0.05


class RateLimiter:
    def __init__(
        self,
        overall_per_second: int = 30,
        per_chat_interval: float = 1.0,
        *,
        enabled: bool = True,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.overall = overall_per_second
        self.per_chat_interval = per_chat_interval
        self.enabled = enabled
        self._now = monotonic
        self._sleep = sleep
        self._window: deque[float] = deque()
        self._chat_next: dict[int, float] = {}
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    async def acquire(self, chat_id: int) -> None:
        """Wait until one more message to ``chat_id`` keeps within both limits."""
        now = self._now()
        if not self.enabled:
            if self._paused_until > now:  # a 429 is honoured even with pacing off
                await self._sleep(self._paused_until - now)
            return
        # Reserve this chat's next turn before waiting, so concurrent senders queue up.
        turn = max(now, self._chat_next.get(chat_id, 0.0))
        self._chat_next[chat_id] = turn + self.per_chat_interval
        if turn > now:
            await self._sleep(turn - now)
        async with self._lock:
            while True:
                now = self._now()
                if self._paused_until - now > 1e-6:
                    await self._sleep(self._paused_until - now)
                    continue
                span = 1.0 + WINDOW_SLACK
                while self._window and self._window[0] <= now - span:
                    self._window.popleft()
                if len(self._window) >= self.overall:
                    wait = self._window[0] + span - now
                    if wait > 0:
                        await self._sleep(wait)
                    self._window.popleft()  # the oldest send has left the window
                    continue
                self._window.append(now)
                break
        if len(self._chat_next) > 10_000:
            self._forget_idle_chats()

    def pause(self, seconds: float) -> None:
        """A 429 arrived: nobody sends for ``seconds``."""
        self._paused_until = max(self._paused_until, self._now() + seconds)

    def _forget_idle_chats(self) -> None:
        now = self._now()
        for chat, nxt in list(self._chat_next.items()):
            if nxt <= now:
                del self._chat_next[chat]
