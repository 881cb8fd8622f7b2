"""A process killed (SIGKILL) in the middle of a write: ingesting a folder, publishing a
mart, writing a report, and `dbt build`. The real code runs in a child process; the test
polls for the child's temporary file (`.tmp-*`) and kills it while that file is being
written. Then: no partial file is visible where a reader looks, and a re-run gives exactly
the result of an uninterrupted run (SHA-256 of the files, or of the Parquet content).

Each write is killed twice: once into an empty destination (nothing may appear) and once
while it replaces a complete file with the same content (the visible file must stay the
complete one: a partial overwrite would change its hash)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

from promo import contract as c
from promo.generator import generate
from resources.storage import LocalStorage
from tests.helpers import DAILY_MART_NAMES, run_daily, run_dimensions

pytestmark = pytest.mark.reliability

REPO = Path(__file__).resolve().parents[2]
ARTIFACT = REPO / "tests" / "artifacts" / "reliability_crash.json"
FOLDER = date(2026, 11, 20)
NOW = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
FAULTS: list[dict] = []


@pytest.fixture(scope="module", autouse=True)
def write_figures():
    yield
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    summary = {
        "faults_injected": len(FAULTS),
        "faults_survived": sum(f["survived"] for f in FAULTS),
        "records_lost": sum(f.get("records_lost", 0) for f in FAULTS),
        "faults": FAULTS,
    }
    ARTIFACT.write_text(json.dumps(summary, indent=2) + "\n")


# ------------------------------------------------------------------ helpers
def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def content_sha(path: Path) -> str:
    """SHA-256 of a Parquet file's rows (in order) and schema, whatever its encoding."""
    frame = pl.read_parquet(path)
    return hashlib.sha256(str(frame.schema).encode() + frame.write_csv().encode()).hexdigest()


def temporaries(root: Path) -> list[Path]:
    return sorted(root.rglob(".tmp-*")) if root.exists() else []


def visible(root: Path, compared: Callable[[str], bool] = lambda key: True) -> dict[str, str]:
    """What a reader of a storage sees: `LocalStorage.list` (which skips temporaries),
    every listed file hashed; `compared` picks the files whose content must be
    reproducible (manifests carry the time they were written)."""
    if not root.exists():
        return {}
    listed = LocalStorage(root).list()
    assert not [o for o in listed if "/.tmp-" in f"/{o.key}"], "listings skip temporaries"
    return {o.key: sha256(root / o.key) for o in listed if compared(o.key)}


def start_child(code: str, log: Path) -> subprocess.Popen:
    """Run `code` in a fresh interpreter (nothing shared with this process)."""
    tmp = log.parent / "child-tmp"  # the child's TMPDIR: its private work files land here
    tmp.mkdir(exist_ok=True)
    return subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=REPO,
        env={**os.environ, "TMPDIR": str(tmp), "PYTHONPATH": str(REPO)},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


def kill_at_first_temporary(proc: subprocess.Popen, root: Path, timeout: float = 240) -> bool:
    """SIGKILL `proc` as soon as a temporary file appears under `root`. True when the
    kill landed mid-write (the temporary is left behind); False when the child finished,
    or renamed its temporary before the kill landed."""
    stale = set(temporaries(root))  # left behind by an earlier kill: not this write's
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if set(temporaries(root)) - stale:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            return bool(set(temporaries(root)) - stale)
        if proc.poll() is not None:
            return False
        time.sleep(0.001)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    raise AssertionError(f"no temporary file appeared under {root} within {timeout} s")


def clear(root: Path) -> None:
    for path in sorted(root.rglob("*"), reverse=True):
        path.unlink() if path.is_file() and not path.is_symlink() else path.rmdir()


def crash_twice(
    name: str,
    root: Path,
    child_code: str,
    rerun: Callable[[], None],
    reference: dict[str, str],
    log_dir: Path,
    compared: Callable[[str], bool] = lambda key: True,
) -> bool:
    """Kill the child mid-write into an empty `root`, re-run; kill it again while it
    rewrites the complete files, re-run. Returns False when a kill did not land mid-write
    (the caller grows the input and tries again)."""
    for phase in ("first write", "rewrite"):
        before = visible(root, compared)
        proc = start_child(child_code, log_dir / f"{name.replace(' ', '-')}-{phase[0]}.log")
        stale = set(temporaries(root))
        if not kill_at_first_temporary(proc, root):
            return False
        left = sorted(set(temporaries(root)) - stale)
        after_kill = visible(root, compared)
        if phase == "first write":
            partial = sorted(k for k, v in after_kill.items() if v != reference.get(k))
            assert not partial, f"partial files visible after the kill: {partial}"
        else:
            assert after_kill == before, "a killed rewrite leaves the complete files in place"
        rerun()
        assert visible(root, compared) == reference, "a re-run gives the uninterrupted result"
        FAULTS.append(
            {
                "fault": f"SIGKILL while {name} ({phase})",
                "temporaries_left_behind": [str(p.relative_to(root)) for p in left],
                "complete_files_visible_after_kill": len(after_kill),
                "rerun_equals_uninterrupted": True,
                "survived": True,
                "records_lost": 0,
            }
        )
    return True


# ------------------------------------------------------------------ ingestion
def write_landing(landing: Path, rows: int) -> None:
    """One wallet_transactions folder: `rows` valid lines in two files, plus a few bad
    lines and redeliveries (written with plain DuckDB, fast at volume)."""
    folder = landing / "events" / "wallet_transactions" / f"date={FOLDER}"
    folder.mkdir(parents=True, exist_ok=True)
    for part, (lo, hi) in enumerate([(0, rows // 2), (rows // 2 - 50, rows)]):
        duckdb.sql(f"""
            COPY (
                SELECT 't' || i AS transaction_id, 'w' || (i % 13) AS wallet_id,
                       md5(i::VARCHAR) AS user_id,
                       CASE WHEN i % 3 = 0 THEN 'DEBIT' ELSE 'CREDIT' END AS transaction_type,
                       'API' AS transaction_source,
                       CASE WHEN i % 997 = 0 THEN -1 ELSE ((i % 100000) + 1) / 100 END AS points,
                       strftime(TIMESTAMP '{FOLDER}' + to_microseconds(i * 80),
                                '%Y-%m-%dT%H:%M:%S.%gZ') AS occurred_at
                FROM range({lo}, {hi}) t(i)
            ) TO '{folder}/part-{part}.jsonl' (FORMAT json)
        """)


INGEST_CHILD = """
import sys
from datetime import date
from promo import contract
from promo.lake import Lake, ingest_folder
from resources.storage import LocalStorage
ingest_folder(LocalStorage({landing!r}), Lake(LocalStorage({lake!r})), contract.WALLET_TRANSACTIONS,
              date.fromisoformat({folder!r}))
"""


def is_parquet(key: str) -> bool:
    return key.endswith(".parquet")


def test_ingestion_killed_mid_write(tmp_path):
    from promo.lake import Lake, ingest_folder

    rows = 150_000
    for _ in range(3):
        base = tmp_path / str(rows)
        landing, ref_lake, lake = base / "landing", base / "ref", base / "lake"
        write_landing(landing, rows)

        def ingest(target: Path, landing=landing) -> dict:
            return ingest_folder(
                LocalStorage(landing), Lake(LocalStorage(target)), c.WALLET_TRANSACTIONS, FOLDER
            )

        manifest = ingest(ref_lake)
        assert manifest["duplicates"] == 50 and manifest["quarantined"] > 0
        assert manifest["lines"] == rows + 50
        reference = visible(ref_lake, is_parquet)
        code = INGEST_CHILD.format(landing=str(landing), lake=str(lake), folder=str(FOLDER))
        if crash_twice(
            "ingesting a folder",
            lake,
            code,
            lambda lake=lake: ingest(lake),
            reference,
            base,
            is_parquet,
        ):
            break
        rows *= 2
    else:
        pytest.fail("the child finished every time before it could be killed mid-write")
    # The lake's own readers skip temporaries by name: the id lookup and this glob.
    assert sorted(p.relative_to(lake).as_posix() for p in lake.glob("*/*/*/part-0.parquet")) == [
        k for k in sorted(reference) if k.endswith("part-0.parquet")
    ]


def test_dbt_lake_sources_skip_temporaries_left_by_a_killed_ingestion(tmp_path):
    """dbt reads the lake through the `read_parquet(...)` of `_lake__sources.yml`. A
    SIGKILL leaves `.tmp-<uuid>-part-0.parquet` beside the folder's file; the sources'
    `*/*.parquet` glob matches it, so dbt reads a truncated file (the build fails) or, if
    the kill fell between the fsync and the rename, every row of the folder twice."""
    from promo import layout

    target = tmp_path / "lake" / layout.lake_accepted("wallet_transactions", FOLDER)
    frame = pl.DataFrame({"transaction_id": ["t1", "t2"]})
    target.parent.mkdir(parents=True)
    frame.write_parquet(target)
    # What a killed `write_parquet_atomic` leaves: a complete temporary (killed after its
    # fsync, before `os.replace`) and a truncated one (killed mid-write).
    from promo.storage import temporary_name

    frame.write_parquet(target.parent / temporary_name(target.name))
    (target.parent / temporary_name(target.name)).write_bytes(b"PAR1\x15\x04")
    # (and the names temporaries had before they got the .partial suffix)
    frame.write_parquet(target.parent / ".tmp-0123456789abcdef-part-0.parquet")
    sources = (REPO / "dbt_project/models/staging/lake/_lake__sources.yml").read_text()
    expression = re.search(r"read_parquet\('[^']*/accepted/wallet_transactions/[^)]*\)", sources)
    sql = expression.group(0).replace('{{ var("lake_dir") }}', str(tmp_path / "lake"))
    # Regression: dbt's lake sources once globbed `*/*.parquet` and read these.
    rows = duckdb.sql(f"SELECT transaction_id FROM {sql}").fetchall()
    assert sorted(r[0] for r in rows) == ["t1", "t2"]
    FAULTS.append(
        {
            "fault": "temporaries of a killed ingestion under the lake, read by dbt's sources",
            "survived": True,
        }
    )


# ------------------------------------------------------------------ publishing marts
def write_warehouse(path: Path, rows: int) -> None:
    """A warehouse holding a large `wallet_transactions` mart over two local days (hard
    to compress, so the published file takes a while to copy)."""
    con = duckdb.connect(str(path))
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"""
        CREATE OR REPLACE TABLE wallet_transactions AS
        SELECT md5(i::VARCHAR) || md5((i + 1)::VARCHAR) AS transaction_id, 'W1' AS wallet_id,
               'Main' AS wallet_name, md5((i * 7)::VARCHAR) AS user_id,
               'CREDIT' AS transaction_type, 'API' AS transaction_source,
               CAST((i % 9999) / 100 AS DECIMAL(18, 2)) AS points,
               CAST((i % 9999) / 100 AS DECIMAL(18, 2)) AS balance_effect,
               NULL::VARCHAR AS campaign_id, NULL::VARCHAR AS coupon_code,
               NULL::VARCHAR AS reference_transaction_id, NULL::TIMESTAMPTZ AS expires_at,
               TIMESTAMPTZ '2026-10-01 00:00:00+00' + to_microseconds(i * (172800000000 // {rows}))
                   AS occurred_at,
               CAST(TIMESTAMPTZ '2026-10-01 00:00:00+00'
                    + to_microseconds(i * (172800000000 // {rows})) AS TIMESTAMP)
                   AS occurred_at_local,
               CAST(TIMESTAMPTZ '2026-10-01 00:00:00+00'
                    + to_microseconds(i * (172800000000 // {rows})) AS DATE) AS local_date
        FROM range({rows}) t(i)
    """)
    con.close()


PUBLISH_CHILD = """
import tempfile
from datetime import date
from pathlib import Path
from assets.publish import publish_partition
from promo.marts import WALLET_TRANSACTIONS as mart
from resources.dbt import mart_contracts
from resources.storage import LocalStorage
from resources.warehouse import connect
contract = mart_contracts()[mart.name]
with connect({warehouse!r}) as con, tempfile.TemporaryDirectory() as tmp:
    for day in (date(2026, 10, 1), date(2026, 10, 2)):
        publish_partition(con, LocalStorage({marts!r}), mart, day, Path(tmp), contract)
"""


def test_publishing_marts_killed_mid_write(tmp_path):
    rows = 600_000
    for _ in range(3):
        base = tmp_path / str(rows)
        base.mkdir()
        warehouse = base / "warehouse.duckdb"
        write_warehouse(warehouse, rows)
        code_for = {
            m: PUBLISH_CHILD.format(warehouse=str(warehouse), marts=str(base / m))
            for m in ("ref", "marts")
        }

        def publish(target: str, code_for=code_for) -> None:
            subprocess.run(
                [sys.executable, "-c", code_for[target]],
                cwd=REPO,
                check=True,
                env={**os.environ, "PYTHONPATH": str(REPO)},
            )

        publish("ref")
        reference = visible(base / "ref", is_parquet)
        assert len(reference) == 2
        if crash_twice(
            "publishing a mart",
            base / "marts",
            code_for["marts"],
            lambda: publish("marts"),
            reference,
            base,
            is_parquet,
        ):
            break
        rows *= 2
    else:
        pytest.fail("the child finished every time before it could be killed mid-write")


# ------------------------------------------------------------------ reports
REPORT_CHILD = """
from datetime import date, datetime
from zoneinfo import ZoneInfo
from promo.reports.engine import ReportRequest, export_report
from promo.reports.windows import custom_window
from resources.storage import LocalStorage
request = ReportRequest(
    "crash", "wallet_transactions",
    {{"wallet_id": "W1", "sources": ["CASHBACK_COUPON", "SYSTEM", "API", "PROMO_CAMPAIGN"],
     "types": ["CREDIT", "DEBIT", "EXPIRED", "PROMISED", "REVERSE", "REFUND"]}},
    custom_window(date(2026, 10, 1), date(2026, 10, 1), ZoneInfo("UTC")),
)
export_report(request, marts=LocalStorage({marts!r}), destination=LocalStorage({out!r}),
              folder="reports", timezone="UTC", now=datetime.fromisoformat({now!r}),
              generated_by="crash-test", rows_per_file=10_000_000)
"""


def test_writing_a_report_killed_mid_write(tmp_path):
    from tests.integration.test_report_engine import synthetic_wallet_mart

    rows = 400_000
    for _ in range(3):
        base = tmp_path / str(rows)
        synthetic_wallet_mart(base / "marts", {"2026-10-01": rows})
        code_for = {
            m: REPORT_CHILD.format(
                marts=str(base / "marts"), out=str(base / m), now=NOW.isoformat()
            )
            for m in ("ref", "out")
        }

        def export(target: str, code_for=code_for) -> None:
            exec(code_for[target], {})

        export("ref")
        reference = visible(base / "ref")
        assert sorted(reference) == [
            "reports/wallet-transactions_2026-10-01_2026-10-01.csv",
            "reports/wallet-transactions_2026-10-01_2026-10-01.csv.manifest.json",
        ]
        if crash_twice(
            "writing a report",
            base / "out",
            code_for["out"],
            lambda: export("out"),
            reference,
            base,
        ):
            break
        rows *= 2
    else:
        pytest.fail("the child finished every time before it could be killed mid-write")


# ------------------------------------------------------------------ dbt
MART_TABLES = (*DAILY_MART_NAMES, "user_ledger")


def warehouse_marts(path: Path) -> dict[str, str]:
    """Content hash of every mart table (rows sorted), opened the way readers open it."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        con.execute("SET TimeZone = 'UTC'")
        return {
            t: hashlib.sha256(
                con.sql(f"SELECT * FROM {t} ORDER BY ALL").pl().write_csv().encode()
            ).hexdigest()
            for t in MART_TABLES
        }
    finally:
        con.close()


def published_marts(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): content_sha(p) for p in sorted(root.rglob("part-*.parquet"))
    }


def test_dbt_build_killed_mid_build(promo_env, tmp_path):
    from promo.dbt_vars import dbt_vars, dbt_window_env
    from resources.dbt import DBT_EXECUTABLE, DBT_PROJECT_DIR

    settings = promo_env()
    generate(LocalStorage(settings.landing_uri), date(2026, 10, 2), 2, seed=3, scale=150)
    assert run_dimensions(settings).success
    assert run_daily(settings, "2026-10-02", "2026-10-03").success
    marts, warehouse = Path(settings.marts_uri), Path(settings.warehouse_path)
    published, built = published_marts(marts), warehouse_marts(warehouse)
    assert len(published) > 10

    variables = dbt_vars("UTC", str(settings.lake_dir)) | {"warehouse_path": str(warehouse)}
    window = dbt_window_env(datetime(2026, 10, 2, tzinfo=UTC), datetime(2026, 10, 4, tzinfo=UTC))
    command = [
        DBT_EXECUTABLE,
        "build",
        "--vars",
        json.dumps(variables),
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        # never the project's own target/: the code location reads its manifest
        "--target-path",
        str(tmp_path / "dbt-target"),
        "--log-path",
        str(tmp_path / "dbt-logs"),
    ]
    proc = subprocess.Popen(
        command,
        cwd=DBT_PROJECT_DIR,
        env={**os.environ, **window},
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    output: list[str] = []
    # Kill right after the first mart model is rebuilt, as the next one starts: a
    # progress point, not a time, so a loaded machine does not move it.
    done = threading.Event()

    def watch():
        for line in proc.stdout:
            output.append(line)
            if re.search(r"OK created sql incremental model", line) and not done.is_set():
                os.kill(proc.pid, signal.SIGKILL)
                done.set()
        done.set()

    reader = threading.Thread(target=watch, daemon=True)
    reader.start()
    assert done.wait(300), "dbt build did not reach its first mart"
    proc.wait(60)
    reader.join(10)
    assert proc.returncode == -signal.SIGKILL, "".join(output)[-3000:]
    # The warehouse opens, and every mart holds its complete previous content.
    assert warehouse_marts(warehouse) == built
    assert published_marts(marts) == published, "dbt never touches the published marts"
    assert run_daily(settings, "2026-10-02", "2026-10-03").success
    assert warehouse_marts(warehouse) == built
    assert published_marts(marts) == published
    FAULTS.append(
        {
            "fault": "SIGKILL while dbt build ran (after its first mart model)",
            "killed_after": [line.strip() for line in output if "OK created" in line][-1:],
            "warehouse_opens_and_marts_unchanged": True,
            "rerun_equals_uninterrupted": True,
            "survived": True,
            "records_lost": 0,
        }
    )
