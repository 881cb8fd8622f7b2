"""`promo-reports report ...`: create, list, show, download, stop, start and delete
reports. Writers create, stop, start and delete; readers list, show and download; the
access file (PROMO_ACCESS_FILE) says who is which.

Exit codes: 0 done; 1 the report failed (Creation Failed); 2 invalid input; 3 not
downloadable (not Created, or delivered to S3 only); 4 refused (access).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime

from orchestration.report_service import EXIT_CODES, ReportError, ReportService
from orchestration.settings import Settings

RELOAD_NOTE = "its schedule starts when the code location reloads (`make dev` reloads on start)"
USER_HELP = "who is acting, an e-mail address in the access file (default: PROMO_USER)"


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
    report.add_argument("--user", help=USER_HELP)
    actions = report.add_subparsers(dest="report_command", required=True)

    create = actions.add_parser(
        "create",
        help="create a report from a YAML spec (one-time: generate now; recurring: schedule)",
        description="Validate a report spec (YAML). A one-time spec is generated now through "
        "Dagster (recorded in its instance): the file is validated and delivered to the "
        "downloads folder or a configured cloud destination; the last line printed is its "
        "location. A recurring spec (daily/weekly) is added to the recurring catalog and runs "
        "on its schedule. Exit 0 when Created, non-zero with the reason on stderr otherwise.",
    )
    create.add_argument("--spec", required=True, help="the report spec, a YAML file")
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
    # `--user` after the subcommand too (`report create --user X`), same as `report --user X`.
    for parser in actions.choices.values():
        parser.add_argument("--user", dest="sub_user", help=USER_HELP)


def acting_user(args, settings: Settings) -> str | None:
    return getattr(args, "sub_user", None) or args.user or settings.user


def _run(operation, settings: Settings, args) -> int:
    """Run one service operation; a ReportError is printed and becomes the exit code."""
    try:
        return operation(ReportService(settings), acting_user(args, settings)) or 0
    except ReportError as exc:
        print(exc.message, file=sys.stderr)
        if exc.location:
            print(exc.location)  # where the file is instead (delivered to a bucket)
        return EXIT_CODES[exc.kind]


# ------------------------------------------------------------------------- create
def cmd_create(args, settings: Settings) -> int:
    def create(service: ReportService, user: str | None) -> int:
        def creating(spec) -> None:
            print(f"Creating: {spec.name} ({spec.report_type.value})", flush=True)

        created = service.create(user, args.spec, args.now, on_creating=creating)
        entry = created.entry
        if entry.kind == "recurring":
            if created.warning:
                print(f"warning: {created.warning}", file=sys.stderr)
            print(f"Active: {entry.name} ({entry.frequency}) added to {settings.report_catalog}")
            print(RELOAD_NOTE)
            return 0
        if entry.status != "Created":
            print(f"Creation Failed: {entry.reason}", file=sys.stderr)
            return EXIT_CODES["failed"]
        rows = f", {entry.rows:,} rows" if entry.rows is not None else ""
        print(f"Created: {entry.name} (run {entry.run_id}{rows})")
        print(entry.location)
        return 0

    return _run(create, settings, args)


# ------------------------------------------------------------------------- reading
def cmd_list(args, settings: Settings) -> int:
    def listing(service: ReportService, user: str | None) -> int:
        entries = service.list(user, not args.recurring, not args.one_time)
        if args.json:
            print(json.dumps([e.as_dict() for e in entries], indent=2))
            return 0
        cols = ("name", "promotion_type", "report_type", "status", "created_by", "created_on")
        extra = (("frequency", "next_run") if not args.one_time else ()) + ("destination",)
        rows = [[str(getattr(e, c) or "") for c in cols + extra] for e in entries]
        widths = [max([len(c)] + [len(r[i]) for r in rows]) for i, c in enumerate(cols + extra)]
        print("  ".join(c.ljust(w) for c, w in zip(cols + extra, widths, strict=True)))
        for row in rows:
            print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))
        configured = ", ".join(d.label for d in settings.destinations) or "none (downloads only)"
        print(f"\nconfigured destinations: {configured}")
        return 0

    return _run(listing, settings, args)


def cmd_show(args, settings: Settings) -> int:
    def show(service: ReportService, user: str | None) -> int:
        print(json.dumps(service.show(user, args.name).as_dict(), indent=2))
        return 0

    return _run(show, settings, args)


def cmd_download(args, settings: Settings) -> int:
    def download(service: ReportService, user: str | None) -> int:
        print(service.download(user, args.name, args.to))
        return 0

    return _run(download, settings, args)


# ------------------------------------------------------------------------- recurring
def cmd_stop(args, settings: Settings) -> int:
    def stop(service: ReportService, user: str | None) -> int:
        print(f"Stopped: {service.switch(user, False, name=args.name).name}")
        return 0

    return _run(stop, settings, args)


def cmd_start(args, settings: Settings) -> int:
    def start(service: ReportService, user: str | None) -> int:
        print(f"Active: {service.switch(user, True, name=args.name).name}")
        return 0

    return _run(start, settings, args)


def cmd_delete(args, settings: Settings) -> int:
    def delete(service: ReportService, user: str | None) -> int:
        name = service.delete(user, name=args.name).spec.name
        print(f"Deleted: {name} (its schedule is stopped; files already delivered stay)")
        return 0

    return _run(delete, settings, args)
