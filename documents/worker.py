"""Documents are built off the event loop, one at a time, in one thread of their own.

A PDF is tens of ms of pure-Python CPU (fpdf2 and fontTools), so it must not run in
the event loop; ``asyncio.to_thread`` would spread the builds of a burst (the
notifier sends 8 rows at once) over the default executor's up to 6 threads. That buys
no throughput — the GIL lets one of them run at a time, zlib aside — but every build
in flight holds its own parsed fonts and buffers at once, and what they free is left
scattered over the threads' malloc arenas: on the Moscow benchmark
(bench/README-moscow.md) 20 confirmations built through ``to_thread`` left one bot
process ~15 MiB larger at its peak than the same 20 built in one thread (the same
jobs' CPU time; ``MALLOC_ARENA_MAX=2`` alone won back only ~3 MiB of it). One worker
thread, started on first use, queues the builds instead (a process forked after using
it starts its own: a thread does not survive a fork).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

_executor: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="zapis-documents")
    return _executor


def _forget_after_fork() -> None:
    global _executor
    _executor = None  # the parent's worker thread does not exist in the child


os.register_at_fork(after_in_child=_forget_after_fork)


async def build_off_loop(build: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """``build(*args, **kwargs)`` in the documents thread, in a copy of the caller's
    context (the i18n locale, as ``asyncio.to_thread`` does); the caller awaits its
    result or its exception."""
    loop = asyncio.get_running_loop()
    context = contextvars.copy_context()
    call = functools.partial(context.run, build, *args, **kwargs)
    return await loop.run_in_executor(_pool(), call)
