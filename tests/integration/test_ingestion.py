"""Generated raw logs -> Dagster ingestion -> lake, checked against independent counts."""

import hashlib
import json
import shutil
from datetime import date
from pathlib import Path

import pytest

from promo import contract
from promo.generator import generate
from resources.storage import LocalStorage, open_storage
from tests.helpers import INGESTION_KEYS, lake_rows, raw_line_counts, run_daily, run_dimensions

pytestmark = pytest.mark.integration


def manifests_total(lake: Path, stream: str, key: str) -> int:
    return sum(json.loads(p.read_text())[key] for p in (lake / "manifests" / stream).glob("*.json"))


@pytest.fixture
def generated(promo_env):
    settings = promo_env(PROMO_ACCOUNT_TIMEZONE="Asia/Kolkata")
    summary = generate(
        LocalStorage(settings.landing_uri),
        date(2026, 10, 23),
        4,
        seed=3,
        scale=300,
        bad_rate=0.03,
        redelivery_rate=0.03,
    )
    return settings, summary


def ingest_all(settings):
    # Kolkata is UTC+05:30: UTC folders 10-23..10-26 are covered by local days 10-23..10-27.
    result = run_daily(settings, "2026-10-23", "2026-10-27", selection=INGESTION_KEYS)
    assert result.success
    return result


def test_every_line_is_accounted_for(generated):
    settings, summary = generated
    result = ingest_all(settings)
    raw = raw_line_counts(Path(settings.landing_uri))
    for name, expected in summary.streams.items():
        accepted = lake_rows(settings.lake_dir, "accepted", name)
        quarantine = lake_rows(settings.lake_dir, "quarantine", name)
        duplicates = manifests_total(settings.lake_dir, name, "duplicates")
        # independent count of the raw lines vs what the lake holds
        assert raw[name] == accepted.height + duplicates + quarantine.height, name
        # the generator's own tally of what it wrote
        assert accepted.height == expected.records, name
        assert duplicates == expected.redeliveries, name
        got = quarantine.group_by("reason").len()
        assert dict(zip(got["reason"], got["len"], strict=True)) == expected.bad, name
        assert accepted[contract.STREAMS[name].id_field].is_unique().all()
    checks = result.get_asset_check_evaluations()
    assert checks and all(c.passed for c in checks)
    # Each day partition shows its own figures, not the run's: its accepted records (by
    # local day of the event) add up to the stream's accepted records over the range.
    accepted = lake_rows(settings.lake_dir, "accepted", "wallet_transactions")
    per_day = {
        m.partition: m.metadata["dagster/row_count"].value
        for m in result.asset_materializations_for_node("lake__wallet_transactions")
    }
    assert sorted(per_day) == [f"2026-10-{d}" for d in range(23, 28)]
    assert sum(per_day.values()) == accepted.height
    assert max(per_day.values()) < accepted.height


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*.parquet"))
    }


def test_rerun_is_byte_identical_and_picks_up_a_late_file(generated):
    settings, _ = generated
    ingest_all(settings)
    before = _digest(settings.lake_dir / "accepted")
    assert len(before) >= 4  # every stream wrote its days (an empty lake would compare equal)
    ingest_all(settings)
    assert _digest(settings.lake_dir / "accepted") == before

    # A late file lands in an already ingested folder: re-running its day picks it up.
    folder = Path(settings.landing_uri) / "events/wallet_transactions/date=2026-10-24"
    late = {
        "transaction_id": "late-1",
        "wallet_id": "W-LATE",
        "user_id": "u-late",
        "transaction_type": "CREDIT",
        "transaction_source": "API",
        "points": 7,
        "occurred_at": "2026-10-24T12:00:00Z",
    }
    (folder / "zz-late.jsonl").write_text(json.dumps(late) + "\n")
    n_before = lake_rows(settings.lake_dir, "accepted", "wallet_transactions").height
    assert run_daily(settings, "2026-10-24", "2026-10-24", selection=INGESTION_KEYS).success
    after = lake_rows(settings.lake_dir, "accepted", "wallet_transactions")
    assert after.height == n_before + 1
    assert "late-1" in after["transaction_id"].to_list()


def test_dimensions_take_the_newest_snapshot(generated):
    settings, summary = generated
    landing = Path(settings.landing_uri)
    shutil.copy(landing / "dimensions/wallets.jsonl", landing / "dimensions/wallets.jsonl.bak")
    newer = landing / "dimensions/wallets"
    newer.mkdir()
    (newer / "2026-11-01.jsonl").write_text(
        json.dumps({"wallet_id": "W-NEW", "name": "New", "status": "ACTIVE"}) + "\n"
    )
    assert run_dimensions(settings).success
    import polars as pl

    wallets = pl.read_parquet(settings.lake_dir / "dimensions/wallets.parquet")
    assert wallets["wallet_id"].to_list() == ["W-NEW"]
    campaigns = pl.read_parquet(settings.lake_dir / "dimensions/campaigns.parquet")
    assert campaigns.height == summary.dimensions["campaigns"]


def test_s3_landing_gives_the_same_lake_as_a_local_one(promo_env, s3_bucket, s3_endpoint):
    local = promo_env()
    generate(LocalStorage(local.landing_uri), date(2026, 10, 23), 2, seed=5, scale=200)
    assert run_daily(local, "2026-10-23", "2026-10-24", selection=INGESTION_KEYS).success
    expected = _digest(local.lake_dir / "accepted")
    assert len(expected) >= 4  # both days of the event streams (empty would compare equal)
    shutil.rmtree(local.lake_dir)

    s3 = promo_env(PROMO_LANDING_URI=f"s3://{s3_bucket}/landing", PROMO_S3_ENDPOINT_URL=s3_endpoint)
    generate(open_storage(s3.landing_uri, s3_endpoint), date(2026, 10, 23), 2, seed=5, scale=200)
    assert run_daily(s3, "2026-10-23", "2026-10-24", selection=INGESTION_KEYS).success
    assert _digest(s3.lake_dir / "accepted") == expected


def test_an_id_reused_in_a_later_folder_loses_whatever_the_ingestion_order(promo_env):
    settings = promo_env()
    landing = Path(settings.landing_uri)
    base = {
        "wallet_id": "W1",
        "user_id": "u1",
        "transaction_type": "CREDIT",
        "transaction_source": "API",
        "points": 5,
    }
    for day, points in (("2026-10-23", 5), ("2026-10-25", 9)):
        folder = landing / f"events/wallet_transactions/date={day}"
        folder.mkdir(parents=True)
        record = {
            **base,
            "transaction_id": "T-SAME",
            "points": points,
            "occurred_at": f"{day}T08:00:00Z",
        }
        (folder / "a.jsonl").write_text(json.dumps(record) + "\n")
    # The later folder first (as a sensor might), then the earlier one.
    assert run_daily(settings, "2026-10-25", "2026-10-25", selection=INGESTION_KEYS).success
    assert run_daily(settings, "2026-10-23", "2026-10-23", selection=INGESTION_KEYS).success
    accepted = lake_rows(settings.lake_dir, "accepted", "wallet_transactions")
    assert accepted["transaction_id"].to_list() == ["T-SAME"]
    assert str(accepted["points"][0]) == "5.00", "the earlier folder's record wins"
    quarantine = lake_rows(settings.lake_dir, "quarantine", "wallet_transactions")
    assert quarantine["reason"].to_list() == ["id_conflict"]
    assert "date=2026-10-23" in quarantine["detail"][0]


def test_a_corrections_file_replaces_accepted_records_and_the_accounting_shows_it(promo_env):
    """Issue 12, finding 3: a record with an absurd expiry was accepted and could not be
    corrected (a new file with its id was an `id_conflict`). Now the expiry is refused
    (`bad_timestamp`), and a `*.corrections.jsonl` file in the same folder replaces an
    accepted record; the manifest counts the replaced one as superseded and the
    accounting check adds it up. Re-running gives the same lake files."""
    settings = promo_env()
    folder = Path(settings.landing_uri) / "events/wallet_transactions/date=2026-10-23"
    folder.mkdir(parents=True)
    base = {
        "wallet_id": "W1",
        "user_id": "u1",
        "transaction_type": "CREDIT",
        "transaction_source": "API",
        "occurred_at": "2026-10-23T08:00:00Z",
    }
    lines = [
        {**base, "transaction_id": "T1", "points": 5, "expires_at": "9999-12-31T23:59:59-12:00"},
        {**base, "transaction_id": "T2", "points": 5},
    ]
    (folder / "a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    assert run_daily(settings, "2026-10-23", "2026-10-23", selection=INGESTION_KEYS).success
    quarantine = lake_rows(settings.lake_dir, "quarantine", "wallet_transactions")
    assert quarantine["reason"].to_list() == ["bad_timestamp"]

    fixes = [
        {**base, "transaction_id": "T1", "points": 5, "expires_at": "2027-10-23T08:00:00Z"},
        {**base, "transaction_id": "T2", "points": 7},
        {**base, "transaction_id": "T2", "points": 7},  # sent twice: a duplicate
    ]
    (folder / "2026-10-24.corrections.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in fixes)
    )
    result = run_daily(settings, "2026-10-23", "2026-10-23", selection=INGESTION_KEYS)
    assert result.success
    accepted = lake_rows(settings.lake_dir, "accepted", "wallet_transactions").sort("_line")
    assert accepted.select("transaction_id", "_file", "_line").rows() == [
        ("T1", "2026-10-24.corrections.jsonl", 1),
        ("T2", "2026-10-24.corrections.jsonl", 2),
    ]
    assert [str(p) for p in accepted["points"]] == ["5.00", "7.00"]
    manifest = json.loads(
        (settings.lake_dir / "manifests/wallet_transactions/utc_date=2026-10-23.json").read_text()
    )
    assert {k: manifest[k] for k in ("lines", "accepted", "duplicates", "quarantined")} == {
        "lines": 5,
        "accepted": 2,
        "duplicates": 1,
        "quarantined": 1,
    }
    assert manifest["superseded"] == 1
    assert manifest["corrections"] == [
        {
            "id": "T2",
            "file": "a.jsonl",
            "line": 2,
            "by_file": "2026-10-24.corrections.jsonl",
            "by_line": 2,
        }
    ]
    meta = result.asset_materializations_for_node("lake__wallet_transactions")[0].metadata
    assert meta["folder_superseded"].value == 1  # the one UTC folder of that (UTC) day
    checks = result.get_asset_check_evaluations()
    assert checks and all(c.passed for c in checks)

    before = _digest(settings.lake_dir)
    assert run_daily(settings, "2026-10-23", "2026-10-23", selection=INGESTION_KEYS).success
    assert _digest(settings.lake_dir) == before
