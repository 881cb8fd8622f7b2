"""The sample-data generator, checked from the outside.

The files are read back with plain json/gzip/datetime and judged against a small,
independent reading of docs/contracts/raw_promo_logs.md written here: nothing is imported from
the generator except its entry point, so a bug in its own idea of the contract cannot hide.
"""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from promo.generator import BAD_KINDS, generate
from resources.storage import LocalStorage

START = date(2026, 11, 20)  # a Friday: the range spans weekdays and the weekend

# --------------------------------------------------------------------- the contract, again

CONTRACT = {
    "wallet_transactions": {
        "id": "transaction_id",
        "time": "occurred_at",
        "fields": (
            "transaction_id",
            "wallet_id",
            "user_id",
            "transaction_type",
            "transaction_source",
            "points",
            "campaign_id",
            "coupon_code",
            "reference_transaction_id",
            "expires_at",
            "occurred_at",
        ),
        "required": (
            "transaction_id",
            "wallet_id",
            "user_id",
            "transaction_type",
            "transaction_source",
            "points",
            "occurred_at",
        ),
        "required_when": (
            ("campaign_id", "transaction_source", "PROMO_CAMPAIGN"),
            ("coupon_code", "transaction_source", "CASHBACK_COUPON"),
        ),
        "numbers": ("points",),
        "timestamps": ("occurred_at", "expires_at"),
        "enums": {
            "transaction_type": {"CREDIT", "DEBIT", "EXPIRED", "PROMISED", "REVERSE", "REFUND"},
            "transaction_source": {"CASHBACK_COUPON", "SYSTEM", "API", "PROMO_CAMPAIGN"},
        },
    },
    "reward_events": {
        "id": "event_id",
        "time": "occurred_at",
        "fields": (
            "event_id",
            "campaign_id",
            "user_id",
            "reward_type",
            "status",
            "occurred_at",
            "wallet_id",
            "points",
            "coupon_code",
            "partner_id",
            "list_tag",
            "voucher_code",
            "webhook_status",
            "credits",
            "error_code",
            "error_message",
        ),
        "required": ("event_id", "campaign_id", "user_id", "reward_type", "status", "occurred_at"),
        "required_when": (
            ("error_code", "status", "FAILED"),
            ("error_message", "status", "FAILED"),
        ),
        "numbers": ("points", "credits"),
        "timestamps": ("occurred_at",),
        "enums": {
            "reward_type": {"LOYALTY_POINTS", "COUPON", "PARTNER_VOUCHER", "CUSTOM_REWARD"},
            "status": {"SUCCESS", "FAILED"},
            "webhook_status": {"SENT", "FAILED"},
        },
    },
    "coupon_redemptions": {
        "id": "redemption_id",
        "time": "redeemed_at",
        "fields": (
            "redemption_id",
            "coupon_code",
            "campaign_id",
            "user_id",
            "benefit",
            "discount_amount",
            "cashback_points",
            "redeemed_at",
        ),
        "required": (
            "redemption_id",
            "coupon_code",
            "campaign_id",
            "user_id",
            "benefit",
            "redeemed_at",
        ),
        "required_when": (),
        "numbers": ("discount_amount", "cashback_points"),
        "timestamps": ("redeemed_at",),
        "enums": {"benefit": {"DISCOUNT", "CASHBACK"}},
    },
    "voucher_assignments": {
        "id": "assignment_id",
        "time": "assigned_at",
        "fields": (
            "assignment_id",
            "partner_id",
            "list_tag",
            "voucher_code",
            "user_id",
            "campaign_id",
            "assigned_at",
        ),
        "required": (
            "assignment_id",
            "partner_id",
            "list_tag",
            "voucher_code",
            "user_id",
            "assigned_at",
        ),
        "required_when": (),
        "numbers": (),
        "timestamps": ("assigned_at",),
        "enums": {},
    },
}
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
EVENT_KEY = re.compile(
    r"^events/(?P<stream>[a-z_]+)/date=(?P<date>\d{4}-\d{2}-\d{2})/[A-Za-z0-9._-]+\.jsonl(\.gz)?$"
)
DIMENSIONS = ("campaigns", "wallets", "partners", "voucher_lists")


def parse_time(value: str) -> datetime | None:
    if not isinstance(value, str) or not RFC3339.match(value):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def flaw(line: bytes, stream: str, folder: date) -> tuple[str | None, dict | None]:
    """The one way a line breaks the contract (ids aside), or None; and the object."""
    try:
        obj = json.loads(line, parse_float=Decimal)
    except ValueError:
        return "invalid_json", None
    if not isinstance(obj, dict):
        return "invalid_json", None
    c = CONTRACT[stream]
    required = list(c["required"])
    required += [f for f, when, value in c["required_when"] if obj.get(when) == value]
    if any(obj.get(f) is None for f in required):
        return "missing_field", obj
    if not all(type_ok(obj.get(name), name in c["numbers"]) for name in c["fields"]):
        return "wrong_type", obj
    if any(obj.get(f) is not None and obj[f] not in allowed for f, allowed in c["enums"].items()):
        return "bad_enum", obj
    if not amounts_ok(obj, stream):
        return "bad_amount", obj
    if any(obj.get(f) is not None and parse_time(obj[f]) is None for f in c["timestamps"]):
        return "bad_timestamp", obj
    if parse_time(obj[c["time"]]).astimezone(UTC).date() != folder:
        return "wrong_date_folder", obj
    return None, obj


def type_ok(value, number: bool) -> bool:
    if value is None:
        return True
    if number:
        return isinstance(value, int | Decimal) and not isinstance(value, bool)
    return isinstance(value, str)


def amounts_ok(obj: dict, stream: str) -> bool:
    if stream == "wallet_transactions":
        points = obj["points"]
        return points > 0 and Decimal(points).as_tuple().exponent >= -2
    if stream == "reward_events":
        successful_points = obj["status"] == "SUCCESS" and obj["reward_type"] == "LOYALTY_POINTS"
        return not successful_points or (obj.get("points") or 0) > 0
    if stream == "coupon_redemptions":
        return all((obj.get(f) or 0) >= 0 for f in ("discount_amount", "cashback_points"))
    return True


# --------------------------------------------------------------------- reading a landing zone


@dataclass
class StreamReading:
    lines: int = 0
    files: int = 0
    duplicates: int = 0
    bad: Counter | None = None
    records: list | None = None  # first holders, in folder/file/line order: (folder, obj)


def read_lines(path: Path) -> list[bytes]:
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        data = gzip.decompress(data)
    assert data.endswith(b"\n"), f"{path} does not end with a newline"
    return data[:-1].split(b"\n")


def read_stream(root: Path, stream: str) -> StreamReading:
    """Judge every line in contract order: earlier folder, then file name, then line."""
    c = CONTRACT[stream]
    reading = StreamReading(bad=Counter(), records=[])
    first: dict[str, dict] = {}
    for folder_path in sorted((root / "events" / stream).iterdir()):
        folder = date.fromisoformat(folder_path.name.removeprefix("date="))
        for path in sorted(folder_path.iterdir()):
            reading.files += 1
            for line in read_lines(path):
                reading.lines += 1
                kind, obj = flaw(line, stream, folder)
                if kind is not None:
                    reading.bad[kind] += 1
                    continue
                content = {f: obj.get(f) for f in c["fields"]}
                held = first.get(obj[c["id"]])
                if held is None:
                    first[obj[c["id"]]] = content
                    reading.records.append((folder, obj))
                elif held == content:
                    reading.duplicates += 1
                else:
                    reading.bad["id_conflict"] += 1
    return reading


def read_all(root: Path) -> dict[str, StreamReading]:
    return {stream: read_stream(root, stream) for stream in CONTRACT}


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def records(readings: dict[str, StreamReading], stream: str) -> list[dict]:
    return [obj for _, obj in readings[stream].records]


def utc(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)


# --------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    root = tmp_path_factory.mktemp("small")
    summary = generate(LocalStorage(root), START, 3, seed=7, scale=200)
    return root, summary, read_all(root)


@pytest.fixture(scope="module")
def noisy(tmp_path_factory):
    root = tmp_path_factory.mktemp("noisy")
    summary = generate(
        LocalStorage(root), START, 3, seed=3, scale=500, bad_rate=0.05, redelivery_rate=0.02
    )
    return root, summary, read_all(root)


@pytest.fixture(scope="module")
def extreme(tmp_path_factory):
    """Half the lines bad, half the records re-sent, every file gzipped: counts still add up."""
    root = tmp_path_factory.mktemp("extreme")
    summary = generate(
        LocalStorage(root),
        START,
        2,
        seed=11,
        scale=60,
        bad_rate=0.5,
        redelivery_rate=0.5,
        gzip_share=1.0,
    )
    return root, summary, read_all(root)


# --------------------------------------------------------------------- determinism and layout


def test_same_arguments_give_identical_bytes_and_another_seed_differs(small, tmp_path):
    root, _, _ = small
    again = tmp_path / "again"
    generate(LocalStorage(again), START, 3, seed=7, scale=200)
    assert tree(again) == tree(root)

    other = tmp_path / "other"
    generate(LocalStorage(other), START, 3, seed=8, scale=200)
    assert tree(other) != tree(root)


def test_only_contract_paths_inside_the_range(small):
    root, _, _ = small
    keys = sorted(tree(root))
    dims = [k for k in keys if k.startswith("dimensions/")]
    assert dims == [f"dimensions/{name}.jsonl" for name in sorted(DIMENSIONS)]
    events = [k for k in keys if not k.startswith("dimensions/")]
    days = {(START + timedelta(days=i)).isoformat() for i in range(3)}
    for key in events:
        match = EVENT_KEY.match(key)
        assert match, key
        assert match["stream"] in CONTRACT and match["date"] in days, key
    assert {EVENT_KEY.match(k)["stream"] for k in events} == set(CONTRACT)
    assert any(k.endswith(".gz") for k in events) and any(k.endswith(".jsonl") for k in events)
    # Several files per day folder.
    per_folder = Counter(k.rsplit("/", 1)[0] for k in events if "wallet_transactions" in k)
    assert max(per_folder.values()) >= 2


def test_gzip_headers_carry_no_time_or_name(small):
    root, _, _ = small
    for path in root.rglob("*.gz"):
        header = path.read_bytes()[:10]
        assert header[3] & 0x08 == 0, f"{path} stores a file name"
        assert header[4:8] == b"\0\0\0\0", f"{path} stores an mtime"


# --------------------------------------------------------------------- counts


@pytest.mark.parametrize("run", ["small", "noisy", "extreme"])
def test_summary_matches_an_independent_reading(run, request):
    _, summary, readings = request.getfixturevalue(run)
    for stream, reading in readings.items():
        told = summary.streams[stream]
        assert told.lines == reading.lines, stream
        assert told.files == reading.files, stream
        assert told.records == len(reading.records), stream
        assert told.redeliveries == reading.duplicates, stream
        assert told.bad == dict(reading.bad), stream
        assert told.lines == told.records + told.redeliveries + sum(told.bad.values())


def test_noisy_run_has_every_bad_kind_and_redeliveries(noisy):
    _, summary, _ = noisy
    kinds = Counter()
    for told in summary.streams.values():
        kinds.update(told.bad)
    assert set(kinds) == set(BAD_KINDS)
    assert summary.streams["wallet_transactions"].redeliveries > 0
    assert summary.streams["reward_events"].redeliveries > 0


def test_default_rates_keep_noise_rare_but_present(small):
    _, summary, _ = small
    wallet = summary.streams["wallet_transactions"]
    assert 150 * 3 < wallet.records < 300 * 3  # scale 200 per day, give or take bursts
    assert sum(wallet.bad.values()) <= 10
    as_dict = summary.as_dict()
    assert json.loads(json.dumps(as_dict)) == as_dict
    assert as_dict["dimensions"]["campaigns"] >= 10


def test_streams_are_proportional_to_scale(small):
    _, summary, _ = small
    wallet = summary.streams["wallet_transactions"].records
    for stream in ("reward_events", "coupon_redemptions", "voucher_assignments"):
        assert summary.streams[stream].records >= 0.02 * wallet, stream


# --------------------------------------------------------------------- references


@pytest.mark.parametrize("run", ["small", "noisy", "extreme"])
def test_references_point_to_earlier_transactions_of_the_same_user_and_wallet(run, request):
    _, _, readings = request.getfixturevalue(run)
    seen: dict[str, tuple[str, str]] = {}
    referencing = 0
    for tx in records(readings, "wallet_transactions"):
        ref = tx.get("reference_transaction_id")
        if tx["transaction_type"] in ("REVERSE", "REFUND", "EXPIRED"):
            assert ref in seen, tx
            assert seen[ref] == (tx["user_id"], tx["wallet_id"]), tx
            referencing += 1
        else:
            assert ref is None, tx
        seen[tx["transaction_id"]] = (tx["user_id"], tx["wallet_id"])
    assert referencing > 0


def test_balances_never_go_negative(small):
    _, _, readings = small
    balance: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    sign = {"CREDIT": 1, "REFUND": 1, "DEBIT": -1, "EXPIRED": -1, "REVERSE": -1, "PROMISED": 0}
    for tx in records(readings, "wallet_transactions"):
        key = (tx["wallet_id"], tx["user_id"])
        balance[key] += sign[tx["transaction_type"]] * Decimal(tx["points"])
        assert balance[key] >= 0, tx


def test_source_rules(small):
    _, _, readings = small
    for tx in records(readings, "wallet_transactions"):
        promo = tx["transaction_source"] == "PROMO_CAMPAIGN"
        assert (tx.get("campaign_id") is not None) == promo, tx
        assert (tx.get("coupon_code") is not None) == (
            tx["transaction_source"] == "CASHBACK_COUPON"
        ), tx
        assert (tx.get("expires_at") is not None) == (tx["transaction_type"] == "CREDIT"), tx
        if tx.get("expires_at"):
            assert utc(tx["expires_at"]) > utc(tx["occurred_at"]), tx


def test_cashback_redemptions_follow_a_distribution_to_the_same_user(small):
    _, _, readings = small
    handed_out: dict[tuple, datetime] = {}
    for ev in records(readings, "reward_events"):
        if ev["reward_type"] == "COUPON" and ev["status"] == "SUCCESS":
            key = (ev["campaign_id"], ev["user_id"], ev["coupon_code"])
            handed_out.setdefault(key, utc(ev["occurred_at"]))
    redemptions = records(readings, "coupon_redemptions")
    cashback = [r for r in redemptions if r["benefit"] == "CASHBACK"]
    assert cashback and len(cashback) < len(redemptions)
    for red in redemptions:
        key = (red["campaign_id"], red["user_id"], red["coupon_code"])
        assert key in handed_out, red
        assert handed_out[key] < utc(red["redeemed_at"]), red
    credits = Counter(
        (tx["user_id"], tx["coupon_code"], tx["points"])
        for tx in records(readings, "wallet_transactions")
        if tx["transaction_source"] == "CASHBACK_COUPON"
    )
    assert credits == Counter(
        (r["user_id"], r["coupon_code"], r["cashback_points"]) for r in cashback
    )


def test_loyalty_successes_are_credited(small):
    _, _, readings = small
    events = Counter(
        (ev["campaign_id"], ev["user_id"], ev["wallet_id"], ev["points"])
        for ev in records(readings, "reward_events")
        if ev["reward_type"] == "LOYALTY_POINTS" and ev["status"] == "SUCCESS"
    )
    credits = Counter(
        (tx["campaign_id"], tx["user_id"], tx["wallet_id"], tx["points"])
        for tx in records(readings, "wallet_transactions")
        if tx["transaction_source"] == "PROMO_CAMPAIGN" and tx["transaction_type"] == "CREDIT"
    )
    assert events and events == credits


def test_partner_vouchers_match_assignments(small):
    _, _, readings = small
    events = Counter(
        (ev["campaign_id"], ev["user_id"], ev["partner_id"], ev["list_tag"], ev["voucher_code"])
        for ev in records(readings, "reward_events")
        if ev["reward_type"] == "PARTNER_VOUCHER" and ev["status"] == "SUCCESS"
    )
    assignments = records(readings, "voucher_assignments")
    linked = Counter(
        (a["campaign_id"], a["user_id"], a["partner_id"], a["list_tag"], a["voucher_code"])
        for a in assignments
        if a.get("campaign_id") is not None
    )
    assert events and events == linked
    assert any(a.get("campaign_id") is None for a in assignments)
    codes = [(a["list_tag"], a["voucher_code"]) for a in assignments]
    assert len(codes) == len(set(codes)), "a voucher code was assigned twice"


def test_coupon_codes_single_and_bulk(small):
    root, _, readings = small
    campaigns = {c["campaign_id"]: c for c in read_dimension(root, "campaigns")}
    codes: dict[str, list[str]] = defaultdict(list)
    for ev in records(readings, "reward_events"):
        if ev["reward_type"] == "COUPON" and ev["status"] == "SUCCESS":
            codes[ev["campaign_id"]].append(ev["coupon_code"])
    kinds = {campaigns[cid]["coupon_type"] for cid in codes}
    assert kinds == {"SINGLE", "BULK"}
    for cid, handed in codes.items():
        if campaigns[cid]["coupon_type"] == "SINGLE":
            assert len(set(handed)) == 1, cid
        else:
            assert len(set(handed)) == len(handed), cid


def test_custom_rewards_succeed_exactly_when_the_webhook_was_sent(small):
    root, _, readings = small
    campaigns = {c["campaign_id"]: c for c in read_dimension(root, "campaigns")}
    custom = [
        ev for ev in records(readings, "reward_events") if ev["reward_type"] == "CUSTOM_REWARD"
    ]
    assert {ev["webhook_status"] for ev in custom} == {"SENT", "FAILED"}
    for ev in custom:
        assert (ev["status"] == "SUCCESS") == (ev["webhook_status"] == "SENT"), ev
        self_managed = campaigns[ev["campaign_id"]]["custom_reward_kind"] == (
            "SELF_MANAGED_WALLET_CREDITS"
        )
        assert (ev.get("credits") is not None) == (self_managed and ev["status"] == "SUCCESS")


def test_failures_carry_their_reasons(small):
    _, _, readings = small
    failed = [ev for ev in records(readings, "reward_events") if ev["status"] == "FAILED"]
    codes = {ev["error_code"] for ev in failed}
    assert {"WALLET_INACTIVE", "VOUCHER_LIST_EXHAUSTED"} <= codes
    assert all(ev["error_message"] for ev in failed)


# --------------------------------------------------------------------- realism


def test_every_enum_value_appears(small):
    _, _, readings = small
    for stream, c in CONTRACT.items():
        for name, allowed in c["enums"].items():
            seen = {obj.get(name) for obj in records(readings, stream)} - {None}
            assert seen == allowed, (stream, name)


def test_catalog_covers_every_kind_of_campaign(small):
    root, summary, _ = small
    campaigns = read_dimension(root, "campaigns")
    assert summary.dimensions == {name: len(read_dimension(root, name)) for name in DIMENSIONS}
    combos = {
        (c["reward_type"], c["coupon_type"], c["coupon_benefit"], c["custom_reward_kind"])
        for c in campaigns
    }
    assert {
        ("LOYALTY_POINTS", None, None, None),
        ("COUPON", "SINGLE", "DISCOUNT", None),
        ("COUPON", "SINGLE", "CASHBACK", None),
        ("COUPON", "BULK", "DISCOUNT", None),
        ("COUPON", "BULK", "CASHBACK", None),
        ("PARTNER_VOUCHER", None, None, None),
        ("CUSTOM_REWARD", None, None, "SELF_MANAGED_WALLET_CREDITS"),
        ("CUSTOM_REWARD", None, None, "PHYSICAL_DIGITAL"),
    } <= combos
    assert {c["segment_kind"] for c in campaigns} == {"PAST_BEHAVIOR", "LIVE_BEHAVIOR"}
    assert len({c["status"] for c in campaigns}) >= 4
    loyalty = [c for c in campaigns if c["reward_type"] == "LOYALTY_POINTS"]
    assert all(c["wallet_id"] for c in loyalty)
    wallets = read_dimension(root, "wallets")
    assert {w["status"] for w in wallets} == {"ACTIVE", "INACTIVE"}
    lists = read_dimension(root, "voucher_lists")
    partners = {p["partner_id"] for p in read_dimension(root, "partners")}
    assert {v["partner_id"] for v in lists} <= partners


def test_heavy_users_and_repeat_activity(small):
    _, _, readings = small
    per_user = Counter(tx["user_id"] for tx in records(readings, "wallet_transactions"))
    counts = sorted(per_user.values(), reverse=True)
    top = counts[: max(1, len(counts) // 20)]
    assert sum(top) >= 0.15 * sum(counts)  # the top 5 % make a large share
    assert sum(1 for n in counts if n > 1) >= len(counts) // 3


def test_lines_vary_in_offsets_nulls_and_extras(small):
    root, _, readings = small
    stamps = [tx["occurred_at"] for tx in records(readings, "wallet_transactions")]
    offsets = {re.search(r"(Z|[+-]\d{2}:\d{2})$", s).group(1) for s in stamps}
    assert {"Z", "+00:00", "+05:30", "-08:00", "+05:45", "+09:00"} <= offsets
    assert any("." in s for s in stamps) and any("." not in s for s in stamps)
    txs = records(readings, "wallet_transactions")
    assert any("campaign_id" not in tx for tx in txs)
    assert any("campaign_id" in tx and tx["campaign_id"] is None for tx in txs)
    extras = [
        obj
        for stream in CONTRACT
        for obj in records(readings, stream)
        if set(obj) - set(CONTRACT[stream]["fields"])
    ]
    assert extras
    # Some events sit within minutes of a UTC midnight, and their local date differs.
    near = [s for s in stamps if utc(s).hour in (0, 23) and utc(s).minute in (0, 1, 58, 59)]
    assert near


def test_bad_arguments_are_refused(tmp_path):
    with pytest.raises(ValueError, match="days"):
        generate(LocalStorage(tmp_path), START, 0)
    with pytest.raises(ValueError, match="bad_rate"):
        generate(LocalStorage(tmp_path), START, 1, bad_rate=1.5)


def read_dimension(root: Path, name: str) -> list[dict]:
    text = (root / "dimensions" / f"{name}.jsonl").read_text()
    return [json.loads(line) for line in text.splitlines()]
