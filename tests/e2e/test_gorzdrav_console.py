"""``python -m bot console --source gorzdrav``: a whole booking and cancel through the fake
Gorzdrav server, as a newcomer would run it (a subprocess, strict mode)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SCRIPTS = sorted((HERE / "gorzdrav").glob("*.txt"))


@pytest.mark.parametrize("script", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_gorzdrav_script(script: Path, tmp_path: Path) -> None:
    now = script.read_text(encoding="utf-8").splitlines()[0].split(":", 1)[1].strip()
    done = subprocess.run(
        [
            sys.executable, "-m", "bot", "console", "--source", "gorzdrav",
            "--script", str(script), "--strict", "--now", now,
            "--db", f"sqlite+aiosqlite:///{tmp_path / 'e2e.sqlite3'}",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, f"{script.name} failed:\n{done.stdout}\n{done.stderr[-3000:]}"
    assert "gorzdrav mirror: 1 clinics, 16 doctors, 1088 slots added" in done.stdout
