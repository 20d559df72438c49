"""A dispatcher process for the durability test: sends every due row to an HTTP emulator.

    python -m tests.storage.outbox_child DB_URL API_URL TOKEN WORKER_ID [GO_FILE]

Runs the real Notifier on the system clock until no pending rows are left.
The test kills it with SIGKILL in the middle of a batch and starts another.
With GO_FILE the process imports everything, then waits for that file to
exist before dispatching (so the restart is not slowed by imports).
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime, timedelta

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot.i18n import build_i18n
from bot.notifier import Notifier
from bot.ratelimit import RateLimiter
from storage.crypto import PersonalDataCipher
from storage.db import create_engine
from storage.uow import UnitOfWorkFactory
from tests.conftest import TEST_KEY

LEASE_SECONDS = 2.0
CONCURRENCY = 4  # the durability test checks at most this many rows go out twice


async def main(db_url: str, api_url: str, token: str, worker: str, go_file: str = "") -> None:
    if go_file:
        from pathlib import Path

        while not Path(go_file).exists():
            await asyncio.sleep(0.01)
    engine = create_engine(db_url)
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_url))
    bot = Bot(token, session=session)
    notifier = Notifier(
        uow_factory=UnitOfWorkFactory(engine, PersonalDataCipher(TEST_KEY)),
        i18n=build_i18n("ru"),
        bot=bot,
        limiter=RateLimiter(overall_per_second=400, per_chat_interval=0.0),
        worker_id=worker,
        lease=timedelta(seconds=LEASE_SECONDS),
        batch_size=200,
        concurrency=CONCURRENCY,
    )
    try:
        while True:
            await notifier.run(datetime.now(UTC))
            async with notifier.uow_factory() as uow:
                if (await uow.outbox.counts()).get("pending", 0) == 0:
                    break
            await asyncio.sleep(0.2)
    finally:
        await session.close()
        await engine.dispose()
    print("done", flush=True)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:6]))
