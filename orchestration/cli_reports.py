"""`promo-reports report ...`: create a one-time report from a spec file."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime

from orchestration.settings import Settings


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
    report = sub.add_parser("report", help="create report files (CSV / ZIP) from the marts")
    actions = report.add_subparsers(dest="report_command", required=True)
    create = actions.add_parser(
        "create",
        help="generate a one-time report from a YAML spec",
        description="Validate a report spec (YAML), generate the report from the published "
        "marts, validate the file, and deliver it to the downloads folder or S3. Prints the "
        "delivered file's location on the last line; exits 0 when the report is Created, "
        "non-zero with the reason on stderr otherwise.",
    )
    create.add_argument("--spec", required=True, help="the report spec, a YAML file")
    create.add_argument("--user", help="who creates it (default: PROMO_USER, else the login name)")
    create.add_argument(
        "--now",
        type=_timestamp,
        help="fix the clock for date-range presets (ISO 8601 with offset; default: now)",
    )
    create.set_defaults(func=cmd_report_create)


def acting_user(args) -> str:
    return args.user or os.environ.get("PROMO_USER") or os.environ.get("USER") or "unknown"


def cmd_report_create(args, settings: Settings) -> int:
    from promo.reports.engine import ReportDataMissing
    from promo.reports.service import ReportContext, load_catalog, run_report
    from promo.reports.spec import SpecError, load_spec_file
    from promo.reports.validation import ReportValidationError
    from resources.storage import StorageError, open_storage

    catalog, _ = load_catalog(settings.lake_dir)
    try:
        spec = load_spec_file(args.spec, catalog)
    except SpecError as exc:
        print(f"Creation Failed: {exc}", file=sys.stderr)
        return 2
    if spec.is_recurring:
        print(
            "Creation Failed: this spec is recurring; add it to the recurring report catalog "
            "instead (report create makes one-time reports)",
            file=sys.stderr,
        )
        return 2
    ctx = ReportContext(
        marts=open_storage(settings.marts_uri, settings.s3_endpoint_url),
        lake_dir=settings.lake_dir,
        downloads_dir=settings.downloads_dir,
        timezone=settings.account_timezone,
        s3_endpoint_url=settings.s3_endpoint_url,
    )
    now = args.now or datetime.now(UTC)
    try:
        delivered = run_report(spec, ctx, now, acting_user(args))
    except (ReportDataMissing, ReportValidationError, StorageError) as exc:
        print(f"Creation Failed: {exc}", file=sys.stderr)
        return 1
    print(f"Created: {spec.name} ({delivered.rows} rows, sha256 {delivered.sha256[:12]}…)")
    print(f"manifest: {delivered.manifest_uri}")
    print(delivered.uri)
    return 0
