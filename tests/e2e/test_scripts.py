"""Every tests/e2e/*.txt runs through the real console as a subprocess, in strict mode.

Assertions live in the scripts (``!expect``); a script may set its start time
with a first line ``# now: 2026-12-01T09:00:00+03:00``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DEFAULT_NOW = "2026-12-01T09:00:00+03:00"
SCRIPTS = sorted(HERE.glob("*.txt"))


def script_now(path: Path) -> str:
    first = path.read_text(encoding="utf-8").splitlines()[:1]
    if first and first[0].lower().startswith("# now:"):
        return first[0].split(":", 1)[1].strip()
    return DEFAULT_NOW


@pytest.mark.parametrize("script", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_script(script: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable, "-m", "bot", "console",
            "--script", str(script), "--strict", "--now", script_now(script),
            "--db", f"sqlite+aiosqlite:///{tmp_path / 'e2e.sqlite3'}",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, f"{script.name} failed:\n{done.stdout}\n{done.stderr[-3000:]}"
