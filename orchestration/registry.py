"""The report list, read from where the truth lives:

- one-time reports are runs of the `one_time_report` job in the Dagster instance (their
  status is the run's status; the file's location is the run's materialization);
- recurring reports are catalog entries, and their Active/Stopped status is the state of
  their sensor (`report_<id>_sensor`, which delivers each period once its data is
  published) in the instance — the same switch as in the Dagster UI, read and flipped
  through Dagster's GraphQL API (`dagster-graphql`, in process, no webserver).
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict, dataclass
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
    reason: str | None = None
    run_id: str | None = None
    report_id: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


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


def _location(instance: DagsterInstance, run_id: str) -> str | None:
    for record in instance.all_logs(run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION):
        meta = record.dagster_event.event_specific_data.materialization.metadata
        if "location" in meta:
            return meta["location"].value
    return None


def _report_tags(run) -> dict[str, str]:
    """The report's name, types and creator: the run's tags, else its launch config (a
    run launched from the UI gets its tags only once its step starts)."""
    config = (run.run_config or {}).get("ops", {}).get("create_report", {}).get("config", {})
    return {**report_tags({"created_by": "dagster-ui", **config}), **run.tags}


def one_time_reports(instance: DagsterInstance, tz: ZoneInfo) -> list[ReportEntry]:
    entries = []
    for record in instance.get_run_records(RunsFilter(job_name=names.ONE_TIME_REPORT_JOB)):
        run = record.dagster_run
        status = STATUS.get(run.status, "Creating")
        tags = _report_tags(run)
        entries.append(
            ReportEntry(
                name=tags.get(names.REPORT_NAME_TAG, "?"),
                kind="one_time",
                promotion_type=tags.get(names.PROMOTION_TYPE_TAG, "?"),
                report_type=tags.get(names.REPORT_TYPE_TAG, "?"),
                status=status,
                created_by=tags.get(names.CREATED_BY_TAG),
                created_on=_local(record.create_timestamp.timestamp(), tz),
                location=_location(instance, run.run_id) if status == "Created" else None,
                reason=_failure_reason(instance, run) if status == "Creation Failed" else None,
                run_id=run.run_id,
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


# The switch was a schedule before reports waited for their data: the old names stay for
# callers written against them (the CLI's `report stop/start/delete`).
schedule_states = switch_states
set_schedule = set_switch


def _next_run(report, settings: Settings) -> str:
    """The earliest time the next period can be delivered (it waits for its data)."""
    partitions = report_partitions(report, settings.partition_start, settings.tz)
    due = next_delivery(partitions, datetime.now(settings.tz), settings.report_hour)
    return due.isoformat(timespec="seconds")


def recurring_reports(settings: Settings, states: dict[str, dict] | None) -> list[ReportEntry]:
    reports, invalid = load_catalog_file(settings.report_catalog)
    entries = []
    for report in reports:
        state = (states or {}).get(report.switch_name, {})
        status = {"RUNNING": "Active", "STOPPED": "Stopped"}.get(state.get("status"), "Stopped")
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
                next_run=_next_run(report, settings) if status == "Active" else None,
                report_id=report.report_id,
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
