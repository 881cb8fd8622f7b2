"""Every kind of bad record the raw contract names, one by one, through the classifier.
Lines are written by hand here, independent of the sample-data generator."""

import gzip
import io
import json
from contextlib import contextmanager
from datetime import date
from decimal import Decimal

import pytest

from promo import contract as c
from promo.ingest import classify_folder

FOLDER = date(2026, 11, 20)
TX = {
    "transaction_id": "t-good",
    "wallet_id": "w1",
    "user_id": "u1",
    "transaction_type": "CREDIT",
    "transaction_source": "API",
    "points": 10.5,
    "occurred_at": "2026-11-20T10:00:00Z",
}
REWARD = {
    "event_id": "e-good",
    "campaign_id": "c1",
    "user_id": "u1",
    "reward_type": "LOYALTY_POINTS",
    "status": "SUCCESS",
    "occurred_at": "2026-11-20T10:00:00.123+05:30",
    "wallet_id": "w1",
    "points": 5,
}


def tx(**changes) -> str:
    record = {**TX, **changes}
    return json.dumps({k: v for k, v in record.items() if v is not ...})


def classify(files: dict[str, bytes], stream=c.WALLET_TRANSACTIONS, others=None):
    @contextmanager
    def opener(name):
        yield io.BytesIO(files[name])

    return classify_folder(stream, FOLDER, list(files), opener, others)


def one_bad(line: str, stream=c.WALLET_TRANSACTIONS, good: str | None = None):
    good = good if good is not None else tx()
    result = classify({"a.jsonl": f"{good}\n{line}\n".encode()}, stream)
    assert result.lines == 2
    assert result.accepted.height == 1, "the good line of the same file is kept"
    assert result.quarantine.height == 1
    row = result.quarantine.row(0, named=True)
    assert (row["file"], row["line_number"], row["raw_line"]) == ("a.jsonl", 2, line)
    return row["reason"], row["detail"]


@pytest.mark.parametrize(
    "line, reason, detail_part",
    [
        ('{"transaction_id": "t2", ', c.INVALID_JSON, "not valid JSON"),
        ("[1, 2, 3]", c.INVALID_JSON, "ARRAY"),
        ("", c.INVALID_JSON, "not valid JSON"),
        (tx(transaction_id="t2", user_id=...), c.MISSING_FIELD, "user_id"),
        (tx(transaction_id="t2", wallet_id=None), c.MISSING_FIELD, "wallet_id"),
        (
            tx(transaction_id="t2", transaction_source="PROMO_CAMPAIGN"),
            c.MISSING_FIELD,
            "campaign_id is required",
        ),
        (
            tx(transaction_id="t2", transaction_source="CASHBACK_COUPON"),
            c.MISSING_FIELD,
            "coupon_code is required",
        ),
        (tx(transaction_id="t2", points="12.5"), c.WRONG_TYPE, "points: expected a number"),
        (tx(transaction_id="t2", user_id=42), c.WRONG_TYPE, "user_id: expected a string"),
        (tx(transaction_id="t2", occurred_at=1763632800), c.WRONG_TYPE, "occurred_at"),
        (tx(transaction_id="t2", transaction_type="GIFT"), c.BAD_ENUM, "GIFT"),
        (tx(transaction_id="t2", transaction_type="credit"), c.BAD_ENUM, "credit"),
        (tx(transaction_id="t2", points=0), c.BAD_AMOUNT, "points"),
        (tx(transaction_id="t2", points=-3), c.BAD_AMOUNT, "points"),
        (tx(transaction_id="t2", points=12.345), c.BAD_AMOUNT, "at most 2 decimals"),
        (tx(transaction_id="t2", occurred_at="yesterday"), c.BAD_TIMESTAMP, "RFC 3339"),
        (tx(transaction_id="t2", occurred_at="2026-13-45T00:00:00Z"), c.BAD_TIMESTAMP, ""),
        (tx(transaction_id="t2", occurred_at="2026-11-20T10:00:00"), c.BAD_TIMESTAMP, "offset"),
        (tx(transaction_id="t2", expires_at="soon"), c.BAD_TIMESTAMP, "expires_at"),
        (
            tx(transaction_id="t2", occurred_at="2026-11-21T00:30:00+00:00"),
            c.WRONG_DATE_FOLDER,
            "2026-11-21",
        ),
        (
            # 23:30 at -01:00 is 00:30 UTC the next day: the offset decides, not the text.
            tx(transaction_id="t2", occurred_at="2026-11-20T23:30:00-01:00"),
            c.WRONG_DATE_FOLDER,
            "2026-11-21",
        ),
        (tx(points=99), c.ID_CONFLICT, "t-good was already accepted from a.jsonl line 1"),
    ],
)
def test_each_bad_kind_is_quarantined_with_its_reason(line, reason, detail_part):
    got_reason, detail = one_bad(line)
    assert got_reason == reason
    assert detail_part in detail


@pytest.mark.parametrize(
    "changes, reason",
    [
        ({"status": "FAILED"}, c.MISSING_FIELD),  # error_code and error_message required
        ({"status": "success"}, c.BAD_ENUM),
        ({"points": 0}, c.BAD_AMOUNT),  # a successful loyalty reward gives > 0 points
        ({"reward_type": "CUSTOM_REWARD", "webhook_status": "FAILED"}, c.RULE_VIOLATION),
        ({"credits": -1}, c.BAD_AMOUNT),
    ],
)
def test_reward_event_rules(changes, reason):
    good = json.dumps(REWARD)
    bad = json.dumps({**REWARD, "event_id": "e2", **changes})
    assert one_bad(bad, c.REWARD_EVENTS, good)[0] == reason


def test_valid_variants_are_accepted_and_typed_exactly():
    lines = [
        tx(transaction_id="a", points=1e3, occurred_at="2026-11-20T23:59:59.999999Z"),
        tx(transaction_id="b", points=0.29, occurred_at="2026-11-21T05:29:00+05:30", extra=1),
        tx(transaction_id="c", campaign_id=None, coupon_code=..., expires_at=None),
        tx(transaction_id="d", occurred_at="2026-11-20t10:00:00z"),
    ]
    result = classify({"a.jsonl": "\n".join(lines).encode()})
    assert result.quarantine.height == 0, result.quarantine.to_dicts()
    assert result.accepted["points"].to_list() == [
        Decimal("1000.00"),
        Decimal("0.29"),
        Decimal("10.50"),
        Decimal("10.50"),
    ]
    assert str(result.accepted.schema["occurred_at"]) == "Datetime(time_unit='us', time_zone='UTC')"


def test_redelivery_is_kept_once_and_counted_even_with_fields_reordered():
    record = json.loads(tx())
    reordered = json.dumps(dict(reversed(list(record.items()))) | {"unknown_extra": "x"})
    result = classify({"a.jsonl": f"{tx()}\n".encode(), "b.jsonl": f"{reordered}\n".encode()})
    assert (result.lines, result.accepted.height, result.duplicates) == (2, 1, 1)
    assert result.accepted["_file"].to_list() == ["a.jsonl"], "the first by file name wins"


def test_bom_crlf_and_missing_final_newline_are_tolerated():
    data = ("\ufeff" + tx(transaction_id="a") + "\r\n" + tx(transaction_id="b")).encode()
    result = classify({"a.jsonl": data})
    assert (result.lines, result.accepted.height, result.quarantine.height) == (2, 2, 0)


def test_gzip_files_and_a_truncated_gzip():
    whole = gzip.compress(
        ("\n".join(tx(transaction_id=f"t{i}") for i in range(2000)) + "\n").encode()
    )
    result = classify({"a.jsonl.gz": whole, "b.jsonl.gz": whole[: len(whole) // 2]})
    quarantined = result.quarantine.filter(result.quarantine["file"] == "b.jsonl.gz")
    assert quarantined["reason"].to_list()[-1] == c.UNREADABLE_FILE
    assert "unreadable" in quarantined["detail"].to_list()[-1]
    assert result.lines == result.accepted.height + result.duplicates + result.quarantine.height


def test_invalid_utf8_is_quarantined_not_fatal():
    data = tx(transaction_id="a").encode() + b"\n" + b'{"user_id": "\xff\xfe"}\n'
    result = classify({"a.jsonl": data})
    assert result.accepted.height == 1
    assert result.quarantine["reason"].to_list() == [c.INVALID_JSON]
    assert "UTF-8" in result.quarantine["detail"][0]


def test_empty_file_and_empty_folder():
    assert classify({"a.jsonl": b""}).lines == 0
    assert classify({}).accepted.height == 0


def test_an_id_accepted_in_an_earlier_folder_wins():
    import polars as pl

    def others(ids):
        return pl.DataFrame(
            {"id": ["t-good", "t-later"], "folder": [date(2026, 11, 19), date(2026, 11, 22)]}
        )

    result = classify(
        {"a.jsonl": f"{tx()}\n{tx(transaction_id='t-later')}\n".encode()}, others=others
    )
    assert result.accepted["transaction_id"].to_list() == ["t-later"]
    assert result.quarantine["reason"].to_list() == [c.ID_CONFLICT]
    assert "date=2026-11-19" in result.quarantine["detail"][0]
    assert result.later_folders == [date(2026, 11, 22)]


# ------------------------------------------------------------------ issue 12, finding 3
@pytest.mark.parametrize(
    "changes, field",
    [
        # year 10000 in UTC (it is 9999 only at its own offset)
        ({"expires_at": "9999-12-31T23:59:59-12:00"}, "expires_at"),
        # year 0 in UTC
        ({"expires_at": "0001-01-01T00:00:00+14:00"}, "expires_at"),
        ({"expires_at": "2100-01-01T00:00:00Z"}, "expires_at"),  # the first instant out
        ({"expires_at": "1999-12-31T23:59:59.999999Z"}, "expires_at"),
    ],
)
def test_timestamps_outside_2000_to_2100_are_bad_timestamp_naming_the_range(changes, field):
    reason, detail = one_bad(tx(transaction_id="t2", **changes))
    assert reason == c.BAD_TIMESTAMP
    assert detail.startswith(f"{field}: {changes[field]} is outside the accepted range")
    assert "2000-01-01T00:00:00Z" in detail and "2100-01-01T00:00:00Z" in detail


def test_the_edges_of_the_timestamp_range_are_accepted():
    lines = [
        tx(transaction_id="a", expires_at="2000-01-01T00:00:00Z"),
        tx(transaction_id="b", expires_at="2099-12-31T23:59:59.999999Z"),
        tx(transaction_id="c", expires_at="2100-01-01T05:00:00+05:30"),  # 2099-12-31 23:30Z
    ]
    result = classify({"a.jsonl": "\n".join(lines).encode()})
    assert result.quarantine.height == 0, result.quarantine.to_dicts()
    assert result.accepted["expires_at"].dt.year().to_list() == [2000, 2099, 2099]


def test_a_dimension_start_or_end_outside_the_range_is_bad_timestamp():
    campaign = {
        "campaign_id": "C1",
        "name": "Autumn",
        "reward_type": "LOYALTY_POINTS",
        "segment_kind": "LIVE_BEHAVIOR",
        "status": "RUNNING",
        "start_at": "2026-10-01T00:00:00Z",
        "end_at": "2026-12-31T00:00:00Z",
    }
    lines = [
        json.dumps(campaign),
        json.dumps({**campaign, "campaign_id": "C2", "end_at": "9999-12-31T23:59:59-12:00"}),
        json.dumps({**campaign, "campaign_id": "C3", "start_at": "0001-01-01T00:00:00+14:00"}),
    ]
    result = classify({"campaigns.jsonl": "\n".join(lines).encode()}, c.CAMPAIGNS)
    assert result.accepted["campaign_id"].to_list() == ["C1"]
    assert result.quarantine["reason"].to_list() == [c.BAD_TIMESTAMP] * 2
    assert [d.split(":")[0] for d in result.quarantine["detail"]] == ["end_at", "start_at"]


# ------------------------------------------------------------------ issue 12, finding 5
def raw_points(tid: str, number_text: str) -> str:
    """A wallet transaction whose points are written exactly as `number_text`."""
    return tx(transaction_id=tid, points="@@").replace('"@@"', number_text)


def test_amounts_are_read_from_the_number_text_not_through_a_double():
    lines = [
        raw_points("exact-16-digits", "1234567890123456.78"),  # a double reads ...56.80
        raw_points("largest", "9999999999999999.99"),  # a double reads 1e16
        raw_points("too-precise", "1.999999999999999999"),  # a double reads 2.0
        raw_points("17-digits", "12345678901234567"),
        raw_points("exponent", "1.5e3"),
        raw_points("trailing-zeros", "10.500"),
        raw_points("three-decimals", "0.125"),
        raw_points("tiny", "1e-7"),
    ]
    result = classify({"a.jsonl": "\n".join(lines).encode()})
    points = dict(zip(result.accepted["transaction_id"], result.accepted["points"], strict=True))
    assert points == {
        "exact-16-digits": Decimal("1234567890123456.78"),
        "largest": Decimal("9999999999999999.99"),
        "exponent": Decimal("1500.00"),
        "trailing-zeros": Decimal("10.50"),
    }
    bad = dict(zip(result.quarantine["line_number"], result.quarantine["detail"], strict=True))
    assert set(result.quarantine["reason"]) == {c.BAD_AMOUNT}
    assert bad[3] == (
        "points: 1.999999999999999999 is not an amount with at most 2 decimals and at most "
        "16 integer digits"
    ), "the detail shows the number as written"
    assert sorted(bad) == [3, 4, 7, 8]


def test_an_amount_under_an_escaped_key_or_a_duplicated_key_is_read_exactly():
    # The careful path: a backslash anywhere, or the same key twice (the first one counts,
    # as DuckDB reads it).
    escaped = raw_points("t-esc", "1234567890123456.78").replace('"points"', '"p\\u006fints"')
    twice = tx(transaction_id="t-dup", points="@@").replace(
        '"points": "@@"', '"points": 9999999999999999.99, "points": 1.5'
    )
    result = classify({"a.jsonl": f"{escaped}\n{twice}\n".encode()})
    assert result.quarantine.height == 0, result.quarantine.to_dicts()
    assert result.accepted["points"].to_list() == [
        Decimal("1234567890123456.78"),
        Decimal("9999999999999999.99"),
    ]


# ------------------------------------------------------------------ corrections (finding 3)
def classify_with_corrections(files: dict[str, bytes], others=None):
    @contextmanager
    def opener(name):
        yield io.BytesIO(files[name])

    return classify_folder(
        c.WALLET_TRANSACTIONS, FOLDER, list(files), opener, others, corrections=True
    )


def test_a_correction_replaces_the_accepted_record_and_the_original_is_superseded():
    regular = [tx(transaction_id="T1", points=10), tx(transaction_id="T2", points=5)]
    corrections = [
        tx(transaction_id="T1", points=12),  # replaces a.jsonl line 1
        tx(transaction_id="T2", points=5),  # the same content again: a duplicate
        tx(transaction_id="T3", points=1),  # no record to replace: added
        tx(transaction_id="T1", points=13),  # a later correction replaces the earlier one
        tx(transaction_id="T4", points=-1),  # a bad correction is quarantined as usual
    ]
    result = classify_with_corrections(
        {
            # name order would put this one first: corrections come after regular files
            "2026-11-22.corrections.jsonl": "\n".join(corrections).encode(),
            "a.jsonl": "\n".join(regular).encode(),
        }
    )
    got = {r["transaction_id"]: r for r in result.accepted.iter_rows(named=True)}
    assert {k: (str(v["points"]), v["_file"], v["_line"]) for k, v in got.items()} == {
        "T1": ("13.00", "2026-11-22.corrections.jsonl", 4),
        "T2": ("5.00", "a.jsonl", 2),
        "T3": ("1.00", "2026-11-22.corrections.jsonl", 3),
    }
    assert (result.lines, result.duplicates, result.superseded) == (7, 1, 2)
    assert result.quarantine["reason"].to_list() == [c.BAD_AMOUNT]
    assert result.lines == (
        result.accepted.height + result.duplicates + result.quarantine.height + result.superseded
    )
    assert result.corrections == [
        {"id": "T1", "file": "a.jsonl", "line": 1, "by_file": "2026-11-22.corrections.jsonl",
         "by_line": 1},
        {"id": "T1", "file": "2026-11-22.corrections.jsonl", "line": 1,
         "by_file": "2026-11-22.corrections.jsonl", "by_line": 4},
    ]  # fmt: skip


def test_a_correction_of_a_record_of_another_folder_is_an_id_conflict():
    import polars as pl

    def others(ids):
        return pl.DataFrame({"id": ["T-OLD"], "folder": [date(2026, 11, 19)]})

    result = classify_with_corrections(
        {
            "a.jsonl": tx(transaction_id="T1").encode(),
            "z.corrections.jsonl": tx(transaction_id="T-OLD", points=2).encode(),
        },
        others=others,
    )
    assert result.accepted["transaction_id"].to_list() == ["T1"]
    assert result.quarantine["reason"].to_list() == [c.ID_CONFLICT]
    assert "date=2026-11-19: a correction goes into that folder" in result.quarantine["detail"][0]
    assert result.superseded == 0


def test_without_the_corrections_rule_a_corrections_file_is_a_regular_file():
    files = {
        "a.jsonl": tx(transaction_id="T1", points=10).encode(),
        "b.corrections.jsonl": tx(transaction_id="T1", points=12).encode(),
    }
    result = classify(files)  # dimension snapshots are read this way
    assert result.accepted["points"].to_list() == [Decimal("10.00")]
    assert result.quarantine["reason"].to_list() == [c.ID_CONFLICT]
