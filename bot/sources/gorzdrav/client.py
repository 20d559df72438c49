"""HTTP client of Gorzdrav's public API (``https://gorzdrav.spb.ru/_api/api/v2``).

Every answer is HTTP 200 with an envelope ``{"result", "success", "errorCode",
"message"}``; a refusal keeps HTTP 200 with ``success: false``. So the client
reads the envelope, never just the status, and tells three outcomes apart:

- ``result`` — success;
- ``GorzdravRefused(code, message)`` — the server answered and said no (never retried);
- ``GorzdravUnavailable(reason)`` — no usable answer: timeout, network error, HTTP 5xx
  after retries, a non-JSON body, or the circuit breaker is open.

Politeness to the city's server (the numbers are ``ClientLimits`` defaults):
at most 3 requests a second from one process; GETs are retried twice with
backoff 0.5 s then 1 s (plus jitter) on 5xx / network / timeout only; POSTs
are retried only when the connection was never made (a create that timed out
may have been done); each request has a 10 s total timeout; 5 failures in a
row open the breaker for 30 s (then one trial request); directory GETs are
cached 5 minutes, free-slot lists 30 seconds (dropped on our own create/cancel).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

log = logging.getLogger("zapis.gorzdrav")

DEFAULT_BASE_URL = "https://gorzdrav.spb.ru/_api/api/v2"


class GorzdravError(Exception):
    pass


class GorzdravRefused(GorzdravError):
    """``success: false``: the server understood and refused (``code`` is its errorCode)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"errorCode {code}: {message}")
        self.code = code
        self.message = message


class GorzdravUnavailable(GorzdravError):
    """No usable answer (timeout, network, 5xx, malformed body, breaker open)."""


@dataclass(frozen=True, slots=True)
class ClientLimits:
    timeout_seconds: float = 10.0
    retries: int = 2
    backoff_seconds: float = 0.5
    requests_per_second: float = 3.0
    breaker_failures: int = 5
    breaker_cooldown_seconds: float = 30.0
    directory_ttl_seconds: float = 300.0
    slots_ttl_seconds: float = 30.0


class CircuitBreaker:
    """Closed → open after ``failures`` in a row → one trial after ``cooldown``."""

    def __init__(
        self, failures: int, cooldown: float, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.failures = failures
        self.cooldown = cooldown
        self.monotonic = monotonic
        self.in_row = 0
        self.opened_at: float | None = None

    def allow(self) -> bool:
        if self.opened_at is None:
            return True
        if self.monotonic() - self.opened_at >= self.cooldown:
            self.opened_at = None  # half-open: this request is the trial
            self.in_row = self.failures - 1
            return True
        return False

    def success(self) -> None:
        self.in_row = 0
        self.opened_at = None

    def failure(self) -> None:
        self.in_row += 1
        if self.in_row >= self.failures:
            self.opened_at = self.monotonic()


class RateLimiter:
    """At most ``rate`` request starts a second (evenly spaced)."""

    def __init__(self, rate: float, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.monotonic = monotonic
        self.next_at = 0.0
        self.lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self.lock:
            delay = self.next_at - self.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            self.next_at = max(self.next_at, self.monotonic()) + self.interval


class TtlCache:
    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.monotonic = monotonic
        self.items: dict[str, tuple[float, Any]] = {}

    def get(self, key: str) -> Any | None:
        found = self.items.get(key)
        if found is None or found[0] < self.monotonic():
            self.items.pop(key, None)
            return None
        return found[1]

    def put(self, key: str, value: Any, ttl: float) -> None:
        if ttl > 0:
            self.items[key] = (self.monotonic() + ttl, value)

    def drop(self, prefix: str) -> None:
        for key in [k for k in self.items if k.startswith(prefix)]:
            del self.items[key]


class GorzdravClient:
    """One per process; ``close()`` when done. ``session`` may be given (tests)."""

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        limits: ClientLimits | None = None,
        *,
        session: aiohttp.ClientSession | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.limits = limits or ClientLimits()
        self._session = session
        self._own_session = session is None
        self.breaker = CircuitBreaker(
            self.limits.breaker_failures, self.limits.breaker_cooldown_seconds, monotonic
        )
        self.rate = RateLimiter(self.limits.requests_per_second, monotonic)
        self.cache = TtlCache(monotonic)
        self.requests = 0  # sent to the server (for tests and the numbers in README)

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
        self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            timeout = aiohttp.ClientTimeout(total=self.limits.timeout_seconds)
            self._session = aiohttp.ClientSession(
                timeout=timeout, headers={"User-Agent": "zapis-bot"}
            )
        return self._session

    async def get(self, path: str, params: dict[str, str] | None = None, ttl: float = 0) -> Any:
        key = path + "?" + "&".join(f"{k}={v}" for k, v in sorted((params or {}).items()))
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        result = await self._request("GET", path, params=params)
        self.cache.put(key, result, ttl)
        return result

    async def post(self, path: str, body: dict[str, Any]) -> Any:
        return await self._request("POST", path, body=body)

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
    ) -> Any:
        attempts = 1 + self.limits.retries
        last = "no attempt"
        for attempt in range(attempts):
            if attempt:
                pause = self.limits.backoff_seconds * 2 ** (attempt - 1)
                await asyncio.sleep(pause * (1 + random.random() / 4))
            if not self.breaker.allow():
                raise GorzdravUnavailable("circuit open: the registry failed repeatedly")
            await self.rate.wait()
            self.requests += 1
            try:
                raw = await self._send(method, path, params, body)
            except _Retryable as exc:
                self.breaker.failure()
                last = str(exc)
                log.warning("gorzdrav %s %s: %s (attempt %d)", method, path, last, attempt + 1)
                if method == "POST" and not exc.not_sent:
                    break
                continue
            except GorzdravUnavailable:
                self.breaker.failure()
                raise
            self.breaker.success()
            return _envelope(raw)
        raise GorzdravUnavailable(last)

    async def _send(
        self,
        method: str,
        path: str,
        params: dict[str, str] | None,
        body: dict[str, Any] | None,
    ) -> str:
        url = self.base_url + path
        try:
            async with self._http().request(method, url, params=params, json=body) as resp:
                text = await resp.text()
                if resp.status >= 500:
                    raise _Retryable(f"HTTP {resp.status}")
                if resp.status >= 400:
                    raise GorzdravUnavailable(f"HTTP {resp.status}")
                return text
        except aiohttp.ClientConnectorError as exc:
            raise _Retryable(f"cannot connect: {exc}", not_sent=True) from exc
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise _Retryable(f"{type(exc).__name__}: {exc}") from exc


class _Retryable(Exception):
    def __init__(self, reason: str, *, not_sent: bool = False) -> None:
        super().__init__(reason)
        self.not_sent = not_sent


def _envelope(raw: str) -> Any:
    """The ``result`` of a successful envelope; GorzdravRefused / GorzdravUnavailable else."""
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise GorzdravUnavailable(f"malformed JSON: {raw[:60]!r}") from exc
    if not isinstance(data, dict) or "success" not in data:
        raise GorzdravUnavailable("not a Gorzdrav envelope")
    if data["success"] is not True:
        code = data.get("errorCode")
        return_code = int(code) if isinstance(code, int | str) and str(code).isdigit() else -1
        raise GorzdravRefused(return_code, str(data.get("message") or ""))
    return data.get("result")
