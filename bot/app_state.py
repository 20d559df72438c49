"""What the composition root (bot/app.py) builds: the App and its periodic jobs.

Apart from bot/app.py so the modules build_app wires in (bot/scheduler.py,
bot/waitlist_job.py, bot/sources/wiring.py) can import these types at module
top while bot/app.py imports them: app → scheduler → app_state, no cycle.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from aiogram import Bot, Dispatcher
from aiogram.fsm.storage.base import BaseStorage
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.middlewares.pending_replies import HoldRepliesUntilCommit
from bot.middlewares.retry_after import RetryAfter429
from bot.settings import Settings
from domain.ports import Clock
from storage.crypto import PersonalDataCipher
from storage.uow import UnitOfWorkFactory

# A periodic job: called with "now" from the injected clock.
Job = Callable[[datetime], Awaitable[None]]


@dataclass
class ScheduledJob:
    name: str
    every_seconds: int
    run: Job


@dataclass
class App:
    settings: Settings
    clock: Clock
    engine: AsyncEngine
    cipher: PersonalDataCipher
    uow: UnitOfWorkFactory
    i18n: I18n
    storage: BaseStorage
    dispatcher: Dispatcher
    jobs: list[ScheduledJob] = field(default_factory=list)
    bot: Bot | None = None  # the Bot jobs send through (set by attach_bot)
    # Closed first by close(), in order: what the wiring opened (issue 11: the Gorzdrav
    # client and fake, added by bot/sources/wiring.py).
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    def attach_bot(self, bot: Bot) -> Bot:
        """Every Bot that serves this app must go through here: replies wait for the
        update's commit (HoldRepliesUntilCommit), a 429 waits and repeats (RetryAfter429)."""
        self.bot = bot
        installed = bot.session.middleware._middlewares
        if not any(isinstance(m, RetryAfter429) for m in installed):
            bot.session.middleware(RetryAfter429())  # a 429 waits and repeats, bounded
        if not any(isinstance(m, HoldRepliesUntilCommit) for m in installed):
            bot.session.middleware(HoldRepliesUntilCommit())
        return bot

    async def close(self) -> None:
        for closer in self.closers:
            await closer()
        await self.storage.close()
        await self.engine.dispose()
