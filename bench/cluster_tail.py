"""Where the slow updates of a bench/cluster.py run spent their time (``--tail``).

The emulated Telegram keeps a :class:`emulator.webhook.Trace` per update (its
clock in this process), and each bot process puts a ``Server-Timing`` header on
its answer (bot/webhook_server.py: read, wait for the in-flight gate, run, the
collector's pauses within, which process and how many updates it had in hand).
One update's latency, offer → the user sees the 2xx, is cut into:

- ``pace``: offer → handed to the delivery (the simulated user late for its offer);
- ``queue``: → the POST begins (the emulator's connection limit, its task start);
- ``net``: the POST's round trip less the bot's own read + wait + run — both
  sides' aiohttp, the loopback, and the time either process was not on a core;
- ``read``, ``wait``, ``run`` (``gc`` of it): inside the bot process;
- ``reply``: the method in the answer executed by the emulator;
- ``notice``: → the user's task saw it answered.

With ``--tail`` this process also measures its own event loop: how late a 2 ms
ticker ran (its lag: this process off a core, or a long step) and its collector.
"""

from __future__ import annotations

import asyncio
import statistics
from collections import Counter
from dataclasses import dataclass, field

from emulator.webhook import Trace

PARTS = ("pace", "queue", "net", "read", "wait", "run", "gc", "reply", "notice")


def server_timing(header: str) -> tuple[dict[str, float], str]:
    """The durations (ms) of a Server-Timing header, and its ``proc`` description."""
    found: dict[str, float] = {}
    proc = ""
    for item in header.split(","):
        name, _, rest = item.strip().partition(";")
        if rest.startswith("dur="):
            found[name] = float(rest[4:])
        elif rest.startswith("desc="):
            proc = rest[5:].strip('"')
    return found, proc


def parts(trace: Trace) -> dict[str, float]:
    """The update's latency cut as the module says, in ms."""
    server, _proc = server_timing(trace.server)
    inside = server.get("read", 0.0) + server.get("wait", 0.0) + server.get("run", 0.0)
    start = trace.offered if trace.offered is not None else trace.queued
    return {
        "total": (trace.noticed - start) * 1000,
        "pace": (trace.queued - start) * 1000,
        "queue": (trace.sent - trace.queued) * 1000,
        "net": (trace.answered - trace.sent) * 1000 - inside,
        "read": server.get("read", 0.0),
        "wait": server.get("wait", 0.0),
        "run": server.get("run", 0.0),
        "gc": server.get("gc", 0.0),
        "reply": (trace.done - trace.answered) * 1000,
        "notice": (trace.noticed - trace.done) * 1000,
    }


@dataclass
class LoopWatch:
    """How late this process's event loop runs a ticker every ``every`` seconds."""

    every: float = 0.002
    lags: list[float] = field(default_factory=list)
    _task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._tick())

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            at = loop.time()
            await asyncio.sleep(self.every)
            self.lags.append(loop.time() - at - self.every)

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()


def report_tail(traces: dict[int, Trace], watch: LoopWatch | None, gc_ms: float | None) -> None:
    """Mean of each part over all updates and over the slowest 1 % (and 5 %)."""
    rows = [parts(t) | where(t) for t in traces.values() if t.noticed]
    if not rows:
        return
    rows.sort(key=lambda r: r["total"])
    print("  where the time went (ms; mean per update):")
    head = "    " + f"{'':>12}" + "".join(f"{p:>8}" for p in ("total", *PARTS))
    print(head)
    for label, chosen in (
        ("all", rows),
        ("slowest 5%", rows[-max(1, len(rows) // 20) :]),
        ("slowest 1%", rows[-max(1, len(rows) // 100) :]),
    ):
        means = {k: statistics.fmean(r[k] for r in chosen) for k in ("total", *PARTS)}
        print("    " + f"{label:>12}" + "".join(f"{means[k]:>8.1f}" for k in ("total", *PARTS)))
    retried = sum(1 for r in rows if r["attempts"] > 1)
    if retried:
        print(f"    {retried} updates needed more than one attempt")
    procs = Counter(r["pid"] for r in rows)
    busy = Counter(int(r["busy"]) for r in rows)
    slow_busy = Counter(int(r["busy"]) for r in rows[-max(1, len(rows) // 100) :])
    print(f"    updates per process: {dict(procs)}")
    print(f"    updates the process already had in hand at arrival: {dict(sorted(busy.items()))}")
    print(f"      of the slowest 1%: {dict(sorted(slow_busy.items()))}")
    if watch is not None and watch.lags:
        lags = sorted(watch.lags)
        late = sum(x for x in lags if x > 0.005)
        print(
            f"  this process's loop lag: p50 {lags[len(lags) // 2] * 1000:.1f} ms, "
            f"p99 {lags[int(len(lags) * 0.99)] * 1000:.1f} ms, max {lags[-1] * 1000:.0f} ms; "
            f"{late:.2f} s in lags over 5 ms"
        )
    if gc_ms is not None:
        print(f"  this process's collector: {gc_ms:.0f} ms in all")


def where(trace: Trace) -> dict[str, float]:
    """Its attempts, the process that answered, how many updates that one had in hand."""
    pid, _, busy = server_timing(trace.server)[1].partition("/")
    return {"attempts": trace.attempts, "pid": float(pid or 0), "busy": float(busy or 0)}
