"""`promo-reports`: the command line of the pipeline. Every command has --help."""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, date, datetime
from pathlib import Path

from orchestration.audit import setup_audit_log
from orchestration.cli_reports import add_report_parser
from orchestration.cli_service import add_service_parsers
from orchestration.cli_stats import add_stats_parser
from orchestration.settings import Settings, SettingsError


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= value <= 0.5:
        raise argparse.ArgumentTypeError(f"{text!r} must be between 0 and 0.5")
    return value


def cmd_generate(args: argparse.Namespace, settings: Settings) -> int:
    from promo.generator import generate
    from resources.storage import open_storage

    out = args.out or settings.landing_uri
    summary = generate(
        open_storage(out, settings.s3_endpoint_url),
        args.start,
        args.days,
        seed=args.seed,
        scale=args.scale,
        bad_rate=args.bad_rate,
        redelivery_rate=args.redelivery_rate,
        progress=sys.stderr.isatty() and not args.quiet,
    )
    print(json.dumps(summary.as_dict(), indent=2))
    print(f"sample data written to {out}")
    return 0


def cmd_materialize(args: argparse.Namespace, settings: Settings) -> int:
    from orchestration.instance import open_instance
    from orchestration.progress import RunProgress, raw_logs_to
    from orchestration.runner import materialize_range

    if args.end < args.start:
        print(f"error: --end {args.end} is before --start {args.start}", file=sys.stderr)
        return 2
    with open_instance(settings):  # an unreachable instance: one line, before any output
        pass
    log = None if args.verbose else run_log_path(settings, "materialize")
    tty = sys.stdout.isatty()
    if log:
        print(f"Dagster and dbt logs: {log} (--verbose shows them here)", flush=True)
    with raw_logs_to(log) as write:
        progress = RunProgress(lambda: open_instance(settings), write, tty, log)
        ok, lines = materialize_range(
            settings, args.start, args.end, lambda line: write(line + "\n"), progress
        )
    for line in lines:
        print(line)
    return 0 if ok else 1


def run_log_path(settings: Settings, command: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return settings.home / "logs" / f"{command}-{stamp}-{os.getpid()}.log"


def cmd_rebuild(args: argparse.Namespace, settings: Settings) -> int:
    from orchestration.rebuild import rebuild

    ok, lines = rebuild(settings)
    for line in lines:
        print(line)
    return 0 if ok else 1


def cmd_recover(args: argparse.Namespace, settings: Settings) -> int:
    from orchestration.instance import open_instance
    from orchestration.recovery import recover, recover_run

    local = settings.dagster_pg_url is None
    with open_instance(settings) as instance:
        try:
            lines = [recover_run(instance, args.run, local)] if args.run else []
        except LookupError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        lines += recover(instance, local)
    print("\n".join(lines) if lines else "nothing to recover: no run was left by a gone process")
    return 0


def cmd_settings(args: argparse.Namespace, settings: Settings) -> int:
    for key, value in settings.describe().items():
        print(f"{key} = {value}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="promo-reports",
        description="Promo reporting pipeline: sample data, materializations, reports.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser(
        "generate",
        help="write deterministic sample raw promo logs (the raw contract) to a folder or S3",
        description="Write deterministic sample raw promo logs that follow the raw log "
        "contract: every stream and dimension, with a configurable rate of bad records and "
        "at-least-once redeliveries.",
    )
    gen.add_argument("--out", help="folder or s3://bucket/prefix (default: PROMO_LANDING_URI)")
    gen.add_argument("--start", type=_date, required=True, help="first UTC date (YYYY-MM-DD)")
    gen.add_argument("--days", type=_positive_int, required=True, help="number of days")
    gen.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    gen.add_argument(
        "--scale",
        type=_positive_int,
        default=2000,
        help="average wallet transactions per day; other streams scale with it (default 2000)",
    )
    gen.add_argument(
        "--bad-rate", type=_rate, default=0.002, help="share of bad lines (default 0.002)"
    )
    gen.add_argument(
        "--redelivery-rate",
        type=_rate,
        default=0.003,
        help="share of records delivered twice (default 0.003)",
    )
    gen.add_argument("--quiet", action="store_true", help="no progress bar")
    gen.set_defaults(func=cmd_generate)

    mat = sub.add_parser(
        "materialize",
        help="materialize every partitioned asset for account-timezone days START..END",
        description="Materialize, through Dagster and recorded in its instance, every "
        "partitioned asset (and the dimension snapshots) for the account-timezone days "
        "START..END inclusive, as one run over the range (what a backfill in the UI does). "
        "Exits non-zero if any step fails.",
    )
    mat.add_argument("--start", type=_date, required=True, help="first local day (YYYY-MM-DD)")
    mat.add_argument("--end", type=_date, required=True, help="last local day, inclusive")
    mat.add_argument(
        "--verbose",
        action="store_true",
        help="Dagster's and dbt's own log lines on the terminal (by default they go to a "
        "log file under $PROMO_HOME/logs, and the terminal shows one line per step)",
    )
    mat.set_defaults(func=cmd_materialize, uses_storage=True)

    reb = sub.add_parser(
        "rebuild",
        help="rebuild the warehouse and republish every mart from the lake alone",
        description="Remove the warehouse (a cache of the lake), then build it again with "
        "dbt and republish every mart and the campaign stats, over every account-timezone "
        "day the lake holds, as one run of the job promo_rebuild. The landing zone is not "
        "read. Use it after losing the machine that held the warehouse.",
    )
    reb.set_defaults(func=cmd_rebuild, uses_storage=True)

    rec = sub.add_parser(
        "recover",
        help="mark runs whose process is gone as failed and free their pool slots",
        description="Runs killed outright (SIGKILL, a lost machine) stay STARTED in the "
        "instance and keep their slot in the duckdb_warehouse pool. Mark every run whose "
        "process is gone from this machine as failed, with the reason, and free its slots "
        "(`materialize` does this by itself before it starts). --run releases one run "
        "that cannot be checked from here (started on another machine): check first that "
        "its process is gone.",
    )
    rec.add_argument("--run", help="a run id whose process you know is gone")
    rec.set_defaults(func=cmd_recover)

    add_report_parser(sub)
    add_stats_parser(sub)
    add_service_parsers(sub)

    st = sub.add_parser("settings", help="print the effective settings (no secrets)")
    st.set_defaults(func=cmd_settings)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    setup_audit_log(settings)
    from orchestration.instance_config import InstanceError
    from orchestration.preflight import UnreachableStorage, check_s3

    try:
        if getattr(args, "uses_storage", False):
            check_s3(settings)
        return args.func(args, settings)
    except (InstanceError, UnreachableStorage) as exc:  # one line, no traceback
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
