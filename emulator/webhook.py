"""Webhook delivery as Telegram does it: POST each update to the URL given to setWebhook.

Telegram's semantics, which the bot's cluster mode relies on and the fault
tests check:

- an update counts as delivered only when the bot answers 2xx; any other
  status, a refused connection or no answer within ``timeout`` seconds makes
  Telegram send the *same* update again later (with growing pauses), for as
  long as it takes — so a bot that answers 200 only after committing loses
  nothing when a process dies;
- one chat's updates arrive in order: the next update of a chat is sent only
  after the previous one was answered (different chats go in parallel, up to
  ``max_connections`` requests at once, setWebhook's parameter);
- the secret given to setWebhook travels in ``X-Telegram-Bot-Api-Secret-Token``;
- a method in the body of the 200 answer is executed as if the bot had called it.

The URL and secret come from the bot's own setWebhook call (emulator.methods
stores them in ``core.webhook``), so the bot configures its emulator exactly
as it configures Telegram.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from emulator.core import EmulatorCore

log = logging.getLogger("zapis.emulator.webhook")

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def chat_key(update: dict[str, Any]) -> int:
    """The chat whose order an update belongs to (Telegram orders per chat)."""
    for kind in ("message", "edited_message", "channel_post", "my_chat_member", "chat_member"):
        body = update.get(kind)
        if isinstance(body, dict) and isinstance(body.get("chat"), dict):
            return int(body["chat"]["id"])
    query = update.get("callback_query")
    if isinstance(query, dict):
        message = query.get("message")
        if isinstance(message, dict) and isinstance(message.get("chat"), dict):
            return int(message["chat"]["id"])
        return int(query["from"]["id"])
    return -int(update.get("update_id", 0)) - 10**12  # no chat: its own queue


@dataclass
class Trace:
    """Where one update's delivery spent its time (loop clock, seconds); kept only when
    :attr:`WebhookDelivery.trace` is on (bench/cluster.py's breakdown of the p99)."""

    queued: float
    offered: float | None = None  # the open loop's offer (before queued)
    sent: float = 0.0  # the answered attempt began (a connection of the gate taken)
    answered: float = 0.0  # its 2xx headers were read
    done: float = 0.0  # the method in its body executed: delivered
    noticed: float = 0.0  # the user saw it answered (TelegramSide.send's wait returned)
    attempts: int = 0
    server: str = ""  # the bot's Server-Timing header


@dataclass
class DeliveryStats:
    submitted: int = 0
    delivered: int = 0
    attempts: int = 0
    failures: int = 0  # non-2xx answers, refused connections, timeouts (each retried)
    statuses: dict[str, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)  # submit → 2xx, seconds


class WebhookDelivery:
    """Per-chat queues; one task per chat with something to deliver."""

    def __init__(
        self,
        core: EmulatorCore,
        *,
        timeout: float = 15.0,
        max_connections: int = 40,
        first_retry: float = 0.05,
        max_retry: float = 2.0,
    ) -> None:
        self.core = core
        self.timeout = timeout
        self.first_retry = first_retry
        self.max_retry = max_retry
        self.stats = DeliveryStats()
        self._max_connections = max_connections
        self._gate = asyncio.Semaphore(max_connections)
        self._queues: dict[int, deque[tuple[dict[str, Any], float]]] = {}
        self._workers: dict[int, asyncio.Task[None]] = {}
        self._idle = asyncio.Event()
        self._idle.set()
        self._chat_done: dict[int, asyncio.Event] = {}
        self._session: aiohttp.ClientSession | None = None
        self.delivered_ids: set[int] = set()
        self.submitted_ids: set[int] = set()
        # update_id → Trace while on (None: off, nothing kept)
        self.trace: dict[int, Trace] | None = None

    # ----- lifecycle ---------------------------------------------------------------------
    async def start(self) -> None:
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=self._max_connections, force_close=False)
            self._session = aiohttp.ClientSession(connector=connector)

    async def close(self) -> None:
        for task in list(self._workers.values()):
            task.cancel()
        for task in list(self._workers.values()):
            with contextlib.suppress(BaseException):
                await task
        self._workers.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None

    # ----- the users' side ---------------------------------------------------------------
    def submit(self, update: dict[str, Any]) -> None:
        """Queue one update behind its chat's earlier ones."""
        key = chat_key(update)
        now = asyncio.get_running_loop().time()
        self._queues.setdefault(key, deque()).append((update, now))
        if self.trace is not None:
            self.trace[int(update["update_id"])] = Trace(now)
        self.stats.submitted += 1
        self.submitted_ids.add(int(update["update_id"]))
        self._idle.clear()
        self._chat_done.setdefault(key, asyncio.Event()).clear()
        if key not in self._workers:
            self._workers[key] = asyncio.create_task(self._run_chat(key))

    @property
    def pending(self) -> int:
        return sum(len(q) for q in self._queues.values())

    async def wait_chat(self, chat_id: int, timeout: float | None = None) -> None:
        """Until everything queued for this chat was answered 2xx."""
        done = self._chat_done.get(chat_id)
        if done is None:
            return
        async with asyncio.timeout(timeout):
            await done.wait()

    async def wait_idle(self, timeout: float | None = None) -> None:
        async with asyncio.timeout(timeout):
            await self._idle.wait()

    # ----- delivery ----------------------------------------------------------------------
    async def _run_chat(self, key: int) -> None:
        queue = self._queues[key]
        try:
            while queue:
                update, queued_at = queue[0]
                trace = None if self.trace is None else self.trace.get(int(update["update_id"]))
                await self._deliver(update, trace)
                queue.popleft()
                self.stats.delivered += 1
                self.delivered_ids.add(int(update["update_id"]))
                self.stats.latencies.append(asyncio.get_running_loop().time() - queued_at)
        finally:
            self._workers.pop(key, None)
            if not queue:
                self._queues.pop(key, None)
                self._chat_done[key].set()
            if not self._workers:
                self._idle.set()

    async def _deliver(self, update: dict[str, Any], trace: Trace | None = None) -> None:
        """Until the bot answers 2xx: Telegram never gives up on an update."""
        pause = self.first_retry
        while True:
            outcome = await self._attempt(update, trace)
            if outcome == "ok":
                return
            self.stats.failures += 1
            self.stats.statuses[outcome] = self.stats.statuses.get(outcome, 0) + 1
            await asyncio.sleep(pause)
            pause = min(self.max_retry, pause * 2)

    async def _attempt(self, update: dict[str, Any], trace: Trace | None = None) -> str:
        hook = self.core.webhook
        url = hook.get("url")
        if not url:
            return "no webhook"
        if self._session is None:
            await self.start()
        assert self._session is not None
        headers = {"Content-Type": "application/json"}
        if hook.get("secret_token"):
            headers[SECRET_HEADER] = str(hook["secret_token"])
        self.stats.attempts += 1
        try:
            async with self._gate:
                sent = asyncio.get_running_loop().time()
                async with self._session.post(
                    url,
                    data=json.dumps(update, ensure_ascii=False).encode("utf-8"),
                    headers=headers,
                    timeout=aiohttp.ClientTimeout(total=self.timeout),
                ) as response:
                    if trace is not None:
                        trace.attempts += 1
                        trace.sent = sent
                        trace.answered = asyncio.get_running_loop().time()
                        trace.server = response.headers.get("Server-Timing", "")
                    if not 200 <= response.status < 300:
                        return str(response.status)
                    await self._reply_method(response)
                    if trace is not None:
                        trace.done = asyncio.get_running_loop().time()
                    return "ok"
        except TimeoutError:
            return "timeout"
        except aiohttp.ClientError as exc:
            return type(exc).__name__

    async def _reply_method(self, response: aiohttp.ClientResponse) -> None:
        """A Bot API method in the answer's body is executed (aiogram may reply that way)."""
        params: dict[str, Any] = {}
        # The header read as it is: aiohttp's response.content_type runs the email
        # package's parser once per answer (emulator.server reads requests the same way).
        ctype = response.headers.get("Content-Type", "").partition(";")[0].strip().lower()
        if ctype == "application/json":
            with contextlib.suppress(ValueError):
                body = json.loads(await response.read())
                if isinstance(body, dict):
                    params = body
        elif ctype.startswith("multipart/"):
            reader = aiohttp.MultipartReader.from_response(response)
            while (part := await reader.next()) is not None:
                if isinstance(part, aiohttp.BodyPartReader) and part.name is not None:
                    params[part.name] = (await part.read()).decode("utf-8")
        method = params.pop("method", None)
        if method:
            status, body = await self.core.call(str(method), params)
            if status != 200:
                log.warning("method in a webhook answer refused: %s %s", method, body)
