"""The export engine itself: empty windows, bound filter values, missing published days,
the 1,000,000-row split, validation that blocks delivery, and S3 delivery with a failure
in the middle of a multipart upload.

Every column of every report type against the raw logs (Berlin and Kathmandu) is in
test_report_rows.py; the literal contract (headers, names, manifest, S3 for all six
types) in test_report_contract.py."""

import hashlib
import json
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import boto3
import duckdb
import pytest

from promo.reports.definitions import REPORTS
from promo.reports.engine import ReportDataMissing, ReportRequest, export_report
from promo.reports.validation import ReportValidationError
from promo.reports.windows import Window, custom_window
from resources.storage import LocalStorage, S3Storage, StorageError, open_storage
from tests.conftest import TZ

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
ALL_SOURCES = ["CASHBACK_COUPON", "SYSTEM", "API", "PROMO_CAMPAIGN"]
ALL_TYPES = ["CREDIT", "DEBIT", "EXPIRED", "PROMISED", "REVERSE", "REFUND"]


def window(first: str, last: str, tz: str = TZ) -> Window:
    return custom_window(date.fromisoformat(first), date.fromisoformat(last), ZoneInfo(tz))


def export(request, settings, folder="t", **kwargs):
    return export_report(
        request,
        marts=LocalStorage(settings.marts_uri),
        destination=LocalStorage(settings.downloads_dir),
        folder=folder,
        timezone=TZ,
        now=NOW,
        generated_by="tester@example.com",
        **kwargs,
    )


def test_an_empty_window_gives_a_header_only_csv(berlin_pipeline):
    settings, _, _ = berlin_pipeline
    request = ReportRequest(
        "e", "user_errors", {"campaign_id": "no-such-campaign"}, window("2026-10-23", "2026-10-23")
    )
    delivered = export(request, settings, folder="empty")
    assert Path(delivered.uri).read_text() == ",".join(REPORTS["user_errors"].header) + "\n"
    assert delivered.rows == 0


def test_filter_values_are_bound_parameters_not_sql(berlin_pipeline):
    settings, con, _ = berlin_pipeline
    request = ReportRequest(
        "inj",
        "wallet_transactions",
        {"wallet_id": "x' OR '1'='1", "sources": ALL_SOURCES, "types": ALL_TYPES},
        window("2026-10-23", "2026-10-23"),
    )
    assert export(request, settings, folder="inj").rows == 0


def test_missing_published_days_are_refused_with_the_command_to_run(berlin_pipeline):
    settings, _, _ = berlin_pipeline
    request = ReportRequest(
        "m", "user_errors", {"campaign_id": "c"}, window("2026-10-27", "2026-11-05")
    )
    with pytest.raises(
        ReportDataMissing, match=r"2026-10-29.*materialize --start 2026-10-29 --end 2026-11-05"
    ):
        export(request, settings, folder="missing")
    assert not (settings.downloads_dir / "missing").exists()


# ------------------------------------------------------------------ synthetic marts
def synthetic_wallet_mart(
    marts: Path,
    days: dict[str, int],
    bad_type_at: int | None = None,
    *,
    ties: int = 1,
    file_order: str = "occurred_at, transaction_id",
):
    """Published wallet_transactions partitions with `n` rows per day, written with plain
    DuckDB (the mart's columns), to exercise volume and validation without a pipeline.
    `ties`: rows that share each instant; `file_order`: the rows' order in the file
    (publishing writes the report's order)."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for day, n in days.items():
        target = marts / "wallet_transactions" / f"date={day}"
        target.mkdir(parents=True, exist_ok=True)
        bad = f"WHEN i = {bad_type_at} THEN 'GIFT'" if bad_type_at is not None else ""
        con.execute(f"""
            COPY (
                SELECT printf('tx-{day}-%09d', i) AS transaction_id, 'W1' AS wallet_id,
                       'Main' AS wallet_name, printf('u%06d', i % 50000) AS user_id,
                       CASE {bad} WHEN i % 7 = 0 THEN 'DEBIT' ELSE 'CREDIT' END AS transaction_type,
                       'API' AS transaction_source, CAST(1.25 AS DECIMAL(18,2)) AS points,
                       CAST(CASE WHEN i % 7 = 0 THEN -1.25 ELSE 1.25 END AS DECIMAL(18,2))
                           AS balance_effect,
                       NULL::VARCHAR AS campaign_id, NULL::VARCHAR AS coupon_code,
                       NULL::VARCHAR AS reference_transaction_id, NULL::TIMESTAMPTZ AS expires_at,
                       TIMESTAMPTZ '{day} 00:00:00+00' + to_microseconds(i // {ties} * 80000)
                           AS occurred_at,
                       DATE '{day}' AS local_date
                FROM range({n}) t(i) ORDER BY {file_order}
            ) TO '{target}/part-0.parquet' (FORMAT parquet)
        """)
    con.close()


def wallet_request(name: str, first: str, last: str, types=ALL_TYPES) -> ReportRequest:
    """Wallet Transactions of the synthetic mart's wallet W1, every source, UTC days."""
    return ReportRequest(
        name,
        "wallet_transactions",
        {"wallet_id": "W1", "sources": ALL_SOURCES, "types": types},
        window(first, last, "UTC"),
    )


def export_synthetic(request, tmp_path: Path, folder: str, destination=None, **options):
    """export_report of a synthetic mart in tmp_path/marts to `destination` (default
    tmp_path/out), in UTC; `options` as export_report takes them (e.g. rows_per_file)."""
    return export_report(
        request,
        marts=LocalStorage(tmp_path / "marts"),
        destination=destination or LocalStorage(tmp_path / "out"),
        folder=folder,
        timezone="UTC",
        now=NOW,
        generated_by="t",
        **options,
    )


def test_more_than_a_million_rows_become_a_zip_of_chronological_parts(tmp_path):
    marts = tmp_path / "marts"
    synthetic_wallet_mart(marts, {"2026-10-01": 600_000, "2026-10-02": 600_001})
    request = wallet_request("big", "2026-10-01", "2026-10-02")
    delivered = export_synthetic(request, tmp_path, "big")
    assert delivered.file_name == "wallet-transactions_2026-10-01_2026-10-02.zip"
    assert [p["rows"] for p in delivered.parts] == [1_000_000, 200_001]
    with zipfile.ZipFile(delivered.uri) as zf:
        names = zf.namelist()
        assert names == [
            "wallet-transactions_2026-10-01_2026-10-02_part-0001.csv",
            "wallet-transactions_2026-10-01_2026-10-02_part-0002.csv",
        ]
        firsts, lasts = [], []
        for name in names:
            lines = zf.read(name).decode().splitlines()
            assert lines[0] == ",".join(REPORTS["wallet_transactions"].header)
            firsts.append(lines[1].split(",")[-1])
            lasts.append(lines[-1].split(",")[-1])
        assert lasts[0] <= firsts[1], "part 2 starts where part 1 ends"
        assert firsts[0].startswith("2026-10-01T00:00:00.000+00:00")
        # The manifest names each part with its rows and SHA-256, and the ZIP's own hash.
        assert [(p["file"], p["rows"], p["sha256"]) for p in delivered.manifest["parts"]] == [
            (name, rows, hashlib.sha256(zf.read(name)).hexdigest())
            for name, rows in zip(names, (1_000_000, 200_001), strict=True)
        ]
    assert delivered.manifest["rows"] == 1_200_001
    assert (
        delivered.manifest["sha256"] == hashlib.sha256(Path(delivered.uri).read_bytes()).hexdigest()
    )
    beside = Path(delivered.uri).with_name(delivered.file_name + ".manifest.json")
    assert json.loads(beside.read_text()) == delivered.manifest


def test_a_day_file_out_of_order_still_gives_rows_in_time_then_id_order(tmp_path):
    # The export reads day files in file order and sorts only a day that is not in the
    # report's order. Here the files are shuffled and every instant is shared by 3 rows:
    # the report must still be ordered by time, then transaction id, exactly as
    # plain DuckDB orders the same files.
    marts = tmp_path / "marts"
    days = {"2026-10-01": 3000, "2026-10-02": 2999}
    synthetic_wallet_mart(marts, days, ties=3, file_order="hash(i)")
    request = wallet_request("shuffled", "2026-10-01", "2026-10-02")
    delivered = export_synthetic(request, tmp_path, "shuffled")
    lines = Path(delivered.uri).read_text().splitlines()[1:]
    expected = duckdb.sql(
        f"SELECT transaction_id FROM read_parquet('{marts}/wallet_transactions/*/*.parquet') "
        "ORDER BY occurred_at, transaction_id"
    ).fetchall()
    assert len(lines) == sum(days.values())
    assert [line.split(",")[0] for line in lines] == [row[0] for row in expected]
    first_file = duckdb.sql(
        f"SELECT transaction_id FROM '{marts}/wallet_transactions/date=2026-10-01/*.parquet'"
    ).fetchall()
    assert first_file[:3] != expected[:3], "the file really was out of order"


def test_a_report_failing_validation_is_not_delivered(tmp_path):
    marts = tmp_path / "marts"
    synthetic_wallet_mart(marts, {"2026-10-01": 5000}, bad_type_at=1234)
    request = wallet_request("bad", "2026-10-01", "2026-10-01", types=["CREDIT", "DEBIT", "GIFT"])
    with pytest.raises(ReportValidationError) as failure:
        export_synthetic(request, tmp_path, "bad")
    message = str(failure.value)
    assert "transaction_type" in message and "isin" in message and "row 1234" in message
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*"))


def test_s3_delivery_and_a_failure_mid_upload(tmp_path, s3_bucket, s3_endpoint, monkeypatch):
    marts = tmp_path / "marts"
    synthetic_wallet_mart(marts, {"2026-10-01": 400_000})
    request = wallet_request("s3", "2026-10-01", "2026-10-01")
    destination = open_storage(f"s3://{s3_bucket}/reports", s3_endpoint)
    # Small parts so the ~45 MB file goes up as a multipart upload; the third part fails.
    monkeypatch.setattr(S3Storage, "MULTIPART_THRESHOLD", 8 * 1024 * 1024)
    calls = {"n": 0}

    def fail_third_part(**kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise ConnectionResetError("connection reset by peer (injected)")

    destination.client.meta.events.register("before-call.s3.UploadPart", fail_third_part)
    with pytest.raises(StorageError, match="cannot write"):
        export_synthetic(request, tmp_path, "daily", destination=destination)
    client = boto3.client("s3", endpoint_url=s3_endpoint)
    listed = client.list_objects_v2(Bucket=s3_bucket).get("Contents", [])
    assert [o["Key"] for o in listed] == [], "nothing visible at the final key"

    destination.client.meta.events.unregister("before-call.s3.UploadPart", fail_third_part)
    delivered = export_synthetic(request, tmp_path, "daily", destination=destination)
    key = "reports/daily/wallet-transactions_2026-10-01_2026-10-01.csv"
    assert delivered.uri == f"s3://{s3_bucket}/{key}"
    body = client.get_object(Bucket=s3_bucket, Key=key)["Body"].read()
    assert body.count(b"\n") == 400_001
    keys = {o["Key"] for o in client.list_objects_v2(Bucket=s3_bucket)["Contents"]}
    assert keys == {key, key + ".manifest.json"}
