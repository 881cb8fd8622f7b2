"""Marts publish to an S3-compatible server. (The concurrency test that lived here moved to
tests/reliability/test_concurrency.py, which also checks that the runs overlapped.)"""

import hashlib
import json
from datetime import date

import boto3
import polars as pl
import pytest

from promo.generator import generate
from resources.storage import LocalStorage
from tests.helpers import run_daily, run_dimensions

pytestmark = pytest.mark.integration


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
    day = "bi/marts/wallet_transactions/date=2026-10-23"
    manifest = json.loads(
        client.get_object(Bucket=s3_bucket, Key=f"{day}/_manifest.json")["Body"].read()
    )
    assert [k for k in keys if k.startswith(f"{day}/part-")] == [f"{day}/{manifest['file']}"]
    assert len([k for k in keys if k.startswith("bi/marts/user_ledger/part-")]) == 1
    assert not [k for k in keys if "/.tmp-" in k], "no temporary object is left behind"
    body = client.get_object(Bucket=s3_bucket, Key=f"{day}/{manifest['file']}")["Body"].read()
    assert hashlib.sha256(body).hexdigest() == manifest["sha256"]
    frame = pl.read_parquet(body)
    assert frame.height == manifest["rows"]
    assert frame.height > 0 and frame["local_date"].unique().to_list() == [date(2026, 10, 23)]
