"""Every tests/e2e/*.txt runs through the real console as a subprocess, in strict mode.

Assertions live in the scripts (``!expect``); a script may set its start time
with a first line ``# now: 2026-12-01T09:00:00+03:00``.

The scripts are independent (each its own database file), so they run two at a
time (the CI machine has two cores) as soon as the module starts; each test then
waits for its own script's result and reports it.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from tests import prefork

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DEFAULT_NOW = "2026-12-01T09:00:00+03:00"
SCRIPTS = sorted(HERE.glob("*.txt"))


def script_now(path: Path) -> str:
    first = path.read_text(encoding="utf-8").splitlines()[:1]
    if first and first[0].lower().startswith("# now:"):
        return first[0].split(":", 1)[1].strip()
    return DEFAULT_NOW


def run_script(script: Path, tmp: Path) -> subprocess.CompletedProcess[str]:
    """``python -m emulator --script …`` in a new process, forked from one that imported
    the console once (tests/prefork.py: ~3 s of imports per script saved)."""
    return prefork.run_module(
        "emulator",
        [
            "--script", str(script), "--strict", "--now", script_now(script),
            "--db", f"sqlite+aiosqlite:///{tmp / 'e2e.sqlite3'}",
        ],
        cwd=ROOT,
        timeout=300,
    )  # fmt: skip


@pytest.fixture(scope="module")
def runs(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[Path, Future[subprocess.CompletedProcess[str]]]]:
    with ThreadPoolExecutor(max_workers=2) as pool:
        yield {s: pool.submit(run_script, s, tmp_path_factory.mktemp(s.stem)) for s in SCRIPTS}


@pytest.mark.parametrize("script", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_script(script: Path, runs: dict[Path, Future[subprocess.CompletedProcess[str]]]) -> None:
    done = runs[script].result()
    assert done.returncode == 0, f"{script.name} failed:\n{done.stdout}\n{done.stderr[-3000:]}"
