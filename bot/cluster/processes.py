"""N ``python -m bot webhook`` processes behind one address.

Each process is the production webhook mode unchanged — its own port, its own
connection pool, the outbox dispatcher and the wait-list job in each — fed by
:class:`bot.cluster.proxy.RoundRobinProxy`. Shared state lives where it must
for several processes: PostgreSQL (data, outbox claims with leases), Redis
(dialogue state and per-chat event isolation). Used by the launcher
(``python -m bot cluster``), the cluster fault tests and bench/cluster.py;
they kill and restart processes through :meth:`BotProcess.kill` / ``start``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from bot.cluster.proxy import RoundRobinProxy

WEBHOOK_PATH = "/telegram"
_HEALTH_WAIT = aiohttp.ClientTimeout(total=2)


@dataclass
class ClusterConfig:
    """What every bot process of the cluster shares."""

    database_url: str
    redis_url: str
    encryption_key: str
    bot_token: str
    telegram_api_url: str
    secret: str
    base_port: int = 8090
    log_dir: Path | None = None
    log_level: str = "WARNING"
    extra_env: dict[str, str] = field(default_factory=dict)
    # bench/cluster.py --profile: each process runs under cProfile and writes
    # <profile_dir>/bot-N.prof when it stops (SIGTERM is a clean exit).
    profile_dir: Path | None = None


class BotProcess:
    def __init__(
        self,
        index: int,
        port: int,
        env: Mapping[str, str],
        log: Path | None,
        *,
        profile: Path | None = None,
    ) -> None:
        self.index = index
        self.profile = profile
        self.port = port
        self.env = dict(env)
        self.log = log
        self.proc: asyncio.subprocess.Process | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        out: int | object = asyncio.subprocess.DEVNULL
        handle = None
        if self.log is not None:
            handle = self.log.open("ab")
            out = handle
        command = ["-m", "bot", "webhook"]
        if self.profile is not None:
            command = ["-m", "cProfile", "-o", str(self.profile), *command]
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            *command,
            env=self.env,
            stdout=out,  # type: ignore[arg-type]
            stderr=out,  # type: ignore[arg-type]
            stdin=asyncio.subprocess.DEVNULL,
        )
        if handle is not None:
            handle.close()  # the child keeps its own descriptor
        self.starts += 1

    async def wait_healthy(self, timeout: float = 90.0) -> None:
        """Until GET /healthz answers 200 (migrations checked, database and Redis up)."""
        async with aiohttp.ClientSession() as http, asyncio.timeout(timeout):
            while True:
                if self.proc is not None and self.proc.returncode is not None:
                    raise RuntimeError(
                        f"bot process {self.index} exited with {self.proc.returncode}"
                        + (f"; see {self.log}" if self.log else "")
                    )
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with http.get(self.url + "/healthz", timeout=_HEALTH_WAIT) as answer:
                        if answer.status == 200:
                            return
                await asyncio.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL: no clean-up at all, as a crash or an OOM kill."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGKILL)

    async def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM (docker stop), then SIGKILL if it does not go."""
        if self.proc is None or self.proc.returncode is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.proc.wait(), timeout)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()

    async def wait(self) -> int:
        assert self.proc is not None
        return await self.proc.wait()


def process_env(
    config: ClusterConfig, port: int, proxy_url: str, shared_port: int | None = None
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZAPIS_")}
    env.update(
        {
            "ZAPIS_DATABASE_URL": config.database_url,
            "ZAPIS_ENCRYPTION_KEY": config.encryption_key,
            "ZAPIS_BOT_TOKEN": config.bot_token,
            "ZAPIS_TELEGRAM_API_URL": config.telegram_api_url,
            "ZAPIS_WEBHOOK__BASE_URL": proxy_url,
            "ZAPIS_WEBHOOK__PATH": WEBHOOK_PATH,
            "ZAPIS_WEBHOOK__HOST": "127.0.0.1",
            "ZAPIS_WEBHOOK__PORT": str(port),
            "ZAPIS_WEBHOOK__SECRET_TOKEN": config.secret,
            "ZAPIS_LOG_LEVEL": config.log_level,
            "PYTHONUNBUFFERED": "1",
        }
    )
    if shared_port is not None:  # every process also listens there (SO_REUSEPORT)
        env["ZAPIS_WEBHOOK__SHARED_PORT"] = str(shared_port)
    if config.redis_url:  # unset: one process keeps dialogue state in its database
        env["ZAPIS_REDIS_URL"] = config.redis_url
    env.update(config.extra_env)
    return env


class Cluster:
    """N bot processes behind one address: the proxy (in this process), or —
    with ``shared_port`` — the processes' own listeners on that port with SO_REUSEPORT,
    the kernel spreading Telegram's connections over them (no hop in between; a
    connection stays with its process, so spreading is per connection, not per update)."""

    def __init__(
        self,
        config: ClusterConfig,
        processes: int,
        *,
        proxy_port: int = 0,
        shared_port: int | None = None,
    ) -> None:
        self.config = config
        ports = [config.base_port + i for i in range(processes)]
        self.shared_port = shared_port
        self.proxy: RoundRobinProxy | None = None
        if shared_port is None:
            backends = [f"http://127.0.0.1:{p}" for p in ports]
            self.proxy = RoundRobinProxy(backends, port=proxy_port)
        self.bots: list[BotProcess] = []
        self._ports = ports

    async def start(self, *, health_timeout: float = 120.0) -> None:
        if self.proxy is not None:
            hook_url = await self.proxy.start()
        else:
            hook_url = f"http://127.0.0.1:{self.shared_port}"
        if self.config.log_dir is not None:
            self.config.log_dir.mkdir(parents=True, exist_ok=True)
        for i, port in enumerate(self._ports):
            log = self.config.log_dir / f"bot-{i + 1}.log" if self.config.log_dir else None
            profile = self.config.profile_dir
            self.bots.append(
                BotProcess(
                    i + 1,
                    port,
                    process_env(self.config, port, hook_url, self.shared_port),
                    log,
                    profile=profile / f"bot-{i + 1}.prof" if profile else None,
                )
            )
        # All at once: each migrates (a no-op at head), sets the webhook and answers /healthz.
        for bot in self.bots:
            await bot.start()
        await asyncio.gather(*(bot.wait_healthy(health_timeout) for bot in self.bots))

    async def restart(self, bot: BotProcess, *, health_timeout: float = 120.0) -> None:
        if bot.proc is not None and bot.proc.returncode is None:
            bot.kill()
        if bot.proc is not None:
            await bot.proc.wait()
        await bot.start()
        await bot.wait_healthy(health_timeout)

    async def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM to every process (SIGKILL after ``timeout``), then the proxy."""
        await asyncio.gather(*(bot.stop(timeout) for bot in self.bots), return_exceptions=True)
        if self.proxy is not None:
            await self.proxy.stop()

    def pids(self) -> list[int]:
        return [bot.proc.pid for bot in self.bots if bot.proc is not None]
