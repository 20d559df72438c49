"""Booking dialogues through 1, 2, 3 webhook processes on PostgreSQL + Redis (issue 12).

    .venv/bin/python bench/cluster.py --pg postgresql+asyncpg://postgres@127.0.0.1:5432/postgres
        [--users 120] [--processes 1,2,3] [--no-sqlite]

Each configuration is the real deployment on one machine: N × ``python -m bot
webhook`` behind the round-robin proxy, the emulated Telegram (emulator.cluster)
delivering webhooks over HTTP with Telegram's semantics (a chat's next update
only after the previous one was answered), a fresh PostgreSQL database with the
demo world and a Redis this script starts (so its CPU is the bench's alone).
Registered users, all at once, each book a therapist (7 updates), then a third
cancel and a third move. Printed per configuration: updates/s, p50/p99 of
submit → 2xx, the scaling factor against one process, and CPU seconds per
component — bot processes, PostgreSQL (every backend of the server during the
run: other sessions on a shared machine count too), Redis, and this process
(emulator + proxy + simulated users) — per update. Beside them the same
dialogues through one process on SQLite (dialogue state in SQLite, no Redis).
Figures are what one 2-core machine gives with every component on it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.cluster.harness import RedisServer, run_users, running_cluster

TICK = os.sysconf("SC_CLK_TCK")


def cpu_by_pid(pids: list[int]) -> dict[int, float]:
    return {pid: cpu_of([pid]) for pid in pids}


def cpu_of(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / TICK  # utime + stime
    return total


def pids_named(name: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip().startswith(name):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Result:
    label: str
    updates: int
    seconds: float
    p50: float
    p99: float
    cpu: dict[str, float]
    outcomes: dict[str, int]

    @property
    def rate(self) -> float:
        return self.updates / self.seconds


async def one_config(
    label: str, processes: int, users: int, redis: RedisServer | None, sqlite: Path | None
) -> Result:
    redis_url = redis.url if redis is not None else None
    async with running_cluster(redis_url, processes, sqlite_path=sqlite) as run:
        ids = await run.add_users(700_000, users)
        bots = run.cluster.pids()
        pg_before = cpu_by_pid(pids_named("postgres"))
        rpid = [redis.proc.pid] if redis is not None and redis.proc is not None else []
        before = (cpu_of(bots), 0.0, cpu_of(rpid), own_cpu())
        delivered = run.side.delivery.stats.delivered
        latencies_from = len(run.side.delivery.stats.latencies)
        started = time.perf_counter()
        await run_users(run, ids)
        seconds = time.perf_counter() - started
        # PostgreSQL backends: those that existed before count from then, the ones the
        # pools opened during the run from zero (one that ended meanwhile is missed).
        pg_after = cpu_by_pid(pids_named("postgres"))
        pg_cpu = sum(v - pg_before.get(pid, 0.0) for pid, v in pg_after.items())
        after = (cpu_of(bots), pg_cpu, cpu_of(rpid), own_cpu())
        lat = sorted(run.side.delivery.stats.latencies[latencies_from:])
        updates = run.side.delivery.stats.delivered - delivered
        names = ("bot processes", "PostgreSQL", "Redis", "emulator + proxy + users")
        cpu = {n: a - b for n, a, b in zip(names, after, before, strict=True)}
        if sqlite is not None:
            cpu.pop("PostgreSQL")
        return Result(
            label,
            updates,
            seconds,
            statistics.median(lat) * 1000,
            lat[int(len(lat) * 0.99) - 1] * 1000,
            cpu,
            dict(run.outcomes),
        )


def report(results: list[Result], base: Result | None) -> None:
    print(f"\n{os.cpu_count()} CPU cores; load average {os.getloadavg()[0]:.1f} at the end")
    one = next((r for r in results if r.label == "1 process, PostgreSQL + Redis"), None)
    for r in results:
        print(f"\n{r.label}: {r.updates} updates in {r.seconds:.1f} s = {r.rate:.1f} upd/s")
        print(f"  latency submit → 2xx: p50 {r.p50:.0f} ms, p99 {r.p99:.0f} ms")
        if one is not None and r is not one and "PostgreSQL" in r.label:
            print(f"  scaling: {r.rate / one.rate:.2f}× one process")
        total = sum(r.cpu.values())
        for name, value in r.cpu.items():
            print(f"  CPU {name}: {value:.1f} s ({value / r.updates * 1000:.1f} ms/update)")
        print(f"  CPU all: {total:.1f} s ({total / r.updates * 1000:.1f} ms/update)")
        print(f"  outcomes: {r.outcomes}")
        bot_ms = r.cpu["bot processes"] / r.updates * 1000
        print(
            f"  projection: bot CPU {bot_ms:.1f} ms/update → {1000 / bot_ms:.0f} upd/s per "
            "core given to bot processes (PostgreSQL/Redis on their own cores)"
        )
    if base is not None and one is not None:
        print(f"\none process PostgreSQL + Redis / one process SQLite: {one.rate / base.rate:.2f}")


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pg", required=True, help="a PostgreSQL server to create databases on")
    parser.add_argument("--users", type=int, default=120)
    parser.add_argument("--processes", default="1,2,3")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args(argv)
    os.environ["ZAPIS_TEST_PG_URL"] = args.pg
    import tests.conftest as conftest

    conftest.PG_URL = args.pg
    results: list[Result] = []
    base = None
    if not args.no_sqlite:
        folder = Path(tempfile.mkdtemp(prefix="zapis-bench-cluster-"))
        base = await one_config("1 process, SQLite", 1, args.users, None, folder / "b.sqlite3")
        print(f"{base.label}: {base.rate:.1f} upd/s", flush=True)
    for n in (int(x) for x in args.processes.split(",")):
        redis = RedisServer()
        await redis.start()
        try:
            label = f"{n} process{'es' if n > 1 else ''}, PostgreSQL + Redis"
            result = await one_config(label, n, args.users, redis, None)
        finally:
            await redis.stop()
        print(f"{result.label}: {result.rate:.1f} upd/s", flush=True)
        results.append(result)
    report(([base] if base else []) + results, base)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
