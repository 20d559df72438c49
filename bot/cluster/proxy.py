"""A small HTTP proxy: one webhook address in front of N bot processes.

Telegram (or the emulator playing it) calls one URL; each request goes to the
backend with the fewest requests in flight, ties in turn (round-robin). Turn
alone sends an update to a process still busy with a slow one while another
sits idle — the queueing that makes a cluster's p99 (bench/README-cluster.md,
round 3); counting what each process has in hand costs nothing. A backend that refuses the connection (a process being
restarted) is skipped for the next one — nothing was sent to it, so nothing
can be done twice. A backend that took the request and failed or timed out
is *not* retried here: the proxy answers 502/504 and Telegram sends the update
again, as it would without a proxy; retrying here could run an update twice
while the first run is still going.

In production a load balancer (nginx, a cloud LB, Docker's service VIP) does
this job; this one exists so `python -m bot cluster` runs the same topology on
one machine with nothing else installed.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Sequence

import aiohttp
from aiohttp import web

log = logging.getLogger("zapis.proxy")

# Hop-by-hop and recomputed headers: never forwarded.
_DROP = {"host", "content-length", "transfer-encoding", "connection", "keep-alive"}


class RoundRobinProxy:
    def __init__(
        self,
        backends: Sequence[str],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        timeout: float = 30.0,
    ) -> None:
        if not backends:
            raise ValueError("a proxy needs at least one backend")
        self.backends = [b.rstrip("/") for b in backends]
        self.host = host
        self.port = port
        self.timeout = timeout
        self._next = itertools.cycle(range(len(self.backends)))
        self.forwarded = [0] * len(self.backends)
        self.in_flight = [0] * len(self.backends)
        self.refused = 0
        self.down: set[int] = set()
        self._session: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> str:
        connector = aiohttp.TCPConnector(limit=0)
        self._session = aiohttp.ClientSession(
            connector=connector, auto_decompress=False, skip_auto_headers=("User-Agent",)
        )
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True)
        await site.start()
        if self.port == 0:
            server = site._server
            sockets = getattr(server, "sockets", None) or []
            self.port = int(sockets[0].getsockname()[1])
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _down(self, index: int, why: str) -> None:
        """One line when a backend stops answering (a killed or restarting process is
        expected in a cluster), not one per request — and one when it is back."""
        if index not in self.down:
            self.down.add(index)
            log.warning(
                "backend %s is down (%s): requests go to the others until it answers",
                self.backends[index],
                why,
            )

    def _up(self, index: int) -> None:
        if index in self.down:
            self.down.discard(index)
            log.warning("backend %s answers again", self.backends[index])

    def _order(self) -> list[int]:
        """The backends to try for one request: the fewest in flight first, ties in turn;
        a backend that is down only after the others — except on its own turn, when it is
        tried first (how a restarted process is found answering again)."""
        n = len(self.backends)
        start = next(self._next)
        turn = [(start + i) % n for i in range(n)]
        if start in self.down:
            return turn
        return sorted(turn, key=lambda i: (i in self.down, self.in_flight[i]))

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        assert self._session is not None
        try:
            body = await request.read()
        except (ConnectionError, aiohttp.ClientError):  # the caller went away: nobody to answer
            return web.Response(status=400, text="request not read")
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _DROP}
        path = request.rel_url.raw_path_qs
        for index in self._order():
            self.in_flight[index] += 1
            try:
                async with self._session.request(
                    request.method,
                    self.backends[index] + path,
                    data=body,
                    headers=headers,
                    timeout=aiohttp.ClientTimeout(total=self.timeout),
                ) as answer:
                    payload = await answer.read()
                    self.forwarded[index] += 1
                    self._up(index)
                    out = {k: v for k, v in answer.headers.items() if k.lower() not in _DROP}
                    return web.Response(body=payload, status=answer.status, headers=out)
            except aiohttp.ClientConnectorError:
                self.refused += 1  # not running (restarting): nothing was sent, try the next
                self._down(index, "connection refused")
                continue
            except TimeoutError:
                return web.Response(status=504, text="backend timed out")
            except (aiohttp.ClientError, asyncio.IncompleteReadError, OSError) as exc:
                # It took the request and died (SIGKILL, OOM): Telegram sends it again.
                self._down(index, f"{type(exc).__name__} with a request in flight")
                return web.Response(status=502, text="backend failed")
            finally:
                self.in_flight[index] -= 1
        return web.Response(status=502, text="no backend is up")
