"""The webhook's HTTP side: the request handler, the answer's body, /healthz.

Split from bot/live.py (the run modes). Telegram POSTs each update here; the
handler checks the secret, validates the update, processes it (at most
``max_in_flight`` at once) and answers 200 — after the commit in production's
mode, so a process killed mid-update leaves the update to Telegram's retry.

Each answer carries a ``Server-Timing`` header (ignored by Telegram): how long
the update took to read and validate (``read``), waited for its turn in this
process (``wait``) and was processed (``run``), how much of that the cyclic
garbage collector stopped the process (``gc``), and which process it was with
how many updates it already had in hand (``proc``, "pid/n") — the parts of a
delivery's latency that a load balancer or a benchmark (bench/cluster.py)
cannot see from outside. It costs a few clock reads per update and one
callback per collection.
"""

from __future__ import annotations

import asyncio
import gc
import hmac
import logging
import os
import time
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramAPIError
from aiogram.methods import AnswerCallbackQuery, Response, TelegramMethod
from aiogram.types import Update
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web
from aiohttp.payload import JsonPayload, Payload
from sqlalchemy import text

from bot.app import App
from bot.calendar_route import add_calendar_route
from bot.errors import log_unprocessable
from bot.middlewares.pending_replies import pending_replies
from bot.settings import ConfigError

log = logging.getLogger("zapis.live")

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
TIMING_HEADER = "Server-Timing"


class GcClock:
    """Seconds the cyclic collector has stopped this process, so far (gc.callbacks)."""

    def __init__(self) -> None:
        self.total = 0.0
        self._started = 0.0

    def __call__(self, phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.total += time.perf_counter() - self._started

    @classmethod
    def installed(cls) -> GcClock:
        """The process's one clock (installed at the first call)."""
        for callback in gc.callbacks:
            if isinstance(callback, cls):
                return callback
        clock = cls()
        gc.callbacks.append(clock)
        return clock


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
        self._gc = GcClock.installed()
        self._busy = 0  # updates in this process now: processed or waiting at the gate
        self._pid = os.getpid()

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
        entered = time.perf_counter()
        update = await self._read(bot, request)
        arrived = time.perf_counter()
        result = None
        began = ended = arrived
        gc_before = self._gc.total
        busy = self._busy
        if update is not None:
            reply = WebhookReply()
            token = _webhook_reply.set(reply)
            self._busy += 1
            try:
                async with self._gate:
                    began = time.perf_counter()
                    result = await self._process(bot, update)
            finally:
                self._busy -= 1
                reply.open = False  # a task the update left behind sends on its own
                _webhook_reply.reset(token)
            if result is None:
                result = reply.method
            elif reply.method is not None:  # the handler returned a method: that one goes last
                await self.dispatcher.silent_call_request(bot=bot, result=reply.method)
            ended = time.perf_counter()
        timing = (
            f"read;dur={(arrived - entered) * 1000:.1f}, "
            f"wait;dur={(began - arrived) * 1000:.1f}, run;dur={(ended - began) * 1000:.1f}, "
            f"gc;dur={(self._gc.total - gc_before) * 1000:.1f}, "
            f'proc;desc="{self._pid}/{busy}"'
        )
        return web.Response(
            body=self._build_response_writer(bot=bot, result=result),
            headers={TIMING_HEADER: timing},
        )

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
