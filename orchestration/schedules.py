"""One schedule per recurring report. A tick fills the report's last COMPLETED partition
(Dagster's partitioned schedules do exactly that), at `PROMO_REPORT_HOUR` local time so
the daily pipeline has built the previous day by then; times follow the partitions'
timezone, so DST changes move nothing."""

from dagster import (
    DefaultScheduleStatus,
    build_schedule_from_partitioned_job,
    define_asset_job,
)

from assets.reports import KIND_TAG
from promo.reports.recurring import RecurringReport

NAME_TAG = "promo/report_name"


def report_job_name(report: RecurringReport) -> str:
    return f"report_{report.report_id}"


def schedule_name(report: RecurringReport) -> str:
    return f"report_{report.report_id}_schedule"


def build_report_schedule(report: RecurringReport, asset, hour: int):
    job = define_asset_job(
        report_job_name(report),
        selection=[asset.key],
        tags={KIND_TAG: "recurring_report", NAME_TAG: report.spec.name},
        description=f"Recurring report {report.spec.name!r}",
    )
    schedule = build_schedule_from_partitioned_job(
        job,
        name=schedule_name(report),
        hour_of_day=hour,
        default_status=DefaultScheduleStatus.RUNNING,
        description=f"{report.spec.frequency.label}: {report.spec.name}",
    )
    return job, schedule
