"""Run modes behind the CLI; each builds the app through bot.app and nothing else."""

from __future__ import annotations

import argparse
import logging
from datetime import UTC, datetime

from bot.settings import load_settings, require
from bot.startup import step

DATABASE_STEP = "cannot use the database (ZAPIS_DATABASE_URL)"


async def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    logging.getLogger().setLevel(settings.log_level)  # ZAPIS_LOG_LEVEL
    if args.command == "migrate":
        from storage.db import create_engine
        from storage.migrate import upgrade

        engine = create_engine(settings.database_url, inloop=settings.sqlite_driver == "inloop")
        key = settings.encryption_key.get_secret_value() if settings.encryption_key else None
        try:
            async with step(DATABASE_STEP):
                await upgrade(engine, encryption_key=key)
        finally:
            await engine.dispose()
        print("migrations applied")
        return 0
    if args.command == "seed-demo":
        from storage.db import create_engine
        from storage.demo import seed_demo
        from storage.migrate import upgrade

        engine = create_engine(settings.database_url, inloop=settings.sqlite_driver == "inloop")
        key = settings.encryption_key.get_secret_value() if settings.encryption_key else None
        try:
            async with step(DATABASE_STEP):
                await upgrade(engine, encryption_key=key)
        except BaseException:
            await engine.dispose()
            raise
        now = datetime.fromisoformat(args.now) if args.now else datetime.now(UTC)
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        from bot.app import resolve_encryption_key
        from storage.crypto import PersonalDataCipher

        key = resolve_encryption_key(settings)
        created = await seed_demo(engine, PersonalDataCipher(key), now)
        await engine.dispose()
        print("demo world loaded" if created else "database already has data; left as it is")
        return 0
    if args.command == "cluster":  # issue 12: N webhook processes behind one address
        from bot.cluster.launcher import run_cluster

        return await run_cluster(settings, args)
    if args.command in ("polling", "webhook"):
        require(settings, "bot_token", "encryption_key")
        from bot import live

        if args.command == "polling":
            return await live.run_polling(settings)
        require(settings, "webhook")
        return await live.run_webhook(settings)
    raise SystemExit(f"unknown command {args.command}")
