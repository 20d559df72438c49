"""The calendar's day boundaries (storage/repos/directory_sql.py ``_free_days_params``):
remembered per (day, zone), they must still be each local day's own bounds — a day of 23
or 25 hours at a DST change, a zone whose clocks jump at midnight — and day 0 must start
just after ``now``, as the per-day computation they replace gave."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.directory import local_day_bounds
from storage.repos.base import to_db
from storage.repos.directory_sql import _day_range, _free_days_params


def _expected(day: date, tz: str, now: datetime) -> tuple[datetime, datetime]:
    lo, hi = local_day_bounds(day, tz)
    return to_db(max(lo, now + timedelta(microseconds=1))), to_db(hi)


@pytest.mark.parametrize(
    "tz", ["Europe/Moscow", "Asia/Novosibirsk", "Europe/Berlin", "America/Santiago"]
)
@pytest.mark.parametrize("today", [date(2026, 3, 20), date(2026, 3, 30), date(2026, 10, 20)])
def test_each_day_of_the_window_is_that_local_day(tz: str, today: date) -> None:
    now = datetime.combine(today, time(15, 7, 3), tzinfo=ZoneInfo(tz)).astimezone(UTC)
    for days in (14, 2):
        params = _free_days_params(today, tz, days, now)
        assert sorted(params) == sorted(f"b{i}" for i in range(days + 1))
        for i in range(days):
            day = today + timedelta(days=i)
            assert (params[f"b{i}"], params[f"b{i + 1}"]) == _expected(day, tz, now), (tz, day)
            assert _day_range(day, tz, now) == _expected(day, tz, now)
    # the next call's day 0 follows its own «now»; what is remembered is not changed by it
    later = now + timedelta(hours=3)
    assert _free_days_params(today, tz, 14, later)["b0"] == to_db(later) + timedelta(microseconds=1)
    assert _free_days_params(today, tz, 14, now)["b0"] == to_db(now) + timedelta(microseconds=1)


def test_a_dst_change_makes_a_day_of_23_or_25_hours() -> None:
    """The cases above include real DST days (else they would prove nothing about them)."""
    now = datetime(2026, 3, 20, 12, tzinfo=UTC)
    spring = _free_days_params(date(2026, 3, 20), "Europe/Berlin", 14, now)
    lengths = {spring[f"b{i + 1}"] - spring[f"b{i}"] for i in range(1, 14)}
    assert timedelta(hours=23) in lengths and timedelta(hours=24) in lengths
    now = datetime(2026, 10, 20, 12, tzinfo=UTC)
    autumn = _free_days_params(date(2026, 10, 20), "Europe/Berlin", 14, now)
    assert timedelta(hours=25) in {autumn[f"b{i + 1}"] - autumn[f"b{i}"] for i in range(1, 14)}
