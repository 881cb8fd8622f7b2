"""Reports in Dagster.

- `one_time_report`: a job with typed run config (the launchpad's form), validated by the
  same spec model as the CLI. Its run IS the report's status: running = Creating,
  success = Created, failure = Creation Failed (the reason is the step's failure).
- Recurring reports: one partitioned asset per catalog entry (`reports/<report_id>`),
  daily partitions, or weekly partitions that start on the delivery day, so the run
  after a partition ends covers exactly "the previous day" / "the 7 days before the
  delivery day". A backfill over several partitions is one run and one file for the
  whole range; re-running a partition writes the same file name again.
"""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetMaterialization,
    AssetsDefinition,
    BackfillPolicy,
    Config,
    ConfigurableResource,
    DailyPartitionsDefinition,
    Failure,
    MaterializeResult,
    MetadataValue,
    OpExecutionContext,
    WeeklyPartitionsDefinition,
    asset,
    in_process_executor,
    job,
    op,
)

from promo.reports.engine import Delivered, ReportDataMissing
from promo.reports.recurring import RecurringReport
from promo.reports.service import ReportContext, load_catalog, report_folder, run_report
from promo.reports.spec import SpecError, load_spec
from promo.reports.validation import ReportValidationError
from promo.reports.windows import custom_window
from promo.storage import StorageError
from resources.storage import open_storage

REPORT_MARTS = {
    "wallet_summary": "wallet_daily_summary",
    "wallet_transactions": "wallet_transactions",
    "user_ledger_summary": "user_ledger",
    "voucher_assignment_logs": "voucher_assignments",
    "reward_assignment": "reward_assignments",
    "user_errors": "campaign_user_errors",
}
WEEKDAY_OFFSET = {  # WeeklyPartitionsDefinition counts from Sunday = 0
    "sunday": 0,
    "monday": 1,
    "tuesday": 2,
    "wednesday": 3,
    "thursday": 4,
    "friday": 5,
    "saturday": 6,
}
KIND_TAG = "promo/kind"
ONE_TIME = "one_time_report"
EXPECTED_FAILURES = (SpecError, ReportDataMissing, ReportValidationError, StorageError)


class ReportSettings(ConfigurableResource):
    """Where reports read from and deliver to (from Settings)."""

    marts_uri: str
    lake_dir: str
    downloads_dir: str
    timezone: str
    s3_endpoint_url: str | None = None

    def context(self) -> ReportContext:
        return ReportContext(
            marts=open_storage(self.marts_uri, self.s3_endpoint_url),
            lake_dir=Path(self.lake_dir),
            downloads_dir=Path(self.downloads_dir),
            timezone=self.timezone,
            s3_endpoint_url=self.s3_endpoint_url,
        )


def delivered_metadata(delivered: Delivered) -> dict[str, Any]:
    return {
        "location": MetadataValue.text(delivered.uri),
        "manifest": MetadataValue.text(delivered.manifest_uri),
        "rows": delivered.rows,
        "sha256": delivered.sha256,
        "parts": len(delivered.parts),
        "window": MetadataValue.json(delivered.manifest["window"]),
    }


# --------------------------------------------------------------------------- one-time
class FiltersConfig(Config):
    wallet_id: str | None = None
    partner_id: str | None = None
    list_tag: str | None = None
    campaign_id: str | None = None
    transaction_sources: list[str] | None = None
    transaction_types: list[str] | None = None


class DateRangeConfig(Config):
    preset: str | None = None
    start: str | None = None
    end: str | None = None


class DeliveryConfig(Config):
    destination: str = "download"
    bucket: str | None = None
    prefix: str | None = None


class ReportConfig(Config):
    """A one-time report; the same keys as a spec file (see README, 'Reports')."""

    name: str
    promotion_type: str
    report_type: str
    filters: FiltersConfig = FiltersConfig()
    date_range: DateRangeConfig | None = None
    delivery: DeliveryConfig = DeliveryConfig()
    created_by: str = "dagster-ui"
    now: str | None = None  # ISO 8601 with offset: fixes the clock for presets


def spec_mapping(config: ReportConfig) -> dict[str, Any]:
    def clean(section: Config | None) -> dict[str, Any] | None:
        if section is None:
            return None
        return {k: v for k, v in section.model_dump().items() if v is not None}

    mapping = {
        "name": config.name,
        "promotion_type": config.promotion_type,
        "report_type": config.report_type,
        "filters": clean(config.filters),
        "delivery": clean(config.delivery),
        "frequency": "one_time",
    }
    if config.date_range is not None:
        mapping["date_range"] = clean(config.date_range)
    return mapping


RUN_TAGS = ("promo/report_name", "promo/report_type", "promo/promotion_type", "promo/created_by")


def report_tags(config: ReportConfig | dict[str, Any]) -> dict[str, str]:
    """The run tags that make a run a line of `report list` (name, types, created by),
    from the run config (a `ReportConfig`, or its plain dict form as stored in a run)."""
    values = config.model_dump() if isinstance(config, Config) else config
    keys = ("name", "report_type", "promotion_type", "created_by")
    tags = dict(zip(RUN_TAGS, (values.get(k) for k in keys), strict=True))
    return {k: str(v) for k, v in tags.items() if v is not None}


@op(description="Validate the spec, export the report, validate the file, deliver it.")
def create_report(context: OpExecutionContext, config: ReportConfig, reports: ReportSettings):
    ctx = reports.context()
    # The report list reads these tags; a run launched from the UI's launchpad has none
    # of its own (the CLI sets them at launch), so the run writes them itself.
    missing = {k: v for k, v in report_tags(config).items() if k not in context.run.tags}
    if missing:
        context.instance.add_run_tags(context.run_id, missing)
    try:
        catalog, _ = load_catalog(ctx.lake_dir)
        spec = load_spec(spec_mapping(config), catalog)
        now = datetime.fromisoformat(config.now) if config.now else datetime.now(UTC)
        delivered = run_report(spec, ctx, now, config.created_by, run_id=context.run_id)
    except EXPECTED_FAILURES as exc:
        raise Failure(description=str(exc)) from None
    context.log_event(
        AssetMaterialization(
            asset_key=AssetKey(["reports", "one_time", report_folder(spec)]),
            description=f"{spec.name}: {spec.report_type.value}",
            metadata=delivered_metadata(delivered),
        )
    )


@job(
    name=ONE_TIME,
    executor_def=in_process_executor,
    tags={KIND_TAG: ONE_TIME},
    description="Create a one-time report: fill in the spec in the launchpad "
    "(name, promotion_type, report_type, filters, date_range, delivery).",
)
def one_time_report_job():
    create_report()


# --------------------------------------------------------------------------- recurring
def report_partitions(report: RecurringReport, start: str, timezone: str):
    frequency = report.spec.frequency
    if frequency.interval.value == "daily":
        return DailyPartitionsDefinition(start_date=start, timezone=timezone)
    return WeeklyPartitionsDefinition(
        start_date=start, timezone=timezone, day_offset=WEEKDAY_OFFSET[frequency.delivery_day.value]
    )


def build_recurring_asset(report: RecurringReport, start: str, timezone: str) -> AssetsDefinition:
    spec = report.spec

    @asset(
        key=AssetKey(["reports", report.report_id]),
        partitions_def=report_partitions(report, start, timezone),
        backfill_policy=BackfillPolicy.single_run(),
        deps=[AssetKey(["marts", REPORT_MARTS[spec.report_type.value]])],
        group_name="reports",
        kinds={"csv"},
        tags={KIND_TAG: "recurring_report"},
        description=f"Recurring report **{spec.name}** ({spec.report_type.value}, "
        f"{spec.frequency.label}), delivered to s3://{spec.delivery.bucket}/"
        f"{spec.delivery.prefix or ''}. One file per partition; a backfill over a range "
        "makes one file for the whole range.",
    )
    def _recurring(context: AssetExecutionContext, reports: ReportSettings):
        window = context.partition_time_window
        tz = ZoneInfo(timezone)
        first = window.start.astimezone(tz).date()
        last = (window.end.astimezone(tz) - timedelta(days=1)).date()
        try:
            delivered = run_report(
                spec,
                reports.context(),
                datetime.now(UTC),
                "schedule",
                window=custom_window(first, last, tz),
            )
        except EXPECTED_FAILURES as exc:
            raise Failure(description=str(exc)) from None
        return MaterializeResult(metadata=delivered_metadata(delivered))

    return _recurring
