"""The emulator's webhook delivery (Telegram's semantics) and the round-robin proxy, on
loopback with a stand-in bot: fast, no PostgreSQL or Redis needed."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections import Counter, defaultdict
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.cluster.proxy import RoundRobinProxy
from emulator.core import EmulatorCore
from emulator.webhook import SECRET_HEADER, WebhookDelivery, chat_key
from tests.cluster.harness import free_port


class StandIn:
    """A webhook endpoint that fails as told and records what it processed."""

    def __init__(self, fail_first: int = 0, slow: float = 0.0, status: int = 500) -> None:
        self.fail_first = fail_first  # per update: answer ``status`` that many times first
        self.slow = slow
        self.status = status
        self.seen: Counter[int] = Counter()
        self.done: dict[int, list[int]] = defaultdict(list)  # chat → update ids, in order
        self.secrets: set[str] = set()
        self.in_flight: Counter[int] = Counter()
        self.overlap = False
        self.runner: web.AppRunner | None = None
        self.url = ""
        self.reply: dict[str, Any] = {}  # a Bot API method to answer with (as JSON)

    async def handle(self, request: web.Request) -> web.Response:
        update = await request.json()
        self.secrets.add(request.headers.get(SECRET_HEADER, ""))
        uid, chat = int(update["update_id"]), chat_key(update)
        self.seen[uid] += 1
        if self.seen[uid] <= self.fail_first:
            return web.Response(status=self.status)
        self.in_flight[chat] += 1
        self.overlap = self.overlap or self.in_flight[chat] > 1
        await asyncio.sleep(self.slow)
        self.in_flight[chat] -= 1
        self.done[chat].append(uid)
        return web.json_response(self.reply)

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/telegram", self.handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


def message(update_id: int, chat: int) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {"message_id": update_id, "date": 0, "chat": {"id": chat, "type": "private"},
                    "from": {"id": chat, "is_bot": False, "first_name": "U"}, "text": "x"},
    }  # fmt: skip


async def set_webhook(core: EmulatorCore, url: str, secret: str = "s3") -> None:
    status, _ = await core.call("setWebhook", {"url": url, "secret_token": secret})
    assert status == 200


async def test_failed_answers_are_retried_and_each_chat_stays_in_order() -> None:
    bot = StandIn(fail_first=2, slow=0.01)
    url = await bot.start()
    core = EmulatorCore()
    await set_webhook(core, url + "/telegram")
    delivery = WebhookDelivery(core, first_retry=0.01, max_retry=0.02)
    try:
        for n in range(30):
            delivery.submit(message(n, 100 + n % 3))
        await delivery.wait_idle(20)
    finally:
        await delivery.close()
        await bot.stop()
    assert delivery.submitted_ids == delivery.delivered_ids == set(range(30))
    assert all(count == 3 for count in bot.seen.values())  # 500, 500, then 200
    assert delivery.stats.statuses == {"500": 60}
    for chat in (100, 101, 102):
        assert bot.done[chat] == sorted(bot.done[chat])  # a chat's updates in order
    assert not bot.overlap  # and never two of one chat at once
    assert bot.secrets == {"s3"}


async def test_a_timeout_is_retried_like_a_failure() -> None:
    bot = StandIn(slow=0.5)
    url = await bot.start()
    core = EmulatorCore()
    await set_webhook(core, url + "/telegram")
    delivery = WebhookDelivery(core, timeout=0.2, first_retry=0.01)
    delivery.submit(message(1, 7))
    bot.slow = 0.5
    await asyncio.sleep(0.3)
    bot.slow = 0.0  # the bot recovers: the retry is answered
    try:
        await delivery.wait_idle(10)
    finally:
        await delivery.close()
        await bot.stop()
    assert delivery.stats.statuses.get("timeout", 0) >= 1
    assert delivery.delivered_ids == {1}


async def test_the_proxy_spreads_skips_a_dead_backend_and_never_retries_a_taken_update(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    a, b = StandIn(), StandIn(fail_first=1)
    urls = [await a.start(), await b.start()]
    dead = "http://127.0.0.1:9"  # discard port: connection refused
    proxy = RoundRobinProxy([urls[0], dead, urls[1]])
    await proxy.start()
    core = EmulatorCore()
    await set_webhook(core, proxy.url + "/telegram")
    delivery = WebhookDelivery(core, first_retry=0.01)
    try:
        for n in range(12):
            delivery.submit(message(n, 200 + n))
        await delivery.wait_idle(20)
    finally:
        await delivery.close()
        await proxy.stop()
        await a.stop()
        await b.stop()
    assert delivery.delivered_ids == set(range(12))
    assert proxy.forwarded[1] == 0 and proxy.refused > 0
    assert any(a.done.values()) and any(b.done.values())  # both backends worked
    # b's 500 went back to the emulator (which retried), not to another backend.
    assert delivery.stats.statuses.get("500", 0) == sum(1 for c in b.seen.values() if c >= 1)
    # A dead backend is expected in a cluster: one clear line, no traceback per request.
    lines = [r for r in caplog.records if r.name.startswith(("zapis.proxy", "aiohttp"))]
    assert [r.getMessage() for r in lines] == [
        f"backend {dead} is down (connection refused): requests go to the others until it answers"
    ]
    assert all(r.exc_info is None for r in caplog.records)


SLOW_BACKEND = """
import asyncio, sys
from aiohttp import web
async def slow(request):
    await request.read()
    print("taken", flush=True)
    await asyncio.sleep(60)
    return web.json_response({})
app = web.Application()
app.router.add_post("/telegram", slow)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=lambda *_: print("up", flush=True))
"""


async def test_a_backend_killed_with_a_request_in_flight_is_one_line_and_a_502(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    port = free_port()
    backend = await asyncio.create_subprocess_exec(
        sys.executable, "-c", SLOW_BACKEND, str(port), stdout=asyncio.subprocess.PIPE
    )
    assert backend.stdout is not None
    proxy = RoundRobinProxy([f"http://127.0.0.1:{port}"])
    await proxy.start()
    try:
        assert await backend.stdout.readline() == b"up\n"
        async with aiohttp.ClientSession() as http:
            asking = [
                asyncio.create_task(http.post(proxy.url + "/telegram", json=message(n, 300 + n)))
                for n in range(3)
            ]
            for _ in asking:
                assert await backend.stdout.readline() == b"taken\n"
            backend.kill()  # SIGKILL with three updates in flight
            answers = [await t for t in asking]
    finally:
        if backend.returncode is None:
            backend.kill()
        await backend.wait()
        await proxy.stop()
    assert [a.status for a in answers] == [502, 502, 502]  # Telegram sends them again
    lines = [r.getMessage() for r in caplog.records if r.name.startswith(("zapis", "aiohttp"))]
    assert len(lines) == 1 and lines[0].startswith(f"backend http://127.0.0.1:{port} is down (")
    assert all(r.exc_info is None for r in caplog.records)


async def test_set_and_delete_webhook_as_telegram_answers() -> None:
    core = EmulatorCore()
    status, body = await core.call("setWebhook", {"url": "ftp://x"})
    assert status == 400 and "HTTPS URL" in body["description"]
    await set_webhook(core, "http://127.0.0.1:1/telegram")
    _, info = await core.call("getWebhookInfo", {})
    assert info["result"]["url"] == "http://127.0.0.1:1/telegram"
    await core.call("deleteWebhook", {})
    _, info = await core.call("getWebhookInfo", {})
    assert info["result"]["url"] == ""


async def test_a_method_in_the_webhook_answer_is_executed() -> None:
    """What bot/live.py does with an update's closing answerCallbackQuery: Telegram runs
    a method given in the 200's body; a refused one is logged, and the update is still
    delivered (Telegram does not send it again)."""
    bot = StandIn()
    url = await bot.start()
    core = EmulatorCore()
    await set_webhook(core, url + "/telegram")
    delivery = WebhookDelivery(core, first_retry=0.01)
    try:
        bot.reply = {"method": "sendMessage", "chat_id": 77, "text": "from the answer"}
        delivery.submit(message(1, 77))
        await delivery.wait_idle(10)
        bot.reply = {"method": "answerCallbackQuery", "callback_query_id": "none"}
        delivery.submit(message(2, 77))
        await delivery.wait_idle(10)
    finally:
        await delivery.close()
        await bot.stop()
    assert delivery.delivered_ids == {1, 2} and delivery.stats.failures == 0
    sent = [e for e in core.events if e.kind == "sent"]
    assert [e.message.message["text"] for e in sent if e.message] == ["from the answer"]
    assert [e.kind for e in core.events if e.kind == "refused"] == ["refused"]


async def test_the_proxy_sends_an_update_to_the_process_with_the_fewest_in_flight() -> None:
    """Turn alone would give every other update to the process still busy with a slow
    one; the proxy counts what each has in hand and routes around it."""
    slow, quick = StandIn(slow=1.5), StandIn()
    proxy = RoundRobinProxy([await slow.start(), await quick.start()])
    await proxy.start()
    core = EmulatorCore()
    await set_webhook(core, proxy.url + "/telegram")
    delivery = WebhookDelivery(core)
    try:
        delivery.submit(message(1, 301))  # first in turn: the slow one takes it
        async with asyncio.timeout(5):
            while proxy.in_flight[0] == 0:
                await asyncio.sleep(0.01)
        for n in range(2, 8):  # meanwhile: each to the idle one, none queued behind
            delivery.submit(message(n, 300 + n))
            await delivery.wait_chat(300 + n, 5)
        assert proxy.forwarded == [0, 6] and proxy.in_flight == [1, 0]
        await delivery.wait_idle(10)
    finally:
        await delivery.close()
        await proxy.stop()
        await slow.stop()
        await quick.stop()
    assert proxy.forwarded == [1, 6] and proxy.in_flight == [0, 0]
    assert delivery.delivered_ids == set(range(1, 8))
