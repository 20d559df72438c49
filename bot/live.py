"""Run modes against real Telegram: long polling and an aiohttp webhook server.

Both modes share one start-up path (`_start`): migrations first, then the
application from bot.app, then the Bot with HTML as the default parse mode.
The encryption key is mandatory here — unlike the console there is no dev key
file to fall back on, because personal data written under a throwaway key
would be unreadable after the next deploy.

Webhook security: Telegram repeats the secret given to setWebhook in the
``X-Telegram-Bot-Api-Secret-Token`` header of every request. We compare it in
constant time (`hmac.compare_digest` over bytes, so a non-ASCII header cannot
raise) and answer 401 before the body is even read — a forged request never
reaches the Dispatcher. aiogram's SimpleRequestHandler does the routing and
the reply; we only replace its check, which lets an empty secret through (the
handler and the answer's body: bot/webhook_server.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import re
import signal

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.types import BotCommand, BotCommandScopeDefault
from aiogram.utils.i18n import gettext as _
from aiogram.utils.token import TokenValidationError
from aiohttp import web

from bot.api_session import JsonBodySession
from bot.app import App, build_app, resolve_encryption_key, settle_heap
from bot.clock import SystemClock
from bot.lean_types import warm_up
from bot.scheduler import RunningJobs, start_scheduler
from bot.settings import ConfigError, Settings, StartupError
from bot.startup import step
from bot.webhook_server import (  # re-exported: tests and callers import them from here
    SECRET_HEADER as SECRET_HEADER,
)
from bot.webhook_server import ReplyInWebhookAnswer as ReplyInWebhookAnswer
from bot.webhook_server import SecretTokenRequestHandler as SecretTokenRequestHandler
from bot.webhook_server import WebhookReply as WebhookReply
from bot.webhook_server import _webhook_reply as _webhook_reply
from bot.webhook_server import build_webhook_app as build_webhook_app
from bot.webhook_server import health_problem as health_problem
from storage.crypto import PersonalDataCipher
from storage.keycheck import KeyMismatch, check_encryption_key

log = logging.getLogger("zapis.live")

TELEGRAM_STEP = "cannot reach Telegram (check ZAPIS_BOT_TOKEN and the network)"
# Telegram's own rule for setWebhook's secret_token.
SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
LOCALES = ("ru", "en")


def N_(message: str) -> str:
    """Marks a message id for extraction; it is translated later, per language, with _()."""
    return message


# (command, English description msgid); descriptions are translated per language below.
COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", N_("Start or continue registration")),
    ("menu", N_("Main menu")),
    ("delete_me", N_("Delete my personal data")),
)


def webhook_url(settings: Settings) -> str:
    return settings.webhook.base_url.rstrip("/") + "/" + settings.webhook.path.lstrip("/")


def check_webhook_settings(settings: Settings) -> str:
    """The secret, after checking everything webhook mode needs; one clear line otherwise."""
    hook = settings.webhook
    local_api = settings.telegram_api_url is not None and hook.base_url.startswith("http://")
    if not (hook.base_url.startswith("https://") or local_api):
        raise ConfigError(
            "configuration error: ZAPIS_WEBHOOK__BASE_URL must be the public https:// address "
            "Telegram will call, e.g. https://bot.example.org"
        )
    secret = hook.secret_token.get_secret_value() if hook.secret_token else ""
    if not SECRET_RE.fullmatch(secret):
        raise ConfigError(
            "configuration error: ZAPIS_WEBHOOK__SECRET_TOKEN is required: "
            "1-256 characters A-Z, a-z, 0-9, _ and -"
        )
    if not hook.path.startswith("/"):
        raise ConfigError("configuration error: ZAPIS_WEBHOOK__PATH must start with /")
    return secret


def allowed_updates(dp: Dispatcher) -> list[str]:
    """The kinds our handlers use, and my_chat_member: seen by a middleware, not a handler
    (blocked/unblocked in a private chat, added to a group — bot/middlewares/chat_guard.py)."""
    return sorted({*dp.resolve_used_update_types(), "my_chat_member"})


def make_bot(settings: Settings) -> Bot:
    if settings.bot_token is None or not settings.bot_token.get_secret_value():
        raise ConfigError("configuration error: ZAPIS_BOT_TOKEN is required for this mode")
    # JSON bodies (bot/api_session.py); a local Bot API server (or the cluster's emulator)
    # when ZAPIS_TELEGRAM_API_URL is set.
    session = JsonBodySession()
    if settings.telegram_api_url:
        session = JsonBodySession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    try:
        return Bot(
            settings.bot_token.get_secret_value(),
            session=session,
            default=DefaultBotProperties(parse_mode=ParseMode.HTML),
        )
    except TokenValidationError:
        raise ConfigError(
            "configuration error: ZAPIS_BOT_TOKEN: not a Bot API token (123456:ABC-DEF…)"
        ) from None


async def prepare_app(settings: Settings) -> App:
    """Migrate the database, then build the application (encryption key required)."""
    from storage.db import create_engine
    from storage.migrate import upgrade

    key = resolve_encryption_key(settings)  # no dev key file: ConfigError when unset
    try:
        cipher = PersonalDataCipher(key)
    except ValueError:
        raise ConfigError(
            "configuration error: ZAPIS_ENCRYPTION_KEY: not a Fernet key "
            "(generate one: python -m bot gen-key)"
        ) from None
    # No ping at each checkout (three round trips on PostgreSQL, ~a third of an update's):
    # an update whose connection was dropped (a restart, pg_terminate_backend) runs again
    # on a fresh one (bot/middlewares/update_attempt.py), and SQLAlchemy replaces every
    # pooled connection at the first such error; a job's tick that meets one is retried
    # at its next tick.
    engine = create_engine(
        settings.database_url, inloop=settings.sqlite_driver == "inloop", pre_ping=False
    )
    try:
        async with step("cannot use the database (ZAPIS_DATABASE_URL)"):
            await upgrade(engine, encryption_key=key)
            try:
                await check_encryption_key(engine, cipher)
            except KeyMismatch:
                raise StartupError(
                    "start-up error: ZAPIS_ENCRYPTION_KEY is not the key this database was "
                    "written with; refusing to start (personal data would be unreadable)"
                ) from None
        app = build_app(settings, SystemClock(), encryption_key=key, engine=engine)
        redis = getattr(app.storage, "redis", None)
        if redis is not None:
            async with step("cannot reach Redis (ZAPIS_REDIS_URL)"):
                await redis.ping()
        from bot.sources.wiring import start_sources

        await start_sources(app, app.clock.now())  # issue 11: mirror a remote region first
        from bot.cli.staff_load import merge_db_staff

        await merge_db_staff(app)  # issue 11: python -m bot staff add …
        warm_up()  # the hot aiogram models built now, not in the first users' updates
        settle_heap()  # the start-up heap out of the cyclic collector's scans
        tune_collector()
        return app
    except BaseException:
        await engine.dispose()
        raise


# The cyclic collector's thresholds in a serving process (Python's are 700, 10, 10).
# An update allocates tens of thousands of container objects, nearly all freed by
# reference counting when it ends; at 700 the young generation was collected ~100
# times per hundred updates and what an update in flight still held was promoted,
# so the old generation filled and was scanned whole (a pause of every update in
# the process) every ~150 updates. Measured on bench/cluster.py (one process,
# 1,200 updates): 1,129 / 102 / 9 collections and ~7 % of the process's CPU at
# 700, 10, 10; 52 / 4 / 1 and ~3 % at these. Cycles are still collected, later.
GC_THRESHOLDS = (10_000, 10, 10)


def tune_collector() -> None:
    """Fewer, larger young collections in a process that serves updates (GC_THRESHOLDS)."""
    gc.set_threshold(*GC_THRESHOLDS)


async def set_commands(app: App, bot: Bot) -> None:
    """The command menu in each language; Telegram picks by the user's app language."""
    for locale in LOCALES:
        with app.i18n.context(), app.i18n.use_locale(locale):
            commands = [BotCommand(command=c, description=_(d)) for c, d in COMMANDS]
        await bot.set_my_commands(commands, scope=BotCommandScopeDefault(), language_code=locale)
    with app.i18n.context(), app.i18n.use_locale(app.i18n.default_locale):
        default = [BotCommand(command=c, description=_(d)) for c, d in COMMANDS]
    await bot.set_my_commands(default, scope=BotCommandScopeDefault())


async def run_polling(settings: Settings) -> int:
    bot = make_bot(settings)
    app = await prepare_app(settings)
    app.attach_bot(bot)
    jobs: RunningJobs | None = None
    try:
        async with step(TELEGRAM_STEP):
            await bot.delete_webhook(drop_pending_updates=False)
            await set_commands(app, bot)
            me = await bot.get_me()
        jobs = start_scheduler(app, bot)
        log.info("polling as @%s", me.username)
        dp = app.dispatcher
        await dp.start_polling(bot, allowed_updates=allowed_updates(dp))
        return 0
    finally:
        if jobs is not None:
            await jobs.stop()
        await app.close()
        await bot.session.close()


async def run_webhook(settings: Settings) -> int:
    secret = check_webhook_settings(settings)
    bot = make_bot(settings)
    app = await prepare_app(settings)
    app.attach_bot(bot)
    jobs: RunningJobs | None = None
    runner: web.AppRunner | None = None
    try:
        dp = app.dispatcher
        async with step(TELEGRAM_STEP):
            await bot.set_webhook(
                webhook_url(settings),
                secret_token=secret,
                allowed_updates=allowed_updates(dp),
            )
            await set_commands(app, bot)
        jobs = start_scheduler(app, bot)
        background = not settings.webhook.answer_after_processing
        runner = web.AppRunner(
            build_webhook_app(app, bot, secret, handle_in_background=background),
            access_log=None,
        )
        await runner.setup()
        host, port = settings.webhook.host, settings.webhook.port
        async with step(f"cannot listen on {host}:{port} (ZAPIS_WEBHOOK__HOST, __PORT)"):
            await web.TCPSite(runner, host, port).start()
        shared = settings.webhook.shared_port
        if shared is not None:
            async with step(f"cannot listen on {host}:{shared} (ZAPIS_WEBHOOK__SHARED_PORT)"):
                await web.TCPSite(runner, host, shared, reuse_port=True).start()
        log.info(
            "webhook listening on %s:%s%s",
            settings.webhook.host,
            settings.webhook.port,
            settings.webhook.path,
        )
        await _wait_for_signal()
        return 0
    finally:
        if jobs is not None:
            await jobs.stop()
        if runner is not None:
            await runner.cleanup()  # closes the bot session via the request handler
        await app.close()
        await bot.session.close()


async def _wait_for_signal() -> None:
    """Sleep until SIGINT/SIGTERM (docker stop sends SIGTERM)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()
