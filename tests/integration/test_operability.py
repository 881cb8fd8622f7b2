"""Issue 15 with real Dagster: each day partition of a range run carries its own row
count; the published files follow the marts' dbt contracts, and a drifted one is refused;
a recurring report's sensor runs a period once its marts are published; a stale mart and
a failed run reach the webhook (the latter through a real `dagster-daemon`)."""

import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pyarrow.parquet as pq
import pytest
import yaml
from dagster import (
    AssetKey,
    AssetMaterialization,
    DagsterEventType,
    build_sensor_context,
    execute_job,
    instance_for_test,
    reconstructable,
)

from assets.publish import publish_partition
from orchestration import location
from orchestration.definitions import build_definitions
from orchestration.instance import ensure_dagster_home, open_instance
from orchestration.settings import REPO_ROOT, Settings
from promo.marts import MARTS, WALLET_TRANSACTIONS, ContractError
from promo.reports.recurring import load_catalog_file
from resources.dbt import mart_contracts
from resources.storage import LocalStorage
from tests.conftest import LOCAL_FIRST, LOCAL_LAST, make_env
from tests.helpers import RANGE_END_TAG, RANGE_START_TAG, destinations_file, mart_file

pytestmark = pytest.mark.integration


# ------------------------------------------------------------------ honest metadata
def row_counts(result, node: str, key: list[str]) -> dict[str, int]:
    mats = [m for m in result.asset_materializations_for_node(node) if m.asset_key.path == key]
    return {m.partition: m.metadata["dagster/row_count"].value for m in mats}


def test_each_day_of_a_range_run_shows_its_own_row_count(berlin_pipeline):
    """Regression: a range run recorded the run's total on every day partition (54,920
    rows shown on a day that had 2,028)."""
    _, con, result = berlin_pipeline
    expected = dict(
        con.sql(
            "SELECT strftime(local_day(occurred_at), '%Y-%m-%d'), count(*) "
            "FROM raw_wallet_transactions GROUP BY ALL"
        ).fetchall()
    )
    days = [d for d in expected if LOCAL_FIRST <= d <= LOCAL_LAST]
    assert len(set(expected[d] for d in days)) > 1  # days differ, so a total would show
    key = ["wallet_transactions"]
    for node, prefix in [
        ("lake__wallet_transactions", "lake"),
        ("warehouse_models", "warehouse"),
        ("publish_marts", "marts"),
    ]:
        counts = row_counts(result, node, [prefix, *key])
        assert counts == {d: expected[d] for d in days}, prefix
    # the snapshot mart shows its one file's rows on every day of the run
    ledger = row_counts(result, "publish_marts", ["marts", "user_ledger"])
    (total,) = con.sql("SELECT count(*) FROM user_ledger").fetchall()[0]
    assert set(ledger.values()) == {total} and len(ledger) == len(days)


# ------------------------------------------------------------------ contracts
# docs/marts.md's column types, as the Arrow types of the published Parquet files.
DOC_TYPES = {
    "VARCHAR": "string",
    "BIGINT": "int64",
    "DATE": "date32[day]",
    "TIMESTAMP": "timestamp[us]",
    "TIMESTAMPTZ": "timestamp[us, tz=UTC]",
}


def documented_marts() -> dict[str, list[tuple[str, str]]]:
    """Each mart's (column, Arrow type) in the order of its table in docs/marts.md: what
    BI teams are told, written by hand, independent of the dbt contracts."""
    out: dict[str, list[tuple[str, str]]] = {}
    mart = None
    for line in (REPO_ROOT / "docs" / "marts.md").read_text().splitlines():
        if line.startswith("## "):
            mart = line[3:].strip()
        elif row := re.match(r"^\| ([a-z_0-9]+) \| ([A-Z]+)(\((\d+),(\d+)\))? \|", line):
            name, kind, _, precision, scale = row.groups()
            arrow = f"decimal128({precision}, {scale})" if kind == "DECIMAL" else DOC_TYPES[kind]
            out.setdefault(mart, []).append((name, arrow))
    return out


def test_published_schemas_equal_the_documented_columns(berlin_pipeline):
    settings, _, _ = berlin_pipeline
    documented = {name: columns for name, columns in documented_marts().items() if name in MARTS}
    assert set(documented) == set(MARTS)
    contracts = mart_contracts()  # what publishing enforces: the docs' columns too
    assert {n: [(c.name, c.arrow_type) for c in cols] for n, cols in contracts.items()} == (
        documented
    )
    for name, columns in documented.items():
        files = sorted(Path(settings.marts_uri, name).rglob("part-*.parquet"))
        assert files, name
        for file in files:
            schema = pq.read_schema(file)
            assert [(f.name, str(f.type)) for f in schema] == columns, file


def test_a_mart_that_drifted_from_its_contract_is_not_published(berlin_pipeline, tmp_path):
    """A warehouse whose mart changed a column's type (points as DOUBLE): publishing
    refuses the day, naming the column, and writes nothing."""
    settings, _, _ = berlin_pipeline
    source = mart_file(Path(settings.marts_uri), "wallet_transactions", "2026-10-24")
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    con.execute(
        f"CREATE TABLE wallet_transactions AS SELECT * REPLACE (points::DOUBLE AS points) "
        f"FROM '{source}'"
    )
    marts = tmp_path / "marts"
    contract = mart_contracts()["wallet_transactions"]
    with tempfile.TemporaryDirectory() as tmp, pytest.raises(ContractError) as refused:
        publish_partition(
            con, LocalStorage(marts), WALLET_TRANSACTIONS, date(2026, 10, 24), Path(tmp), contract
        )
    assert "points: double, contract says decimal128(18, 2)" in str(refused.value)
    assert not list(marts.rglob("*.parquet"))


def test_the_catalog_shows_types_owners_freshness_and_code(tmp_path):
    settings = Settings.from_env(make_env(tmp_path, PROMO_ASSET_OWNER="team:bi-platform"))
    graph = build_definitions(settings).resolve_asset_graph()
    for mart in MARTS:
        for key in (["warehouse", mart], ["marts", mart]):
            node = graph.get(AssetKey(key))
            schema = node.metadata["dagster/column_schema"]
            assert schema.columns and all(c.type for c in schema.columns), key
        assert graph.get(AssetKey(["marts", mart])).freshness_policy is not None
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if node.is_materializable:
            assert node.owners == ["team:bi-platform"], key
            assert "dagster/code_references" in node.metadata, key


# ------------------------------------------------------------------ reports wait for data
def report_catalog(path: Path) -> Path:
    spec = {
        "name": "Daily errors",
        "promotion_type": "promo_campaigns",
        "report_type": "user_errors",
        "filters": {"campaign_id": "cmp_everyday_points"},
        "delivery": {"destination": "s3", "bucket": "reports-bucket", "prefix": "auto/"},
        "frequency": {"interval": "daily"},
    }
    path.write_text(yaml.safe_dump({"reports": [spec]}))
    return path


def test_a_recurring_report_runs_when_its_marts_are_published(tmp_path):
    """Evaluated like the daemon would, with an instance that holds the marts'
    materializations: a period runs once its day is published, past the report hour."""
    today = datetime.now(ZoneInfo("UTC")).date()
    settings = Settings.from_env(
        make_env(
            tmp_path,
            PROMO_PARTITION_START=(today - timedelta(days=10)).isoformat(),
            PROMO_REPORT_CATALOG=str(report_catalog(tmp_path / "catalog.yaml")),
            PROMO_DESTINATIONS_FILE=str(destinations_file(tmp_path / "d.yaml", "reports-bucket")),
            PROMO_REPORT_HOUR="0",  # every completed day is due now
        )
    )
    defs = build_definitions(settings)
    (report,) = load_catalog_file(settings.report_catalog)[0]
    sensor = defs.resolve_sensor_def(report.switch_name)
    days = [(today - timedelta(days=n)).isoformat() for n in (3, 2, 1)]
    since = json.dumps({"since": f"{today - timedelta(days=30)}T00:00:00+00:00"})
    mart = AssetKey(["marts", "campaign_user_errors"])
    with instance_for_test() as instance:
        result = sensor.evaluate_tick(
            build_sensor_context(
                instance=instance, cursor=since, repository_def=defs.get_repository_def()
            )
        )
        assert not result.run_requests
        assert result.skip_message.count("to be published") == 3
        for day in (days[0], days[2]):
            instance.report_runless_asset_event(AssetMaterialization(mart, partition=day))
        # partitioned run requests need the repository (dagster 1.13)
        context = build_sensor_context(
            instance=instance, cursor=since, repository_def=defs.get_repository_def()
        )
        result = sensor.evaluate_tick(context)
        # Stopped, then started again now: the cursor is kept, but the days that became
        # due while it was off are not delivered.
        restarted = build_sensor_context(
            instance=instance,
            cursor=since,
            repository_def=defs.get_repository_def(),
            last_sensor_start_time=time.time(),
        )
        assert not sensor.evaluate_tick(restarted).run_requests
    assert sorted(r.partition_key for r in result.run_requests) == [days[0], days[2]]
    assert {r.run_key for r in result.run_requests} == {days[0], days[2]}
    job = defs.resolve_job_def(report.job_name)
    assert all(r.job_name in (None, job.name) for r in result.run_requests)


# ------------------------------------------------------------------ alerts
class Hook(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802 (http.server's naming)
        Hook.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook():
    Hook.received = []
    server = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hook"
    server.shutdown()
    server.server_close()


def test_a_stale_mart_is_posted_and_its_recovery_too(tmp_path, webhook):
    # Dagster 1.13 exports no constructor for a freshness state: its daemon records them.
    # The test records the change the daemon would, and evaluates our sensor on it.
    from dagster._core.definitions.freshness import FreshnessState, FreshnessStateChange

    settings = Settings.from_env(
        make_env(tmp_path, PROMO_NOTIFY_WEBHOOK_URL=webhook, PROMO_UI_URL="http://ui:3000")
    )
    sensor = build_definitions(settings).resolve_sensor_def("freshness_alert_sensor")
    key = AssetKey(["marts", "wallet_transactions"])

    def change(before, after):
        return FreshnessStateChange(
            key=key, previous_state=before, new_state=after, state_change_timestamp=time.time()
        )

    with instance_for_test() as instance:
        instance.report_runless_asset_event(change(FreshnessState.UNKNOWN, FreshnessState.FAIL))
        context = build_sensor_context(instance=instance)
        sensor.evaluate_tick(context)
        cursor = context.cursor
        instance.report_runless_asset_event(change(FreshnessState.FAIL, FreshnessState.PASS))
        sensor.evaluate_tick(build_sensor_context(instance=instance, cursor=cursor))
    stale, fresh = Hook.received
    assert stale["event"] == "marts_stale" and stale["asset"] == "marts/wallet_transactions"
    assert stale["expected"] == "05:00 UTC" and stale["url"].startswith("http://ui:3000/assets/")
    assert fresh["event"] == "marts_fresh_again"


def wait_for(predicate, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(1)
    raise AssertionError(f"timed out after {seconds:.0f} s waiting for {what}")


def test_a_daily_run_failing_in_dbt_is_posted_by_the_daemon(tmp_path, webhook, monkeypatch):
    """Done when: with the daemon running and the webhook set, a promo_daily run that
    fails in its dbt step is POSTed within a minute or two, naming the job."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the warehouse's folder should be")
    env = make_env(
        tmp_path / "promo",
        PROMO_NOTIFY_WEBHOOK_URL=webhook,
        PROMO_UI_URL="http://dagster.internal:3000",
        PROMO_WAREHOUSE_PATH=str(blocker / "warehouse.duckdb"),  # dbt cannot open it
        PROMO_REPORT_CATALOG=str(tmp_path / "no-reports.yaml"),
    )
    for name in [k for k in os.environ if k.startswith("PROMO_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = Settings.from_env()
    ensure_dagster_home(settings)
    log = tmp_path / "daemon.log"
    daemon = subprocess.Popen(
        [str(Path(sys.executable).parent / "dagster-daemon"), "run", "-w", "workspace.yaml"],
        cwd=REPO_ROOT,
        env=settings.child_environment(),
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        # A run-status sensor only sees runs that end after its first evaluation.
        wait_for(
            lambda: "Checking for new runs for sensor: run_failure_alert_sensor" in log.read_text(),
            180,
            "the daemon's first evaluation of run_failure_alert_sensor",
        )
        with open_instance(settings) as instance:
            result = execute_job(
                reconstructable(location.promo_daily_job),
                instance,
                tags={RANGE_START_TAG: "2026-10-20", RANGE_END_TAG: "2026-10-21"},
            )
            assert not result.success
            failed_at = time.monotonic()
            ended = instance.all_logs(result.run_id, of_type=DagsterEventType.RUN_FAILURE)
            assert ended
        wait_for(lambda: Hook.received, 150, "the webhook POST")
        print(f"posted {time.monotonic() - failed_at:.0f} s after the run failed")
    finally:
        daemon.terminate()
        daemon.wait(timeout=60)
    (alert,) = Hook.received
    assert alert["event"] == "run_failed" and alert["job"] == "promo_daily"
    assert alert["run_id"] == result.run_id and alert["partition"] == "2026-10-20...2026-10-21"
    assert alert["failed_steps"] == ["warehouse_models"]
    assert alert["url"] == f"http://dagster.internal:3000/runs/{result.run_id}"
    assert alert["reason"]
    with open_instance(settings) as instance:
        tags = instance.get_run_by_id(result.run_id).tags
    assert tags["promo/failure_reason"] == alert["reason"][:2000]
