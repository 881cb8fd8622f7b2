"""Report files from the published marts, compared row by row with independent DuckDB
queries over the raw JSON files; the 1,000,000-row split; validation that blocks
delivery; S3 delivery with a failure in the middle of a multipart upload."""

import csv
import io
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


def read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a delivered CSV, or of every part of a ZIP in order."""
    if path.suffix == ".zip":
        header, rows = None, []
        with zipfile.ZipFile(path) as zf:
            for name in zf.namelist():
                part = list(csv.reader(io.TextIOWrapper(zf.open(name), encoding="utf-8")))
                assert header in (None, part[0]), "every part has the same header"
                header = part[0]
                rows += part[1:]
        return header, rows
    with path.open(newline="", encoding="utf-8") as fh:
        table = list(csv.reader(fh))
    return table[0], table[1:]


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


def as_table(con, name: str, header: list[str], rows: list[list[str]]) -> None:
    """Load CSV rows into DuckDB as text (empty field = NULL), for set comparisons."""
    con.execute(f"DROP TABLE IF EXISTS {name}")
    con.execute(f"CREATE TABLE {name} ({', '.join(f'{h} VARCHAR' for h in header)})")
    if rows:
        con.executemany(
            f"INSERT INTO {name} VALUES ({', '.join('?' for _ in header)})",
            [[v if v != "" else None for v in r] for r in rows],
        )


def assert_same(con, expected: str, actual: str) -> None:
    missing = con.sql(f"({expected}) EXCEPT ALL ({actual})").fetchall()
    extra = con.sql(f"({actual}) EXCEPT ALL ({expected})").fetchall()
    assert not missing and not extra, f"missing {missing[:3]}, unexpected {extra[:3]}"


def busiest(con, sql: str):
    return con.sql(sql).fetchall()[0]


def test_wallet_transactions_match_raw_rows_in_order(berlin_pipeline):
    settings, con, _ = berlin_pipeline
    (wallet,) = busiest(
        con, "SELECT wallet_id FROM raw_wallet_transactions GROUP BY 1 ORDER BY count(*) DESC"
    )
    w = window("2026-10-24", "2026-10-26")  # across the 25-hour day
    request = ReportRequest(
        "wt",
        "wallet_transactions",
        {"wallet_id": wallet, "sources": ["PROMO_CAMPAIGN", "API"], "types": ALL_TYPES},
        w,
    )
    delivered = export(request, settings)
    header, rows = read_rows(Path(delivered.uri))
    assert header == REPORTS["wallet_transactions"].header
    assert delivered.rows == len(rows) > 0
    as_table(con, "got_wt", header, rows)
    expected = f"""
        SELECT transaction_id, user_id, CAST(points AS VARCHAR),
               CASE WHEN transaction_type IN ('CREDIT','REFUND') THEN points
                    WHEN transaction_type = 'PROMISED' THEN 0 ELSE -points END,
               occurred_at
        FROM raw_wallet_transactions
        WHERE wallet_id = '{wallet}' AND transaction_source IN ('PROMO_CAMPAIGN', 'API')
          AND occurred_at >= '{w.start.isoformat()}' AND occurred_at < '{w.end.isoformat()}'
    """
    actual = """SELECT transaction_id, user_id, points, CAST(balance_effect AS DECIMAL(18,2)),
                CAST(transaction_time AS TIMESTAMPTZ) FROM got_wt"""
    assert_same(con, expected, actual)
    # Sorted by time then id; the offset is Berlin's at that instant (+02:00, then +01:00).
    order = con.sql(
        "SELECT transaction_id FROM got_wt ORDER BY CAST(transaction_time AS TIMESTAMPTZ), "
        "transaction_id"
    ).fetchall()
    assert [r[0] for r in order] == [r[0] for r in rows]
    offsets = {r[12][-6:] for r in rows}
    assert offsets == {"+02:00", "+01:00"}
    for row in rows[:: max(1, len(rows) // 50)]:
        stamp = datetime.fromisoformat(row[12])
        assert stamp.utcoffset() == stamp.astimezone(ZoneInfo(TZ)).utcoffset()
    assert {r[5] for r in rows} <= {"Promo Campaign", "API"}


def test_wallet_summary_one_row_per_day_with_closing_balance(berlin_pipeline):
    settings, con, _ = berlin_pipeline
    (wallet,) = busiest(con, "SELECT wallet_id FROM raw_wallets ORDER BY wallet_id")
    request = ReportRequest(
        "ws", "wallet_summary", {"wallet_id": wallet}, window("2026-10-22", "2026-10-28")
    )
    header, rows = read_rows(Path(export(request, settings).uri))
    assert [r[0] for r in rows] == [f"2026-10-{d}" for d in range(22, 29)]
    as_table(con, "got_ws", header, rows)
    expected = f"""
        WITH tx AS (
            SELECT timezone('{TZ}', occurred_at)::DATE AS d,
                   CASE WHEN transaction_type IN ('CREDIT','REFUND') THEN points
                        WHEN transaction_type = 'PROMISED' THEN 0 ELSE -points END AS effect
            FROM raw_wallet_transactions WHERE wallet_id = '{wallet}'
        ), days AS (
            SELECT unnest(range(DATE '2026-10-22', DATE '2026-10-29', INTERVAL 1 DAY))::DATE AS d
        )
        SELECT strftime(days.d, '%Y-%m-%d'),
               (SELECT coalesce(sum(effect), 0) FROM tx WHERE tx.d <= days.d)
        FROM days
    """
    assert_same(con, expected, "SELECT date, CAST(closing_balance AS DECIMAL(18,2)) FROM got_ws")


def test_user_ledger_summary_snapshot(berlin_pipeline):
    settings, con, _ = berlin_pipeline
    (wallet,) = busiest(
        con, "SELECT wallet_id FROM raw_wallet_transactions GROUP BY 1 ORDER BY count(*) DESC"
    )
    delivered = export(
        ReportRequest("ul", "user_ledger_summary", {"wallet_id": wallet}, None), settings
    )
    assert delivered.file_name.startswith("user-ledger-summary_asof_2026-11-02T103000+0100")
    header, rows = read_rows(Path(delivered.uri))
    as_table(con, "got_ul", header, rows)
    assert_same(
        con,
        f"""SELECT user_id, sum(CASE WHEN transaction_type IN ('CREDIT','REFUND') THEN points
                 WHEN transaction_type = 'PROMISED' THEN 0 ELSE -points END), max(occurred_at)
            FROM raw_wallet_transactions WHERE wallet_id = '{wallet}' GROUP BY 1""",
        "SELECT user_id, CAST(available_balance AS DECIMAL(18,2)), "
        "CAST(last_transaction_time AS TIMESTAMPTZ) FROM got_ul",
    )


@pytest.mark.parametrize(
    "report_type, stream_filter, id_col",
    [
        ("reward_assignment", "status = 'SUCCESS'", "event_id"),
        ("user_errors", "status = 'FAILED'", "event_id"),
    ],
)
def test_campaign_reports(berlin_pipeline, report_type, stream_filter, id_col):
    settings, con, _ = berlin_pipeline
    (campaign,) = busiest(
        con,
        f"SELECT campaign_id FROM raw_reward_events WHERE {stream_filter} "
        "GROUP BY 1 ORDER BY count(*) DESC",
    )
    w = window("2026-10-23", "2026-10-27")
    header, rows = read_rows(
        Path(export(ReportRequest("c", report_type, {"campaign_id": campaign}, w), settings).uri)
    )
    as_table(con, "got_c", header, rows)
    ts_col = header[-1]
    assert_same(
        con,
        f"""SELECT {id_col}, user_id, occurred_at FROM raw_reward_events
            WHERE campaign_id = '{campaign}' AND {stream_filter}
              AND occurred_at >= '{w.start.isoformat()}' AND occurred_at < '{w.end.isoformat()}'""",
        f"SELECT {id_col}, user_id, CAST({ts_col} AS TIMESTAMPTZ) FROM got_c",
    )


def test_voucher_assignment_logs(berlin_pipeline):
    settings, con, _ = berlin_pipeline
    partner, tag = busiest(
        con,
        "SELECT partner_id, list_tag FROM raw_voucher_assignments GROUP BY ALL "
        "ORDER BY count(*) DESC",
    )
    w = window("2026-10-22", "2026-10-28")
    request = ReportRequest(
        "v", "voucher_assignment_logs", {"partner_id": partner, "list_tag": tag}, w
    )
    header, rows = read_rows(Path(export(request, settings).uri))
    as_table(con, "got_v", header, rows)
    assert_same(
        con,
        f"""SELECT assignment_id, voucher_code, assigned_at FROM raw_voucher_assignments
            WHERE partner_id = '{partner}' AND list_tag = '{tag}'
              AND assigned_at >= '{w.start.isoformat()}' AND assigned_at < '{w.end.isoformat()}'""",
        "SELECT assignment_id, voucher_code, CAST(assigned_time AS TIMESTAMPTZ) FROM got_v",
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
def synthetic_wallet_mart(marts: Path, days: dict[str, int], bad_type_at: int | None = None):
    """Published wallet_transactions partitions with `n` rows per day, written with plain
    DuckDB (the mart's columns), to exercise volume and validation without a pipeline."""
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
                       TIMESTAMPTZ '{day} 00:00:00+00' + to_microseconds(i * 80000)
                           AS occurred_at,
                       DATE '{day}' AS local_date
                FROM range({n}) t(i) ORDER BY occurred_at, transaction_id
            ) TO '{target}/part-0.parquet' (FORMAT parquet)
        """)
    con.close()


def test_more_than_a_million_rows_become_a_zip_of_chronological_parts(tmp_path):
    marts = tmp_path / "marts"
    synthetic_wallet_mart(marts, {"2026-10-01": 600_000, "2026-10-02": 600_001})
    request = ReportRequest(
        "big",
        "wallet_transactions",
        {"wallet_id": "W1", "sources": ALL_SOURCES, "types": ALL_TYPES},
        window("2026-10-01", "2026-10-02", "UTC"),
    )
    delivered = export_report(
        request,
        marts=LocalStorage(marts),
        destination=LocalStorage(tmp_path / "out"),
        folder="big",
        timezone="UTC",
        now=NOW,
        generated_by="t",
    )
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
    manifest = delivered.manifest
    assert manifest["rows"] == 1_200_001 and manifest["parts"][0]["sha256"]


def test_a_report_failing_validation_is_not_delivered(tmp_path):
    marts = tmp_path / "marts"
    synthetic_wallet_mart(marts, {"2026-10-01": 5000}, bad_type_at=1234)
    request = ReportRequest(
        "bad",
        "wallet_transactions",
        {"wallet_id": "W1", "sources": ALL_SOURCES, "types": ["CREDIT", "DEBIT", "GIFT"]},
        window("2026-10-01", "2026-10-01", "UTC"),
    )
    with pytest.raises(ReportValidationError) as failure:
        export_report(
            request,
            marts=LocalStorage(marts),
            destination=LocalStorage(tmp_path / "out"),
            folder="bad",
            timezone="UTC",
            now=NOW,
            generated_by="t",
        )
    message = str(failure.value)
    assert "transaction_type" in message and "isin" in message and "row 1234" in message
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*"))


def test_s3_delivery_and_a_failure_mid_upload(tmp_path, s3_bucket, s3_endpoint, monkeypatch):
    marts = tmp_path / "marts"
    synthetic_wallet_mart(marts, {"2026-10-01": 400_000})
    request = ReportRequest(
        "s3",
        "wallet_transactions",
        {"wallet_id": "W1", "sources": ALL_SOURCES, "types": ALL_TYPES},
        window("2026-10-01", "2026-10-01", "UTC"),
    )
    destination = open_storage(f"s3://{s3_bucket}/reports", s3_endpoint)
    # Small parts so the ~45 MB file goes up as a multipart upload; the third part fails.
    monkeypatch.setattr(S3Storage, "MULTIPART_THRESHOLD", 8 * 1024 * 1024)
    calls = {"n": 0}

    def fail_third_part(**kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise ConnectionResetError("connection reset by peer (injected)")

    destination.client.meta.events.register("before-call.s3.UploadPart", fail_third_part)
    kwargs = dict(
        marts=LocalStorage(marts),
        destination=destination,
        folder="daily",
        timezone="UTC",
        now=NOW,
        generated_by="t",
    )
    with pytest.raises(StorageError, match="cannot write"):
        export_report(request, **kwargs)
    client = boto3.client("s3", endpoint_url=s3_endpoint)
    listed = client.list_objects_v2(Bucket=s3_bucket).get("Contents", [])
    assert [o["Key"] for o in listed] == [], "nothing visible at the final key"

    destination.client.meta.events.unregister("before-call.s3.UploadPart", fail_third_part)
    delivered = export_report(request, **kwargs)
    key = "reports/daily/wallet-transactions_2026-10-01_2026-10-01.csv"
    assert delivered.uri == f"s3://{s3_bucket}/{key}"
    body = client.get_object(Bucket=s3_bucket, Key=key)["Body"].read()
    assert body.count(b"\n") == 400_001
    keys = {o["Key"] for o in client.list_objects_v2(Bucket=s3_bucket)["Contents"]}
    assert keys == {key, key + ".manifest.json"}
