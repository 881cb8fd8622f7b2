"""The export engine with the streaming writer: a ZIP streamed part by part equals the
same rows written as one CSV cut into parts; repeated ids over days fail the report with
nothing delivered; a failure while the writer thread is busy leaves no file behind."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import duckdb
import pytest

from promo.reports.validation import ReportValidationError
from tests.integration.test_report_engine import (
    export_synthetic,
    synthetic_wallet_mart,
    wallet_request,
)

pytestmark = pytest.mark.integration


def test_zip_parts_are_the_single_csv_cut_into_parts(tmp_path):
    synthetic_wallet_mart(tmp_path / "marts", {"2026-10-01": 30_000, "2026-10-02": 25_001})
    request = wallet_request("w", "2026-10-01", "2026-10-02")
    single = export_synthetic(request, tmp_path, "one", rows_per_file=1_000_000)
    parted = export_synthetic(request, tmp_path, "many", rows_per_file=10_000)
    lines = Path(single.uri).read_bytes().splitlines(keepends=True)
    header, rows = lines[0], lines[1:]
    assert parted.manifest["formula_cells_neutralised"] == 0
    with zipfile.ZipFile(parted.uri) as zf:
        assert zf.testzip() is None
        parts = [zf.read(name) for name in zf.namelist()]
    assert len(parts) == 6 and [p["rows"] for p in parted.parts] == [10_000] * 5 + [5_001]
    assert parts == [header + b"".join(rows[i : i + 10_000]) for i in range(0, len(rows), 10_000)]
    assert len(list(csv.reader(io.StringIO(parts[-1].decode())))) == 5_002


def test_repeated_ids_across_days_fail_the_report(tmp_path):
    marts = tmp_path / "marts"
    synthetic_wallet_mart(marts, {"2026-10-01": 50_000})
    # Day 2 repeats day 1's transaction ids one day later: a broken mart.
    day1 = marts / "wallet_transactions" / "date=2026-10-01" / "part-0.parquet"
    day2 = marts / "wallet_transactions" / "date=2026-10-02"
    day2.mkdir(parents=True)
    duckdb.sql(f"""
        COPY (SELECT * REPLACE (occurred_at + INTERVAL 1 DAY AS occurred_at,
                                local_date + 1 AS local_date)
              FROM '{day1}' WHERE transaction_id <= 'tx-2026-10-01-000000002')
        TO '{day2}/part-0.parquet' (FORMAT parquet)
    """)
    with pytest.raises(ReportValidationError, match="3 repeated transaction_id values"):
        export_synthetic(
            wallet_request("w", "2026-10-01", "2026-10-02"), tmp_path, "w", rows_per_file=20_000
        )
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*"))
