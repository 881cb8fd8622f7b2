"""A landing zone written by hand, line by line, from the raw contract alone (not by
`promo.generator`): every stream and dimension, several files per folder, plain and
gzipped, extra fields, various offsets, null vs absent, redeliveries, a late file and
bad lines of every kind. Each line is written with the outcome it must have; the lake,
the accounting checks and the published marts must agree with those outcomes."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest

from orchestration.settings import Settings
from promo.contract import WALLETS
from promo.lake import Lake, dimension_accounting_problem
from resources.storage import LocalStorage
from tests.conftest import make_env
from tests.helpers import INGESTION_KEYS, mart_file, run_daily, run_dimensions

pytestmark = pytest.mark.integration

D1, D2 = "2026-11-20", "2026-11-21"
OK, DUP = "accepted", "duplicate"  # any other outcome is a quarantine reason code
PREVIEW = 10_000  # characters of a raw line the quarantine keeps (README, "The lake")


def j(**fields) -> str:
    """One JSON line, fields in the order given (None is written as an explicit null)."""
    return json.dumps(fields)


def tx(tid, ttype, source, wallet, user, points, at, **more) -> str:
    return j(
        transaction_id=tid,
        wallet_id=wallet,
        user_id=user,
        transaction_type=ttype,
        transaction_source=source,
        points=points,
        occurred_at=at,
        **more,
    )


LONG_NOTE = "x" * 25_000
WALLET_TX_D1 = {
    "a-001.jsonl": [
        (
            '{"occurred_at": "2026-11-20T09:15:00+05:30", "points": 100.50, "user_id": "u1", '
            '"transaction_type": "CREDIT", "wallet_id": "W1", "transaction_source": "API", '
            '"expires_at": "2027-11-20T00:00:00Z", "transaction_id": "T1", '
            '"channel": {"app": "ios", "v": 3}}',
            OK,
        ),
        (tx("T2", "DEBIT", "API", "W1", "u1", 20.25, "2026-11-20T10:00:00-08:00"), OK),
        ('{"transaction_id": "T-BROKEN", "points": 5', "invalid_json"),
        (
            tx("T3", "CREDIT", "PROMO_CAMPAIGN", "W1", "u2", 0.01, "2026-11-20T23:59:59.999Z")[:-1]
            + ', "campaign_id": "C-PTS"}',
            OK,
        ),
        (
            j(
                transaction_id="T-NOUSER",
                wallet_id="W1",
                transaction_type="CREDIT",
                transaction_source="API",
                points=1,
                occurred_at="2026-11-20T01:00:00Z",
            ),
            "missing_field",
        ),
    ],
    "a-002.jsonl.gz": [
        # T1 again: same contract fields, explicit nulls where it had none, other extras.
        (
            tx(
                "T1",
                "CREDIT",
                "API",
                "W1",
                "u1",
                100.5,
                "2026-11-20T09:15:00+05:30",
                expires_at="2027-11-20T00:00:00Z",
                campaign_id=None,
                coupon_code=None,
                resent=True,
            ),
            DUP,
        ),
        (
            tx(
                "T4",
                "REFUND",
                "SYSTEM",
                "W1",
                "u1",
                7,
                "2026-11-21T04:00:00+05:30",
                reference_transaction_id="T2",
            ),
            OK,
        ),
        (tx("T5", "BONUS", "API", "W1", "u1", 3, "2026-11-20T05:00:00Z"), "bad_enum"),
        (tx("T6", "CREDIT", "API", "W1", "u1", 0, "2026-11-20T05:00:00Z"), "bad_amount"),
        (tx("T7", "DEBIT", "API", "W1", "u1", -3, "2026-11-20T05:00:00Z"), "bad_amount"),
        # 20:00 at -08:00 is 04:00 UTC on the 21st: not this folder's date.
        (
            tx("T8", "CREDIT", "API", "W1", "u1", 3, "2026-11-20T20:00:00-08:00"),
            "wrong_date_folder",
        ),
        (
            tx("T9", "CREDIT", "PROMO_CAMPAIGN", "W1", "u1", 3, "2026-11-20T05:00:00Z"),
            "missing_field",
        ),
        (
            tx("T10", "CREDIT", "CASHBACK_COUPON", "W1", "u1", 3, "2026-11-20T05:00:00Z"),
            "missing_field",
        ),
        (tx("T2", "DEBIT", "API", "W1", "u1", 99, "2026-11-20T10:00:00-08:00"), "id_conflict"),
        (
            tx("T-LONG", "GIFT", "API", "W1", "u1", 3, "2026-11-20T05:00:00Z", note=LONG_NOTE),
            "bad_enum",
        ),
    ],
}
WALLET_TX_D2 = {
    "b.jsonl": [
        (
            tx(
                "T11",
                "EXPIRED",
                "SYSTEM",
                "W1",
                "u2",
                0.01,
                "2026-11-21T00:00:00Z",
                reference_transaction_id="T3",
            ),
            OK,
        ),
        (
            tx(
                "T12",
                "CREDIT",
                "CASHBACK_COUPON",
                "W1",
                "u2",
                15,
                "2026-11-21T12:00:00+01:00",
                coupon_code="CPN-1",
            ),
            OK,
        ),
        (
            tx(
                "T13",
                "PROMISED",
                "PROMO_CAMPAIGN",
                "W1",
                "u1",
                50,
                "2026-11-21T06:00:00Z",
                campaign_id="C-PTS",
            ),
            OK,
        ),
        (
            tx(
                "T14",
                "REVERSE",
                "API",
                "W1",
                "u1",
                10.5,
                "2026-11-21T09:00:00z",
                reference_transaction_id="T1",
            ),
            OK,
        ),
    ],
}
LATE_FILE = (
    f"events/wallet_transactions/date={D2}/z-late.jsonl.gz",
    [
        (tx("T15", "CREDIT", "API", "W2", "u3", 12345678.99, "2026-11-21T08:00:00-03:00"), OK),
        (WALLET_TX_D2["b.jsonl"][1][0], DUP),  # T12 redelivered in another file
        # T1's id on another day with other content: the earlier folder's T1 stands.
        (tx("T1", "CREDIT", "API", "W1", "u1", 1, "2026-11-21T10:00:00Z"), "id_conflict"),
    ],
)


def reward(eid, campaign, user, rtype, status, at, **more) -> str:
    return j(
        event_id=eid,
        campaign_id=campaign,
        user_id=user,
        reward_type=rtype,
        status=status,
        occurred_at=at,
        **more,
    )


E1 = reward("E1", "C-PTS", "u1", "LOYALTY_POINTS", "SUCCESS", "2026-11-20T12:00:00+05:30",
            wallet_id="W1", points=25)  # fmt: skip
REWARDS = {
    f"date={D1}/r1.jsonl": [
        (E1, OK),
        (
            reward(
                "E2",
                "C-CPN",
                "u2",
                "COUPON",
                "SUCCESS",
                "2026-11-20T08:00:00Z",
                coupon_code="CPN-1",
            ),
            OK,
        ),  # fmt: skip
        (
            reward(
                "E3",
                "C-VCH",
                "u3",
                "PARTNER_VOUCHER",
                "SUCCESS",
                "2026-11-20T14:00:00+02:00",
                partner_id="P1",
                list_tag="L-GOLD",
                voucher_code="V-001",
            ),
            OK,
        ),  # fmt: skip
        (
            reward(
                "E4",
                "C-CUS",
                "u1",
                "CUSTOM_REWARD",
                "SUCCESS",
                "2026-11-20T16:00:00Z",
                webhook_status="SENT",
                credits=3.5,
            ),
            OK,
        ),  # fmt: skip
        (
            reward(
                "E5",
                "C-CUS",
                "u2",
                "CUSTOM_REWARD",
                "FAILED",
                "2026-11-20T16:05:00Z",
                webhook_status="FAILED",
                error_code="WEBHOOK_TIMEOUT",
                error_message="no answer in 10 s",
            ),
            OK,
        ),  # fmt: skip
        (
            reward(
                "E6",
                "C-PTS",
                "u2",
                "LOYALTY_POINTS",
                "FAILED",
                "2026-11-20T17:00:00Z",
                wallet_id="W1",
                points=None,
                error_code="WALLET_INACTIVE",
                error_message="wallet is inactive",
            ),
            OK,
        ),  # fmt: skip
        (
            reward(
                "E-BAD1",
                "C-CUS",
                "u1",
                "CUSTOM_REWARD",
                "SUCCESS",
                "2026-11-20T16:00:00Z",
                webhook_status="FAILED",
            ),
            "rule_violation",
        ),  # fmt: skip
        (
            reward(
                "E-BAD2",
                "C-PTS",
                "u1",
                "LOYALTY_POINTS",
                "FAILED",
                "2026-11-20T16:00:00Z",
                error_message="no code given",
            ),
            "missing_field",
        ),  # fmt: skip
        (reward("E-BAD3", "C-PTS", "u1", "CASH", "SUCCESS", "2026-11-20T16:00:00Z"), "bad_enum"),
    ],
    f"date={D1}/r2.jsonl.gz": [
        (E1[:-1] + ', "trace": "abc"}', DUP),
        (
            reward("E-BAD4", "C-PTS", "u1", "COUPON", "SUCCESS", "2026-11-20 12:00:00"),
            "bad_timestamp",
        ),  # fmt: skip
    ],
    f"date={D2}/r3.jsonl": [
        # 01:30 at +01:00 is 00:30 UTC on the 21st: this folder.
        (
            reward(
                "E7",
                "C-PTS",
                "u2",
                "LOYALTY_POINTS",
                "SUCCESS",
                "2026-11-21T01:30:00+01:00",
                wallet_id="W1",
                points=10,
            ),
            OK,
        ),  # fmt: skip
    ],
}


def redemption(rid, code, user, benefit, at, **amounts) -> str:
    return j(redemption_id=rid, coupon_code=code, campaign_id="C-CPN", user_id=user,
             benefit=benefit, redeemed_at=at, **amounts)  # fmt: skip


R1 = redemption("R1", "CPN-1", "u2", "CASHBACK", "2026-11-20T21:00:00-02:00", cashback_points=15)
REDEMPTIONS = {
    f"date={D1}/c1.jsonl": [
        (R1, OK),
        (
            redemption("R2", "CPN-2", "u1", "DISCOUNT", "2026-11-20T10:00:00Z", discount_amount=0),
            OK,
        ),
        (redemption("R3", "CPN-3", "u1", "FREEBIE", "2026-11-20T10:00:00Z"), "bad_enum"),
        (
            redemption("R4", "CPN-4", "u1", "DISCOUNT", "2026-11-20T10:00:00Z", discount_amount=-1),
            "bad_amount",
        ),
    ],
    f"date={D1}/c2.jsonl": [
        (R1, DUP),
        (
            redemption("R2", "CPN-2", "u1", "DISCOUNT", "2026-11-20T10:00:00Z", discount_amount=5),
            "id_conflict",
        ),
    ],
}


def assignment(aid, tag, code, user, at, **more) -> str:
    return j(assignment_id=aid, partner_id="P1", list_tag=tag, voucher_code=code, user_id=user,
             assigned_at=at, **more)  # fmt: skip


A2 = assignment("A2", "L-SILVER", "V-100", "u1", "2026-11-20T07:00:00Z")
ASSIGNMENTS = {
    f"date={D1}/v1.jsonl.gz": [
        (
            assignment(
                "A1", "L-GOLD", "V-001", "u3", "2026-11-20T15:00:00+09:00", campaign_id="C-VCH"
            ),
            OK,
        ),  # fmt: skip
        (A2, OK),
        (
            j(
                assignment_id="A3",
                partner_id="P1",
                list_tag="L-GOLD",
                user_id="u1",
                assigned_at="2026-11-20T07:00:00Z",
            ),
            "missing_field",
        ),  # fmt: skip
        (assignment("A4", "L-GOLD", "V-002", "u1", "2026-11-20T10:00:00"), "bad_timestamp"),
    ],
    f"date={D1}/v2.jsonl": [(A2[:-1] + ', "campaign_id": null}', DUP)],
    f"date={D2}/v3.jsonl": [
        (assignment("A5", "L-GOLD", "V-003", "u2", "2026-11-21T23:00:00Z"), OK)
    ],
}

CAMPAIGN = {"segment_kind": "PAST_BEHAVIOR", "status": "RUNNING"}
DIMENSIONS = {
    "wallets.jsonl": [
        (j(wallet_id="W1", name="Main", status="ACTIVE", owner="growth"), OK),
        (j(status="INACTIVE", name="Travel", wallet_id="W2"), OK),
        (j(name="No key", status="ACTIVE"), "missing_field"),
        (j(wallet_id="W3", name="Frozen", status="FROZEN"), "bad_enum"),
    ],
    "campaigns.jsonl.gz": [
        (
            j(
                campaign_id="C-PTS",
                name="Points",
                reward_type="LOYALTY_POINTS",
                wallet_id="W1",
                start_at="2026-11-01T00:00:00+05:30",
                end_at=None,
                **CAMPAIGN,
            ),
            OK,
        ),  # fmt: skip
        (
            j(
                campaign_id="C-CPN",
                name="Coupons",
                reward_type="COUPON",
                coupon_type="SINGLE",
                coupon_benefit="CASHBACK",
                **CAMPAIGN,
            ),
            OK,
        ),  # fmt: skip
        (j(campaign_id="C-VCH", name="Vouchers", reward_type="PARTNER_VOUCHER", **CAMPAIGN), OK),
        (
            j(
                campaign_id="C-CUS",
                name="Custom",
                reward_type="CUSTOM_REWARD",
                custom_reward_kind="SELF_MANAGED_WALLET_CREDITS",
                **CAMPAIGN,
            ),
            OK,
        ),  # fmt: skip
        (j(campaign_id="C-VCH", name="Vouchers", reward_type="PARTNER_VOUCHER", **CAMPAIGN), DUP),
        (j(campaign_id="C-BAD", name="Bad", reward_type="CASH", **CAMPAIGN), "bad_enum"),
    ],
    "partners.jsonl": [(j(partner_id="P1", name="Acme"), OK), ("{partner_id: P2}", "invalid_json")],
    "voucher_lists.jsonl": [
        (j(partner_id="P1", list_tag="L-GOLD", name="Gold", status="ACTIVE"), OK),
        (j(partner_id="P1", list_tag="L-SILVER", name="Silver"), OK),
        (j(partner_id="P1", name="No tag", status="ACTIVE"), "missing_field"),
    ],
}

EVENT_FILES = {
    **{f"events/wallet_transactions/date={D1}/{n}": v for n, v in WALLET_TX_D1.items()},
    **{f"events/wallet_transactions/date={D2}/{n}": v for n, v in WALLET_TX_D2.items()},
    **{f"events/reward_events/{n}": v for n, v in REWARDS.items()},
    **{f"events/coupon_redemptions/{n}": v for n, v in REDEMPTIONS.items()},
    **{f"events/voucher_assignments/{n}": v for n, v in ASSIGNMENTS.items()},
}

# Written down from the lines above (late file included), not computed from them.
EXPECTED = {  # stream: (lines, accepted, duplicates, quarantined)
    "wallet_transactions": (22, 9, 2, 11),
    "reward_events": (12, 7, 1, 4),
    "coupon_redemptions": (6, 2, 1, 3),
    "voucher_assignments": (6, 3, 1, 2),
}
EXPECTED_DIMENSIONS = {  # dimension: (lines, rows, duplicates, quarantined)
    "wallets": (4, 2, 0, 2),
    "campaigns": (6, 4, 1, 1),
    "partners": (2, 1, 0, 1),
    "voucher_lists": (3, 2, 0, 1),
}


def write_file(landing: Path, relative: str, lines: list[tuple[str, str]]) -> None:
    path = landing / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    data = "".join(text + "\n" for text, _ in lines).encode()
    path.write_bytes(gzip.compress(data) if relative.endswith(".gz") else data)


def expected_quarantine(files: dict[str, list[tuple[str, str]]]) -> set[tuple]:
    """(stream or dimension, file, line number, raw line as kept, reason) of every bad line."""
    return {
        (
            path.split("/")[1] if path.startswith("events/") else path.split(".")[0],
            path.rsplit("/", 1)[-1],
            number,
            text[:PREVIEW],
            outcome,
        )  # fmt: skip
        for path, lines in files.items()
        for number, (text, outcome) in enumerate(lines, start=1)
        if outcome not in (OK, DUP)
    }


def quarantine_in_lake(lake: Path) -> set[tuple]:
    rows = set()
    for path in sorted((lake / "quarantine").rglob("*.parquet")):
        name = path.stem if path.parent.name == "dimensions" else path.parts[-3]
        for r in pl.read_parquet(path).iter_rows(named=True):
            rows.add((name, r["file"], r["line_number"], r["raw_line"], r["reason"]))
    return rows


def accepted(lake: Path, stream: str) -> dict[str, dict]:
    frame = pl.read_parquet(lake / "accepted" / stream / "*" / "part-0.parquet")
    return {r[frame.columns[0]]: r for r in frame.iter_rows(named=True)}


def passed_checks(result) -> dict[str, bool]:
    return {
        e.asset_key.path[-1]: e.passed
        for e in result.get_asset_check_evaluations()
        if e.asset_check_key.name == "lines_accounted_for"
    }


@pytest.fixture(scope="module")
def handwritten(tmp_path_factory):
    """The landing zone above, ingested, then a late file and the whole daily job (once
    for the module: the tests only read what it produced)."""
    home = tmp_path_factory.mktemp("handwritten")
    settings = Settings.from_env(make_env(home, PROMO_ACCOUNT_TIMEZONE="UTC"))
    landing = Path(settings.landing_uri)
    for relative, lines in EVENT_FILES.items():
        write_file(landing, relative, lines)
    for name, lines in DIMENSIONS.items():
        write_file(landing, f"dimensions/{name}", lines)
    dimensions = run_dimensions(settings)
    first = run_daily(settings, D1, D2, selection=INGESTION_KEYS)
    assert first.success
    assert len(accepted(settings.lake_dir, "wallet_transactions")) == 8, "before the late file"
    write_file(landing, *LATE_FILE)
    final = run_daily(settings, D1, D2)
    assert final.success
    return settings, dimensions, final


def test_every_handwritten_line_ends_where_it_was_written_to(handwritten):
    settings, dimensions, run = handwritten
    lake = settings.lake_dir
    for stream, (lines, n_accepted, duplicates, quarantined) in EXPECTED.items():
        assert lines == n_accepted + duplicates + quarantined, stream
        # UTC account: each day partition's figures are its one UTC folder's.
        mats = run.asset_materializations_for_node(f"lake__{stream}")
        got = tuple(
            sum(m.metadata[f"folder_{k}"].value for m in mats)
            for k in ("lines", "accepted", "duplicates", "quarantined")
        )
        assert got == (lines, n_accepted, duplicates, quarantined), stream
        assert len(accepted(lake, stream)) == n_accepted, stream
    for name, (lines, rows, duplicates, quarantined) in EXPECTED_DIMENSIONS.items():
        meta = dimensions.asset_materializations_for_node(f"lake__{name}")[0].metadata
        got = tuple(meta[k].value for k in ("lines", "rows", "duplicates", "quarantined"))
        assert got == (lines, rows, duplicates, quarantined), name
        assert pl.read_parquet(lake / "dimensions" / f"{name}.parquet").height == rows, name

    # Every bad line, with its file, line number, raw text and reason; nothing else.
    files = {**EVENT_FILES, LATE_FILE[0]: LATE_FILE[1], **DIMENSIONS}
    assert quarantine_in_lake(lake) == expected_quarantine(files)

    # The accounting check ran and passed for all four streams and all four dimensions.
    assert passed_checks(run) == dict.fromkeys(EXPECTED, True)
    assert passed_checks(dimensions) == dict.fromkeys(EXPECTED_DIMENSIONS, True)


def test_a_long_bad_line_is_kept_cut_to_its_first_characters(handwritten):
    settings, _, _ = handwritten
    quarantine = pl.read_parquet(
        settings.lake_dir / f"quarantine/wallet_transactions/utc_date={D1}/part-0.parquet"
    )
    long_line = WALLET_TX_D1["a-002.jsonl.gz"][-1][0]
    kept = quarantine.filter(pl.col("line_number") == 10, pl.col("file") == "a-002.jsonl.gz")
    assert len(long_line) > 25_000
    assert kept["raw_line"].to_list() == [long_line[:10_000]]
    assert kept["reason"].to_list() == ["bad_enum"]


def test_accepted_values_are_the_written_ones_in_utc(handwritten):
    settings, _, _ = handwritten
    tx = accepted(settings.lake_dir, "wallet_transactions")
    assert sorted(tx) == [f"T{i}" for i in (1, 11, 12, 13, 14, 15, 2, 3, 4)]
    expected = {  # id: (points, occurred_at in UTC)
        "T1": ("100.50", datetime(2026, 11, 20, 3, 45, tzinfo=UTC)),
        "T2": ("20.25", datetime(2026, 11, 20, 18, 0, tzinfo=UTC)),
        "T3": ("0.01", datetime(2026, 11, 20, 23, 59, 59, 999000, tzinfo=UTC)),
        "T4": ("7.00", datetime(2026, 11, 20, 22, 30, tzinfo=UTC)),
        "T12": ("15.00", datetime(2026, 11, 21, 11, 0, tzinfo=UTC)),
        "T14": ("10.50", datetime(2026, 11, 21, 9, 0, tzinfo=UTC)),
        "T15": ("12345678.99", datetime(2026, 11, 21, 11, 0, tzinfo=UTC)),
    }
    for tid, (points, at) in expected.items():
        assert (tx[tid]["points"], tx[tid]["occurred_at"]) == (Decimal(points), at), tid
    assert tx["T1"]["expires_at"] == datetime(2027, 11, 20, tzinfo=UTC)
    assert tx["T1"]["campaign_id"] is None and tx["T1"]["user_id"] == "u1"
    assert tx["T1"]["_file"] == "a-001.jsonl", "the first copy is the one kept"
    assert tx["T12"]["coupon_code"] == "CPN-1"

    rewards = accepted(settings.lake_dir, "reward_events")
    assert rewards["E4"]["credits"] == Decimal("3.50")
    assert rewards["E1"]["occurred_at"] == datetime(2026, 11, 20, 6, 30, tzinfo=UTC)
    assert rewards["E7"]["occurred_at"] == datetime(2026, 11, 21, 0, 30, tzinfo=UTC)
    redemptions = accepted(settings.lake_dir, "coupon_redemptions")
    assert redemptions["R1"]["redeemed_at"] == datetime(2026, 11, 20, 23, 0, tzinfo=UTC)
    assert redemptions["R2"]["discount_amount"] == Decimal("0.00")
    vouchers = accepted(settings.lake_dir, "voucher_assignments")
    assert vouchers["A1"]["assigned_at"] == datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
    campaigns = pl.read_parquet(settings.lake_dir / "dimensions/campaigns.parquet")
    start = campaigns.filter(pl.col("campaign_id") == "C-PTS")["start_at"].item()
    assert start == datetime(2026, 10, 31, 18, 30, tzinfo=UTC)


def test_published_marts_hold_the_accepted_records(handwritten):
    settings, _, _ = handwritten
    marts = Path(settings.marts_uri)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")

    def rows(sql: str) -> list[tuple]:
        return con.sql(sql).fetchall()

    wallet_tx = f"read_parquet('{marts}/wallet_transactions/*/*.parquet')"
    assert rows(f"SELECT count(*), count(DISTINCT transaction_id) FROM {wallet_tx}") == [(9, 9)]
    # By hand: u1 in W1 has +100.50 (T1) -20.25 (T2) +7 (T4 refund) -10.50 (T14 reverse),
    # and 50 promised (T13), which does not touch the available balance.
    ledger = f"'{mart_file(marts, 'user_ledger')}'"
    balances = rows(
        f"SELECT user_id, wallet_id, available_balance, promised_balance FROM {ledger} "
        "ORDER BY user_id, wallet_id"
    )
    assert balances == [
        ("u1", "W1", Decimal("76.75"), Decimal("50.00")),
        ("u2", "W1", Decimal("15.00"), Decimal("0.00")),  # +0.01 -0.01 expired +15
        ("u3", "W2", Decimal("12345678.99"), Decimal("0.00")),
    ]
    counts = {
        mart: rows(f"SELECT count(*) FROM read_parquet('{marts}/{mart}/*/*.parquet')")[0][0]
        for mart in ("reward_assignments", "campaign_user_errors", "voucher_assignments")
    }
    assert counts == {"reward_assignments": 5, "campaign_user_errors": 2, "voucher_assignments": 3}


def test_the_dimension_check_fails_when_the_written_files_lose_a_line(handwritten):
    """The check re-counts the Parquet files: one line more than they explain fails it."""
    settings, _, _ = handwritten
    lake = Lake(LocalStorage(settings.lake_dir))
    lines, _, duplicates, _ = EXPECTED_DIMENSIONS["wallets"]
    assert dimension_accounting_problem(WALLETS, lake, lines, duplicates) is None
    failed = dimension_accounting_problem(WALLETS, lake, lines + 1, duplicates)
    assert failed == "5 lines but 2 rows + 0 duplicates + 2 quarantined = 4"
