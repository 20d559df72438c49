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
the reply; we only replace its check, which lets an empty secret through.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import re
import signal
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramAPIError
from aiogram.methods import AnswerCallbackQuery, Response, TelegramMethod
from aiogram.types import BotCommand, BotCommandScopeDefault, Update
from aiogram.utils.i18n import gettext as _
from aiogram.utils.token import TokenValidationError
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web
from aiohttp.payload import JsonPayload, Payload
from sqlalchemy import text

from bot.app import App, build_app, resolve_encryption_key, settle_heap
from bot.calendar_route import add_calendar_route
from bot.clock import SystemClock
from bot.errors import log_unprocessable
from bot.lean_types import warm_up
from bot.middlewares.pending_replies import pending_replies
from bot.scheduler import RunningJobs, start_scheduler
from bot.settings import ConfigError, Settings, StartupError
from bot.startup import step
from storage.crypto import PersonalDataCipher
from storage.keycheck import KeyMismatch, check_encryption_key

log = logging.getLogger("zapis.live")

TELEGRAM_STEP = "cannot reach Telegram (check ZAPIS_BOT_TOKEN and the network)"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
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


@dataclass
class WebhookReply:
    """The update's last reply, when it is an answerCallbackQuery: sent in the body of
    the webhook's 200 instead of a request of its own (see ReplyInWebhookAnswer)."""

    method: TelegramMethod[Any] | None = None
    open: bool = True


_webhook_reply: ContextVar[WebhookReply | None] = ContextVar("zapis_webhook_reply", default=None)


class ReplyInWebhookAnswer(BaseRequestMiddleware):
    """Telegram executes a Bot API method given in the body of the webhook's answer, as
    if the bot had called it: one HTTP request less per pressed button, on both sides.

    Only an answerCallbackQuery is kept back, and only while it is the *last* reply:
    replies go out after the update's commit (bot/middlewares/pending_replies.py), so
    when the handler's queue is flushed each method passes here; an answerCallbackQuery
    is held, and any method after it sends the held one first — the order the handler
    sent them in is kept. The held one travels in the 200 that is given after the
    commit, so it is exactly as durable as the request it replaces (a process killed
    before that answer leaves the whole update to Telegram's retry, as before). What
    Telegram answers to it is not learnt: no handler reads it (it stops the button's
    spinner or shows a short notice), and its usual refusal — a query over 15 s old —
    used to reach the errors handler only for its apology, itself an answer to the
    same expired query, to be refused in turn."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[Any],
        bot: Bot,
        method: TelegramMethod[Any],
    ) -> Response[Any]:
        slot = _webhook_reply.get()
        if slot is None or not slot.open or pending_replies() is not None:
            return await make_request(bot, method)
        if slot.method is not None:  # something follows the held answer: it goes first
            held, slot.method = slot.method, None
            try:
                await make_request(bot, held)
            except TelegramAPIError as exc:
                log.warning("reply %s refused: %s", held.__api_method__, exc)
        if isinstance(method, AnswerCallbackQuery):
            slot.method = method
            return True  # type: ignore[return-value]  # what Telegram answers to it
        return await make_request(bot, method)


class SecretTokenRequestHandler(SimpleRequestHandler):
    """SimpleRequestHandler whose secret check never passes an empty secret."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        bot: Bot,
        secret_token: str,
        *,
        max_in_flight: int = 8,
        **kwargs: Any,
    ) -> None:
        if not secret_token:
            raise ConfigError("configuration error: ZAPIS_WEBHOOK__SECRET_TOKEN is required")
        super().__init__(dispatcher, bot, secret_token=secret_token, **kwargs)
        self._secret = secret_token.encode()
        # ZAPIS_WEBHOOK__MAX_IN_FLIGHT (bot/settings.py): the others wait here, before
        # their chat's lock and a database connection are taken.
        self._gate = asyncio.Semaphore(max_in_flight)

    def verify_secret(self, telegram_secret_token: str, bot: Bot) -> bool:
        given = telegram_secret_token.encode("utf-8", "surrogateescape")
        return hmac.compare_digest(given, self._secret)

    # An update we cannot parse or process is answered 200 (a 500 makes Telegram
    # send it again, forever) and logged once with an error id; the next goes on.

    async def _read(self, bot: Bot, request: web.Request) -> Update | None:
        raw: Any = None
        try:
            raw = await request.json(loads=bot.session.json_loads)
            return Update.model_validate(raw, context={"bot": bot})
        except (ValueError, TypeError) as exc:  # bad JSON, pydantic's ValidationError
            log_unprocessable(raw, exc, what="cannot parse")
            return None

    async def _process(self, bot: Bot, update: Update) -> TelegramMethod[Any] | None:
        try:
            result = await self.dispatcher.feed_update(bot, update, **self.data)
        except Exception as exc:  # the error handler did not take it (e.g. it failed itself)
            log_unprocessable(update.model_dump(), exc, what="cannot process")
            return None
        return result if isinstance(result, TelegramMethod) else None

    async def _handle_request(self, bot: Bot, request: web.Request) -> web.Response:
        update = await self._read(bot, request)
        result = None
        if update is not None:
            reply = WebhookReply()
            token = _webhook_reply.set(reply)
            try:
                async with self._gate:
                    result = await self._process(bot, update)
            finally:
                reply.open = False  # a task the update left behind sends on its own
                _webhook_reply.reset(token)
            if result is None:
                result = reply.method
            elif reply.method is not None:  # the handler returned a method: that one goes last
                await self.dispatcher.silent_call_request(bot=bot, result=reply.method)
        return web.Response(body=self._build_response_writer(bot=bot, result=result))

    def _build_response_writer(self, bot: Bot, result: TelegramMethod[Any] | None) -> Payload:
        """A method in the answer as JSON (Telegram takes a JSON body as a request's);
        aiogram's multipart only when it carries a file."""
        if result is None:
            return JsonPayload({})
        files: dict[str, Any] = {}
        body: dict[str, Any] = {"method": result.__api_method__}
        for key, value in result.model_dump(warnings=False).items():
            prepared = bot.session.prepare_value(value, bot=bot, files=files, _dumps_json=False)
            if prepared is not None:
                body[key] = prepared
        if files:
            return super()._build_response_writer(bot, result)
        return JsonPayload(body, dumps=bot.session.json_dumps)

    async def _handle_request_background(self, bot: Bot, request: web.Request) -> web.Response:
        update = await self._read(bot, request)
        if update is not None:
            task = asyncio.create_task(self._background(bot, update))
            self._background_feed_update_tasks.add(task)
            task.add_done_callback(self._background_feed_update_tasks.discard)
        return web.json_response({}, dumps=bot.session.json_dumps)

    async def _background(self, bot: Bot, update: Update) -> None:
        result = await self._process(bot, update)
        if result is not None:
            await self.dispatcher.silent_call_request(bot=bot, result=result)


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


def build_webhook_app(
    app: App, bot: Bot, secret: str, *, handle_in_background: bool = True
) -> web.Application:
    """The aiohttp application: POST <webhook path> for Telegram, GET /healthz for probes.

    ``handle_in_background=False`` (production's default, ZAPIS_WEBHOOK__ANSWER_AFTER_PROCESSING)
    answers 200 only after the update was processed and its transaction committed: a
    process killed mid-update leaves it to Telegram's retry, and Telegram sends a
    chat's next update only after that answer, so one chat's updates never overtake
    each other across the processes of a cluster. True answers at once and processes
    in a task (an update in flight at a crash is then lost).
    """
    app.attach_bot(bot)  # idempotent; replies wait for the update's commit
    installed = bot.session.middleware._middlewares
    if not handle_in_background and not any(isinstance(m, ReplyInWebhookAnswer) for m in installed):
        bot.session.middleware(ReplyInWebhookAnswer())  # after the hold: sees the flush
    webapp = web.Application()
    handler = SecretTokenRequestHandler(
        app.dispatcher,
        bot,
        secret,
        handle_in_background=handle_in_background,
        max_in_flight=app.settings.webhook.max_in_flight,
    )
    handler.register(webapp, path=app.settings.webhook.path)
    setup_application(webapp, app.dispatcher, bot=bot)

    async def healthz(_request: web.Request) -> web.Response:
        problem = await health_problem(app)
        if problem is not None:
            return web.Response(status=503, text=problem)
        return web.Response(text="ok")

    webapp.router.add_get("/healthz", healthz)
    add_calendar_route(webapp, app)  # GET /calendar/<token>.ics (bot/calendar_route.py, issue 10)
    return webapp


HEALTH_TIMEOUT = 3.0


async def health_problem(app: App) -> str | None:
    """None when the database answers ``SELECT 1`` (and Redis a PING, when configured)."""
    try:
        async with asyncio.timeout(HEALTH_TIMEOUT):
            async with app.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
    except Exception as exc:
        log.warning("health: database down: %s", type(exc).__name__)
        return "database unavailable"
    redis = getattr(app.storage, "redis", None)
    if redis is not None:
        try:
            async with asyncio.timeout(HEALTH_TIMEOUT):
                await redis.ping()
        except Exception as exc:
            log.warning("health: redis down: %s", type(exc).__name__)
            return "redis unavailable"
    return None


def allowed_updates(dp: Dispatcher) -> list[str]:
    """The kinds our handlers use, and my_chat_member: seen by a middleware, not a handler
    (blocked/unblocked in a private chat, added to a group — bot/middlewares/chat_guard.py)."""
    return sorted({*dp.resolve_used_update_types(), "my_chat_member"})


def make_bot(settings: Settings) -> Bot:
    if settings.bot_token is None or not settings.bot_token.get_secret_value():
        raise ConfigError("configuration error: ZAPIS_BOT_TOKEN is required for this mode")
    session = None
    if settings.telegram_api_url:  # a local Bot API server (or the cluster's emulator)
        from aiogram.client.session.aiohttp import AiohttpSession
        from aiogram.client.telegram import TelegramAPIServer

        session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
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
        return app
    except BaseException:
        await engine.dispose()
        raise


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
