"""Reports in Dagster.

- `one_time_report`: a job whose run config is the spec (the launchpad's form is derived
  from the spec's model, `assets/report_config.py`). Its run IS the report's status:
  running = Creating, success = Created, failure = Creation Failed (the reason is the
  step's failure). The CLI and the API check and prepare the report before launching
  (`promo.reports.request`); a launchpad run is checked and prepared by its step.
- Recurring reports: one partitioned asset per catalog entry (`reports/<report_id>`),
  daily partitions, or weekly partitions that end on the delivery day, so the partition
  that ends on day D is the run of day D and covers what `recurring_window` says a run on
  D covers. A backfill over several partitions is one run and one file for the whole
  range; re-running a partition writes the same file name again.
"""

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetMaterialization,
    AssetsDefinition,
    BackfillPolicy,
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

from assets.report_config import one_time_report_config
from promo import names
from promo.reports.catalog import load_catalog
from promo.reports.destinations import (
    Destinations,
    DestinationsError,
    delivery_label,
    load_destinations,
    resolve,
)
from promo.reports.engine import Delivered, ReportDataMissing, ReportRequest, export_report
from promo.reports.recurring import RecurringReport
from promo.reports.request import from_run_config, prepare, report_folder
from promo.reports.run_config import CREATED_BY, NOW, report_tags, spec_of_run_config
from promo.reports.spec import ReportSpec
from promo.reports.spec_errors import SpecError
from promo.reports.spec_fields import Interval
from promo.reports.spec_io import load_spec
from promo.reports.validation import ReportValidationError
from promo.reports.windows import RECURRING_DAYS, recurring_window
from promo.storage import Storage, StorageError
from promo.timeutil import ONE_DAY, window_days
from resources.storage import LocalStorage, open_storage

EXPECTED_FAILURES = (SpecError, ReportDataMissing, ReportValidationError, StorageError)


class ReportSettings(ConfigurableResource):
    """Where reports read from and deliver to (from Settings)."""

    marts_uri: str
    lake_uri: str
    downloads_dir: str
    timezone: str
    s3_endpoint_url: str | None = None
    # The operator's cloud destinations (PROMO_DESTINATIONS_FILE), read again by every run:
    # a destination removed since the report was created is refused, not written to.
    destinations_file: str | None = None
    azure_account_url: str | None = None
    # Give it as EnvVar("AZURE_STORAGE_CONNECTION_STRING"): the UI then shows the name only.
    azure_connection_string: str | None = None

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def destinations(self) -> Destinations:
        path = Path(self.destinations_file) if self.destinations_file else None
        try:
            return load_destinations(path)
        except DestinationsError as exc:
            raise StorageError(str(exc)) from None

    def marts(self) -> Storage:
        return open_storage(self.marts_uri, self.s3_endpoint_url)

    def lake(self) -> Storage:
        return open_storage(self.lake_uri, self.s3_endpoint_url)

    def destination(self, spec: ReportSpec) -> Storage:
        """The storage a report is delivered to: the downloads folder, or the configured
        cloud destination's bucket under its base prefix and the spec's prefix."""
        try:
            cloud = resolve(spec.delivery, self.destinations())
        except ValueError as exc:
            raise SpecError([str(exc)]) from None
        if cloud is None:
            return LocalStorage(Path(self.downloads_dir))
        return open_storage(
            cloud.uri(spec.delivery.prefix),
            self.s3_endpoint_url,
            azure_connection_string=self.azure_connection_string,
            azure_account_url=self.azure_account_url,
        )

    def export(
        self, spec: ReportSpec, request: ReportRequest, now: datetime, user: str, run_id=None
    ) -> Delivered:
        """Export and deliver; a one-time report's `run_id` gives it a folder of its own."""
        return export_report(
            request,
            marts=self.marts(),
            destination=self.destination(spec),
            folder=report_folder(spec, run_id),
            timezone=self.timezone,
            now=now,
            generated_by=user,
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
@op(
    config_schema=one_time_report_config(),
    description="Check the spec (unless the CLI or API did), export the report, validate "
    "the file, deliver it.",
)
def create_report(context: OpExecutionContext, reports: ReportSettings):
    config = context.op_config
    # The report list reads these tags; a run launched from the UI's launchpad has none
    # of its own (the CLI sets them at launch), so the run writes them itself.
    missing = {k: v for k, v in report_tags(config).items() if k not in context.run.tags}
    if missing:
        context.instance.add_run_tags(context.run_id, missing)
    now = datetime.fromisoformat(config[NOW]) if config.get(NOW) else datetime.now(UTC)
    try:
        prepared = from_run_config(config)
        if prepared is None:  # launched from the launchpad: check and prepare it here
            catalog = load_catalog(reports.lake())
            spec = load_spec(spec_of_run_config(config), catalog, reports.destinations())
            prepared = spec, prepare(spec, catalog, now, reports.tz)
        spec, request = prepared
        delivered = reports.export(spec, request, now, config[CREATED_BY], context.run_id)
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
    name=names.ONE_TIME_REPORT_JOB,
    executor_def=in_process_executor,
    tags={names.KIND_TAG: names.ONE_TIME_REPORT_JOB},
    description="Create a one-time report: fill in the spec in the launchpad "
    "(name, promotion_type, report_type, filters, date_range, delivery).",
)
def one_time_report_job():
    create_report()


# --------------------------------------------------------------------------- recurring
def report_partitions(report: RecurringReport, start: date, tz: ZoneInfo):
    """Partitions whose ends are the run days: every day, or every delivery day."""
    frequency = report.spec.frequency
    if frequency.interval is Interval.DAILY:
        return DailyPartitionsDefinition(start_date=start.isoformat(), timezone=str(tz))
    return WeeklyPartitionsDefinition(
        start_date=start.isoformat(),
        timezone=str(tz),
        day_offset=frequency.delivery_day.sunday_based,
    )


def build_recurring_asset(report: RecurringReport, start: date, tz: ZoneInfo) -> AssetsDefinition:
    spec = report.spec
    interval = spec.frequency.interval

    @asset(
        key=AssetKey(["reports", report.report_id]),
        partitions_def=report_partitions(report, start, tz),
        backfill_policy=BackfillPolicy.single_run(),
        deps=[AssetKey(["marts", spec.definition.mart.name])],
        group_name="reports",
        kinds={"csv"},
        tags={names.KIND_TAG: "recurring_report"},
        description=f"Recurring report **{spec.name}** ({spec.report_type.value}, "
        f"{spec.frequency.label}), delivered to {delivery_label(spec.to_dict()['delivery'])}. "
        "One file per partition; a backfill over a range makes one file for the whole range.",
    )
    def _recurring(context: AssetExecutionContext, reports: ReportSettings):
        first, last = window_days(*context.partition_time_window)
        # The partition ending on day D is the run of day D: the runs of these partitions
        # are the days after each partition's period.
        window = recurring_window(
            interval, first + RECURRING_DAYS[interval] * ONE_DAY, tz, last + ONE_DAY
        )
        now = datetime.now(UTC)
        try:
            # The ids were checked when the report was created; the dimensions may have
            # changed since (a hand-edited entry, a wallet gone): check again, so a report
            # about an unknown id fails with its name instead of delivering empty files.
            catalog = load_catalog(reports.lake())
            checked = load_spec(spec, catalog, reports.destinations())
            request = prepare(checked, catalog, now, tz, window)
            delivered = reports.export(checked, request, now, "schedule")
        except EXPECTED_FAILURES as exc:
            raise Failure(description=str(exc)) from None
        return MaterializeResult(metadata=delivered_metadata(delivered))

    return _recurring
