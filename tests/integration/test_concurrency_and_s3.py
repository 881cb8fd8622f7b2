"""Two materializations at once share one DuckDB file without failing on its lock (the
`duckdb_warehouse` pool queues them), and marts publish to an S3-compatible server."""

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import boto3
import polars as pl
import pytest

from promo.generator import generate
from resources.storage import LocalStorage
from tests.helpers import run_daily, run_dimensions

pytestmark = pytest.mark.integration
CLI = [sys.executable, "-m", "orchestration.cli"]


def test_overlapping_materializations_both_succeed(promo_env):
    settings = promo_env(PROMO_ACCOUNT_TIMEZONE="Asia/Kathmandu")
    generate(LocalStorage(settings.landing_uri), date(2026, 10, 22), 4, seed=2, scale=200)
    env = {**os.environ}
    first = subprocess.Popen(
        [*CLI, "materialize", "--start", "2026-10-22", "--end", "2026-10-24"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    second = subprocess.Popen(
        [*CLI, "materialize", "--start", "2026-10-23", "--end", "2026-10-25"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    out_first, _ = first.communicate(timeout=600)
    out_second, _ = second.communicate(timeout=600)
    assert first.returncode == 0, out_first[-3000:]
    assert second.returncode == 0, out_second[-3000:]
    published = Path(settings.marts_uri) / "wallet_transactions"
    assert sorted(p.name for p in published.iterdir()) == [
        "date=2026-10-22",
        "date=2026-10-23",
        "date=2026-10-24",
        "date=2026-10-25",
    ]
    # The same data, one serial run over the union of the ranges: the same marts.
    serial = promo_env(
        PROMO_ACCOUNT_TIMEZONE="Asia/Kathmandu", PROMO_HOME=str(Path(settings.home) / "serial")
    )
    generate(LocalStorage(serial.landing_uri), date(2026, 10, 22), 4, seed=2, scale=200)
    assert run_dimensions(serial).success
    assert run_daily(serial, "2026-10-22", "2026-10-25").success
    for mart in ("wallet_transactions", "wallet_daily_summary", "campaign_daily_stats"):
        assert mart_rows(settings, mart) == mart_rows(serial, mart), mart


def mart_rows(settings, mart: str) -> list[tuple]:
    """Every published row of a mart, sorted: content, not file bytes."""
    import duckdb

    files = f"read_parquet('{settings.marts_uri}/{mart}/*/part-0.parquet')"
    return duckdb.sql(f"SELECT * FROM {files}").order("ALL").fetchall()


def test_marts_publish_to_s3(promo_env, s3_bucket, s3_endpoint):
    settings = promo_env(
        PROMO_MARTS_URI=f"s3://{s3_bucket}/bi/marts", PROMO_S3_ENDPOINT_URL=s3_endpoint
    )
    generate(LocalStorage(settings.landing_uri), date(2026, 10, 23), 2, seed=4, scale=150)
    assert run_dimensions(settings).success
    assert run_daily(settings, "2026-10-23", "2026-10-24").success
    client = boto3.client("s3", endpoint_url=s3_endpoint)
    keys = {
        o["Key"]
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=s3_bucket)
        for o in page.get("Contents", [])
    }
    assert "bi/marts/wallet_transactions/date=2026-10-23/part-0.parquet" in keys
    assert "bi/marts/wallet_transactions/date=2026-10-23/_manifest.json" in keys
    assert "bi/marts/user_ledger/part-0.parquet" in keys
    assert not [k for k in keys if "/.tmp-" in k], "no temporary object is left behind"
    body = client.get_object(
        Bucket=s3_bucket, Key="bi/marts/wallet_transactions/date=2026-10-23/part-0.parquet"
    )["Body"].read()
    frame = pl.read_parquet(body)
    assert frame.height > 0 and frame["local_date"].unique().to_list() == [date(2026, 10, 23)]
