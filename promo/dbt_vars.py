"""Partition window -> dbt --vars. Pure functions, unit-tested."""

from __future__ import annotations

from datetime import datetime

from promo.timeutil import window_days


def dbt_vars(
    start: datetime, end: datetime, timezone: str, lake_uri: str, s3_endpoint_url: str | None = None
) -> dict[str, str]:
    """The vars every dbt invocation gets: the local-day range, the zone and the lake, and
    for a lake on an S3-compatible server its endpoint (profiles.yml hands it to the
    plugin that lets DuckDB read s3://). The warehouse resource adds where its engine
    keeps the marts."""
    first, last = window_days(start, end)
    variables = {
        "min_date": first.isoformat(),
        "max_date": last.isoformat(),
        "account_timezone": timezone,
        "lake_dir": lake_uri,
    }
    if lake_uri.startswith("s3://") and s3_endpoint_url:
        variables["s3_endpoint_url"] = s3_endpoint_url
    return variables
