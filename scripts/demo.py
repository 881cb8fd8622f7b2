"""`make demo`: the whole product on sample data, through the same commands a user runs.

1. sample raw logs for four weeks (`promo-reports generate`);
2. the pipeline over those days (`promo-reports materialize`): lake, dbt marts, published
   Parquet, campaign stats pages;
3. one one-time report of each of the six types (`promo-reports report create`, recorded in
   the Dagster instance) into the downloads folder;
4. one run of a recurring report from the catalog, delivered to S3 — here a local
   S3-compatible server (moto) started for the demo, since the demo needs no cloud account;
5. where everything is.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START, DAYS, END = os.environ["DEMO_START"], os.environ["DEMO_DAYS"], os.environ["DEMO_END"]
SCALE = os.environ.get("DEMO_SCALE", "2000")
USER = "demo@example.com"


def step(title: str) -> None:
    print(f"\n=== {title}", flush=True)


def run(*argv: str) -> None:
    from orchestration.cli import main

    code = main(list(argv))
    if code != 0:
        sys.exit(f"demo stopped: `promo-reports {' '.join(argv)}` exited {code}")


def main() -> None:
    from orchestration.settings import Settings

    # The recurring catalog delivers to `demo-s3`, a destination of the example file.
    os.environ.setdefault("PROMO_DESTINATIONS_FILE", str(ROOT / "examples" / "destinations.yaml"))
    settings = Settings.from_env()
    step(f"1. sample data: {DAYS} days from {START} into {settings.landing_uri}")
    run("generate", "--start", START, "--days", DAYS, "--seed", "7", "--scale", SCALE, "--quiet")

    step(f"2. pipeline for {START}..{END} ({settings.account_timezone} days)")
    run("materialize", "--start", START, "--end", END)

    if not settings.access_file.exists():
        settings.access_file.parent.mkdir(parents=True, exist_ok=True)
        settings.access_file.write_text(f"users:\n  {USER}: write\n")
        print(f"(wrote {settings.access_file}: {USER} may create reports)")
    step("3. one-time reports, one of each type")
    for spec in sorted((ROOT / "examples" / "reports").glob("*.yaml")):
        run("report", "--user", USER, "create", "--spec", str(spec))

    step("4. a recurring report's scheduled run, delivered to a local S3-compatible server")
    recurring_demo(settings)

    step("5. where everything is")
    run("report", "--user", USER, "list", "--one-time")
    print(f"\nlake (accepted records, quarantine): {settings.lake_dir}")
    print(f"warehouse (DuckDB): {settings.warehouse_path}")
    print(f"marts for BI (Parquet by day): {settings.marts_uri}")
    print(f"campaign stats pages: {settings.marts_uri}/stats/index.html")
    print(f"one-time reports: {settings.downloads_dir}")
    print(f"Dagster UI with all of it: make dev  (DAGSTER_HOME={settings.dagster_home})")


def recurring_demo(settings) -> None:
    import logging

    import boto3
    from moto.server import ThreadedMotoServer

    from orchestration.instance import open_instance
    from orchestration.location import build_definitions
    from orchestration.settings import Settings
    from promo.reports.recurring import load_catalog_file

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the server's request log
    reports, _ = load_catalog_file(settings.report_catalog, destinations=settings.destinations)
    daily = next(r for r in reports if r.spec.frequency.interval.value == "daily")
    bucket = settings.destinations.get(daily.spec.delivery.name).bucket
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "demo")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "demo")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        os.environ["PROMO_S3_ENDPOINT_URL"] = endpoint = f"http://{host}:{port}"
        s3 = boto3.client("s3", endpoint_url=endpoint)
        s3.create_bucket(Bucket=bucket)
        # What the schedule's tick does for the day after END: fill partition END.
        settings = Settings.from_env()
        defs = build_definitions(settings)
        with open_instance(settings) as instance:
            result = defs.resolve_job_def(daily.job_name).execute_in_process(
                instance=instance,
                partition_key=END,
                run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
                raise_on_error=False,
            )
        print(
            f"{daily.spec.name}: run {result.run_id} for {END}: "
            f"{'Created' if result.success else 'Creation Failed'}"
        )
        for obj in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
            print(f"  s3://{bucket}/{obj['Key']} ({obj['Size']} bytes)")
        if not result.success:
            sys.exit("demo stopped: the recurring report failed")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
