"""The lines of the report list, built from plain values (no Dagster import here).

Two readers fill them: `orchestration.registry` through Dagster's API, and
`orchestration.report_index` straight from the instance's tables (what `report list` uses:
importing Dagster costs more than a second). Both hand the same values to
`one_time_entry`, so both give the same lines.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from orchestration.settings import Settings
from promo import names
from promo.reports.recurring import load_catalog_file, next_delivery
from promo.reports.run_config import report_tags, spec_of_run_config

# A one-time report's status from its run's (DagsterRunStatus values); any other is Creating.
STATUS = {"SUCCESS": "Created", "FAILURE": "Creation Failed", "CANCELED": "Creation Failed"}


@dataclass
class ReportEntry:
    name: str
    kind: str  # one_time | recurring
    promotion_type: str
    report_type: str
    status: str  # Creating | Created | Creation Failed | Active | Stopped
    created_by: str | None
    created_on: str | None  # account timezone, ISO 8601
    frequency: str | None = None
    next_run: str | None = None
    location: str | None = None
    rows: int | None = None  # a Created one-time report's data rows
    reason: str | None = None
    run_id: str | None = None
    report_id: str | None = None
    # Where it is delivered: `download`, a configured destination's name, or `s3:<bucket>`
    # (the older form of a spec).
    destination: str | None = None
    # The report's spec (read-only), for `show` in the API and the page; not part of the
    # CLI's `report list --json` lines.
    configuration: dict | None = field(default=None, repr=False, compare=False)

    @property
    def id(self) -> str | None:
        """The API's id: a one-time report's run id, a recurring report's report id."""
        return self.run_id if self.kind == "one_time" else self.report_id

    @property
    def delivered_for_download(self) -> bool:
        delivery = (self.configuration or {}).get("delivery") or {}
        return delivery.get("destination", "download") == "download"  # the spec's default

    def __post_init__(self) -> None:
        if self.destination is None and self.configuration is not None:
            self.destination = destination_of(self.configuration)

    def as_dict(self) -> dict:
        out = asdict(self)
        out.pop("configuration")
        return out


def destination_of(configuration: dict) -> str:
    """A spec's destination as lists show it (see `ReportEntry.destination`)."""
    delivery = configuration.get("delivery") or {}
    kind = delivery.get("destination", "download")
    if kind == "cloud":
        return str(delivery.get("name"))
    if kind == "s3":
        return f"s3:{delivery.get('bucket')}"
    return str(kind)


def local_time(ts: float | None, tz: ZoneInfo) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).astimezone(tz).isoformat(timespec="seconds")


def report_config(run_config: Mapping[str, Any] | None) -> dict:
    """The `create_report` op's config of a one-time report's run config."""
    return (run_config or {}).get("ops", {}).get("create_report", {}).get("config", {})


@dataclass(frozen=True)
class RunFacts:
    """What the list shows of a finished run beyond its row in the runs table, read from
    its event log: where the file went and its rows (Created), or why it failed."""

    location: str | None = None
    rows: int | None = None
    reason: str | None = None


def one_time_entry(
    run_id: str,
    status: str,
    tags: Mapping[str, str],
    run_config: Mapping[str, Any] | None,
    created: datetime,
    tz: ZoneInfo,
    facts: RunFacts,
) -> ReportEntry:
    """A one-time report's line from its run: `status` is the run status' value, `created`
    the run's creation time (aware), `tags` and `run_config` the run's own.

    The report's name, types and creator are the run's tags, else its launch config (a run
    launched from the UI gets its tags only once its step starts). A failure reason in
    the run's tags (set by the alerts) wins over the one of the event log."""
    shown = STATUS.get(status, "Creating")
    config = report_config(run_config)
    tags = {**report_tags({"created_by": "dagster-ui", **config}), **tags}
    created_ok, failed = shown == "Created", shown == "Creation Failed"
    return ReportEntry(
        name=tags.get(names.REPORT_NAME_TAG, "?"),
        kind="one_time",
        promotion_type=tags.get(names.PROMOTION_TYPE_TAG, "?"),
        report_type=tags.get(names.REPORT_TYPE_TAG, "?"),
        status=shown,
        created_by=tags.get(names.CREATED_BY_TAG),
        created_on=local_time(created.timestamp(), tz),
        location=facts.location if created_ok else None,
        rows=facts.rows if created_ok else None,
        reason=(tags.get(names.FAILURE_REASON_TAG) or facts.reason) if failed else None,
        run_id=run_id,
        configuration=spec_of_run_config(config),
    )


def recurring_reports(
    settings: Settings, statuses: Mapping[str, str], now: datetime | None = None
) -> list[ReportEntry]:
    """The catalog's reports with the status of their switches (sensor name -> RUNNING |
    STOPPED, for the switches someone flipped; the others run, their default in code);
    entries that are not valid specs are listed as Invalid, never dropped."""
    reports, invalid = load_catalog_file(
        settings.report_catalog, destinations=settings.destinations
    )
    now = now or datetime.now(UTC)
    entries = []
    for report in reports:
        running = statuses.get(report.switch_name, "RUNNING") == "RUNNING"
        spec = report.spec
        due = next_delivery(
            report, settings.partition_start, settings.tz, now, settings.report_hour
        )
        entries.append(
            ReportEntry(
                name=spec.name,
                kind="recurring",
                promotion_type=spec.promotion_type.value,
                report_type=spec.report_type.value,
                status="Active" if running else "Stopped",
                created_by=report.entry.get("created_by"),
                created_on=report.entry.get("created_on"),
                frequency=spec.frequency.label,
                next_run=due.isoformat(timespec="seconds") if running else None,
                report_id=report.report_id,
                configuration=spec.to_dict(),
            )
        )
    for bad in invalid:
        entries.append(
            ReportEntry(
                name=bad.name,
                kind="recurring",
                promotion_type="?",
                report_type="?",
                status="Invalid",
                created_by=None,
                created_on=None,
                reason="; ".join(bad.problems),
            )
        )
    return entries
