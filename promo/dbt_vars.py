"""Partition window -> dbt --vars. Pure functions, unit-tested."""

from __future__ import annotations

from datetime import datetime

from promo.timeutil import window_days


def dbt_vars(start: datetime, end: datetime, timezone: str, lake_uri: str) -> dict[str, str]:
    """The vars every dbt invocation gets: the local-day range, the zone and the lake (the
    warehouse resource adds where its engine keeps the marts: profiles.yml reads it)."""
    first, last = window_days(start, end)
    return {
        "min_date": first.isoformat(),
        "max_date": last.isoformat(),
        "account_timezone": timezone,
        "lake_dir": lake_uri,
    }
