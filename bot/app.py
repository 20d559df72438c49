"""Composition root: the only place that builds settings, engine, Dispatcher and jobs."""

from __future__ import annotations

import gc
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from aiogram import Dispatcher, Router
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from sqlalchemy.ext.asyncio import AsyncEngine

# Re-exported: callers import the App and its job types from the composition root.
from bot.app_state import App as App
from bot.app_state import Job as Job
from bot.app_state import ScheduledJob as ScheduledJob
from bot.errors import make_error_handler
from bot.i18n import ZapisI18nMiddleware, build_i18n
from bot.inline_filters import inline_magic_filters
from bot.middlewares.chat_guard import PrivateChatsOnly
from bot.middlewares.database import DatabaseMiddleware
from bot.middlewares.fsm_state import read_state_later
from bot.middlewares.throttling import ThrottlingMiddleware
from bot.middlewares.update_attempt import UpdateAttempt
from bot.policy import policy_from
from bot.ratelimit import RateLimiter
from bot.scheduler import register_jobs
from bot.settings import ConfigError, Settings
from bot.sources.wiring import attach_sources
from documents.certificate import certificate_pdf
from domain.ports import Clock
from flows import get_routers
from flows.press_table import route_presses_by_prefix
from storage.crypto import PersonalDataCipher
from storage.db import create_engine
from storage.fsm import DatabaseStorage
from storage.uow import UnitOfWorkFactory
from storage.update_once import OnceInProcess

log = logging.getLogger("zapis")


def resolve_encryption_key(settings: Settings, dev_key_file: Path | None = None) -> str:
    """The configured key; in dev modes (console, tests) a key kept next to the data."""
    if settings.encryption_key is not None:
        return settings.encryption_key.get_secret_value()
    if dev_key_file is None:
        raise ConfigError(
            "configuration error: ZAPIS_ENCRYPTION_KEY is required "
            "(generate one: python -m bot gen-key)"
        )
    if dev_key_file.exists():
        return dev_key_file.read_text().strip()
    dev_key_file.parent.mkdir(parents=True, exist_ok=True)
    key = PersonalDataCipher.generate_key()
    dev_key_file.write_text(key)
    dev_key_file.chmod(0o600)
    return key


def build_storage(
    settings: Settings, engine: AsyncEngine, cipher: PersonalDataCipher
) -> tuple[BaseStorage, BaseEventIsolation]:
    """Dialogue state: Redis when configured (several processes), else our database.

    In both the dialogue data is encrypted like other personal data, since a
    half-finished onboarding holds what the user typed so far.
    """
    if settings.redis_url:
        from aiogram.fsm.storage.base import DefaultKeyBuilder

        from storage.chat_lock import ChatLock
        from storage.fsm_redis import buffered_redis_storage

        # One read and one write per update, applied after the commit; a chat lock whose
        # lease outlives no crash for long (storage/fsm_redis.py, storage/chat_lock.py, issue 12).
        keys = DefaultKeyBuilder(with_bot_id=True, with_destiny=True)
        redis_storage = buffered_redis_storage(settings.redis_url, keys, cipher)
        return redis_storage, ChatLock(redis_storage.redis, keys, storage=redis_storage)
    return DatabaseStorage(engine, cipher=cipher), OnceInProcess()


def build_app(
    settings: Settings,
    clock: Clock,
    *,
    encryption_key: str,
    engine: AsyncEngine | None = None,
    throttling: bool = True,
    pacing: RateLimiter | None = None,
) -> App:
    """``pacing``: what the notifier's sends wait on (default: Telegram's limits on the
    real clock; the offline console's on its simulated wall, emulator/wall.py)."""
    engine = engine or create_engine(
        settings.database_url, inloop=settings.sqlite_driver == "inloop"
    )
    cipher = PersonalDataCipher(encryption_key)
    uow = UnitOfWorkFactory(engine, cipher)
    i18n = build_i18n(settings.default_locale)
    storage, isolation = build_storage(settings, engine, cipher)
    dp = Dispatcher(
        storage=storage,
        events_isolation=isolation,
        settings=settings,
        clock=clock,
        uow_factory=uow,
        cipher=cipher,
        policy=policy_from(settings),
        certificate_pdf=certificate_pdf,  # flows/certificates.py: the issued certificate's PDF
    )
    read_state_later(dp)  # the dialogue state is read in the unit of work (fsm_state.py)
    if throttling:
        dp.update.outer_middleware(
            ThrottlingMiddleware(settings.limits.throttle_per_second, i18n=i18n)
        )
    dp.update.outer_middleware(PrivateChatsOnly(i18n, clock, uow))  # before any personal data
    # An update is attempted again when its connection died before the commit; its
    # dialogue writes (Redis) land after the commit (bot/middlewares/update_attempt.py).
    dp.update.outer_middleware(UpdateAttempt(engine, storage))
    dp.update.outer_middleware(DatabaseMiddleware(uow, settings))
    ZapisI18nMiddleware(i18n).setup(dp)
    # Domain refusals are answered by the flows' errors router (flows/refusals.py); what
    # nobody answered falls to the last line of defence, in a router after all of them.
    unexpected = Router(name="unexpected-errors")
    unexpected.errors.register(make_error_handler(i18n))
    dp.include_routers(*get_routers(), unexpected)
    route_presses_by_prefix(dp)  # a press skips the routers and handlers its prefix rules out
    inline_magic_filters([dp])  # F filters checked in the loop, not in a thread
    app = App(
        settings=settings,
        clock=clock,
        engine=engine,
        cipher=cipher,
        uow=uow,
        i18n=i18n,
        storage=storage,
        dispatcher=dp,
    )
    dp["app"] = app
    register_jobs(app, pacing)  # the notifier and wait-list jobs (bot/scheduler.py)
    attach_sources(app)  # issue 11: a region whose schedule another system owns
    return app


if TYPE_CHECKING:  # storage's unit of work is the one the flows type against (mypy checks)
    from domain.ports import UnitOfWork
    from storage.uow import SqlUnitOfWork

    def _satisfies(uow: SqlUnitOfWork) -> UnitOfWork:
        return uow


def settle_heap() -> None:
    """Collect once, then move every object alive at start-up out of the collector's sight.

    A bot process's start-up leaves a large heap that lives as long as the process
    (aiogram's types, SQLAlchemy's tables, the directory cache, translations); the
    cyclic collector would scan all of it again in every older-generation collection
    while updates run (``gc.freeze``, as the Python docs advise after start-up).
    Called once by a process that serves updates (bot/live.py ``prepare_app``; the test
    suite reaches it only through tests/flows/test_live.py). Frozen objects are still
    freed by reference counting; only a cycle among them, once garbage, stays.
    """
    gc.collect()
    gc.freeze()
