"""The one partitions definition: account-timezone calendar days."""

from __future__ import annotations

from dagster import DailyPartitionsDefinition

from orchestration.settings import Settings


def daily_partitions(settings: Settings) -> DailyPartitionsDefinition:
    # A partition exists once its local day has ended (end_offset=0), so a schedule tick
    # fills the last completed day and a backfill never processes a half day.
    return DailyPartitionsDefinition(
        start_date=settings.partition_start.isoformat(),
        timezone=settings.account_timezone,
    )
