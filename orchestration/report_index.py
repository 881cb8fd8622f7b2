"""`report list` without importing Dagster (that import alone costs about a second).

The list is the one-time report runs and the recurring reports' switches, both in the
Dagster instance. Here they are read straight from the instance's tables, with
`sqlite3` over the files in DAGSTER_HOME or `psycopg2` over PostgreSQL (the driver
dagster-postgres uses):

- `runs` (one row per run): run id, status, the run's creation time, and `run_body`, the
  run as Dagster's JSON, whose `tags` and `run_config` are plain JSON objects;
- the sensor states (`instigators`, or `jobs` before that table's index is built,
  which is how Dagster's own `all_instigator_state` chooses): a switch's name and status.

What a finished run adds — where its file went and its rows, or why it failed — is in its
event log, as Dagster's serialized events: that is read through Dagster's API only, once
per run, by `orchestration.registry`, which keeps it in `report_runs.json` in DAGSTER_HOME
(keyed by run id and final status: a finished run's events do not change). A run missing
there, a dagster.yaml edited by hand, a table or a body not as expected: `Unavailable`,
and the caller asks Dagster's API for the whole list instead (which fills the file).
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from orchestration.instance_config import connect_postgres, shipped_storage
from orchestration.report_entries import ReportEntry, RunFacts, one_time_entry, recurring_reports
from orchestration.settings import Settings
from promo import names

FINAL = ("SUCCESS", "FAILURE", "CANCELED")  # a run's events are complete
FACTS_FILE = "report_runs.json"
SCHEDULE_INDEX = "schedule_jobs_selector_id"  # Dagster's marker: `instigators` is complete


class Unavailable(Exception):
    """This reader cannot answer; Dagster's API can (and fills what was missing)."""


# ----------------------------------------------------------------- finished runs' facts
def facts_path(dagster_home: Path) -> Path:
    return Path(dagster_home) / FACTS_FILE


def load_facts(dagster_home: Path) -> dict[str, dict]:
    """run id -> {status, location, rows, reason} of the finished runs recorded so far."""
    try:
        data = json.loads(facts_path(dagster_home).read_text())
    except (OSError, ValueError):
        return {}
    return data.get("runs", {}) if isinstance(data, dict) else {}


def save_facts(
    dagster_home: Path, facts: Mapping[str, tuple[str, RunFacts]], every_run: bool = False
) -> None:
    """Record finished runs' facts (run id -> (status, facts)); `every_run`: these are all
    the report runs, forget the others (deleted from the instance). Best effort: a home
    that cannot be written only keeps the list on the slower path."""
    new = {run_id: {"status": s, **vars(f)} for run_id, (s, f) in facts.items() if s in FINAL}
    known = load_facts(dagster_home)
    kept = {k: v for k, v in known.items() if k in facts} if every_run else known
    merged = {**kept, **new}
    if merged == known:
        return
    path = facts_path(dagster_home)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps({"runs": merged}, sort_keys=True))
        tmp.replace(path)
    except OSError:
        tmp.unlink(missing_ok=True)


# ----------------------------------------------------------------- the instance's tables
class _Tables:
    """Read-only queries on the instance's run and schedule storage."""

    def __init__(self, runs, schedules, marker: str, list_tables: str, errors: type):
        self.runs, self.schedules = runs, schedules
        self.marker, self.list_tables, self.errors = marker, list_tables, errors

    def fetch(self, con, sql: str, *params) -> list[tuple]:
        cursor = con.cursor()
        try:
            cursor.execute(sql.replace("?", self.marker), params)
            return cursor.fetchall()
        except self.errors as exc:  # a table or column of another Dagster version
            raise Unavailable(f"the instance's tables are not as expected: {exc}") from None
        finally:
            cursor.close()

    def has_table(self, con, name: str) -> bool:
        return name in {row[0] for row in self.fetch(con, self.list_tables)}


@contextmanager
def _open(settings: Settings) -> Iterator[_Tables]:
    storage = shipped_storage(settings)
    if storage == "postgres" and settings.dagster_pg_url:
        from psycopg2 import Error

        con = connect_postgres(settings.dagster_pg_url)
        with closing(con):
            con.set_session(readonly=True, autocommit=True)
            yield _Tables(con, con, "%s", "SELECT tablename FROM pg_tables", Error)
        return
    if storage != "sqlite":
        raise Unavailable("dagster.yaml was edited by hand")
    home = settings.dagster_home
    files = home / "history" / "runs.db", home / "schedules" / "schedules.db"
    if not all(f.exists() for f in files):
        raise Unavailable("a new instance: Dagster creates its tables")
    runs, schedules = (
        sqlite3.connect(f"{f.as_uri()}?mode=ro", uri=True, timeout=30) for f in files
    )
    with closing(runs), closing(schedules):
        tables = "SELECT name FROM sqlite_master WHERE type='table'"
        yield _Tables(runs, schedules, "?", tables, sqlite3.Error)


def _plain(value: Any) -> Any:
    """The value if it holds no Dagster serialization marker (`__class__`, `__frozenset__`:
    then only Dagster can read it back the way its API would)."""
    if isinstance(value, dict):
        if any(str(k).startswith("__") for k in value):
            raise Unavailable("a run body that is not plain JSON")
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _created(value) -> datetime:
    """The runs table's creation time, naive UTC (as Dagster reads it back)."""
    naive = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return naive.replace(tzinfo=UTC)


def _one_time(tables: _Tables, settings: Settings) -> list[ReportEntry]:
    """One-time reports, newest first (Dagster's default order: the table's id)."""
    facts = load_facts(settings.dagster_home)
    rows = tables.fetch(
        tables.runs,
        "SELECT run_id, status, run_body, create_timestamp FROM runs "
        "WHERE pipeline_name = ? ORDER BY id DESC",
        names.ONE_TIME_REPORT_JOB,
    )
    entries = []
    for run_id, status, body, created in rows:
        known = facts.get(run_id) or {}
        if status in FINAL and known.get("status") != status:
            raise Unavailable(f"run {run_id} finished since the list last asked Dagster")
        run = json.loads(body)
        tags, run_config = _plain(run.get("tags") or {}), _plain(run.get("run_config") or {})
        found = RunFacts(known.get("location"), known.get("rows"), known.get("reason"))
        entries.append(
            one_time_entry(run_id, status, tags, run_config, _created(created), settings.tz, found)
        )
    return entries


def _switches(tables: _Tables) -> dict[str, str]:
    """sensor name -> RUNNING | STOPPED, for the switches someone flipped."""
    con = tables.schedules
    table, body = "jobs", "job_body"
    if tables.has_table(con, "instigators") and tables.has_table(con, "secondary_indexes"):
        built = tables.fetch(
            con,
            "SELECT 1 FROM secondary_indexes WHERE name = ? AND migration_completed IS NOT NULL",
            SCHEDULE_INDEX,
        )
        if built:
            table, body = "instigators", "instigator_body"
    out = {}
    for status, text in tables.fetch(con, f"SELECT status, {body} FROM {table}"):
        name = (json.loads(text).get("origin") or {}).get("job_name")  # Dagster's stored name
        if not isinstance(name, str):
            raise Unavailable("a sensor state without its name where expected")
        if status in ("RUNNING", "STOPPED"):
            out[name] = status
    return out


def read_list(settings: Settings, one_time: bool, recurring: bool) -> list[ReportEntry]:
    """The report list as `ReportService` shows it, read without Dagster; `Unavailable`
    when only Dagster's API can answer."""
    recurring = recurring and settings.report_catalog.exists()
    try:
        with _open(settings) as tables:
            entries = _one_time(tables, settings) if one_time else []
            switches = _switches(tables) if recurring else {}
    except sqlite3.Error as exc:  # opening a file that is not as expected
        raise Unavailable(f"the instance's files are not as expected: {exc}") from None
    except (ValueError, AttributeError) as exc:  # a body that is not JSON, or not an object
        raise Unavailable(f"a run or sensor state not as expected: {exc}") from None
    return entries + (recurring_reports(settings, switches) if recurring else [])
