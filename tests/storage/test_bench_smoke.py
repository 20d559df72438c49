"""bench/moscow.py still runs end to end (tiny scale, SQLite only) and prints its three metrics
and the RSS of one bot process (one dialogue on the tiny directory)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_moscow_bench_smoke() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "moscow.py"),
            "--scale",
            "0.002",
            "--sqlite-only",
            "--queries",
            "100",
            "--rss-users",
            "1",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for metric in (
        "earliest_10_free",
        "clinic_doctors_nearest",
        "doctor_free_days",
        "SELECT 1 (baseline)",
        "query / SELECT 1",
        "RSS of one bot process",
    ):
        assert metric in out, out
    assert "Xeon" in out or "cores" in out
