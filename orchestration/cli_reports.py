"""`promo-reports report ...`: create, list, show, download, stop, start and delete
reports. Writers create, stop, start and delete; readers list, show and download; the
access file (PROMO_ACCESS_FILE) says who is which.

Exit codes: 0 done; 1 the report failed (Creation Failed); 2 invalid input; 3 not
downloadable (not Created, or delivered to S3 only); 4 refused (access).
"""

from __future__ import annotations

import argparse
import filecmp
import json
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path

from orchestration.settings import Settings

REFUSED, INVALID, FAILED, NOT_DOWNLOADABLE = 4, 2, 1, 3


def _timestamp(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO 8601 timestamp (e.g. 2026-11-02T09:30:00+01:00)"
        ) from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} needs a UTC offset (e.g. +00:00 or Z)")
    return value


def add_report_parser(sub) -> None:
    report = sub.add_parser("report", help="create and manage report files (CSV / ZIP)")
    report.add_argument("--user", help="who is acting (default: PROMO_USER, else $USER)")
    actions = report.add_subparsers(dest="report_command", required=True)

    create = actions.add_parser(
        "create",
        help="create a report from a YAML spec (one-time: generate now; recurring: schedule)",
        description="Validate a report spec (YAML). A one-time spec is generated now through "
        "Dagster (recorded in its instance): the file is validated and delivered to the "
        "downloads folder or S3; the last line printed is its location. A recurring spec "
        "(daily/weekly) is added to the recurring catalog and runs on its schedule. Exit 0 "
        "when Created, non-zero with the reason on stderr otherwise.",
    )
    create.add_argument("--spec", required=True, help="the report spec, a YAML file")
    create.add_argument("--user", dest="sub_user", help="who creates it (same as report --user)")
    create.add_argument(
        "--now", type=_timestamp, help="fix the clock for date-range presets (ISO 8601 with offset)"
    )
    create.set_defaults(func=cmd_create)

    lst = actions.add_parser("list", help="list reports with their status")
    kind = lst.add_mutually_exclusive_group()
    kind.add_argument("--one-time", action="store_true", help="only one-time reports")
    kind.add_argument("--recurring", action="store_true", help="only recurring reports")
    lst.add_argument("--json", action="store_true", help="stable JSON for scripts")
    lst.set_defaults(func=cmd_list)

    for name, helptext, func in (
        ("show", "show one report's configuration and status", cmd_show),
        ("delete", "delete a recurring report: its schedule stops now; files stay", cmd_delete),
        ("stop", "stop a recurring report's schedule (status Stopped)", cmd_stop),
        ("start", "start a recurring report's schedule again (status Active)", cmd_start),
    ):
        p = actions.add_parser(name, help=helptext, description=helptext)
        p.add_argument("name", help="the report's name")
        p.set_defaults(func=func)
    download = actions.add_parser(
        "download",
        help="copy a Created one-time report's file (and its manifest) to a folder",
    )
    download.add_argument("name", help="the report's name (the latest Created one)")
    download.add_argument("--to", required=True, help="destination folder")
    download.set_defaults(func=cmd_download)


def acting_user(args, settings: Settings) -> str:
    return getattr(args, "sub_user", None) or args.user or settings.user or "unknown"


def allowed(args, settings: Settings, right: str, action: str) -> bool:
    from promo.access import AccessDenied, require

    try:
        require(settings.access_file, acting_user(args, settings), right, action)
    except AccessDenied as exc:
        print(str(exc), file=sys.stderr)
        return False
    return True


# ------------------------------------------------------------------------- create
def cmd_create(args, settings: Settings) -> int:
    from promo.reports.catalog import load_catalog
    from promo.reports.recurring import CatalogError, append_entry
    from promo.reports.spec_errors import SpecError
    from promo.reports.spec_io import load_spec_file
    from resources.storage import open_storage

    if not allowed(args, settings, "write", "report create"):
        return REFUSED
    catalog = load_catalog(open_storage(settings.lake_uri, settings.s3_endpoint_url))
    try:
        spec = load_spec_file(args.spec, catalog)
    except SpecError as exc:
        print(f"Creation Failed: {exc}", file=sys.stderr)
        return INVALID
    user = acting_user(args, settings)
    if spec.is_recurring:
        created_on = datetime.now(UTC).astimezone(settings.tz).isoformat(timespec="seconds")
        try:
            append_entry(settings.report_catalog, spec, user, created_on)
        except CatalogError as exc:
            print(f"Creation Failed: {exc}", file=sys.stderr)
            return INVALID
        reactivate(spec, settings)
        print(f"Active: {spec.name} ({spec.frequency.label}) added to {settings.report_catalog}")
        print("its schedule starts when the code location reloads (`make dev` reloads on start)")
        return 0
    return launch_one_time(spec, catalog, settings, user, args.now)


def reactivate(spec, settings: Settings) -> None:
    """A report deleted and created again with the very same spec has the same identity,
    so the same schedule name, whose state in the instance is still the Stopped that
    `delete` left: switch it back on, or the new report would never run."""
    from orchestration.registry import schedule_states, set_schedule
    from promo.reports.recurring import RecurringReport

    name = RecurringReport(spec, {}).schedule_name
    try:
        if schedule_states(settings).get(name, {}).get("status") == "STOPPED":
            set_schedule(settings, name, True)
    except RuntimeError as exc:
        # The entry is in the catalog already; say what to check instead of a traceback.
        print(
            f"warning: could not check the schedule {name!r} ({exc}); "
            f"if `report list` shows it Stopped, run `promo-reports report start {spec.name!r}`",
            file=sys.stderr,
        )


def launch_one_time(spec, catalog, settings: Settings, user: str, now: datetime | None) -> int:
    """Prepare the report (its window resolved now, once) and run the `one_time_report`
    job with it, in process, recorded in the instance."""
    from assets.reports import one_time_report_job, report_tags
    from orchestration.instance import open_instance
    from orchestration.location import report_settings
    from orchestration.recovery import process_tags
    from orchestration.registry import one_time_reports
    from promo.reports.request import prepare, to_run_config

    now = now or datetime.now(UTC)
    config = to_run_config(prepare(spec, catalog, now, settings.tz), user, now)
    with open_instance(settings) as instance:
        result = one_time_report_job.execute_in_process(
            instance=instance,
            run_config={
                "ops": {"create_report": {"config": config}},
                "loggers": {"console": {"config": {"log_level": "CRITICAL"}}},
            },
            resources={"reports": report_settings(settings)},
            tags={**report_tags(config), **process_tags()},  # a killed run can be recovered
            raise_on_error=False,
        )
        entry = next(
            e for e in one_time_reports(instance, settings.tz) if e.run_id == result.run_id
        )
    if entry.status != "Created":
        print(f"Creation Failed: {entry.reason}", file=sys.stderr)
        return FAILED
    print(f"Created: {spec.name} (run {result.run_id})")
    print(entry.location)
    return 0


# ------------------------------------------------------------------------- reading
def all_entries(settings: Settings, one_time=True, recurring=True):
    from orchestration.instance import open_instance
    from orchestration.registry import one_time_reports, recurring_reports, schedule_states

    entries = []
    if one_time:
        with open_instance(settings) as instance:
            entries += one_time_reports(instance, settings.tz)
    if recurring and settings.report_catalog.exists():
        entries += recurring_reports(settings, schedule_states(settings))
    return entries


def cmd_list(args, settings: Settings) -> int:
    if not allowed(args, settings, "read", "report list"):
        return REFUSED
    entries = all_entries(settings, not args.recurring, not args.one_time)
    if args.json:
        print(json.dumps([e.as_dict() for e in entries], indent=2))
        return 0
    cols = ("name", "promotion_type", "report_type", "status", "created_by", "created_on")
    extra = ("frequency", "next_run") if not args.one_time else ()
    rows = [[str(getattr(e, c) or "") for c in cols + extra] for e in entries]
    widths = [max([len(c)] + [len(r[i]) for r in rows]) for i, c in enumerate(cols + extra)]
    print("  ".join(c.ljust(w) for c, w in zip(cols + extra, widths, strict=True)))
    for row in rows:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))
    return 0


def find(settings: Settings, name: str):
    matches = [e for e in all_entries(settings) if e.name == name]
    # the latest one-time report of that name first, else the recurring one
    return sorted(matches, key=lambda e: e.created_on or "", reverse=True)


def cmd_show(args, settings: Settings) -> int:
    if not allowed(args, settings, "read", "report show"):
        return REFUSED
    matches = find(settings, args.name)
    if not matches:
        print(f"no report named {args.name!r}", file=sys.stderr)
        return INVALID
    print(json.dumps(matches[0].as_dict(), indent=2))
    return 0


def cmd_download(args, settings: Settings) -> int:
    if not allowed(args, settings, "read", "report download"):
        return REFUSED
    one_time = [e for e in find(settings, args.name) if e.kind == "one_time"]
    created = [e for e in one_time if e.status == "Created"]
    if not created:
        status = one_time[0].status if one_time else "unknown"
        print(
            f"{args.name!r} cannot be downloaded: only a Created report can (status: {status})",
            file=sys.stderr,
        )
        return NOT_DOWNLOADABLE
    location = created[0].location
    if location.startswith("s3://"):
        print(f"{args.name!r} was delivered to S3 only: {location}", file=sys.stderr)
        print(location)
        return NOT_DOWNLOADABLE
    source = Path(location)
    target = Path(args.to) / source.name
    # Two reports of one type over one window have the same file name: never overwrite
    # another report's file without a word (the same file again is fine).
    if target.exists() and not filecmp.cmp(source, target, shallow=False):
        print(
            f"{target} already exists and holds another file: download to another folder",
            file=sys.stderr,
        )
        return INVALID
    target.parent.mkdir(parents=True, exist_ok=True)
    copied = shutil.copy2(source, target)
    manifest = source.with_name(source.name + ".manifest.json")
    if manifest.exists():
        shutil.copy2(manifest, target.with_name(manifest.name))
    print(copied)
    return 0


# ------------------------------------------------------------------------- recurring
def _recurring(settings: Settings, name: str):
    from promo.reports.recurring import load_catalog_file

    reports, _ = load_catalog_file(settings.report_catalog)
    return next((r for r in reports if r.spec.name == name), None)


def _switch(args, settings: Settings, running: bool, action: str) -> int:
    from orchestration.registry import set_schedule

    if not allowed(args, settings, "write", action):
        return REFUSED
    report = _recurring(settings, args.name)
    if report is None:
        print(f"no recurring report named {args.name!r}", file=sys.stderr)
        return INVALID
    try:
        set_schedule(settings, report.schedule_name, running)
    except RuntimeError as exc:
        print(f"cannot {action.split()[-1]} {args.name!r}: {exc}", file=sys.stderr)
        return FAILED
    print(f"{'Active' if running else 'Stopped'}: {args.name}")
    return 0


def cmd_stop(args, settings: Settings) -> int:
    return _switch(args, settings, False, "report stop")


def cmd_start(args, settings: Settings) -> int:
    return _switch(args, settings, True, "report start")


def cmd_delete(args, settings: Settings) -> int:
    from orchestration.registry import set_schedule
    from promo.reports.recurring import remove_entry

    if not allowed(args, settings, "write", "report delete"):
        return REFUSED
    report = _recurring(settings, args.name)
    if report is None:
        print(f"no recurring report named {args.name!r}", file=sys.stderr)
        return INVALID
    try:
        set_schedule(settings, report.schedule_name, False)  # future runs stop now, before the edit
    except RuntimeError as exc:
        # Without a stopped schedule a running daemon could still launch it: keep the entry.
        print(f"cannot delete {args.name!r}, its schedule did not stop: {exc}", file=sys.stderr)
        return FAILED
    remove_entry(settings.report_catalog, args.name)
    print(f"Deleted: {args.name} (its schedule is stopped; files already delivered stay)")
    return 0
