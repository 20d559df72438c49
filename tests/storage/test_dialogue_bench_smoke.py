"""bench/dialogue.py --users 3 --quick as a subprocess: every user registers and books,
and the figures are printed. Guards the benchmark against bit-rot (timing is not asserted)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_dialogue_bench_smoke() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "dialogue.py"), "--users", "3", "--quick"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    assert "machine at start:" in out and "machine at end:" in out
    assert "load average" in out
    for mode in ("sequential", "concurrent"):
        assert f"— {mode}" in out
        assert re.search(rf"RESULT .* {mode}: booking/echo ratio [\d.]+", out)
    for part in ("booking", "whole", "echo"):
        # part, updates, updates/s, p50 ms, p99 ms, ratio
        assert re.search(rf"^{part}\s+\d+\s+\d+\s+[\d.]+\s+[\d.]+\s+[\d.]+$", out, re.M), part
    assert "booked 3, lost the race («уже заняли») 0" in out
    assert re.search(r"booking p99 [\d.]+ ms", out)
