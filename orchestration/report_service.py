"""Report operations, one home for the CLI (`promo-reports report ...`) and the HTTP service.

Every operation takes the acting user, checks their right in the access file at call time
(`promo.access`: write implies read), does the work and returns a result, or raises
`ReportError` whose `kind` says what went wrong. The CLI maps kinds to its exit codes and
the service to HTTP statuses (`EXIT_CODES`, `orchestration.web.app.STATUSES`).

Reports are the account's, as in the product: every reader sees every report, every
writer may stop, start or delete any recurring one; `created_by` and the audit log say who
did what.
"""

from __future__ import annotations

import filecmp
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from orchestration.settings import Settings

log = logging.getLogger("promo.reports")

REFUSED, INVALID, NOT_FOUND, NOT_DOWNLOADABLE, CONFLICT, FAILED = (
    "refused",
    "invalid",
    "not_found",
    "not_downloadable",
    "conflict",
    "failed",
)
# The CLI's exit codes (README): 1 failed, 2 invalid input, 3 not downloadable, 4 refused.
_RUN_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
EXIT_CODES = {REFUSED: 4, INVALID: 2, NOT_FOUND: 2, NOT_DOWNLOADABLE: 3, CONFLICT: 2, FAILED: 1}


class ReportError(Exception):
    """An operation that did not happen; `message` is for people, `errors` (invalid specs)
    lists every problem as {"field", "message"}."""

    def __init__(
        self,
        kind: str,
        message: str,
        errors: list[dict[str, str]] | None = None,
        location: str | None = None,
    ):
        super().__init__(message)
        self.kind, self.message, self.errors, self.location = kind, message, errors, location


@dataclass(frozen=True)
class Created:
    """A report created: a one-time report's entry (Creating when started in the
    background), or a recurring report's entry with a warning if its schedule could not be
    checked."""

    entry: Any  # orchestration.report_entries.ReportEntry
    warning: str | None = None


class ReportService:
    def __init__(self, settings: Settings):
        self.settings = settings

    # ------------------------------------------------------------------ access
    def authorize(self, user: str | None, right: str, action: str) -> str:
        """The acting user (normalised) if they hold `right`; ReportError(refused) if not."""
        from promo.access import AccessDenied, operator_uids, require

        try:
            return require(
                self.settings.access_file,
                user,
                right,
                action,
                owners=operator_uids(self.settings.dagster_home),
            )
        except AccessDenied as exc:
            raise ReportError(REFUSED, str(exc)) from None

    def role(self, user: str | None) -> str:
        """The user's right now (read or write); ReportError(refused) when they have none."""
        from promo.access import load_access

        checked = self.authorize(user, "read", "report list")
        return load_access(self.settings.access_file).right_of(checked) or "read"

    # ------------------------------------------------------------------ create
    def catalog(self):
        from promo.reports.catalog import load_catalog
        from resources.storage import open_storage

        return load_catalog(open_storage(self.settings.lake_uri, self.settings.s3_endpoint_url))

    def create(
        self,
        user: str | None,
        source: str | Path | Mapping[str, Any],
        now: datetime | None = None,
        background: bool = False,
        on_creating=None,
    ) -> Created:
        """Check the spec (a YAML file's path, or a mapping) and create the report: a
        recurring one joins the catalog; a one-time one runs here until it is Created or
        fails, or (`background`) is started and returned while Creating."""
        from promo.reports.spec_errors import SpecError
        from promo.reports.spec_io import load_spec, load_spec_file
        from promo.timeutil import TIMESTAMP_MAX, TIMESTAMP_MIN, TIMESTAMP_RANGE_TEXT

        user = self.authorize(user, "write", "report create")
        if now is not None and not TIMESTAMP_MIN <= now < TIMESTAMP_MAX:
            message = f"{now.isoformat()} is outside {TIMESTAMP_RANGE_TEXT}"
            errors = [{"field": "now", "message": message}]
            raise ReportError(INVALID, f"Creation Failed: now: {message}", errors)
        catalog = self.catalog()
        try:
            destinations = self.settings.destinations
            if isinstance(source, Mapping):
                spec = load_spec(source, catalog, destinations)
            else:
                spec = load_spec_file(source, catalog, destinations)
        except SpecError as exc:
            raise ReportError(INVALID, f"Creation Failed: {exc}", exc.as_list()) from None
        if spec.is_recurring:
            return self._add_recurring(spec, user)
        if on_creating is not None:  # the CLI says what it starts before the run takes time
            on_creating(spec)
        return self._run_one_time(spec, catalog, user, now or datetime.now(UTC), background)

    def _add_recurring(self, spec, user: str) -> Created:
        from promo.reports.recurring import CatalogError, append_entry

        created_on = datetime.now(UTC).astimezone(self.settings.tz).isoformat(timespec="seconds")
        try:
            append_entry(self.settings.report_catalog, spec, user, created_on)
        except CatalogError as exc:
            errors = [{"field": "name", "message": str(exc)}]
            raise ReportError(INVALID, f"Creation Failed: {exc}", errors) from None
        log.info(
            f"{user} created the recurring report {spec.name!r}",
            extra={"event": "created", "user": user, "report": spec.name},
        )
        warning = self._reactivate(spec)
        return Created(self.recurring(spec.name), warning)

    def _reactivate(self, spec) -> str | None:
        """A report deleted and created again with the very same spec has the same identity,
        so the same schedule name, whose state in the instance is still the Stopped that
        `delete` left: switch it back on, or the new report would never run."""
        from orchestration.instance import open_instance
        from orchestration.registry import set_switch, stored_switch_status
        from promo.reports.recurring import RecurringReport

        name = RecurringReport(spec, {}).switch_name
        try:
            with open_instance(self.settings) as instance:
                stopped = stored_switch_status(instance).get(name) == "STOPPED"
            if stopped:
                set_switch(self.settings, name, True)
        except RuntimeError as exc:
            # The entry is in the catalog already; say what to check instead of failing.
            return (
                f"could not check the schedule {name!r} ({exc}); if `report list` shows it "
                f"Stopped, run `promo-reports report start {spec.name!r}`"
            )
        return None

    def _run_one_time(self, spec, catalog, user: str, now: datetime, background: bool) -> Created:
        from orchestration.instance import open_instance
        from orchestration.registry import one_time_reports
        from orchestration.report_runs import run_here, start_detached
        from promo.reports.request import prepare, to_run_config

        config = to_run_config(prepare(spec, catalog, now, self.settings.tz), user, now)
        with open_instance(self.settings) as instance:
            if background:
                run_id = start_detached(self.settings, instance, config)
            else:
                run_id = run_here(self.settings, instance, config)
            (entry,) = one_time_reports(instance, self.settings.tz, [run_id])
        log.info(
            f"{user} created the one-time report {spec.name!r} (run {run_id})",
            extra={"event": "created", "user": user, "report": spec.name, "run_id": run_id},
        )
        return Created(entry)

    # ------------------------------------------------------------------ reading
    def _entries(self, one_time: bool = True, recurring: bool = True) -> list:
        """The list read straight from the instance's tables (no Dagster import: what keeps
        `report list` well under a second), else through Dagster's API."""
        from orchestration.report_index import Unavailable, read_list

        try:
            return read_list(self.settings, one_time, recurring)
        except Unavailable as exc:
            log.debug(f"report list through Dagster's API: {exc}")
        return self._entries_from_dagster(one_time, recurring)

    def _entries_from_dagster(self, one_time: bool = True, recurring: bool = True) -> list:
        from orchestration.instance import open_instance
        from orchestration.registry import (
            one_time_reports,
            recurring_reports,
            stored_switch_status,
        )

        entries = []
        with open_instance(self.settings) as instance:
            if one_time:
                entries += one_time_reports(instance, self.settings.tz)
            if recurring and self.settings.report_catalog.exists():
                statuses = stored_switch_status(instance)
                entries += recurring_reports(self.settings, statuses)
        return entries

    def list(self, user: str | None, one_time: bool = True, recurring: bool = True) -> list:
        self.authorize(user, "read", "report list")
        return self._entries(one_time, recurring)

    def _by_name(self, name: str) -> list:
        matches = [e for e in self._entries() if e.name == name]
        # the latest one-time report of that name first, else the recurring one
        return sorted(matches, key=lambda e: e.created_on or "", reverse=True)

    def show(self, user: str | None, name: str):
        """The latest report of that name (the CLI names reports by name)."""
        self.authorize(user, "read", "report show")
        matches = self._by_name(name)
        if not matches:
            raise ReportError(NOT_FOUND, f"no report named {name!r}")
        return matches[0]

    def get(self, user: str | None, report_id: str, action: str = "report show"):
        """One report by its id: a one-time report's run id, a recurring report's id."""
        from orchestration.instance import open_instance
        from orchestration.registry import one_time_reports

        self.authorize(user, "read", action)
        found = None
        if _RUN_ID.fullmatch(report_id):  # one run, not the whole list
            with open_instance(self.settings) as instance:
                found = next(iter(one_time_reports(instance, self.settings.tz, [report_id])), None)
        else:
            recurring = self._entries(one_time=False)
            found = next((e for e in recurring if e.report_id == report_id), None)
        if found is None:
            raise ReportError(NOT_FOUND, f"no report with id {report_id!r}")
        return found

    def recurring(self, name: str):
        return next(e for e in self._entries(one_time=False) if e.name == name)

    # ------------------------------------------------------------------ files
    def file_of(self, entry) -> Path:
        """The delivered file of a Created one-time report delivered for download."""
        if entry.kind != "one_time":
            where = self.where(entry.configuration or {})
            raise ReportError(
                NOT_DOWNLOADABLE,
                f"{entry.name!r} is a recurring report: each run delivers its file to {where}",
            )
        if entry.status != "Created":
            raise ReportError(
                NOT_DOWNLOADABLE,
                f"{entry.name!r} cannot be downloaded: only a Created report can "
                f"(status: {entry.status})",
            )
        location = entry.location or ""
        if "://" in location or not entry.delivered_for_download:
            raise ReportError(
                NOT_DOWNLOADABLE,
                f"{entry.name!r} was delivered to {self.where(entry.configuration or {})} "
                f"only: {location}",
                location=location,
            )
        path = Path(location).resolve()
        if not path.is_relative_to(self.settings.downloads_dir) or not path.is_file():
            raise ReportError(NOT_DOWNLOADABLE, f"{entry.name!r}: its file is gone ({location})")
        return path

    def where(self, configuration: Mapping[str, Any]) -> str:
        """A spec's delivery as a location: `s3://promo-bi/exports/wallet/` for a configured
        destination, its name when the destination is no longer configured."""
        from promo.reports.destinations import resolve
        from promo.reports.spec import Delivery

        raw = configuration.get("delivery") or {"destination": "download"}
        try:
            delivery = Delivery.model_validate(raw)
            cloud = resolve(delivery, self.settings.destinations)
        except ValueError as exc:  # pydantic's ValidationError is one too
            return f"an unconfigured destination ({str(exc).splitlines()[0]})"
        if cloud is None:
            return "the downloads folder"
        return cloud.uri(delivery.prefix) + "/"

    def file(self, user: str | None, report_id: str) -> Path:
        return self.file_of(self.get(user, report_id, "report download"))

    def download(self, user: str | None, name: str, to: str | Path) -> Path:
        """Copy the latest Created file of that name (and its manifest) into `to`."""
        self.authorize(user, "read", "report download")
        one_time = [e for e in self._by_name(name) if e.kind == "one_time"]
        created = [e for e in one_time if e.status == "Created"]
        if not created:
            status = one_time[0].status if one_time else "unknown"
            raise ReportError(
                NOT_DOWNLOADABLE,
                f"{name!r} cannot be downloaded: only a Created report can (status: {status})",
            )
        source = self.file_of(created[0])
        target = Path(to) / source.name
        # Two reports of one type over one window have the same file name: never overwrite
        # another report's file without a word (the same file again is fine).
        if target.exists() and not filecmp.cmp(source, target, shallow=False):
            raise ReportError(
                CONFLICT,
                f"{target} already exists and holds another file: download to another folder",
            )
        manifest = source.with_name(source.name + ".manifest.json")
        # Through a temporary name and a rename, as every write to a folder: a full disk
        # leaves no truncated file under the report's name (which the next download
        # would refuse as "another file").
        from resources.storage import LocalStorage

        folder = LocalStorage(target.parent)
        try:
            folder.put_file(source, target.name)
            if manifest.exists():
                folder.put_file(manifest, manifest.name)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise ReportError(FAILED, f"{name!r} was not downloaded to {to}: {reason}") from exc
        return target

    # ------------------------------------------------------------------ recurring
    def _recurring_report(self, name: str | None, report_id: str | None):
        from promo.reports.recurring import load_catalog_file

        reports, _ = load_catalog_file(self.settings.report_catalog)
        if report_id is not None:
            found = next((r for r in reports if r.report_id == report_id), None)
            if found is None:
                raise ReportError(NOT_FOUND, f"no recurring report with id {report_id!r}")
            return found
        found = next((r for r in reports if r.spec.name == name), None)
        if found is None:
            raise ReportError(NOT_FOUND, f"no recurring report named {name!r}")
        return found

    def switch(
        self, user: str | None, running: bool, name: str | None = None, report_id: str | None = None
    ):
        """Start (Active) or stop (Stopped) a recurring report's schedule."""
        from orchestration.registry import set_switch

        verb = "start" if running else "stop"
        user = self.authorize(user, "write", f"report {verb}")
        report = self._recurring_report(name, report_id)
        try:
            set_switch(self.settings, report.switch_name, running)
        except RuntimeError as exc:
            raise ReportError(FAILED, f"cannot {verb} {report.spec.name!r}: {exc}") from None
        log.info(
            f"{user} {verb}ped the recurring report {report.spec.name!r}"
            if not running
            else f"{user} started the recurring report {report.spec.name!r}",
            extra={"event": verb, "user": user, "report": report.spec.name},
        )
        return self.recurring(report.spec.name)

    def delete(self, user: str | None, name: str | None = None, report_id: str | None = None):
        """Stop a recurring report's schedule now, then remove its catalog entry; the files
        it delivered stay."""
        from orchestration.registry import set_switch
        from promo.reports.recurring import remove_entry

        user = self.authorize(user, "write", "report delete")
        report = self._recurring_report(name, report_id)
        try:
            set_switch(self.settings, report.switch_name, False)  # before the edit
        except RuntimeError as exc:
            # Without a stopped schedule a running daemon could still launch it: keep it.
            raise ReportError(
                FAILED, f"cannot delete {report.spec.name!r}, its schedule did not stop: {exc}"
            ) from None
        remove_entry(self.settings.report_catalog, report.spec.name)
        log.info(
            f"{user} deleted the recurring report {report.spec.name!r}",
            extra={"event": "deleted", "user": user, "report": report.spec.name},
        )
        return report
