"""Per-call cost of the booking documents: appointment_ics and appointment_pdf.

    .venv/bin/python bench/documents.py [--calls 50] [--warmup 3]

Each builder is called ``--warmup`` times (first-call costs: imports, caches,
font loading), then ``--calls`` times with the same realistic Russian
appointment (Moscow clinic, long address, preparation notes); per-call
milliseconds are printed as min / p50 / mean / p99 / max, plus the output size.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from documents import Organizer, appointment_ics, appointment_pdf

START = datetime(2026, 12, 3, 7, 30, tzinfo=UTC)
STAMP = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ROWS = [
    ("Номер записи", "A-000123"),
    ("Пациент", "Ёлкина Алёна Сергеевна"),
    ("Врач", "Петрова Анна Сергеевна (терапевт)"),
    (
        "Поликлиника",
        "ГБУЗ «Городская поликлиника № 1» ДЗМ, ул. Ленина, д. 5, корп. 2 — вход со двора",
    ),
    ("Кабинет", "214"),
    ("Дата", "четверг, 3 декабря 2026 г."),
    ("Время", "10:30 (Москва, UTC+3)"),
    ("Длительность", "20 мин"),
]


def _ics() -> bytes:
    return appointment_ics(
        uid="appointment-A-000123@zapis.bot",
        sequence=0,
        start=START,
        minutes=20,
        tz="Europe/Moscow",
        summary="Приём: терапевт — Петрова Анна Сергеевна",
        location="ГБУЗ «Городская поликлиника № 1» ДЗМ, ул. Ленина, д. 5",
        description="\n".join(f"{k}: {v}" for k, v in ROWS) + "\n\nНатощак.",
        stamp=STAMP,
        organizer=Organizer.clinic(1, "ГБУЗ «Городская поликлиника № 1» ДЗМ"),
    )


def _pdf() -> bytes:
    return appointment_pdf(
        title="Подтверждение записи к врачу",
        rows=ROWS,
        created=STAMP,
        notes_title="Подготовка",
        notes="Натощак, не завтракать. Возьмите паспорт и полис ОМС; результаты анализов — при наличии.",
        footer="Покажите это подтверждение в регистратуре поликлиники. Записано через «Запись».",
    )


def _measure(name: str, fn: Callable[[], bytes], calls: int, warmup: int) -> None:
    t0 = time.perf_counter()
    size = len(fn())
    first = (time.perf_counter() - t0) * 1000
    for _ in range(max(warmup - 1, 0)):
        fn()
    samples: list[float] = []
    for _ in range(calls):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    p99 = samples[min(len(samples) - 1, round(0.99 * (len(samples) - 1)))]
    print(
        f"{name:16s} first {first:8.2f} ms | {calls} calls: min {samples[0]:7.2f}  "
        f"p50 {statistics.median(samples):7.2f}  mean {statistics.fmean(samples):7.2f}  "
        f"p99 {p99:7.2f}  max {samples[-1]:7.2f} ms | {size:,} bytes"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()
    _measure("appointment_ics", _ics, args.calls, args.warmup)
    _measure("appointment_pdf", _pdf, args.calls, args.warmup)


if __name__ == "__main__":
    main()
