"""bench/rush.py at a small size as a subprocess: every slot booked, no errors,
invariants hold. Guards the benchmark against bit-rot (timing is not asserted)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_rush_smoke(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "rush.py"),
            "--users",
            "300",
            "--slots",
            "30",
            "--db",
            str(tmp_path / "rush.sqlite3"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    assert "appointments: 30 (slots 30)" in out
    assert "errors: 0" in out
    assert "invariants: ok" in out
    assert re.search(r"bookings/s: \d+", out)
    assert re.search(r"ratio attempts/baseline: [\d.]+", out)
    assert "RESULT: OK" in out
