"""The recurring report catalog: a YAML list of report specs with a daily or weekly
frequency, each delivered to S3 once its data is published.

Identity: a recurring report is known by `<name-slug>_<fingerprint>`, the fingerprint
being a hash of its whole spec. Editing an entry in place therefore makes a NEW report
(new switch, new folder) and the old one disappears from the catalog: what an existing
report delivers can never change silently. To change a report, delete it and create it
again — which is exactly what an edit amounts to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import yaml

from promo import names, yamlfile
from promo.layout import slugify
from promo.reports.destinations import Destinations
from promo.reports.spec import ReportSpec
from promo.reports.spec_errors import SpecError
from promo.reports.spec_fields import Interval
from promo.reports.spec_io import load_spec

if TYPE_CHECKING:  # polars, which the catalog is read with, costs 0.13 s to import
    from promo.reports.catalog import Catalog

# Catalog-level facts about an entry, not part of the report's spec (or its fingerprint).
META_KEYS = ("created_by", "created_on")


class CatalogError(ValueError):
    """The catalog file cannot be read as a list of specs."""


@dataclass(frozen=True)
class RecurringReport:
    spec: ReportSpec
    entry: dict  # the entry as written in the catalog

    @property
    def report_id(self) -> str:
        """A Dagster-safe name: letters, digits and underscores."""
        return f"{slugify(self.spec.name, 40).replace('-', '_')}_{self.spec.fingerprint[:8]}"

    @property
    def job_name(self) -> str:
        return names.recurring_report_job(self.report_id)

    @property
    def switch_name(self) -> str:
        """The report's on/off switch in Dagster: a sensor (Active = running)."""
        return names.recurring_report_switch(self.report_id)


def next_delivery(
    report: RecurringReport, start: date, tz: ZoneInfo, now: datetime, hour: int
) -> datetime:
    """When the report next delivers: `hour` o'clock local on the day its period ends.

    Periods end at every local midnight (daily) or every midnight of the delivery day
    (weekly), the grid of the report's Dagster partitions: the last period that ended is
    next if its hour has not come yet (and it is a partition: it began on `start` or
    later), else the period running now. Computed without Dagster, for `report list`;
    tests/unit/test_next_run.py holds it equal to the partitions' own arithmetic.
    """
    frequency = report.spec.frequency
    today = now.astimezone(tz).date()  # its midnight has passed: the last period end
    if frequency.interval is Interval.DAILY:
        step, last_end = timedelta(days=1), today
    else:
        step = timedelta(days=7)
        last_end = today - timedelta(days=(today.weekday() - frequency.delivery_day.index) % 7)
    due = datetime.combine(last_end, time(hour), tz)
    if due > now and last_end - step >= start:
        return due
    return datetime.combine(last_end + step, time(hour), tz)


@dataclass(frozen=True)
class InvalidEntry:
    index: int
    name: str
    problems: list[str]


def read_entries(path: Path) -> list[dict]:
    if not path.exists():
        return []
    try:
        data = yamlfile.read(path) or []
    except yamlfile.YamlError as exc:
        raise CatalogError(str(exc)) from None
    if isinstance(data, dict) and "reports" in data:
        data = data["reports"] or []
    if not isinstance(data, list) or not all(isinstance(e, dict) for e in data):
        raise CatalogError(f"{path}: expected a list of report specs under `reports:`")
    return data


def load_catalog_file(
    path: Path, catalog: Catalog | None = None, destinations: Destinations | None = None
) -> tuple[list[RecurringReport], list[InvalidEntry]]:
    """Valid recurring reports, and the entries that are not (kept out of Dagster,
    shown by `report list`, never silently dropped)."""
    reports, invalid, names = [], [], set()
    for index, entry in enumerate(read_entries(path)):
        name = str(entry.get("name", f"entry {index + 1}"))
        try:
            spec = load_spec(
                {k: v for k, v in entry.items() if k not in META_KEYS}, catalog, destinations
            )
        except SpecError as exc:
            invalid.append(InvalidEntry(index, name, exc.problems))
            continue
        problems = []
        if not spec.is_recurring:
            problems.append("frequency: a catalog entry must be daily or weekly")
        if spec.name in names:
            problems.append(f"name: {spec.name!r} is used by another entry")
        if problems:
            invalid.append(InvalidEntry(index, name, problems))
            continue
        names.add(spec.name)
        reports.append(RecurringReport(spec, entry))
    return reports, invalid


def append_entry(path: Path, spec: ReportSpec, created_by: str, created_on: str) -> None:
    """Add a new recurring report to the catalog (refusing a name already used)."""
    entries = read_entries(path)
    if any(e.get("name") == spec.name for e in entries):
        raise CatalogError(f"a recurring report named {spec.name!r} already exists")
    entries.append({**spec.to_dict(), "created_by": created_by, "created_on": created_on})
    _write(path, entries)


def remove_entry(path: Path, name: str) -> dict:
    entries = read_entries(path)
    kept = [e for e in entries if e.get("name") != name]
    if len(kept) == len(entries):
        raise CatalogError(f"no recurring report named {name!r}")
    _write(path, kept)
    return next(e for e in entries if e.get("name") == name)


def _write(path: Path, entries: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(
        "# Recurring reports: one spec per entry (see README, 'Reports').\n"
        + yaml.safe_dump({"reports": entries}, sort_keys=False, allow_unicode=True)
    )
    tmp.replace(path)
