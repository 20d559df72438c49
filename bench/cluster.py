"""Booking dialogues through 1, 2, 3 webhook processes on PostgreSQL + Redis (issue 12).

    .venv/bin/python bench/cluster.py --pg postgresql+asyncpg://postgres@127.0.0.1:5432/postgres
        [--users 120] [--processes 1,2,3] [--no-sqlite]          # closed loop: as fast as it goes
        [--rate 100 --seconds 20 [--poisson]]                    # open loop: updates offered
        [--profile DIR]                                          # cProfile each bot process, and this
        [--warm 10]                   # users per process run first, not measured (warm-up)

Each configuration is the real deployment on one machine: N × ``python -m bot
webhook`` behind the round-robin proxy, the emulated Telegram (emulator.cluster)
delivering webhooks over HTTP with Telegram's semantics (a chat's next update
only after the previous one was answered), a fresh PostgreSQL database with the
demo world and a Redis this script starts (so its CPU is the bench's alone).
Registered users each book a therapist (7 updates), then a third cancel and a
third move.

Closed loop (default): ``--users`` users all at once, each sending its next
update as soon as the previous was answered — the most the configuration
carries. Open loop (``--rate``): updates are *offered* at a fixed rate (evenly
spaced, or ``--poisson``) for ``--seconds``; each offer goes to a user whose
previous update was answered (a new user joins when none is ready), so one
chat's order is kept, and latency runs from the offer to the 2xx — a slow
cluster makes offers queue up and shows it, which a closed loop hides.

Printed per configuration: updates/s, p50/p99, the scaling factor against one
process, and CPU seconds per component per update — bot processes, PostgreSQL
(the backends of this run's database only, so other sessions on a shared
machine do not count), Redis, and this process (emulator + proxy + simulated
users) — with what that projects to on more cores. Beside them the same
dialogues through one process on SQLite (dialogue state in SQLite, no Redis).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import gc
import itertools
import os
import random
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.cluster_tail import LoopWatch, report_tail
from bot.live import GC_THRESHOLDS
from bot.webhook_server import GcClock
from tests.cluster.harness import ClusterRun, RedisServer, one_user, run_users, running_cluster

TICK = os.sysconf("SC_CLK_TCK")
BOT, PG, REDIS, OWN = "bot processes", "PostgreSQL", "Redis", "emulator + proxy + users"


def cpu_of(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / TICK  # utime + stime
    return total


def kernel_counts(pids: list[int]) -> dict[str, float]:
    """Counts the load moves little, unlike CPU seconds, summed over ``pids``: context
    switches, ``voluntary`` (gave up the core: waiting for a socket) and ``involuntary``
    (taken off it: another process was due); minor page faults (memory the process
    touched for the first time since the kernel gave it: each one a trap and a zeroed
    page); and the CPU seconds spent in the kernel (of the utime + stime above)."""
    found = {"voluntary": 0.0, "involuntary": 0.0, "faults": 0.0, "system": 0.0}
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            tasks = list(Path(f"/proc/{pid}/task").iterdir())
        except OSError:
            continue
        found["faults"] += int(stat[7])
        found["system"] += int(stat[12]) / TICK
        for task in tasks:  # every thread's (the process's status gives the main one's)
            try:
                status = (task / "status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("voluntary_ctxt_switches"):
                    found["voluntary"] += int(line.split()[1])
                elif line.startswith("nonvoluntary_ctxt_switches"):
                    found["involuntary"] += int(line.split()[1])
    return found


class PerfStat:
    """``perf stat`` over some pids while the run lasts: system calls by kind (every
    ``syscalls:sys_enter_*`` tracepoint) — which round trips and loop turns an update
    costs each component, counts the load does not move."""

    def __init__(self, pids: list[int], path: Path) -> None:
        self.path = path
        command = ["perf", "stat", "-x", ",", "-e", "syscalls:sys_enter_*", "-o", str(path)]
        self.proc = subprocess.Popen(
            [*command, "-p", ",".join(map(str, pids))],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)

    def counts(self) -> dict[str, int]:
        self.proc.wait(120)  # (its hundreds of tracepoints take a while to close)
        counts: dict[str, int] = {}
        for line in self.path.read_text().splitlines():
            fields = line.split(",")
            if len(fields) > 2 and fields[0].strip().isdigit() and int(fields[0]):
                counts[fields[2].removeprefix("syscalls:sys_enter_")] = int(fields[0])
        return counts


def pin(spec: str, bots: list[int], backends: list[int], redis: list[int]) -> None:
    """``--pin``: where each component may run, to tell the CPU an update costs from the
    CPU it costs *beside* others — "shared": every component on CPU 0 (the bot shares
    its core with PostgreSQL, Redis and this process, as each bot does when two fill
    two cores); "apart": the bot processes on CPU 0, the rest on CPU 1 (as one process
    with a core of its own). Threads of each process included."""
    own, rest = {0}, {1} if spec == "apart" else {0}
    for pids, cpus in ((bots, own), (backends + redis + [os.getpid()], rest)):
        for pid in pids:
            for task in Path(f"/proc/{pid}/task").iterdir():
                with contextlib.suppress(OSError):
                    os.sched_setaffinity(int(task.name), cpus)


def machine_cpu() -> dict[str, float]:
    """CPU seconds the whole machine spent so far (/proc/stat) in softirq — the loopback's
    TCP, charged to no process, so missing from the components' CPU above — in steal
    (the hypervisor's), and in all (busy: not idle or iowait); other tenants' included."""
    fields = [int(x) / TICK for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    busy = sum(fields[:8]) - fields[3] - fields[4]
    return {"softirq": fields[6], "steal": fields[7], "busy": busy}


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def pg_backends(run: ClusterRun) -> dict[int, float]:
    """CPU so far of every PostgreSQL backend serving this run's database."""
    if not run.db_name:
        return {}
    async with run.engine.connect() as conn:
        pids = (
            await conn.scalars(
                text("SELECT pid FROM pg_stat_activity WHERE datname = :db"), {"db": run.db_name}
            )
        ).all()
    return {pid: cpu_of([pid]) for pid in pids}


async def pg_transactions(run: ClusterRun) -> tuple[int, int, int]:
    """Transactions committed, and rolled back, so far on this run's database (a pool's
    pre-ping is a rolled-back one: BEGIN; SELECT; ROLLBACK — three round trips), and the
    sessions opened on it (each a backend to start and every statement to prepare anew)."""
    if not run.db_name:
        return 0, 0, 0
    async with run.engine.connect() as conn:
        found = (
            await conn.execute(
                text(
                    "SELECT xact_commit, xact_rollback, sessions FROM pg_stat_database"
                    " WHERE datname = :db"
                ),
                {"db": run.db_name},
            )
        ).one()
    return int(found[0]), int(found[1]), int(found[2])


async def redis_calls(redis: RedisServer | None) -> dict[str, int]:
    """Calls per command so far (INFO commandstats): the round trips per update."""
    if redis is None:
        return {}
    from redis.asyncio import Redis

    client = Redis.from_url(redis.url)
    try:
        stats = await client.info("commandstats")
    finally:
        await client.aclose()
    return {k.removeprefix("cmdstat_"): int(v["calls"]) for k, v in stats.items()}


class OfferOver(Exception):
    """The open-loop run stopped offering: a user waiting for its next offer stops."""


class Pacer:
    """Offers at ``rate`` per second for ``seconds``; an offer goes to a waiting user, and
    a new user is started (``spawn``) when none is waiting for one."""

    def __init__(self, rate: float, seconds: float, poisson: bool, spawn: Callable[[], None]):
        self.rate = rate
        self.seconds = seconds
        self.poisson = poisson
        self.spawn = spawn
        self.offers: asyncio.Queue[float | None] = asyncio.Queue()
        self.waiting = 0
        self.offered = 0

    async def take(self) -> float:
        self.waiting += 1
        try:
            offered = await self.offers.get()
        finally:
            self.waiting -= 1
        if offered is None:
            self.offers.put_nowait(None)  # for the next one waiting
            raise OfferOver
        return offered

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        rng = random.Random(12)
        start = at = loop.time()
        while True:
            at += rng.expovariate(self.rate) if self.poisson else 1 / self.rate
            if at > start + self.seconds:
                break
            await asyncio.sleep(max(0.0, at - loop.time()))
            if self.waiting <= self.offers.qsize():  # nobody ready for this one: a new user
                self.spawn()
            self.offers.put_nowait(at)
            self.offered += 1
        self.offers.put_nowait(None)


async def open_loop(run: ClusterRun, ids: list[int], args: argparse.Namespace) -> int:
    """Offer updates at ``args.rate`` for ``args.seconds``; returns the users started."""
    users: list[asyncio.Task[None]] = []
    numbers = itertools.count()

    async def user(n: int) -> None:
        try:
            await one_user(run, ids[n % len(ids)], n)
        except OfferOver:
            return

    def spawn() -> None:
        users.append(asyncio.create_task(user(next(numbers))))

    pacer = Pacer(args.rate, args.seconds, args.poisson, spawn)
    run.side.pacer = pacer.take
    await pacer.run()
    await asyncio.gather(*users)
    run.side.pacer = None
    if len(users) > len(ids):
        print(f"  (note: {len(users)} users needed, {len(ids)} registered: some ran twice)")
    return len(users)


@dataclass
class Result:
    label: str
    updates: int
    seconds: float
    p50: float
    p99: float
    cpu: dict[str, float]
    outcomes: dict[str, int]
    offered: float | None = None
    pg_tx: tuple[int, int, int] = (0, 0, 0)
    redis_calls: dict[str, int] | None = None
    per_bot: list[float] | None = None  # CPU seconds of each bot process (the spread)
    kernel: dict[str, dict[str, float]] | None = None  # kernel_counts() per component
    syscalls: dict[str, dict[str, int]] | None = None  # --perf: PerfStat per component
    machine: dict[str, float] | None = None  # machine_cpu() over the run

    @property
    def rate(self) -> float:
        return self.updates / self.seconds

    def ms(self, component: str) -> float:
        return self.cpu.get(component, 0.0) / self.updates * 1000


async def one_config(
    label: str,
    processes: int,
    args: argparse.Namespace,
    redis: RedisServer | None,
    sqlite: Path | None,
) -> Result:
    redis_url = redis.url if redis is not None else None
    profile = None
    if args.profile:
        profile = Path(args.profile) / label.replace(" ", "_").replace(",", "").replace("+", "")
        profile.mkdir(parents=True, exist_ok=True)
    extra_env = {}
    if args.in_flight:
        extra_env["ZAPIS_WEBHOOK__MAX_IN_FLIGHT"] = str(args.in_flight)
    async with running_cluster(
        redis_url,
        processes,
        sqlite_path=sqlite,
        profile_dir=profile,
        reuse_port=not args.proxy,
        extra_env=extra_env,
    ) as run:
        # Open loop: one registered user per offer at most, so none is ever reused (a
        # saturated run starts a user per offer; two runs of one chat would collide).
        users = args.users if args.rate is None else int(args.rate * args.seconds) + 50
        ids = await run.add_users(700_000, users)
        if args.warm:  # every process past its first updates (imports, statement caches)
            await run_users(run, await run.add_users(690_000, args.warm * processes))
            run.outcomes.clear()
        bots = run.cluster.pids()
        rpid = [redis.proc.pid] if redis is not None and redis.proc is not None else []
        pg_before = await pg_backends(run)
        if args.pin is not None:
            pin(args.pin, bots, list(pg_before), rpid)
        tx_before, redis_before = await pg_transactions(run), await redis_calls(redis)
        before = (cpu_of(bots), cpu_of(rpid), own_cpu())
        machine_before = machine_cpu()
        each_before = [cpu_of([pid]) for pid in bots]
        own = [os.getpid()]
        counted_before = {
            BOT: kernel_counts(bots),
            REDIS: kernel_counts(rpid),
            OWN: kernel_counts(own),
        }
        counted_before[PG] = kernel_counts(list(pg_before))
        perf: dict[str, PerfStat] = {}
        if args.perf:
            tmp = Path(tempfile.mkdtemp(prefix="zapis-bench-perf-"))
            for name, pids in ((BOT, bots), (PG, list(pg_before)), (REDIS, rpid), (OWN, own)):
                if pids:
                    perf[name] = PerfStat(pids, tmp / f"{len(perf)}.csv")
        delivered = run.side.delivery.stats.delivered
        latencies_from = len(run.side.delivery.stats.latencies)
        run.side.offered_latencies.clear()
        # This process is Telegram and the users, not the system: its collector's scans of
        # everything set up so far (the demo world's users, the emulator's chats) were
        # up to a millisecond per update of the open loop and stalled every delivery in
        # flight. Out of its sight, as a serving bot process does (bot/live.py).
        gc.collect()
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLDS)
        watch = None
        if args.tail:
            run.side.delivery.trace = {}
            watch = LoopWatch()
            watch.start()
        gc_clock = GcClock.installed()
        gc_before = gc_clock.total
        own_profile = cProfile.Profile() if profile is not None else None
        if own_profile is not None:  # this process too (Telegram + users), the run only
            own_profile.enable()
        started = time.perf_counter()
        if args.rate is None:
            await run_users(run, ids)
            lat = sorted(run.side.delivery.stats.latencies[latencies_from:])
        else:
            await open_loop(run, ids, args)
            lat = sorted(run.side.offered_latencies)
        seconds = time.perf_counter() - started
        if own_profile is not None and profile is not None:
            own_profile.disable()
            own_profile.dump_stats(profile / "bench-process.prof")
        if watch is not None:
            watch.stop()
            print(f"{label}:")
            report_tail(run.side.delivery.trace or {}, watch, (gc_clock.total - gc_before) * 1000)
            run.side.delivery.trace = None
        # PostgreSQL backends: those that existed before count from then, the ones the
        # pools opened during the run from zero (one that ended meanwhile is missed).
        pg_after = await pg_backends(run)
        tx_after, redis_after = await pg_transactions(run), await redis_calls(redis)
        pg_cpu = sum(v - pg_before.get(pid, 0.0) for pid, v in pg_after.items())
        after = (cpu_of(bots), cpu_of(rpid), own_cpu())
        machine = {k: v - machine_before[k] for k, v in machine_cpu().items()}
        counted_after = {
            BOT: kernel_counts(bots),
            REDIS: kernel_counts(rpid),
            OWN: kernel_counts(own),
        }
        # (As the CPU: a backend opened during the run counts from zero.)
        counted_after[PG] = kernel_counts(list(pg_after))
        for stat in perf.values():
            stat.stop()
        syscalls = {name: stat.counts() for name, stat in perf.items()}
        if args.pin is not None:  # this process back on every CPU for what follows
            for task in Path(f"/proc/{os.getpid()}/task").iterdir():
                with contextlib.suppress(OSError):
                    os.sched_setaffinity(int(task.name), range(os.cpu_count() or 1))
        per_bot = [cpu_of([pid]) - was for pid, was in zip(bots, each_before, strict=True)]
        updates = run.side.delivery.stats.delivered - delivered
        cpu = {BOT: after[0] - before[0], PG: pg_cpu, REDIS: after[1] - before[1]}
        cpu[OWN] = after[2] - before[2]
        if sqlite is not None:
            cpu.pop(PG)
        if redis is None:
            cpu.pop(REDIS)
        return Result(
            label,
            updates,
            seconds,
            statistics.median(lat) * 1000,
            lat[max(0, int(len(lat) * 0.99) - 1)] * 1000,
            cpu,
            dict(run.outcomes),
            offered=args.rate,
            per_bot=per_bot,
            syscalls=syscalls,
            machine=machine,
            kernel={
                name: {k: v - counted_before[name][k] for k, v in counted_after[name].items()}
                for name in counted_after
                if any(counted_after[name].values())
            },
            pg_tx=(
                tx_after[0] - tx_before[0],
                tx_after[1] - tx_before[1],
                tx_after[2] - tx_before[2],
            ),
            redis_calls={
                k: v - redis_before.get(k, 0)
                for k, v in redis_after.items()
                if k != "info" and v > redis_before.get(k, 0)
            },
        )


def report(results: list[Result], base: Result | None) -> None:
    cores = os.cpu_count() or 1
    print(f"\n{cores} CPU cores; load average {os.getloadavg()} at the end")
    one = next((r for r in results if r.label == "1 process, PostgreSQL + Redis"), None)
    for r in results:
        print(f"\n{r.label}: {r.updates} updates in {r.seconds:.1f} s = {r.rate:.1f} upd/s")
        if r.offered is not None:
            print(f"  offered {r.offered:.0f} upd/s (open loop); latency offer → 2xx:", end="")
        else:
            print("  latency submit → 2xx:", end="")
        print(f" p50 {r.p50:.0f} ms, p99 {r.p99:.0f} ms")
        if one is not None and r is not one and "PostgreSQL" in r.label:
            print(f"  scaling: {r.rate / one.rate:.2f}× one process")
        if r.per_bot and len(r.per_bot) > 1:  # how evenly the connections were spread
            spread = ", ".join(f"{c:.1f}" for c in r.per_bot)
            print(f"  CPU of each bot process: {spread} s")
        total = sum(r.cpu.values())
        for name, value in r.cpu.items():
            print(f"  CPU {name}: {value:.1f} s ({r.ms(name):.2f} ms/update)")
        print(f"  CPU all: {total:.1f} s ({total / r.updates * 1000:.2f} ms/update)")
        if r.machine:
            per = {k: v / r.updates * 1000 for k, v in r.machine.items()}
            print(
                f"  the machine (other tenants too): busy {per['busy']:.2f} ms/update"
                f" ({r.machine['busy'] / r.seconds:.2f} cores), of which softirq"
                f" {per['softirq']:.2f} (no process's), steal {per['steal']:.2f}"
            )
        print(f"  outcomes: {r.outcomes}")
        for name, count in (r.kernel or {}).items():
            per = {k: v / r.updates for k, v in count.items()}
            print(
                f"  {name} per update: {per['voluntary']:.1f} voluntary +"
                f" {per['involuntary']:.1f} involuntary context switches, {per['faults']:.0f}"
                f" page faults, {per['system'] * 1000:.2f} ms of the CPU in the kernel"
            )
        for name, kinds in (r.syscalls or {}).items():
            top = sorted(kinds.items(), key=lambda kv: -kv[1])[:8]
            calls = ", ".join(f"{k} {v / r.updates:.1f}" for k, v in top)
            print(
                f"  {name} system calls per update: {sum(kinds.values()) / r.updates:.1f} ({calls})"
            )
        if any(r.pg_tx):
            print(
                f"  PostgreSQL transactions per update: {r.pg_tx[0] / r.updates:.2f} committed,"
                f" {r.pg_tx[1] / r.updates:.2f} rolled back; {r.pg_tx[2]} sessions opened"
                " during the run"
            )
        if r.redis_calls:
            calls = ", ".join(f"{k} {v / r.updates:.2f}" for k, v in sorted(r.redis_calls.items()))
            print(f"  Redis commands per update: {calls}")
        bot_ms = r.ms(BOT)
        server_ms = r.ms(PG) + r.ms(REDIS)
        print(
            f"  projection: bot {bot_ms:.2f} ms/update → {1000 / bot_ms:.0f} upd/s per core "
            f"given to bot processes; PostgreSQL + Redis {server_ms:.2f} ms/update → "
            f"{1000 / server_ms if server_ms else float('inf'):.0f} upd/s per core of theirs"
        )
        for more in (4, 8, 16):
            # Bot and server cores in the ratio of their CPU per update; Telegram's side
            # (emulator, proxy, users here) is not ours in production.
            print(
                f"    {more} cores for bot + PostgreSQL + Redis: "
                f"~{more * 1000 / (bot_ms + server_ms):.0f} upd/s "
                f"(CPU-bound; {more * bot_ms / (bot_ms + server_ms):.1f} cores to bot processes)"
            )
    if base is not None and one is not None:
        print(f"\none process PostgreSQL + Redis / one process SQLite: {one.rate / base.rate:.2f}")
        print(
            f"bot CPU per update: SQLite {base.ms(BOT):.2f} ms, "
            f"PostgreSQL + Redis {one.ms(BOT):.2f} ms (+ servers {one.ms(PG) + one.ms(REDIS):.2f})"
        )


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--pg", required=True, help="a PostgreSQL server to create databases on")
    parser.add_argument("--users", type=int, default=120, help="closed loop: users at once")
    parser.add_argument("--processes", default="1,2,3")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--rate", type=float, help="open loop: updates offered per second")
    parser.add_argument("--seconds", type=float, default=20.0, help="open loop: how long")
    parser.add_argument("--poisson", action="store_true", help="open loop: Poisson arrivals")
    parser.add_argument(
        "--profile", help="a folder: cProfile of each bot process (.prof), and of this one's run"
    )
    parser.add_argument(
        "--proxy",
        action="store_true",
        help="the round-robin proxy in front (default: the processes share a port, SO_REUSEPORT)",
    )
    parser.add_argument(
        "--in-flight", type=int, help="ZAPIS_WEBHOOK__MAX_IN_FLIGHT of each process"
    )
    parser.add_argument(
        "--tail",
        action="store_true",
        help="where the updates' time went, the slowest 1%% apart (bench/cluster_tail.py)",
    )
    parser.add_argument(
        "--pin",
        choices=("shared", "apart"),
        help="pin the components to CPUs for the run (a diagnostic; see pin())",
    )
    parser.add_argument(
        "--perf",
        action="store_true",
        help="system calls per update by kind, per component (perf stat; root)",
    )
    parser.add_argument(
        "--warm", type=int, default=10, help="users per process run before measuring (0: none)"
    )
    args = parser.parse_args(argv)
    os.environ["ZAPIS_TEST_PG_URL"] = args.pg
    import tests.conftest as conftest

    conftest.PG_URL = args.pg
    print(f"load average at the start {os.getloadavg()}", flush=True)
    results: list[Result] = []
    base = None
    if not args.no_sqlite:
        folder = Path(tempfile.mkdtemp(prefix="zapis-bench-cluster-"))
        base = await one_config("1 process, SQLite", 1, args, None, folder / "b.sqlite3")
        print(f"{base.label}: {base.rate:.1f} upd/s, p99 {base.p99:.0f} ms", flush=True)
    for n in (int(x) for x in args.processes.split(",") if x):
        redis = RedisServer()
        await redis.start()
        try:
            label = f"{n} process{'es' if n > 1 else ''}, PostgreSQL + Redis"
            result = await one_config(label, n, args, redis, None)
        finally:
            await redis.stop()
        print(f"{result.label}: {result.rate:.1f} upd/s, p99 {result.p99:.0f} ms", flush=True)
        results.append(result)
    report(([base] if base else []) + results, base)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
