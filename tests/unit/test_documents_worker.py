"""documents/worker.py: builds run off the loop, one at a time, in one thread, in the
caller's context; a build's exception reaches the caller."""

from __future__ import annotations

import asyncio
import contextvars
import os
import threading
import time
from datetime import UTC, datetime

import pytest

from documents import appointment_pdf
from documents.worker import build_off_loop

LOCALE: contextvars.ContextVar[str] = contextvars.ContextVar("locale", default="ru")


async def test_builds_queue_in_one_thread_off_the_loop() -> None:
    running = 0
    most = 0
    names: set[str] = set()

    def build(n: int) -> int:
        nonlocal running, most
        running += 1
        most = max(most, running)
        names.add(threading.current_thread().name)
        time.sleep(0.01)
        running -= 1
        return n * 2

    results = await asyncio.gather(*(build_off_loop(build, n) for n in range(8)))
    assert results == [n * 2 for n in range(8)]
    assert most == 1  # one at a time
    assert len(names) == 1 and names.pop().startswith("zapis-documents")
    assert threading.current_thread() is threading.main_thread()


async def test_the_callers_context_and_errors_cross_over() -> None:
    LOCALE.set("en")
    assert await build_off_loop(LOCALE.get) == "en"

    def broken() -> None:
        raise ValueError("no font")

    with pytest.raises(ValueError, match="no font"):
        await build_off_loop(broken)


async def test_a_pdf_built_there_is_the_same_file() -> None:
    created = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    kwargs = {"title": "Подтверждение записи", "rows": [("Врач", "Петрова")], "created": created}
    assert await build_off_loop(appointment_pdf, **kwargs) == appointment_pdf(**kwargs)  # type: ignore[arg-type]


def test_a_forked_child_builds_in_its_own_thread() -> None:
    asyncio.run(build_off_loop(int, "1"))  # the parent's worker thread exists now
    pid = os.fork()
    if pid == 0:  # the child: exit 0 only if a build completes there
        code = 1
        try:
            code = 0 if asyncio.run(asyncio.wait_for(build_off_loop(int, "2"), 10)) == 2 else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
