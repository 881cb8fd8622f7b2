"""Bad raw input at volume: every bad kind of the raw contract, produced by mutating valid
records drawn by Hypothesis, mixed with valid lines and exact redeliveries over several
files of a folder; damaged files (truncated gzip, empty, BOM, CRLF, a 10 MB line, invalid
UTF-8, a file that is not JSON Lines); folders outside the contract through the Dagster
ingestion. Ingestion never crashes, every line is accounted for, no good record is lost.

The valid-record strategies are written here from the contract
(docs/contracts/raw_promo_logs.md), independent of the sample-data generator."""

from __future__ import annotations

import gzip
import io
import json
import re
import time
import zlib
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from promo import contract as c
from promo.generator import generate
from promo.ingest import RAW_PREVIEW, classify_folder
from promo.lake import Lake
from resources.storage import LocalStorage
from tests.helpers import INGESTION_KEYS, lake_rows, raw_line_counts, run_daily

pytestmark = pytest.mark.reliability

FOLDER = date(2026, 11, 20)
ARTIFACT = Path(__file__).resolve().parents[1] / "artifacts" / "reliability_bad_input.json"
RFC3339 = re.compile(r"(?i)^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$")

# Figures for docs, filled by every test of this module and written at its end.
FIGURES: dict[str, Any] = {
    "folders_classified": 0,
    "lines": 0,
    "bad_lines_tried": 0,
    "bad_lines_by_kind": {},
    "valid_records": 0,
    "redeliveries": 0,
    "records_lost": 0,
    "damaged_files_tried": [],
}


def count_bad(kind: str, n: int = 1) -> None:
    FIGURES["bad_lines_tried"] += n
    FIGURES["bad_lines_by_kind"][kind] = FIGURES["bad_lines_by_kind"].get(kind, 0) + n


@pytest.fixture(scope="module", autouse=True)
def write_figures():
    started = time.monotonic()
    yield
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    FIGURES["seconds"] = round(time.monotonic() - started, 1)
    FIGURES["bad_lines_by_kind"] = dict(sorted(FIGURES["bad_lines_by_kind"].items()))
    ARTIFACT.write_text(json.dumps(FIGURES, indent=2) + "\n")


# ------------------------------------------------------------------ valid records
# Any Unicode text but lone surrogates (not encodable as UTF-8, so not in a contract file).
# Required text must not be blank (the contract quarantines "" and "  " as missing).
TEXT = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=12).filter(
    lambda s: s.strip() != ""
)
OPT_TEXT = st.none() | TEXT


def ts_text(moment: datetime, offset_minutes: int, style: int) -> str:
    """An RFC 3339 timestamp of `moment` written in a zone `offset_minutes` from UTC."""
    local = moment.astimezone(timezone(timedelta(minutes=offset_minutes)))
    base = local.strftime("%Y-%m-%dT%H:%M:%S")
    frac = ["", f".{local.microsecond // 1000:03d}", f".{local.microsecond:06d}"][style % 3]
    if offset_minutes == 0 and style % 2 == 0:
        zone = "Z"
    else:
        sign = "+" if offset_minutes >= 0 else "-"
        zone = f"{sign}{abs(offset_minutes) // 60:02d}:{abs(offset_minutes) % 60:02d}"
    return base + frac + zone


OFFSETS = st.sampled_from([0, 0, 60, -300, 330, 345, 840, -720, -570, 525])


@st.composite
def timestamp_on(draw, day: date) -> str:
    """A timestamp whose UTC date is `day`, written with an offset."""
    micros = draw(st.integers(0, 86_400 * 1_000_000 - 1))
    moment = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(microseconds=micros)
    return ts_text(moment, draw(OFFSETS), draw(st.integers(0, 5)))


def amount(low_cents: int = 1) -> st.SearchStrategy[float]:
    """A JSON number with at most 2 decimals (cents / 100 prints exactly in Python)."""
    return st.integers(low_cents, 10**10).map(lambda cents: cents / 100)


@st.composite
def wallet_transaction(draw) -> dict:
    source = draw(st.sampled_from(c.TRANSACTION_SOURCES))
    kind = draw(st.sampled_from(c.TRANSACTION_TYPES))
    return {
        "transaction_id": draw(TEXT),
        "wallet_id": draw(TEXT),
        "user_id": draw(TEXT),
        "transaction_type": kind,
        "transaction_source": source,
        "points": draw(amount()),
        "campaign_id": draw(TEXT if source == "PROMO_CAMPAIGN" else OPT_TEXT),
        "coupon_code": draw(TEXT if source == "CASHBACK_COUPON" else OPT_TEXT),
        "reference_transaction_id": draw(OPT_TEXT),
        "expires_at": draw(st.none() | timestamp_on(FOLDER + timedelta(days=90))),
        "occurred_at": draw(timestamp_on(FOLDER)),
    }


@st.composite
def reward_event(draw) -> dict:
    reward = draw(st.sampled_from(c.REWARD_TYPES))
    status = draw(st.sampled_from(["SUCCESS", "FAILED"]))
    record = {
        "event_id": draw(TEXT),
        "campaign_id": draw(TEXT),
        "user_id": draw(TEXT),
        "reward_type": reward,
        "status": status,
        "occurred_at": draw(timestamp_on(FOLDER)),
    }
    if reward == "LOYALTY_POINTS":
        record["wallet_id"] = draw(TEXT)
        record["points"] = draw(amount(1 if status == "SUCCESS" else 0))
    elif reward == "COUPON" and status == "SUCCESS":
        record["coupon_code"] = draw(TEXT)
    elif reward == "PARTNER_VOUCHER" and status == "SUCCESS":
        record.update(partner_id=draw(TEXT), list_tag=draw(TEXT), voucher_code=draw(TEXT))
    elif reward == "CUSTOM_REWARD":
        record["webhook_status"] = "SENT" if status == "SUCCESS" else "FAILED"
        record["credits"] = draw(st.none() | amount(0))
    if status == "FAILED":
        record.update(error_code=draw(TEXT), error_message=draw(TEXT))
    return record


@st.composite
def coupon_redemption(draw) -> dict:
    benefit = draw(st.sampled_from(["DISCOUNT", "CASHBACK"]))
    return {
        "redemption_id": draw(TEXT),
        "coupon_code": draw(TEXT),
        "campaign_id": draw(TEXT),
        "user_id": draw(TEXT),
        "benefit": benefit,
        "discount_amount": draw(amount(0)) if benefit == "DISCOUNT" else None,
        "cashback_points": draw(amount(0)) if benefit == "CASHBACK" else None,
        "redeemed_at": draw(timestamp_on(FOLDER)),
    }


@st.composite
def voucher_assignment(draw) -> dict:
    return {
        "assignment_id": draw(TEXT),
        "partner_id": draw(TEXT),
        "list_tag": draw(TEXT),
        "voucher_code": draw(TEXT),
        "user_id": draw(TEXT),
        "campaign_id": draw(OPT_TEXT),
        "assigned_at": draw(timestamp_on(FOLDER)),
    }


RECORDS = {
    "wallet_transactions": wallet_transaction(),
    "reward_events": reward_event(),
    "coupon_redemptions": coupon_redemption(),
    "voucher_assignments": voucher_assignment(),
}

# ------------------------------------------------------------------ mutations
BAD_KINDS = (
    "invalid_json",
    "not_an_object",
    "missing_field",
    "wrong_type",
    "bad_enum",
    "bad_amount",
    "bad_timestamp",
    "wrong_date_folder",
    "id_conflict",
)
NOT_TIMESTAMPS = st.sampled_from(
    [
        "yesterday",
        "",
        "2026-13-45T00:00:00Z",
        "2026-02-30T10:00:00Z",
        "2026-11-20T10:00:00",  # no offset
        "2026-11-20",
        "20261120T100000Z",
        "2026-11-20T25:00:00Z",
        "2026-11-20T10:00:00+5:30",
        "2026-11-20T10:00:00+25:00",  # no such offset
        "2026-11-20T23:59:60Z",  # a leap second has no instant here
        # RFC 3339, but outside 2000..2100 UTC (issue 12, finding 3)
        "9999-12-31T23:59:59-12:00",  # year 10000 in UTC
        "0001-01-01T00:00:00+14:00",  # year 0 in UTC
        "1999-12-31T23:59:59.999Z",
        "2100-01-01T00:00:00Z",
    ]
) | TEXT.filter(lambda s: not RFC3339.match(s))


def dump(record: dict, draw) -> str:
    """One JSON line; keys in any order, ASCII-escaped or not, sometimes an extra field."""
    items = list(record.items())
    if draw(st.booleans()):
        items.reverse()
    payload = dict(items)
    if draw(st.booleans()):
        payload["_producer_extra"] = {"nested": [1, 2, draw(TEXT)]}
    return json.dumps(payload, ensure_ascii=draw(st.booleans()))


def applicable(stream: c.Stream, kind: str) -> bool:
    """voucher_assignments has no enum and no amount: those kinds cannot be made of it."""
    if kind == "bad_enum":
        return any(f.enum and f.required for f in stream.fields)
    if kind == "bad_amount":
        return any(f.kind == "amount" for f in stream.fields)
    return True


def mutate(stream: c.Stream, record: dict, kind: str, draw) -> tuple[str, str | None]:
    """A bad line made from a valid record, and the reason it must be quarantined with
    (None when the kind does not decide the reason: id conflicts, resolved by order)."""
    fields = {f.name: f for f in stream.fields}
    bad = dict(record)
    if kind == "invalid_json":
        text = dump(record, draw)
        cut = draw(st.integers(0, len(text) - 1))
        choice = draw(st.sampled_from(["cut", "junk", "single_quotes"]))
        if choice == "cut":
            return text[:cut], c.INVALID_JSON
        if choice == "junk":
            return text + draw(st.sampled_from(["x", "}", ",", " {}"])), c.INVALID_JSON
        return text.replace('"', "'"), c.INVALID_JSON
    if kind == "not_an_object":
        value = draw(st.sampled_from([[record], list(record), 42, "text", None, True, 1.5]))
        return json.dumps(value), c.INVALID_JSON
    if kind == "missing_field":
        name = draw(st.sampled_from([f.name for f in stream.fields if f.required]))
        how = draw(st.sampled_from(["absent", "null", "blank"]))
        if how == "absent":
            del bad[name]
        elif how == "null" or fields[name].kind != "string" or fields[name].enum:
            bad[name] = None
        else:
            bad[name] = draw(st.sampled_from(["", " ", "\t", "\u3000 "]))
        return json.dumps(bad), c.MISSING_FIELD
    if kind == "wrong_type":
        name = draw(st.sampled_from(list(fields)))
        if fields[name].kind == "amount":
            value = draw(st.sampled_from(["12.5", True, [1], {"v": 1}]))
        else:
            value = draw(st.sampled_from([42, 1.5, True, False, [], ["a"], {"k": "v"}]))
        bad[name] = value
        return json.dumps(bad), c.WRONG_TYPE
    if kind == "bad_enum":
        name = draw(st.sampled_from([f.name for f in stream.fields if f.enum and f.required]))
        allowed = fields[name].enum
        value = draw(st.sampled_from([allowed[0].lower(), allowed[0] + " ", "GIFT"]) | TEXT)
        bad[name] = "GIFT" if value in allowed else value
        return json.dumps(bad), c.BAD_ENUM
    if kind == "bad_amount":
        present = [f.name for f in stream.fields if f.kind == "amount" and bad.get(f.name)]
        if present and draw(st.booleans()):
            # More than 2 decimals, written as the JSON number text itself.
            name = draw(st.sampled_from(present))
            digits = draw(
                st.sampled_from(
                    [
                        f"{bad[name]:.2f}{draw(st.integers(1, 9))}",
                        # a double reads these as 2.0 and 1.2e16 (issue 12, finding 5)
                        "1.999999999999999999",
                        "12345678901234567",
                        "0.0000000000000000001",
                    ]
                )
            )
            bad[name] = "@@AMOUNT@@"
            return json.dumps(bad).replace('"@@AMOUNT@@"', digits), c.BAD_AMOUNT
        if stream is c.REWARD_EVENTS and draw(st.booleans()):
            # a successful LOYALTY_POINTS event must give > 0 points (a cross-field rule)
            bad.update(reward_type="LOYALTY_POINTS", status="SUCCESS", points=0)
            bad.pop("webhook_status", None)
            return json.dumps(bad), c.BAD_AMOUNT
        name = draw(st.sampled_from([f.name for f in stream.fields if f.kind == "amount"]))
        choices = [-0.01, -5, -1e6] + ([0, 0.0] if fields[name].positive else [])
        bad[name] = draw(st.sampled_from(choices))
        return json.dumps(bad), c.BAD_AMOUNT
    if kind == "bad_timestamp":
        name = draw(st.sampled_from([f.name for f in stream.fields if f.kind == "timestamp"]))
        bad[name] = draw(NOT_TIMESTAMPS)
        return json.dumps(bad), c.BAD_TIMESTAMP
    if kind == "wrong_date_folder":
        shift = draw(st.sampled_from([-400, -2, -1, 1, 3, 30]))
        bad[stream.time_field] = draw(timestamp_on(FOLDER + timedelta(days=shift)))
        return json.dumps(bad), c.WRONG_DATE_FOLDER
    raise AssertionError(kind)


# ------------------------------------------------------------------ folders
@dataclass
class Entry:
    text: str
    kind: str  # "valid", "redelivery", "conflict" or a bad kind
    reason: str | None = None  # expected quarantine reason, for bad kinds
    record_id: str | None = None
    version: int = 0  # contract content of an id: 0 = original, n = conflicting variant


@dataclass
class Folder:
    files: dict[str, bytes] = field(default_factory=dict)
    layout: dict[tuple[str, int], Entry] = field(default_factory=dict)  # (file, line) -> entry
    raw_lines: dict[tuple[str, int], str] = field(default_factory=dict)


FILE_NAMES = ["a.jsonl", "b.jsonl.gz", "c late.jsonl", "z-ü.jsonl.gz"]


@st.composite
def folder_of_lines(draw, stream_name: str) -> Folder:
    stream = c.STREAMS[stream_name]
    idf = stream.id_field
    records = draw(st.lists(RECORDS[stream_name], min_size=1, max_size=25))
    for i, record in enumerate(records):  # ids unique by construction
        record[idf] = f"{record[idf]}#{i}"
    entries = [Entry(dump(r, draw), "valid", record_id=r[idf]) for r in records]
    for _ in range(draw(st.integers(0, 8))):  # exact redeliveries
        i = draw(st.integers(0, len(records) - 1))
        entries.append(Entry(dump(records[i], draw), "redelivery", record_id=records[i][idf]))
    kinds = [k for k in BAD_KINDS if applicable(stream, k)]
    for _ in range(draw(st.integers(0, 25))):
        kind = draw(st.sampled_from(kinds))
        record = records[draw(st.integers(0, len(records) - 1))]
        if kind == "id_conflict":
            other = {**record, "user_id": record["user_id"] + "-other"}
            version = draw(st.integers(1, 2))
            other["user_id"] += str(version)
            entries.append(Entry(dump(other, draw), kind, record_id=record[idf], version=version))
        else:
            text, reason = mutate(stream, record, kind, draw)
            entries.append(Entry(text, kind, reason))
    order = draw(st.permutations(range(len(entries))))
    names = sorted(draw(st.lists(st.sampled_from(FILE_NAMES), min_size=1, max_size=4, unique=True)))
    folder = Folder()
    per_file: dict[str, list[Entry]] = {n: [] for n in names}
    for i in order:
        per_file[draw(st.sampled_from(names))].append(entries[i])
    for name, lines in per_file.items():
        crlf, final_newline = draw(st.booleans()), draw(st.booleans())
        bom = bool(lines) and draw(st.booleans())  # a lone BOM is one (empty) line
        end = "\r\n" if crlf else "\n"
        body = end.join(e.text for e in lines) + (end if lines and final_newline else "")
        # A final line that is empty and unterminated is not a line at all.
        if lines and not final_newline and lines[-1].text == "":
            body += end
        data = (b"\xef\xbb\xbf" if bom else b"") + body.encode()
        folder.files[name] = gzip.compress(data, mtime=0) if name.endswith(".gz") else data
        for number, entry in enumerate(lines, start=1):
            folder.layout[(name, number)] = entry
    return folder


def classify(stream: c.Stream, files: dict[str, bytes], folder: date = FOLDER, others=None):
    @contextmanager
    def opener(name):
        yield io.BytesIO(files[name])

    return classify_folder(stream, folder, list(files), opener, others)


def expected_ids(stream: c.Stream, folder: Folder):
    """The contract's resolution of ids: first holder in (file, line) order wins."""
    first: dict[str, tuple[tuple[str, int], int]] = {}
    duplicates, conflicts = 0, set()
    for pos in sorted(folder.layout):
        e = folder.layout[pos]
        if e.kind not in ("valid", "redelivery", "id_conflict"):
            continue
        if e.record_id not in first:
            first[e.record_id] = (pos, e.version)
        elif first[e.record_id][1] == e.version:
            duplicates += 1
        else:
            conflicts.add(pos)
    return {k: v[0] for k, v in first.items()}, duplicates, conflicts


def assert_accounted(stream: c.Stream, folder: Folder, result) -> None:
    lines = len(folder.layout)
    accepted, duplicates, conflicts = expected_ids(stream, folder)
    got = dict(
        zip(
            result.accepted[stream.id_field].to_list(),
            zip(result.accepted["_file"], result.accepted["_line"], strict=True),
            strict=True,
        )
    )
    FIGURES["folders_classified"] += 1
    FIGURES["lines"] += lines
    FIGURES["valid_records"] += len(accepted)
    FIGURES["redeliveries"] += duplicates
    FIGURES["records_lost"] += len(set(accepted) - set(got))
    for e in folder.layout.values():
        if e.kind not in ("valid", "redelivery"):
            count_bad(e.kind)
    assert result.lines == lines
    assert result.lines == result.accepted.height + result.duplicates + result.quarantine.height
    assert result.accepted[stream.id_field].n_unique() == result.accepted.height
    assert got == accepted, "every valid record is accepted once, from its first holder"
    assert result.duplicates == duplicates
    quarantined = {
        (r["file"], r["line_number"]): r for r in result.quarantine.iter_rows(named=True)
    }
    bad_positions = {p for p, e in folder.layout.items() if e.reason} | conflicts
    assert set(quarantined) == bad_positions
    for pos, row in quarantined.items():
        entry = folder.layout[pos]
        want = c.ID_CONFLICT if pos in conflicts else entry.reason
        assert row["reason"] == want, (entry.kind, entry.text, row)
        assert row["raw_line"] == entry.text[:RAW_PREVIEW]
        assert row["detail"]


@pytest.mark.parametrize("stream_name", list(c.STREAMS))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_records_are_quarantined_and_good_ones_kept(stream_name, data):
    stream = c.STREAMS[stream_name]
    folder = data.draw(folder_of_lines(stream_name))
    result = classify(stream, folder.files)
    assert_accounted(stream, folder, result)


def chunk_of(files: dict[str, bytes]) -> pl.DataFrame:
    """The lines of `files` as the classifier gets them."""
    from promo.rawlines import file_lines

    @contextmanager
    def opener(name):
        yield io.BytesIO(files[name])

    frames = [f for name in sorted(files) for f in file_lines(name, opener)]
    lines = pl.concat(frames) if frames else pl.DataFrame(schema={"file": pl.String})
    return lines.with_columns(pl.lit(FOLDER).alias("folder"))


@pytest.mark.parametrize("stream_name", list(c.STREAMS))
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_fast_path_and_the_careful_path_agree(stream_name, data):
    """Plain lines take the fast path (one DuckDB parse, types read off the JSON text);
    every line can also take the careful one. Both must give the same rows, reasons and
    details, whatever the line."""
    from promo.classify import classify_chunk

    stream = c.STREAMS[stream_name]
    folder = data.draw(folder_of_lines(stream_name))
    lines = chunk_of(folder.files)
    if lines.is_empty():
        return
    fast_ok, fast_bad = classify_chunk(stream, lines, fast=True)
    slow_ok, slow_bad = classify_chunk(stream, lines, fast=False)
    assert fast_ok.sort("_file", "_line").equals(slow_ok.sort("_file", "_line"))
    assert fast_bad.sort("file", "line_number").equals(slow_bad.sort("file", "line_number"))
    FIGURES["lines"] += lines.height


def test_a_broken_line_with_multibyte_text_falls_back_to_the_careful_path():
    # Found by the test above: DuckDB's error for the extra "}" quotes the line cut at a
    # byte count, inside the 3-byte character, and the message then failed to decode
    # (UnicodeDecodeError instead of duckdb.Error), which crashed the fast path.
    from promo.classify import classify_chunk

    good = (
        b'{"event_id": "e1", "campaign_id": "0", "user_id": "0", "reward_type": '
        b'"LOYALTY_POINTS", "status": "SUCCESS", "occurred_at": "2026-11-20T00:00:00Z", '
        b'"wallet_id": "0", "points": 0.01}'
    )
    broken = (
        b'{"error_message": "000", "error_code": "0\xc2\x80\xc2\x80\xe0\xa0\x80", '
        b'"occurred_at": "2026-11-20T00:00:00Z", "status": "FAILED", "reward_type": "COUPON", '
        b'"user_id": "0", "campaign_id": "0", "event_id": "e2"}}'
    )
    lines = chunk_of({"a.jsonl": good + b"\n" + broken + b"\n"})
    stream = c.STREAMS["reward_events"]
    fast_ok, fast_bad = classify_chunk(stream, lines, fast=True)
    slow_ok, slow_bad = classify_chunk(stream, lines, fast=False)
    assert fast_ok["event_id"].to_list() == ["e1"]
    assert fast_bad.select("line_number", "reason").rows() == [(2, "invalid_json")]
    assert fast_ok.equals(slow_ok) and fast_bad.equals(slow_bad)


@settings(max_examples=40, deadline=None)
@given(
    lines=st.lists(st.binary(max_size=60).map(lambda b: b.replace(b"\n", b"")), max_size=30),
    gz=st.booleans(),
)
def test_arbitrary_bytes_never_crash_and_are_all_accounted_for(lines, gz):
    data = b"\n".join(lines) + b"\n" if lines else b""
    files = {"x.jsonl.gz" if gz else "x.jsonl": gzip.compress(data) if gz else data}
    result = classify(c.WALLET_TRANSACTIONS, files)
    FIGURES["folders_classified"] += 1
    FIGURES["lines"] += result.lines
    count_bad("arbitrary_bytes", result.quarantine.height)
    assert result.lines == len(lines)
    assert result.lines == result.accepted.height + result.duplicates + result.quarantine.height


def tx(i: int, **changes) -> dict:
    return {
        "transaction_id": f"t{i}",
        "wallet_id": "w1",
        "user_id": f"u{i % 7}",
        "transaction_type": "CREDIT",
        "transaction_source": "API",
        "points": 10.5,
        "occurred_at": "2026-11-20T10:00:00Z",
        **changes,
    }


def tx_lines(n: int) -> bytes:
    return "".join(json.dumps(tx(i)) + "\n" for i in range(n)).encode()


@settings(max_examples=40, deadline=None)
@given(cut=st.floats(0.0, 1.0, exclude_max=True))
def test_truncated_gzip_keeps_every_complete_line_before_the_cut(cut):
    whole = gzip.compress(tx_lines(3000), mtime=0)
    truncated = whole[: int(len(whole) * cut)]
    recoverable = zlib.decompressobj(wbits=31).decompress(truncated)
    complete = recoverable.count(b"\n")
    good = gzip.compress(tx_lines(1).replace(b"t0", b"other"), mtime=0)
    result = classify(c.WALLET_TRANSACTIONS, {"a.jsonl.gz": truncated, "b.jsonl.gz": good})
    FIGURES["folders_classified"] += 1
    FIGURES["lines"] += result.lines
    ids = result.accepted.filter(pl.col("_file") == "a.jsonl.gz")["transaction_id"].to_list()
    assert ids == [f"t{i}" for i in range(complete)], "the good lines before the cut are kept"
    assert result.accepted.filter(pl.col("_file") == "b.jsonl.gz").height == 1
    rest = result.quarantine.to_dicts()
    if truncated:
        count_bad("truncated_gzip")
        assert [r["reason"] for r in rest] == [c.UNREADABLE_FILE], rest
        assert rest[0]["line_number"] == complete + 1
        assert rest[0]["file"] == "a.jsonl.gz"
    else:
        assert rest == []  # an empty .gz file is an empty file
    assert result.lines == result.accepted.height + result.duplicates + result.quarantine.height
    FIGURES["records_lost"] += complete - len(ids)


# ------------------------------------------------------------------ damaged files
def test_damaged_files_are_tolerated_or_quarantined():
    huge_extra = json.dumps(tx(900, huge="x" * 10_000_000))
    huge_broken = '{"transaction_id": "t901", "huge": "' + "y" * 10_000_000  # never closed
    bad_utf8 = json.dumps(tx(902)).encode().replace(b"t902", b"t902\xff\xfe")
    files = {
        "01-bom.jsonl": b"\xef\xbb\xbf" + tx_lines(3),
        "02-crlf.jsonl": tx_lines(6)[len(tx_lines(3)) :].replace(b"\n", b"\r\n"),
        "03-empty.jsonl": b"",
        "04-empty.jsonl.gz": b"",
        "05-huge.jsonl": huge_extra.encode() + b"\n" + huge_broken.encode() + b"\n",
        "06-utf8.jsonl": json.dumps(tx(903)).encode() + b"\n" + bad_utf8 + b"\n",
        "07-only-bom.jsonl": b"\xef\xbb\xbf",
        "08-crlf-bom-gz.jsonl.gz": gzip.compress(
            b"\xef\xbb\xbf" + json.dumps(tx(904)).encode() + b"\r\n"
        ),
    }
    started = time.monotonic()
    result = classify(c.WALLET_TRANSACTIONS, files)
    assert time.monotonic() - started < 30
    FIGURES["folders_classified"] += 1
    FIGURES["lines"] += result.lines
    FIGURES["damaged_files_tried"] += [
        "utf8_bom",
        "crlf",
        "empty",
        "empty_gzip",
        "10mb_valid_line",
        "10mb_invalid_line",
        "invalid_utf8_line",
        "bom_only",
        "gzip_bom_crlf",
    ]
    count_bad("10mb_invalid_line")
    count_bad("invalid_utf8")
    assert sorted(result.accepted["transaction_id"]) == sorted(
        ["t0", "t1", "t2", "t3", "t4", "t5", "t900", "t903", "t904"]
    )
    assert result.lines == result.accepted.height + result.duplicates + result.quarantine.height
    rows = {(r["file"], r["line_number"]): r for r in result.quarantine.iter_rows(named=True)}
    assert set(rows) == {("05-huge.jsonl", 2), ("06-utf8.jsonl", 2), ("07-only-bom.jsonl", 1)}
    huge = rows[("05-huge.jsonl", 2)]
    assert huge["reason"] == c.INVALID_JSON
    assert huge["raw_line"] == huge_broken[:RAW_PREVIEW], "a 10 MB raw line is kept cut"
    utf8 = rows[("06-utf8.jsonl", 2)]
    assert utf8["reason"] == c.INVALID_JSON and "UTF-8" in utf8["detail"]
    assert "\ufffd" in utf8["raw_line"], "the raw line is kept, undecodable bytes replaced"
    # A file holding only a BOM is one empty line: not JSON, quarantined, not a crash.
    assert rows[("07-only-bom.jsonl", 1)]["reason"] == c.INVALID_JSON


def test_non_contract_files_are_ignored_and_reported(tmp_path):
    from promo.lake import ingest_folder

    landing = tmp_path / "landing"
    folder = landing / "events" / "wallet_transactions" / f"date={FOLDER}"
    folder.mkdir(parents=True)
    (folder / "part-1.jsonl").write_bytes(tx_lines(4))
    (folder / "notes.txt").write_text("not JSON Lines\n")
    (folder / "part-2.json").write_bytes(tx_lines(4))
    (folder / "part-3.jsonl.bz2").write_bytes(b"BZh9")
    (folder / ".tmp-upload-part-4.jsonl").write_bytes(b"half a li")  # a producer's temporary
    (folder / "nested").mkdir()
    (folder / "nested" / "deep.jsonl").write_bytes(tx_lines(2))
    lake = Lake(LocalStorage(tmp_path / "lake"))
    manifest = ingest_folder(LocalStorage(landing), lake, c.WALLET_TRANSACTIONS, FOLDER)
    FIGURES["damaged_files_tried"] += ["not_jsonl_files", "nested_folder", "tmp_file"]
    assert manifest["lines"] == manifest["accepted"] == 4
    prefix = f"events/wallet_transactions/date={FOLDER}/"
    assert sorted(manifest["ignored_files"]) == sorted(
        prefix + n for n in ("notes.txt", "part-2.json", "part-3.jsonl.bz2", "nested/deep.jsonl")
    )
    assert [i["file"] for i in manifest["inputs"]] == [prefix + "part-1.jsonl"]


def test_dot_files_are_not_read_and_are_listed_as_ignored(tmp_path):
    """Issue 12, finding 9: a hidden file (an editor's or rsync's temporary, a producer's
    half-written `.x.jsonl`) was ingested. Hidden files are not deliveries."""
    from promo.lake import ingest_folder, newest_dimension_file

    landing = tmp_path / "landing"
    folder = landing / "events" / "wallet_transactions" / f"date={FOLDER}"
    folder.mkdir(parents=True)
    (folder / "part-1.jsonl").write_bytes(tx_lines(4))
    (folder / ".foo.jsonl").write_bytes(tx_lines(6)[len(tx_lines(4)) :])  # would be 2 records
    (folder / ".part-2.jsonl.gz").write_bytes(gzip.compress(b"half a li"))
    (folder / ".part-3.jsonl.Xa3bQ9").write_bytes(b"rsync's temporary\n")
    snapshots = landing / "dimensions" / "wallets"
    snapshots.mkdir(parents=True)
    (snapshots / "2026-11-01.jsonl").write_text('{"wallet_id": "W1"}\n')
    (snapshots / ".2026-12-01.jsonl").write_text('{"wallet_id": "W-TMP"}\n')
    lake = Lake(LocalStorage(tmp_path / "lake"))
    manifest = ingest_folder(LocalStorage(landing), lake, c.WALLET_TRANSACTIONS, FOLDER)
    FIGURES["damaged_files_tried"] += ["dot_file"]
    assert manifest["lines"] == manifest["accepted"] == 4
    prefix = f"events/wallet_transactions/date={FOLDER}/"
    assert sorted(manifest["ignored_files"]) == sorted(
        prefix + n for n in (".foo.jsonl", ".part-2.jsonl.gz", ".part-3.jsonl.Xa3bQ9")
    )
    assert newest_dimension_file(LocalStorage(landing), "wallets") == (
        "dimensions/wallets/2026-11-01.jsonl"
    )


def test_a_link_leaving_the_landing_zone_is_one_unreadable_line(tmp_path):
    """Issue 12, finding 8: a symbolic link in the landing zone stopped the whole run. A
    file that cannot be opened (a link leaving the landing zone, a broken link, a date
    folder that is a link out of it) is one `unreadable_file` line naming the reason; the
    folder's other files and the other folders are ingested."""
    from promo.lake import ingest_folders

    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.jsonl").write_bytes(tx_lines(3))  # valid lines: must not be read
    landing = tmp_path / "landing"
    days = [FOLDER, FOLDER + timedelta(days=1), FOLDER + timedelta(days=2)]
    stream_dir = landing / "events" / "wallet_transactions"
    first, second = stream_dir / f"date={days[0]}", stream_dir / f"date={days[1]}"
    first.mkdir(parents=True)
    second.mkdir(parents=True)
    (first / "a.jsonl").write_bytes(tx_lines(5))
    (first / "b-link.jsonl").symlink_to(outside / "secret.jsonl")
    (first / "c-broken.jsonl").symlink_to(first / "gone.jsonl")
    (first / "d.jsonl").write_bytes(tx_lines(7)[len(tx_lines(5)) :])
    later = [json.dumps(tx(100 + i, occurred_at=f"{days[1]}T08:00:00Z")) for i in range(2)]
    (second / "a.jsonl").write_text("\n".join(later) + "\n")
    (stream_dir / f"date={days[2]}").symlink_to(outside, target_is_directory=True)
    lake = Lake(LocalStorage(tmp_path / "lake"))
    manifests = ingest_folders(LocalStorage(landing), lake, c.WALLET_TRANSACTIONS, days)
    FIGURES["damaged_files_tried"] += ["link_leaving_landing", "broken_link", "folder_link"]
    count_bad("unreadable_link", 3)
    assert [m["utc_date"] for m in manifests] == [d.isoformat() for d in days]
    assert [(m["lines"], m["accepted"], m["quarantined"]) for m in manifests] == [
        (9, 7, 2),
        (2, 2, 0),
        (1, 0, 1),
    ]
    quarantine = lake_rows(tmp_path / "lake", "quarantine", "wallet_transactions")
    rows = {(r["file"], r["line_number"]): r for r in quarantine.iter_rows(named=True)}
    assert set(rows) == {("b-link.jsonl", 1), ("c-broken.jsonl", 1), (".", 1)}
    assert {r["reason"] for r in rows.values()} == {c.UNREADABLE_FILE}
    assert "leaves" in rows[("b-link.jsonl", 1)]["detail"]
    assert "No such file" in rows[("c-broken.jsonl", 1)]["detail"]
    assert "the folder cannot be listed" in rows[(".", 1)]["detail"]
    accepted = lake_rows(tmp_path / "lake", "accepted", "wallet_transactions")
    assert sorted(accepted["transaction_id"]) == sorted(
        [f"t{i}" for i in range(7)] + ["t100", "t101"]
    )


# ------------------------------------------------------------------ through Dagster
def test_folders_outside_the_contract_do_not_stop_ingestion(promo_env):
    settings = promo_env()
    landing = Path(settings.landing_uri)
    generate(LocalStorage(landing), date(2026, 10, 2), 2, seed=5, scale=60, bad_rate=0.05)
    contract_counts = raw_line_counts(landing)
    strays = {
        "events/unknown_stream/date=2026-10-02/x.jsonl": tx_lines(3),
        "events/wallet_transactions/date=not-a-date/x.jsonl": tx_lines(3),
        "events/wallet_transactions/date=2026-13-02/x.jsonl": tx_lines(3),
        "events/wallet_transactions/notes.txt": b"hello\n",
        "events/README": b"hello\n",
        "events/Wallet_Transactions/date=2026-10-02/x.jsonl": tx_lines(3),
    }
    for key, data in strays.items():
        (landing / key).parent.mkdir(parents=True, exist_ok=True)
        (landing / key).write_bytes(data)
    FIGURES["damaged_files_tried"] += ["stream_folder_outside_contract", "date_folder_not_a_date"]
    result = run_daily(settings, "2026-10-02", "2026-10-03", selection=INGESTION_KEYS)
    assert result.success
    lake = Path(settings.lake_dir)
    assert not (lake / "accepted" / "unknown_stream").exists()
    assert not (lake / "accepted" / "Wallet_Transactions").exists()
    for stream in c.STREAMS.values():
        manifests = [
            json.loads(p.read_text())
            for p in sorted((lake / "manifests" / stream.name).glob("*.json"))
        ]
        assert [m["utc_date"] for m in manifests] == ["2026-10-02", "2026-10-03"]
        accepted = lake_rows(lake, "accepted", stream.name)
        quarantined = lake_rows(lake, "quarantine", stream.name)
        lines = sum(m["lines"] for m in manifests)
        duplicates = sum(m["duplicates"] for m in manifests)
        assert lines == contract_counts[stream.name], "every line of the contract folders"
        assert lines == accepted.height + duplicates + quarantined.height
        FIGURES["folders_classified"] += len(manifests)
        FIGURES["lines"] += lines
        count_bad(f"generator_bad_{stream.name}", quarantined.height)


def test_a_link_leaving_the_landing_zone_does_not_stop_the_run(promo_env, tmp_path, capfd):
    """Issue 12, finding 8, through Dagster: the run succeeds with no traceback on the
    console, the link is one quarantined line and every day is ingested."""
    settings = promo_env()
    landing = Path(settings.landing_uri)
    generate(LocalStorage(landing), date(2026, 10, 2), 2, seed=5, scale=60, bad_rate=0.0)
    counts = raw_line_counts(landing)
    outside = tmp_path / "elsewhere.jsonl"
    outside.write_bytes(tx_lines(2))
    link = landing / "events/wallet_transactions/date=2026-10-02/zz-link.jsonl"
    link.symlink_to(outside)
    result = run_daily(settings, "2026-10-02", "2026-10-03", selection=INGESTION_KEYS)
    assert result.success
    assert "Traceback" not in capfd.readouterr().err
    lake = Path(settings.lake_dir)
    quarantined = lake_rows(lake, "quarantine", "wallet_transactions")
    assert quarantined.select("file", "line_number", "reason").rows() == [
        ("zz-link.jsonl", 1, c.UNREADABLE_FILE)
    ]
    manifests = [
        json.loads(p.read_text())
        for p in sorted((lake / "manifests/wallet_transactions").glob("*"))
    ]
    assert [m["utc_date"] for m in manifests] == ["2026-10-02", "2026-10-03"]
    accepted = lake_rows(lake, "accepted", "wallet_transactions")
    assert accepted.height == counts["wallet_transactions"] - sum(
        m["duplicates"] for m in manifests
    )
    checks = result.get_asset_check_evaluations()
    assert checks and all(e.passed for e in checks)
    FIGURES["damaged_files_tried"] += ["link_leaving_landing_through_dagster"]
