"""Partition window -> dbt --vars. Pure functions, unit-tested."""

from __future__ import annotations

from datetime import date, datetime, timedelta


def window_dates(start: datetime, end: datetime) -> tuple[date, date]:
    """First and last local day of a partition window [start, end) of local midnights."""
    if end <= start:
        raise ValueError(f"empty partition window {start} .. {end}")
    return start.date(), (end - timedelta(days=1)).date()


def dbt_vars(start: datetime, end: datetime, timezone: str, lake_dir: str) -> dict[str, str]:
    """The vars every dbt invocation gets: the local-day range, the zone and the lake."""
    first, last = window_dates(start, end)
    return {
        "min_date": first.isoformat(),
        "max_date": last.isoformat(),
        "account_timezone": timezone,
        "lake_dir": lake_dir,
    }
