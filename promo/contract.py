"""The raw promo log contract (version 1) as data: streams, fields, rules, and the
Pandera schema that enforces them on a typed frame.

The prose contract is `docs/contracts/raw_promo_logs.md`; this module is its executable
form. Ingestion (`promo.ingest`) turns JSON lines into typed columns and lets the Pandera
schema decide which rows break a rule; each failing check maps to a quarantine reason code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pandera.polars as pa
import polars as pl

from promo.timeutil import TIMESTAMP_MAX, TIMESTAMP_MIN, TIMESTAMP_RANGE_TEXT

CONTRACT_VERSION = 1

# Reason codes recorded with every quarantined line (a public vocabulary: operators
# filter the quarantine by it).
INVALID_JSON = "invalid_json"  # not JSON, not UTF-8, or not a JSON object
MISSING_FIELD = "missing_field"  # a required field is absent or null (also conditional ones)
WRONG_TYPE = "wrong_type"  # e.g. a number where a string is required
BAD_ENUM = "bad_enum"  # a value outside the field's allowed values
BAD_AMOUNT = "bad_amount"  # non-positive/negative where forbidden, > 2 decimals, > 16 digits
BAD_TIMESTAMP = "bad_timestamp"  # not an RFC 3339 timestamp with an offset, or out of range
WRONG_DATE_FOLDER = "wrong_date_folder"  # a valid timestamp on another UTC date than its folder
ID_CONFLICT = "id_conflict"  # an id already accepted with different content
RULE_VIOLATION = "rule_violation"  # a cross-field rule other than a required field
UNREADABLE_FILE = "unreadable_file"  # the rest of a file could not be read (e.g. truncated gzip)

REASON_CODES = (
    INVALID_JSON,
    MISSING_FIELD,
    WRONG_TYPE,
    BAD_ENUM,
    BAD_AMOUNT,
    BAD_TIMESTAMP,
    WRONG_DATE_FOLDER,
    ID_CONFLICT,
    RULE_VIOLATION,
    UNREADABLE_FILE,
)

Kind = Literal["string", "amount", "timestamp"]

# Amounts are exact: two decimals, up to 16 integer digits. The JSON number's own text is
# checked and converted (`promo.amounts`), never a double parsed from it.
AMOUNT_DTYPE = pl.Decimal(18, 2)
AMOUNT_INTEGER_DIGITS = 16
AMOUNT_DECIMALS = 2
TIMESTAMP_DTYPE = pl.Datetime("us", "UTC")
# The range every timestamp of the contract must fall in: promo/timeutil.py.


@dataclass(frozen=True)
class Field:
    name: str
    kind: Kind = "string"
    required: bool = False
    enum: tuple[str, ...] | None = None
    positive: bool = False  # amount must be > 0
    non_negative: bool = False  # amount must be >= 0

    @property
    def dtype(self) -> pl.DataType:
        return {"string": pl.String(), "amount": AMOUNT_DTYPE, "timestamp": TIMESTAMP_DTYPE}[
            self.kind
        ]


@dataclass(frozen=True)
class Rule:
    """A cross-field rule: `condition` (a polars expression) implies `requirement`."""

    name: str
    reason: str
    condition: pl.Expr
    requirement: pl.Expr
    # A conditional requirement also as plain data, (field, when field, == value), for
    # readers that do not evaluate polars expressions (the sample-data generator).
    required_when: tuple[str, str, str] | None = None


@dataclass(frozen=True)
class Stream:
    name: str
    id_field: str
    time_field: str
    fields: tuple[Field, ...]
    rules: tuple[Rule, ...] = field(default=())
    key_fields: tuple[str, ...] = ()  # when the key is not one id column

    @property
    def key(self) -> list[str]:
        return list(self.key_fields or (self.id_field,))

    @property
    def columns(self) -> list[str]:
        return [f.name for f in self.fields]

    @property
    def polars_schema(self) -> dict[str, pl.DataType]:
        return {f.name: f.dtype for f in self.fields}


def _required_when(target: str, when: str, value: str) -> Rule:
    return Rule(
        name=f"{target} is required when {when} is {value}",
        reason=MISSING_FIELD,
        condition=pl.col(when) == value,
        requirement=pl.col(target).is_not_null(),
        required_when=(target, when, value),
    )


TRANSACTION_TYPES = ("CREDIT", "DEBIT", "EXPIRED", "PROMISED", "REVERSE", "REFUND")
TRANSACTION_SOURCES = ("CASHBACK_COUPON", "SYSTEM", "API", "PROMO_CAMPAIGN")
REWARD_TYPES = ("LOYALTY_POINTS", "COUPON", "PARTNER_VOUCHER", "CUSTOM_REWARD")

WALLET_TRANSACTIONS = Stream(
    name="wallet_transactions",
    id_field="transaction_id",
    time_field="occurred_at",
    fields=(
        Field("transaction_id", required=True),
        Field("wallet_id", required=True),
        Field("user_id", required=True),
        Field("transaction_type", required=True, enum=TRANSACTION_TYPES),
        Field("transaction_source", required=True, enum=TRANSACTION_SOURCES),
        Field("points", "amount", required=True, positive=True),
        Field("campaign_id"),
        Field("coupon_code"),
        Field("reference_transaction_id"),
        Field("expires_at", "timestamp"),
        Field("occurred_at", "timestamp", required=True),
    ),
    rules=(
        _required_when("campaign_id", "transaction_source", "PROMO_CAMPAIGN"),
        _required_when("coupon_code", "transaction_source", "CASHBACK_COUPON"),
    ),
)

REWARD_EVENTS = Stream(
    name="reward_events",
    id_field="event_id",
    time_field="occurred_at",
    fields=(
        Field("event_id", required=True),
        Field("campaign_id", required=True),
        Field("user_id", required=True),
        Field("reward_type", required=True, enum=REWARD_TYPES),
        Field("status", required=True, enum=("SUCCESS", "FAILED")),
        Field("occurred_at", "timestamp", required=True),
        Field("wallet_id"),
        Field("points", "amount", non_negative=True),
        Field("coupon_code"),
        Field("partner_id"),
        Field("list_tag"),
        Field("voucher_code"),
        Field("webhook_status", enum=("SENT", "FAILED")),
        Field("credits", "amount", non_negative=True),
        Field("error_code"),
        Field("error_message"),
    ),
    rules=(
        _required_when("error_code", "status", "FAILED"),
        _required_when("error_message", "status", "FAILED"),
        Rule(
            name="points > 0 on a successful LOYALTY_POINTS event",
            reason=BAD_AMOUNT,
            condition=(pl.col("reward_type") == "LOYALTY_POINTS") & (pl.col("status") == "SUCCESS"),
            requirement=pl.col("points").is_null() | (pl.col("points") > 0),
        ),
        Rule(
            name="a CUSTOM_REWARD event succeeds exactly when webhook_status is SENT",
            reason=RULE_VIOLATION,
            condition=pl.col("reward_type") == "CUSTOM_REWARD",
            requirement=(pl.col("status") == "SUCCESS") == (pl.col("webhook_status") == "SENT"),
        ),
    ),
)

COUPON_REDEMPTIONS = Stream(
    name="coupon_redemptions",
    id_field="redemption_id",
    time_field="redeemed_at",
    fields=(
        Field("redemption_id", required=True),
        Field("coupon_code", required=True),
        Field("campaign_id", required=True),
        Field("user_id", required=True),
        Field("benefit", required=True, enum=("DISCOUNT", "CASHBACK")),
        Field("discount_amount", "amount", non_negative=True),
        Field("cashback_points", "amount", non_negative=True),
        Field("redeemed_at", "timestamp", required=True),
    ),
)

VOUCHER_ASSIGNMENTS = Stream(
    name="voucher_assignments",
    id_field="assignment_id",
    time_field="assigned_at",
    fields=(
        Field("assignment_id", required=True),
        Field("partner_id", required=True),
        Field("list_tag", required=True),
        Field("voucher_code", required=True),
        Field("user_id", required=True),
        Field("campaign_id"),
        Field("assigned_at", "timestamp", required=True),
    ),
)

STREAMS: dict[str, Stream] = {
    s.name: s for s in (WALLET_TRANSACTIONS, REWARD_EVENTS, COUPON_REDEMPTIONS, VOUCHER_ASSIGNMENTS)
}

# Dimensions are full snapshots; the id is the key within one snapshot.
CAMPAIGNS = Stream(
    name="campaigns",
    id_field="campaign_id",
    time_field="",
    fields=(
        Field("campaign_id", required=True),
        Field("name", required=True),
        Field("reward_type", required=True, enum=REWARD_TYPES),
        Field("coupon_type", enum=("SINGLE", "BULK")),
        Field("coupon_benefit", enum=("DISCOUNT", "CASHBACK")),
        Field("custom_reward_kind", enum=("SELF_MANAGED_WALLET_CREDITS", "PHYSICAL_DIGITAL")),
        Field("segment_kind", required=True, enum=("PAST_BEHAVIOR", "LIVE_BEHAVIOR")),
        Field(
            "status",
            required=True,
            enum=("DRAFT", "SCHEDULED", "RUNNING", "COMPLETED", "STOPPED"),
        ),
        Field("wallet_id"),
        Field("start_at", "timestamp"),
        Field("end_at", "timestamp"),
    ),
)
WALLETS = Stream(
    name="wallets",
    id_field="wallet_id",
    time_field="",
    fields=(
        Field("wallet_id", required=True),
        Field("name", required=True),
        Field("status", required=True, enum=("ACTIVE", "INACTIVE")),
    ),
)
PARTNERS = Stream(
    name="partners",
    id_field="partner_id",
    time_field="",
    fields=(Field("partner_id", required=True), Field("name", required=True)),
)
VOUCHER_LISTS = Stream(
    name="voucher_lists",
    id_field="list_tag",
    time_field="",
    key_fields=("partner_id", "list_tag"),
    fields=(
        Field("partner_id", required=True),
        Field("list_tag", required=True),
        Field("name", required=True),
        Field("status"),
    ),
)

DIMENSIONS: dict[str, Stream] = {s.name: s for s in (CAMPAIGNS, WALLETS, PARTNERS, VOUCHER_LISTS)}


def pandera_schema(stream: Stream) -> pa.DataFrameSchema:
    """The Pandera schema of a stream's typed frame.

    Built-in checks map to reasons by their names; cross-field rules carry their reason
    code before a colon in their name (`reason_of_check`).
    """
    columns = {}
    for f in stream.fields:
        checks = []
        if f.enum:
            checks.append(pa.Check.isin(list(f.enum)))
        if f.positive:
            checks.append(pa.Check.gt(0))
        if f.non_negative:
            checks.append(pa.Check.ge(0))
        if f.required and f.kind == "string" and not f.enum:
            # "" or "  " is no id and no name: a required text that is blank is missing.
            checks.append(pa.Check(_not_blank, name=f"{MISSING_FIELD}: blank text"))
        if f.kind == "timestamp":
            # The classifier refuses these first, with a detail; the contract says it too.
            checks.append(pa.Check(_in_range, name=f"{BAD_TIMESTAMP}: {TIMESTAMP_RANGE_TEXT}"))
        columns[f.name] = pa.Column(f.dtype, checks=checks, nullable=not f.required)
    frame_checks = [
        pa.Check(
            _rule_check(rule),
            name=f"{rule.reason}: {rule.name}",
        )
        for rule in stream.rules
    ]
    return pa.DataFrameSchema(columns, checks=frame_checks, strict=False, ordered=False)


def _in_range(data) -> pl.LazyFrame:
    ts = pl.col(data.key)
    return data.lazyframe.select(ts.is_null() | ((ts >= TIMESTAMP_MIN) & (ts < TIMESTAMP_MAX)))


def _not_blank(data) -> pl.LazyFrame:
    return data.lazyframe.select(pl.col(data.key).str.strip_chars().str.len_chars() > 0)


def _rule_check(rule: Rule):
    def check(data) -> pl.LazyFrame:
        ok = ~rule.condition.fill_null(False) | rule.requirement.fill_null(False)
        return data.lazyframe.select(ok.alias("ok"))

    return check


def reason_of_check(check: str) -> str:
    """Map a Pandera failure-case `check` to a reason code."""
    if check == "not_nullable":
        return MISSING_FIELD
    if check in ("dtype", "column_in_dataframe"):
        return WRONG_TYPE
    if check.startswith("isin("):
        return BAD_ENUM
    if check.startswith("greater_than"):
        return BAD_AMOUNT
    code = check.split(":", 1)[0]
    return code if code in REASON_CODES else RULE_VIOLATION
