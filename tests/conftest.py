"""Shared fixtures: an isolated PROMO_HOME per test, a real S3-compatible server (moto in
server mode, on a free port) for the session, and sample data."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from orchestration.settings import Settings

FAKE_KEY_ID = "AKIAPROMOTESTKEY0000"
FAKE_SECRET = "promo-test-secret-DO-NOT-LOG-7f3a9c"  # recognisable: must never appear in output


@pytest.fixture(scope="session")
def s3_endpoint() -> str:
    from moto.server import ThreadedMotoServer

    os.environ.update(
        AWS_ACCESS_KEY_ID=FAKE_KEY_ID,
        AWS_SECRET_ACCESS_KEY=FAKE_SECRET,
        AWS_DEFAULT_REGION="us-east-1",
    )
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_bucket(s3_endpoint, request) -> str:
    """A fresh bucket for one test; returns its name."""
    import boto3

    name = "promo-" + request.node.name.lower().replace("_", "-")[:40].strip("-")
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=name)
    return name


def make_env(home: Path, **overrides: str) -> dict[str, str]:
    env = {
        "PROMO_HOME": str(home),
        "PROMO_ACCOUNT_TIMEZONE": "UTC",
        "PROMO_PARTITION_START": "2026-10-01",
        "DAGSTER_HOME": str(home / "dagster_home"),
    }
    env.update(overrides)
    return env


@pytest.fixture
def promo_env(tmp_path, monkeypatch):
    """Point every PROMO_ setting at a temporary home; returns a function that applies
    overrides and gives the resulting Settings."""
    for key in list(os.environ):
        if key.startswith("PROMO_"):
            monkeypatch.delenv(key)

    def apply(**overrides: str) -> Settings:
        env = make_env(tmp_path / "promo", **overrides)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        return Settings.from_env()

    return apply


SAMPLE_START = date(2026, 10, 23)
