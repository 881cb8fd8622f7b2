"""One schedule per recurring report. A tick fills the report's last COMPLETED partition
(Dagster's partitioned schedules do exactly that), at `PROMO_REPORT_HOUR` local time so
the daily pipeline has built the previous day by then; times follow the partitions'
timezone, so DST changes move nothing."""

from dagster import (
    DefaultScheduleStatus,
    build_schedule_from_partitioned_job,
    define_asset_job,
)

from promo import names
from promo.reports.recurring import RecurringReport


def build_report_schedule(report: RecurringReport, asset, hour: int):
    job = define_asset_job(
        report.job_name,
        selection=[asset.key],
        tags={names.KIND_TAG: "recurring_report", names.REPORT_NAME_TAG: report.spec.name},
        description=f"Recurring report {report.spec.name!r}",
    )
    schedule = build_schedule_from_partitioned_job(
        job,
        name=report.schedule_name,
        hour_of_day=hour,
        default_status=DefaultScheduleStatus.RUNNING,
        description=f"{report.spec.frequency.label}: {report.spec.name}",
    )
    return job, schedule
