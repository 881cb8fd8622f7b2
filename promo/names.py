"""Names other systems see: Dagster job names, run tags, the warehouse pool.

Plain strings (no Dagster import), so the domain, the assets, the CLI and the report
list all spell them the same way.
"""

from __future__ import annotations

# Jobs
DAILY_JOB = "promo_daily"
DIMENSIONS_JOB = "promo_dimensions"
REBUILD_JOB = "promo_rebuild"
ONE_TIME_REPORT_JOB = "one_time_report"


def recurring_report_job(report_id: str) -> str:
    return f"report_{report_id}"


def recurring_report_switch(report_id: str) -> str:
    """The sensor that delivers a recurring report when its data is published: its state
    (running or stopped) is the report's status (Active or Stopped)."""
    return f"report_{report_id}_sensor"


# The concurrency pool of every step that opens the DuckDB warehouse (limit 1).
WAREHOUSE_POOL = "duckdb_warehouse"

# Our run tags
KIND_TAG = "promo/kind"  # one_time_report | recurring_report
REPORT_NAME_TAG = "promo/report_name"
REPORT_TYPE_TAG = "promo/report_type"
PROMOTION_TYPE_TAG = "promo/promotion_type"
CREATED_BY_TAG = "promo/created_by"
DESTINATION_TAG = "promo/destination"  # where a report goes: download or a destination's name
FAILURE_REASON_TAG = "promo/failure_reason"
TRIGGER_TAG = "promo/trigger"

# Dagster's own tags that we set or read
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
PARTITION_TAG = "dagster/partition"
