"""The report list, read from where the truth lives:

- one-time reports are runs of the `one_time_report` job in the Dagster instance (their
  status is the run's status; the file's location is the run's materialization);
- recurring reports are catalog entries, and their Active/Stopped status is the state of
  their sensor (`report_<id>_sensor`, which delivers each period once its data is
  published) in the instance — the same switch as in the Dagster UI. It is read from the
  instance's storage directly (milliseconds: `report list` and the API read it on every
  call; a sensor that was never switched has no stored state and runs, its default), and
  flipped through Dagster's GraphQL API (`dagster-graphql`, which loads the code location
  to find the sensor's origin: seconds, but only on stop and start).
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus, RunsFilter

from assets.reports import report_partitions, report_tags
from orchestration.instance import ensure_dagster_home
from orchestration.report_sensors import next_delivery
from orchestration.settings import REPO_ROOT, Settings
from promo import names
from promo.reports.recurring import load_catalog_file
from promo.reports.request import spec_of_run_config

STATUS = {
    DagsterRunStatus.SUCCESS: "Created",
    DagsterRunStatus.FAILURE: "Creation Failed",
    DagsterRunStatus.CANCELED: "Creation Failed",
}


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


def _local(ts: float | None, tz: ZoneInfo) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).astimezone(tz).isoformat(timespec="seconds")


def _failure_reason(instance: DagsterInstance, run) -> str | None:
    if run.tags.get(names.FAILURE_REASON_TAG):
        return run.tags[names.FAILURE_REASON_TAG]
    for record in instance.all_logs(run.run_id, of_type=DagsterEventType.STEP_FAILURE):
        data = record.dagster_event.step_failure_data
        if data.user_failure_data and data.user_failure_data.description:
            return data.user_failure_data.description
        if data.error:
            return data.error.message.strip()
    return None


def _delivered(instance: DagsterInstance, run_id: str) -> tuple[str | None, int | None]:
    """Where the report's file was delivered, and its rows (the report's materialization)."""
    for record in instance.all_logs(run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION):
        meta = record.dagster_event.event_specific_data.materialization.metadata
        if "location" in meta:
            rows = meta.get("rows")
            return meta["location"].value, int(rows.value) if rows is not None else None
    return None, None


def _report_tags(run) -> dict[str, str]:
    """The report's name, types and creator: the run's tags, else its launch config (a
    run launched from the UI gets its tags only once its step starts)."""
    return {**report_tags({"created_by": "dagster-ui", **_run_config(run)}), **run.tags}


def _run_config(run) -> dict:
    return (run.run_config or {}).get("ops", {}).get("create_report", {}).get("config", {})


def one_time_reports(
    instance: DagsterInstance, tz: ZoneInfo, run_ids: list[str] | None = None
) -> list[ReportEntry]:
    """One-time reports, newest first (or only those of `run_ids`)."""
    entries = []
    runs = RunsFilter(job_name=names.ONE_TIME_REPORT_JOB, run_ids=run_ids)
    for record in instance.get_run_records(runs):
        run = record.dagster_run
        status = STATUS.get(run.status, "Creating")
        tags = _report_tags(run)
        location, rows = _delivered(instance, run.run_id) if status == "Created" else (None, None)
        entries.append(
            ReportEntry(
                name=tags.get(names.REPORT_NAME_TAG, "?"),
                kind="one_time",
                promotion_type=tags.get(names.PROMOTION_TYPE_TAG, "?"),
                report_type=tags.get(names.REPORT_TYPE_TAG, "?"),
                status=status,
                created_by=tags.get(names.CREATED_BY_TAG),
                created_on=_local(record.create_timestamp.timestamp(), tz),
                location=location,
                rows=rows,
                reason=_failure_reason(instance, run) if status == "Creation Failed" else None,
                run_id=run.run_id,
                configuration=spec_of_run_config(_run_config(run)),
            )
        )
    return entries


# ------------------------------------------------------------------ switches (GraphQL)
SENSORS_QUERY = """{ repositoriesOrError { ... on RepositoryConnection { nodes {
  name location { name }
  sensors { name sensorState { id status } }
} } } }"""


def graphql(settings: Settings, query: str) -> dict:
    """Run a GraphQL query or mutation against the workspace (`dagster-graphql`, which
    loads the code location itself; no webserver needed)."""
    exe = str(Path(sys.executable).parent / "dagster-graphql")
    ensure_dagster_home(settings)
    proc = subprocess.run(
        [exe, "-w", str(REPO_ROOT / "workspace.yaml"), "-t", query],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=settings.child_environment(),
        timeout=300,
    )
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("{")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"dagster-graphql failed: {proc.stderr.strip()[-500:]}")
    return json.loads(line)


def switch_states(settings: Settings) -> dict[str, dict]:
    """Every sensor of the code location: name -> {id, status, location, repository}.
    A recurring report's switch is the sensor named `RecurringReport.switch_name`."""
    data = graphql(settings, SENSORS_QUERY)["data"]["repositoriesOrError"]
    out = {}
    for repo in data.get("nodes", []):
        for sensor in repo["sensors"]:
            out[sensor["name"]] = {
                "id": sensor["sensorState"]["id"],
                "status": sensor["sensorState"]["status"],
                "location": repo["location"]["name"],
                "repository": repo["name"],
            }
    return out


ERRORS = "{ __typename ... on PythonError { message } }"


def set_switch(settings: Settings, name: str, running: bool) -> str:
    """Turn a recurring report's sensor on (Active) or off (Stopped)."""
    state = switch_states(settings).get(name)
    if state is None:
        raise RuntimeError(f"no sensor {name!r} in the code location")
    if running:
        selector = (
            f'{{repositoryLocationName: "{state["location"]}", '
            f'repositoryName: "{state["repository"]}", sensorName: "{name}"}}'
        )
        query = f"mutation {{ startSensor(sensorSelector: {selector}) {ERRORS} }}"
    else:
        query = f'mutation {{ stopSensor(id: "{state["id"]}") {ERRORS} }}'
    result = graphql(settings, query)["data"]
    outcome = next(iter(result.values()))
    if outcome.get("__typename") == "PythonError":
        raise RuntimeError(outcome.get("message", "switch change failed"))
    return "RUNNING" if running else "STOPPED"


def stored_switch_status(instance: DagsterInstance) -> dict[str, str]:
    """sensor name -> RUNNING | STOPPED, for the report switches someone flipped (from the
    UI, the CLI or the API); the others follow their default in code, RUNNING."""
    out = {}
    for state in instance.all_instigator_state():
        if state.status.value in ("RUNNING", "STOPPED"):
            out[state.name] = state.status.value
    return out


def _next_run(report, settings: Settings, now: datetime) -> str:
    """The earliest time the next period can be delivered (it waits for its data)."""
    partitions = report_partitions(report, settings.partition_start, settings.tz)
    due = next_delivery(partitions, now.astimezone(settings.tz), settings.report_hour)
    return due.isoformat(timespec="seconds")


def recurring_reports(
    settings: Settings, statuses: dict[str, str], now: datetime | None = None
) -> list[ReportEntry]:
    """The catalog's reports with the status of their switches (`stored_switch_status`);
    entries that are not valid specs are listed as Invalid, never dropped."""
    reports, invalid = load_catalog_file(
        settings.report_catalog, destinations=settings.destinations
    )
    now = now or datetime.now(UTC)
    entries = []
    for report in reports:
        running = statuses.get(report.switch_name, "RUNNING") == "RUNNING"
        status = "Active" if running else "Stopped"
        spec = report.spec
        entries.append(
            ReportEntry(
                name=spec.name,
                kind="recurring",
                promotion_type=spec.promotion_type.value,
                report_type=spec.report_type.value,
                status=status,
                created_by=report.entry.get("created_by"),
                created_on=report.entry.get("created_on"),
                frequency=spec.frequency.label,
                next_run=_next_run(report, settings, now) if running else None,
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
