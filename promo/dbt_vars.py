"""Partition window -> what a dbt invocation gets. Pure functions, unit-tested.

Two channels on purpose. `--vars` hold what is fixed for a deployment (zone, lake,
warehouse): dbt keys its saved parse on them, so they must not change from run to run.
The run window changes every run, so it travels in environment variables that the models
read only while executing (macros/run_window.sql): the saved parse stays valid and a
daily run skips the ~4 s full re-parse.
"""

from __future__ import annotations

from datetime import datetime

from promo.timeutil import window_days

# Read by macros/run_window.sql; the orchestrator sets them for the dbt process only.
WINDOW_ENV = ("PROMO_DBT_MIN_DATE", "PROMO_DBT_MAX_DATE")


def dbt_vars(timezone: str, lake_uri: str, s3_endpoint_url: str | None = None) -> dict[str, str]:
    """The vars every dbt invocation of a deployment gets: the zone and the lake, and
    for a lake on an S3-compatible server its endpoint (profiles.yml hands it to the
    plugin that lets DuckDB read s3://). The warehouse resource adds where its engine
    keeps the marts. Nothing here depends on the run."""
    variables = {"account_timezone": timezone, "lake_dir": lake_uri}
    if lake_uri.startswith("s3://") and s3_endpoint_url:
        variables["s3_endpoint_url"] = s3_endpoint_url
    return variables


def dbt_window_env(start: datetime, end: datetime) -> dict[str, str]:
    """The run's account-timezone days, first and last inclusive, as the environment
    variables the models read (ISO dates)."""
    first, last = window_days(start, end)
    return dict(zip(WINDOW_ENV, (first.isoformat(), last.isoformat()), strict=True))
