"""The report file contract (`docs/contracts/report_files.md`) as a user receives it:
the literal header of each type, the product's display names, file and manifest names,
every manifest field, and delivery of all six types to the S3-compatible server."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from datetime import date, datetime
from pathlib import Path

import boto3
import pytest

from promo.reports.destinations import load_destinations
from tests.conftest import TZ
from tests.helpers import destinations_file
from tests.integration.report_support import (
    CONTRACT_COLUMNS,
    NOW,
    REWARD_NAMES,
    SOURCE_NAMES,
    TYPE_NAMES,
    USER,
    deliver,
    local_midnight,
    read_file,
    spec_of,
)

pytestmark = pytest.mark.integration
DAYS = (date(2026, 10, 24), date(2026, 10, 26))
FILTERS = {
    "wallet_summary": {"wallet_id": "wlt_main"},
    "wallet_transactions": {"wallet_id": "wlt_main"},
    "user_ledger_summary": {"wallet_id": "wlt_main"},
    "voucher_assignment_logs": {"partner_id": "prt_brewhouse", "list_tag": "free-latte"},
    "reward_assignment": {"campaign_id": "cmp_everyday_points"},
    "user_errors": {"campaign_id": "cmp_everyday_points"},
}
# The contract's `<report-slug>_<start>_<end>.csv`, typed out.
FILE_NAMES = {
    "wallet_summary": "wallet-summary_2026-10-24_2026-10-26.csv",
    "wallet_transactions": "wallet-transactions_2026-10-24_2026-10-26.csv",
    "voucher_assignment_logs": "voucher-assignment-logs_2026-10-24_2026-10-26.csv",
    "reward_assignment": "reward-assignment_2026-10-24_2026-10-26.csv",
    "user_errors": "user-errors_2026-10-24_2026-10-26.csv",
}
# `report_support.spec_of` names a report "Contract check <type>": its folder's slug.
SLUG = {t: "contract-check-" + t.replace("_", "-") for t in CONTRACT_COLUMNS}
ASOF_NAME = re.compile(r"user-ledger-summary_asof_(?P<stamp>[^/]+)\.csv")


def days_of(report_type: str):
    return None if report_type == "user_ledger_summary" else DAYS


def instant(text: str) -> datetime:
    stamp = datetime.fromisoformat(text)
    assert stamp.utcoffset() is not None, f"{text} has no offset"
    return stamp


@pytest.mark.parametrize("report_type", list(CONTRACT_COLUMNS))
def test_header_file_name_and_manifest(berlin_pipeline, report_type):
    settings, _, _ = berlin_pipeline
    spec = spec_of(report_type, FILTERS[report_type], days_of(report_type))
    delivered = deliver(settings, spec)
    path = Path(delivered.uri)
    data = path.read_bytes()

    # Header: the contract's names in its order; UTF-8, `\n` line ends only.
    assert data.decode("utf-8").split("\n", 1)[0] == ",".join(CONTRACT_COLUMNS[report_type])
    assert b"\r" not in data and data.endswith(b"\n")
    rows = read_file(path)[1:]
    assert rows, "the case has data"

    # Name: `<report-slug>_<start>_<end>.csv` (the ledger: `_asof_<timestamp>`) in the
    # report's own folder `<name-slug>-<fingerprint>` (README) in the downloads folder.
    if report_type == "user_ledger_summary":
        match = ASOF_NAME.fullmatch(path.name)
        assert match, path.name
        as_of = datetime.strptime(match["stamp"], "%Y-%m-%dT%H%M%S%z")
        assert as_of == NOW and as_of.strftime("%z") == "+0100", "local time of generation"
    else:
        assert path.name == FILE_NAMES[report_type]
    folder = path.relative_to(settings.downloads_dir).parts[0]
    assert re.fullmatch(rf"{SLUG[report_type]}-[0-9a-f]{{8}}", folder), folder

    # Manifest: `<same name>.manifest.json` with every field the contract lists.
    manifest_path = path.with_name(path.name + ".manifest.json")
    assert delivered.manifest_uri == str(manifest_path)
    manifest = json.loads(manifest_path.read_text())
    assert manifest["report_name"] == spec["name"]
    assert manifest["report_type"] == report_type
    for key, value in FILTERS[report_type].items():
        assert manifest["filters"][key] == value
    if report_type == "wallet_transactions":  # the defaults a user did not type are stated
        assert sorted(manifest["filters"]["transaction_sources"]) == sorted(
            s.lower() for s in SOURCE_NAMES
        )
        assert sorted(manifest["filters"]["transaction_types"]) == sorted(
            t.lower() for t in TYPE_NAMES
        )
    if report_type == "user_ledger_summary":
        assert instant(manifest["as_of"]) == NOW
    else:
        window = manifest["window"]
        assert window["timezone"] == TZ
        assert instant(window["start"]) == local_midnight(DAYS[0], TZ)
        assert instant(window["end"]) == local_midnight(date(2026, 10, 27), TZ)
    assert manifest["rows"] == len(rows) == delivered.rows
    sha = hashlib.sha256(data).hexdigest()
    assert manifest["parts"] == [{"file": path.name, "rows": len(rows), "sha256": sha}]
    assert manifest["schema_version"] == 1
    assert instant(manifest["generated_at"]) == NOW
    assert manifest["generated_by"] == USER


def test_display_names_are_the_products(berlin_pipeline):
    """Codes never reach the file: types, sources and reward types as the product says."""
    settings, con, _ = berlin_pipeline
    whole = (date(2026, 10, 22), date(2026, 10, 28))
    table = read_file(
        Path(
            deliver(settings, spec_of("wallet_transactions", {"wallet_id": "wlt_main"}, whole)).uri
        )
    )
    assert {r[4] for r in table[1:]} == set(TYPE_NAMES.values())
    assert {r[5] for r in table[1:]} == set(SOURCE_NAMES.values())
    shown = set()
    for (campaign,) in con.sql("SELECT campaign_id FROM raw_campaigns ORDER BY 1").fetchall():
        for report_type in ("reward_assignment", "user_errors"):
            spec = spec_of(report_type, {"campaign_id": campaign}, whole)
            shown |= {r[4] for r in read_file(Path(deliver(settings, spec).uri))[1:]}
    assert shown == set(REWARD_NAMES.values())


# Known ids with nothing in the window (a wallet summary always has a row per day, and
# every wallet of the sample data has a user, so those two are never header-only).
EMPTY = {
    "wallet_transactions": {"wallet_id": "wlt_legacy", "transaction_sources": ["cashback_coupon"]},
    "voucher_assignment_logs": {"partner_id": "prt_fitzone", "list_tag": "trial-week"},
    "reward_assignment": {"campaign_id": "cmp_holiday_double"},
    "user_errors": {"campaign_id": "cmp_holiday_double"},
}


@pytest.mark.parametrize("report_type", list(EMPTY))
def test_a_report_without_rows_is_a_header_only_csv(berlin_pipeline, report_type):
    settings, _, _ = berlin_pipeline
    delivered = deliver(settings, spec_of(report_type, EMPTY[report_type], DAYS))
    header = ",".join(CONTRACT_COLUMNS[report_type]) + "\n"
    assert Path(delivered.uri).read_text(encoding="utf-8") == header
    assert delivered.rows == 0 and delivered.manifest["rows"] == 0


@pytest.mark.parametrize("report_type", list(CONTRACT_COLUMNS))
def test_s3_delivery_equals_the_local_file(berlin_pipeline, s3_endpoint, report_type, tmp_path):
    """The same report delivered to S3 and to downloads: same bytes, same manifest, final
    keys only (nothing left under a temporary key)."""
    settings, _, _ = berlin_pipeline
    bucket = "promo-contract-" + report_type.replace("_", "-")
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=bucket)
    days = days_of(report_type)
    local = deliver(settings, spec_of(report_type, FILTERS[report_type], days))
    remote_spec = spec_of(
        report_type,
        FILTERS[report_type],
        days,
        delivery={"destination": "s3", "bucket": bucket, "prefix": "reports/"},
    )
    configured = destinations_file(tmp_path / "destinations.yaml", bucket)
    remote_settings = dataclasses.replace(
        settings,
        s3_endpoint_url=s3_endpoint,
        destinations_file=configured,
        destinations=load_destinations(configured),
    )
    remote = deliver(remote_settings, remote_spec)

    key = remote.uri.removeprefix(f"s3://{bucket}/")
    name = re.escape(local.file_name)
    assert re.fullmatch(rf"reports/{SLUG[report_type]}-[0-9a-f]{{8}}(/[^/]+)?/{name}", key), key
    keys = {o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", [])}
    assert keys == {key, key + ".manifest.json"}
    body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
    assert body == Path(local.uri).read_bytes()
    manifest = json.loads(
        client.get_object(Bucket=bucket, Key=key + ".manifest.json")["Body"].read()
    )
    local_manifest = json.loads(Path(local.manifest_uri).read_text())
    for field in ("report_name", "report_type", "filters", "window", "rows", "parts"):
        assert manifest[field] == local_manifest[field], field
    assert manifest["parts"][0]["sha256"] == hashlib.sha256(body).hexdigest()
