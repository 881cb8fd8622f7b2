"""Issue 12, finding 6: a network cut while a day is re-published to S3 must never leave a
manifest beside a data file that it does not describe. The cut is real: the moto server
is stopped between the two objects of the re-publish (whichever goes first), and what a
reader then sees is checked against what was published before, computed here."""

import hashlib
import json
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import boto3
import duckdb
import polars as pl
import pytest

from assets.publish import publish_partition
from promo import published
from promo.marts import WALLET_TRANSACTIONS
from promo.reports.engine import ReportRequest, export_report
from promo.reports.windows import custom_window
from resources.dbt import mart_contracts
from resources.storage import LocalStorage, StorageError, open_storage
from tests.integration.test_report_engine import ALL_SOURCES, ALL_TYPES

pytestmark = pytest.mark.reliability
DAY = date(2026, 10, 23)
FOLDER = f"marts/wallet_transactions/date={DAY}"


def build_day(con, rows: int) -> None:
    """The warehouse's wallet_transactions table, holding `rows` rows of DAY (the mart's
    contract columns, plain values a report can check)."""
    con.execute(f"""
        CREATE OR REPLACE TABLE wallet_transactions AS
        SELECT printf('tx-%06d', i) AS transaction_id, 'W1' AS wallet_id,
               'Main' AS wallet_name, printf('u%04d', i % 97) AS user_id,
               'CREDIT' AS transaction_type, 'API' AS transaction_source,
               CAST(1.25 AS DECIMAL(18,2)) AS points,
               CAST(1.25 AS DECIMAL(18,2)) AS balance_effect,
               NULL::VARCHAR AS campaign_id, NULL::VARCHAR AS coupon_code,
               NULL::VARCHAR AS reference_transaction_id, NULL::TIMESTAMPTZ AS expires_at,
               TIMESTAMPTZ '{DAY} 00:00:00+00' + to_microseconds(i * 1000000) AS occurred_at,
               TIMESTAMP '{DAY} 00:00:00' + to_microseconds(i * 1000000) AS occurred_at_local,
               DATE '{DAY}' AS local_date
        FROM range({rows}) t(i)
    """)


def folder_state(url: str, bucket: str) -> tuple[dict, dict[str, bytes]]:
    """The day folder as a reader finds it: its manifest and its data files (by name)."""
    client = boto3.client("s3", endpoint_url=url)
    listed = client.list_objects_v2(Bucket=bucket, Prefix=f"{FOLDER}/")
    names = [o["Key"].rpartition("/")[2] for o in listed.get("Contents", [])]
    body = {
        n: client.get_object(Bucket=bucket, Key=f"{FOLDER}/{n}")["Body"].read()
        for n in names
        if not n.startswith(".tmp-")
    }
    manifest = json.loads(body.pop("_manifest.json"))
    return manifest, body


def cut_at_second_put(storage, outage) -> dict:
    """Stop the server just before the second object upload of the next publish: the
    first object of the pair is complete on the server, the second never arrives."""
    puts = {"n": 0}

    def hook(**kwargs):
        puts["n"] += 1
        if puts["n"] == 2:
            outage.down()

    storage.client.meta.events.register("before-send.s3.PutObject", hook)
    return puts


def report_rows(storage, tmp_path) -> int:
    """Rows of a Wallet Transactions report of DAY, read by the report engine."""
    request = ReportRequest(
        "cut",
        "wallet_transactions",
        {"wallet_id": "W1", "sources": ALL_SOURCES, "types": ALL_TYPES},
        custom_window(DAY, DAY, ZoneInfo("UTC")),
    )
    delivered = export_report(
        request,
        marts=storage,
        destination=LocalStorage(tmp_path / "out"),
        folder="cut",
        timezone="UTC",
        now=datetime(2026, 11, 2, 9, 30, tzinfo=UTC),
        generated_by="test",
    )
    return delivered.rows


def test_network_cut_while_republishing_a_day_to_s3_never_pairs_a_new_manifest_with_old_data(
    outage, tmp_path, record_fault
):
    contract = mart_contracts()["wallet_transactions"]
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    build_day(con, 300)
    before = publish_partition(
        con,
        open_storage(f"s3://{outage.bucket}/marts", outage.url),
        WALLET_TRANSACTIONS,
        DAY,
        tmp_path,
        contract,
    )
    assert before["rows"] == 300

    build_day(con, 500)  # the day changed: a late file, a correction
    storage = open_storage(f"s3://{outage.bucket}/marts", outage.url)
    cut_at_second_put(storage, outage)
    with pytest.raises(StorageError):
        publish_partition(con, storage, WALLET_TRANSACTIONS, DAY, tmp_path, contract)
    outage.up()  # moto's state lives in this process: the bucket is as the cut left it

    manifest, files = folder_state(outage.url, outage.bucket)
    named = manifest.get("file", "part-0.parquet")
    assert named in files, f"the manifest names {named}, which is not there: {sorted(files)}"
    frame = pl.read_parquet(files[named])
    assert frame.height == manifest["rows"], "the manifest does not describe its data file"
    assert hashlib.sha256(files[named]).hexdigest() == manifest.get("sha256")
    assert manifest["rows"] == 300, "the previous, complete partition is still the one named"
    # Readers go through the manifest: they read the previous content, whole.
    reader = open_storage(f"s3://{outage.bucket}/marts", outage.url)
    assert list(published.daily_files(reader, "wallet_transactions")) == [DAY]
    assert report_rows(reader, tmp_path) == 300
    orphans = sorted(set(files) - {named})

    # The documented recovery: run again. One data file is left, the one its manifest names.
    after = publish_partition(
        con,
        open_storage(f"s3://{outage.bucket}/marts", outage.url),
        WALLET_TRANSACTIONS,
        DAY,
        tmp_path,
        contract,
    )
    manifest, files = folder_state(outage.url, outage.bucket)
    assert list(files) == [manifest["file"]] == [after["file"]]
    assert manifest["rows"] == pl.read_parquet(files[manifest["file"]]).height == 500
    assert hashlib.sha256(files[manifest["file"]]).hexdigest() == manifest["sha256"]
    expected = con.sql("SELECT transaction_id FROM wallet_transactions ORDER BY ALL").fetchall()
    got = pl.read_parquet(files[manifest["file"]]).select("transaction_id").sort("transaction_id")
    assert got.rows() == expected
    assert report_rows(reader, tmp_path / "again") == 500
    con.close()
    record_fault(
        "S3 server stopped while re-publishing a changed day (between data file and "
        "manifest); the manifest still names the old, complete file; re-run replaces it",
        survived=True,
        data_files_beside_the_manifest_at_cut=len(orphans),
    )


def test_republishing_identical_content_keeps_one_file_of_the_same_name(tmp_path):
    """Publishing is idempotent: the same rows give the same content name, and a changed
    day replaces its file (the old one is removed once the new manifest names the new)."""
    contract = mart_contracts()["wallet_transactions"]
    storage = LocalStorage(tmp_path / "marts")
    folder = tmp_path / "marts" / "wallet_transactions" / f"date={DAY}"
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    build_day(con, 40)
    first = publish_partition(con, storage, WALLET_TRANSACTIONS, DAY, tmp_path, contract)
    again = publish_partition(con, storage, WALLET_TRANSACTIONS, DAY, tmp_path, contract)
    assert first["file"] == again["file"] and first["file"].startswith("part-")
    assert sorted(p.name for p in folder.iterdir()) == ["_manifest.json", first["file"]]
    build_day(con, 41)
    changed = publish_partition(con, storage, WALLET_TRANSACTIONS, DAY, tmp_path, contract)
    assert changed["file"] != first["file"]
    assert sorted(p.name for p in folder.iterdir()) == ["_manifest.json", changed["file"]]
    data = (folder / changed["file"]).read_bytes()
    assert changed["sha256"] == hashlib.sha256(data).hexdigest()
    assert changed["uri"].endswith(f"wallet_transactions/date={DAY}/{changed['file']}")
    con.close()
