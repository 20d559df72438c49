"""The emulated Telegram of a cluster: Bot API server + webhook delivery + simulated users.

``python -m bot cluster`` runs the bot as N separate processes; this is the
Telegram they talk to — over HTTP only, as they would to the real one: they
call its Bot API (``ZAPIS_TELEGRAM_API_URL``), tell it their webhook with
setWebhook, and it delivers the users' updates there (emulator.webhook:
retries, per-chat order). :class:`TelegramSide` is used in-process by the
cluster fault tests and bench/cluster.py; ``python -m emulator.cluster`` is
the interactive side a newcomer types into (started by the launcher).

Interactive lines: text is a message from the current user; ``[Label]`` (or
the bare label of a button on screen) presses it, ``[~part]`` the first button
whose label contains part, ``[#3]`` the third button; ``!contact`` shares the
phone number; ``@1002`` switches user; Ctrl-D quits.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import secrets
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from emulator import transcript as tr
from emulator.client import SimulatedUsers
from emulator.core import EmulatorCore
from emulator.lookup import Lookup
from emulator.server import EmulatorServer
from emulator.webhook import WebhookDelivery, chat_key


class TelegramSide:
    """One emulated Telegram over HTTP, delivering to whatever webhook the bot sets."""

    def __init__(
        self,
        *,
        token: str | None = None,
        port: int = 0,
        lang: str = "ru",
        timeout: float = 15.0,
        keep_events: bool = True,
        history_limit: int | None = 20,
    ) -> None:
        self.core = EmulatorCore(keep_events=keep_events, history_limit=history_limit)
        if token:
            self.core.token = token
        self.server = EmulatorServer(self.core, port=port)
        self.delivery = WebhookDelivery(self.core, timeout=timeout)
        # Update ids go on from a random point, as Telegram's do across a bot's life: the
        # bot processes remember done ids in Redis (storage/update_once.py) for an hour,
        # and a second run must not repeat the first run's ids.
        self.users = SimulatedUsers(self.core, lang, first_update_id=1 + secrets.randbelow(1 << 30))
        self.find = Lookup(self.core)
        # bench/cluster.py --rate (open loop): awaited before each update is handed over;
        # returns the moment the update was offered, so latency counts from the offer.
        self.pacer: Callable[[], Awaitable[float]] | None = None
        self.offered_latencies: list[float] = []

    @property
    def url(self) -> str:
        return self.server.url

    async def start(self) -> str:
        await self.delivery.start()
        return await self.server.start()

    async def stop(self) -> None:
        await self.delivery.close()
        await self.server.stop()

    async def wait_for_webhook(self, timeout: float = 60.0) -> str:
        async with asyncio.timeout(timeout):
            while not self.core.webhook.get("url"):
                await asyncio.sleep(0.05)
        return str(self.core.webhook["url"])

    # ----- what a user does ---------------------------------------------------------------
    async def send(self, update: dict[str, Any], *, wait: float | None = 30.0) -> None:
        """Hand an update to the delivery; with ``wait``, until its chat's queue is answered."""
        offered = await self.pacer() if self.pacer is not None else None
        self.delivery.submit(update)
        trace = self.delivery.trace
        if trace is not None:
            trace[int(update["update_id"])].offered = offered
        if wait is not None:
            await self.delivery.wait_chat(chat_key(update), wait)
            now = asyncio.get_running_loop().time()
            if trace is not None:
                trace[int(update["update_id"])].noticed = now
            if offered is not None:
                self.offered_latencies.append(now - offered)

    async def text(self, uid: int, text: str, *, wait: float | None = 30.0) -> None:
        await self.send(await self.users.message(uid, text=text), wait=wait)

    async def contact(self, uid: int, *, wait: float | None = 30.0) -> None:
        await self.send(await self.users.contact(uid), wait=wait)

    async def press(
        self,
        uid: int,
        label: str,
        *,
        wait: float | None = 30.0,
        kind: str = "press",
        number: int = 0,
    ) -> None:
        """A button by its label (``kind`` "press_part": by a part of it, "press_index": the
        ``number``-th of the newest keyboard, as the console's ``[~part]`` and ``[#n]``): a
        reply button sends its text, an inline one a query."""
        chat = await self.core.chat(uid)
        found = self.find.button(chat, kind, label, number)
        if isinstance(found, str):
            raise LookupError(f"@{uid}: {found}")
        stored, button, inline = found
        if not inline:
            await self.text(uid, str(button["text"]), wait=wait)
            return
        assert stored is not None
        update = await self.users.callback(uid, chat, stored, str(button["callback_data"]))
        await self.send(update, wait=wait)

    async def press_data(
        self, uid: int, prefix: str, pick: int = 0, *, skip: tuple[str, ...] = (), **kw: Any
    ) -> str:
        """The ``pick``-th (mod count) inline button of the newest inline keyboard whose
        callback_data starts with ``prefix`` (and not with any of ``skip``); returns it."""
        chat = await self.core.chat(uid)
        stored = self.find.newest_inline(chat)
        if stored is None:
            raise LookupError(f"@{uid}: no inline keyboard; last: {self.last_text(uid)[:80]!r}")
        rows = stored.markup.get("inline_keyboard", []) if stored.markup else []
        datas = [str(b["callback_data"]) for row in rows for b in row if b.get("callback_data")]
        found = [d for d in datas if d.startswith(prefix) and not (skip and d.startswith(skip))]
        if not found:
            raise LookupError(f"@{uid}: no {prefix!r} button; {datas}")
        data = found[pick % len(found)]
        await self.send(await self.users.callback(uid, chat, stored, data), **kw)
        return data

    def last_text(self, uid: int) -> str:
        stored = self.find.newest_out(uid)
        if stored is None:
            return ""
        return str(stored.message.get("text") or stored.message.get("caption") or "")

    def texts(self, uid: int) -> list[str]:
        """Every bot message text still kept for this chat, oldest first."""
        chat = self.core.chats.get(uid)
        if chat is None:
            return []
        ordered = sorted(chat.messages.values(), key=lambda m: m.seq)
        return [str(m.message.get("text") or "") for m in ordered if m.out]


# --------------------------------------------------------------------------- interactive


async def _lines() -> Any:
    loop = asyncio.get_running_loop()
    while True:
        if sys.stdin.isatty():
            print("> ", end="", flush=True)
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            return
        yield line.rstrip("\n")


async def _printer(side: TelegramSide, stop: asyncio.Event) -> None:
    """Print what the bot did, as it happens (replies and the dispatcher's notices)."""
    while not stop.is_set():
        for event in side.core.drain():
            for out in tr.event_lines(event, debug=False):
                print(out, flush=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.1)


async def interactive(args: argparse.Namespace) -> int:
    side = TelegramSide(token=args.token, port=args.port, lang=args.lang, history_limit=50)
    await side.start()
    print(f"emulated Telegram Bot API on {side.url}", flush=True)
    user = args.user
    stop = asyncio.Event()
    printer = asyncio.create_task(_printer(side, stop))
    try:
        await side.wait_for_webhook(args.wait)
        print(f"the bot set its webhook: {side.core.webhook['url']}", flush=True)
        print(
            "Type what a user would send; [Label] presses a button ([~part] by a part of its "
            "label, [#3] the third), !contact shares the phone, @1002 switches user, "
            "Ctrl-D quits.",
            flush=True,
        )
        async for raw in _lines():
            line = raw.strip()
            if not line:
                continue
            print(tr.echo(user, line), flush=True)
            try:
                if line.startswith("@") and line[1:].isdigit():
                    user = int(line[1:])
                elif line == "!contact":
                    await side.contact(user)
                elif line.startswith("[~") and line.endswith("]"):
                    await side.press(user, line[2:-1], kind="press_part")
                elif line.startswith("[#") and line.endswith("]") and line[2:-1].isdigit():
                    await side.press(user, "", kind="press_index", number=int(line[2:-1]))
                elif line.startswith("[") and line.endswith("]"):
                    await side.press(user, line[1:-1])
                else:
                    await _text_or_press(side, user, line)
            except (LookupError, TimeoutError) as exc:
                print(f"!! {exc or 'no answer yet (still being retried)'}", flush=True)
            await asyncio.sleep(0.15)  # let the printer show the replies before the prompt
        return 0
    finally:
        stop.set()
        await printer
        await side.stop()


async def _text_or_press(side: TelegramSide, user: int, line: str) -> None:
    """A bare label of a button on screen presses it (the way one taps in Telegram)."""
    chat = await side.core.chat(user)
    found = side.find.button(chat, "press", line, 0)
    if isinstance(found, str):
        await side.text(user, line)
    else:
        await side.press(user, line)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emulator.cluster", description=__doc__)
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", required=True, help="the token the bot processes use")
    parser.add_argument("--lang", default="ru")
    parser.add_argument("--user", type=int, default=1001)
    parser.add_argument("--wait", type=float, default=120.0, help="seconds to wait for the bot")
    try:
        return asyncio.run(interactive(parser.parse_args(argv)))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
