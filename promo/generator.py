"""Deterministic sample data: raw promo logs that follow contracts/raw_promo_logs.md.

The generator simulates a small promotions platform day by day (UTC days): users earn and
spend wallet points, campaigns hand out points, coupons, partner vouchers and webhook
rewards, coupons get redeemed, credits expire. Every day's records are written to that
day's folders and forgotten; only compact per-user state (balances, the last credit and
debit per user and wallet) and a few queues of future events (coupon redemptions, point
expiries) survive from one day to the next, so memory does not grow with the number of
days.

Three independent random streams keep the output stable where it matters: the data
stream decides the valid records, the layout stream the file cuts and compression, the
noise stream the bad lines and redeliveries. Changing `bad_rate` therefore changes the
noise but not the valid records' content.

Bad lines are extra lines, never a valid record spoiled: each is a copy of the valid
record that follows it, broken in exactly one way and (except for `id_conflict`) given an
id that nothing else uses, so the count per kind is exact and no valid record goes
missing from the cross-stream links.
"""

from __future__ import annotations

import heapq
import math
import random
import tempfile
from array import array
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import orjson
from isal import igzip
from tqdm import tqdm

from promo.storage import Storage

BAD_KINDS = (
    "invalid_json",
    "missing_field",
    "wrong_type",
    "bad_enum",
    "bad_amount",
    "bad_timestamp",
    "wrong_date_folder",
    "id_conflict",
)
STREAMS = ("wallet_transactions", "reward_events", "coupon_redemptions", "voucher_assignments")

DAY_MS = 86_400_000
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


# --------------------------------------------------------------------------- summaries


@dataclass
class StreamSummary:
    lines: int = 0  # lines written (all kinds)
    records: int = 0  # distinct valid records (what ingestion should accept)
    redeliveries: int = 0  # exact re-sends of a valid record: duplicates for ingestion
    bad: dict[str, int] = field(default_factory=dict)  # bad lines by kind, only kinds > 0
    files: int = 0


@dataclass
class GenerationSummary:
    streams: dict[str, StreamSummary]
    dimensions: dict[str, int]

    def as_dict(self) -> dict:
        return {
            "streams": {
                name: {
                    "lines": s.lines,
                    "records": s.records,
                    "redeliveries": s.redeliveries,
                    "bad": dict(s.bad),
                    "files": s.files,
                }
                for name, s in self.streams.items()
            },
            "dimensions": dict(self.dimensions),
        }


# --------------------------------------------------------------------------- timestamps

# (minutes east of UTC, suffix). "Z" dominates as it does in real producer logs; the others
# are what services in India, Nepal, Japan, Europe and the Americas write.
_OFFSETS = ((0, "Z"),) * 5 + (
    (0, "+00:00"),
    (330, "+05:30"),
    (330, "+05:30"),
    (345, "+05:45"),
    (540, "+09:00"),
    (60, "+01:00"),
    (-480, "-08:00"),
    (-300, "-05:00"),
    (-210, "-03:30"),
)
_STAMP_CHOICES = 2 * len(_OFFSETS)  # each offset with and without milliseconds


def day_start_ms(day: date) -> int:
    return (day.toordinal() - _EPOCH_ORDINAL) * DAY_MS


class _Clock:
    """RFC 3339 text for epoch milliseconds, in any offset.

    datetime objects cost ~2 us per timestamp; integer arithmetic with the date part cached
    per day and the time of day looked up in a table of its 86,400 seconds costs a third of
    that, which matters at millions of records.
    """

    def __init__(self) -> None:
        self._prefixes: dict[int, str] = {}  # epoch day -> "YYYY-MM-DDT"
        self._seconds = [
            f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(DAY_MS // 1000)
        ]
        # Every choice: (offset in ms, suffix, with milliseconds).
        self._choices = [
            (minutes * 60_000, suffix, millis) for minutes, suffix in _OFFSETS for millis in (0, 1)
        ]

    def date_text(self, epoch_day: int) -> str:
        return self._prefix(epoch_day)[:-1]

    def _prefix(self, epoch_day: int) -> str:
        prefix = self._prefixes.get(epoch_day)
        if prefix is None:
            prefix = date.fromordinal(_EPOCH_ORDINAL + epoch_day).isoformat() + "T"
            self._prefixes[epoch_day] = prefix
        return prefix

    def stamp(self, ts: int, pick: float) -> str:
        """`pick` in [0, 1) chooses the offset and whether milliseconds are written.

        Without milliseconds the instant is truncated to its second, which never moves it
        across a UTC midnight (midnight is a whole second), so the folder date holds.
        """
        offset, suffix, with_millis = self._choices[int(pick * _STAMP_CHOICES)]
        epoch_day, rem = divmod(ts + offset, DAY_MS)
        second, millis = divmod(rem, 1000)
        prefix = self._prefixes.get(epoch_day) or self._prefix(epoch_day)
        if with_millis:
            return f"{prefix}{self._seconds[second]}.{millis:03d}{suffix}"
        return f"{prefix}{self._seconds[second]}{suffix}"


# Activity by UTC hour: the user base spans Asia, Europe and the Americas, so no hour is
# empty, with a trough around 01-03 UTC and a plateau in the afternoon.
_HOUR_WEIGHTS = (3, 2, 2, 2, 3, 4, 5, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 8, 7, 6, 5, 4, 3)
_HOUR_CUM = tuple(sum(_HOUR_WEIGHTS[: h + 1]) for h in range(24))
_HOURS = tuple(range(24))
_NEAR_MIDNIGHT_SHARE = 0.005  # events within 2 minutes of a UTC midnight: folder edge cases
_NEAR_MIDNIGHT_MS = 120_000

# Monday..Sunday: shoppers are busier on Friday and the weekend. Mean 1.0.
_WEEKDAY_FACTOR = (0.90, 0.88, 0.92, 0.96, 1.06, 1.20, 1.08)


def _num(cents: int) -> int | float:
    """Points as JSON: whole values as integers, others with their (at most 2) decimals."""
    return cents // 100 if cents % 100 == 0 else cents / 100


def _scramble(n: int) -> str:
    """A code-like, distinct token for each n < 2**32 (odd multiplier: a bijection)."""
    return format((n * 0x9E3779B1) & 0xFFFFFFFF, "08X")


# --------------------------------------------------------------------------- catalog

_WALLETS = (
    ("wlt_main", "Main Rewards Wallet", "ACTIVE"),
    ("wlt_travel", "Travel Miles Wallet", "ACTIVE"),
    ("wlt_legacy", "Legacy Card Wallet", "INACTIVE"),
)
_MAIN, _TRAVEL, _LEGACY = 0, 1, 2

_PARTNERS = (
    ("prt_brewhouse", "BrewHouse Coffee"),
    ("prt_cinemax", "CineMax Theatres"),
    ("prt_fitzone", "FitZone Gyms"),
)


@dataclass
class _VoucherList:
    partner_id: str
    list_tag: str
    name: str
    code_prefix: str
    capacity: int | None  # None: refilled by the partner, never runs out
    paused: bool = False
    used: int = 0

    @property
    def exhausted(self) -> bool:
        return self.capacity is not None and self.used >= self.capacity

    @property
    def status(self) -> str:
        return "PAUSED" if self.paused else "EXHAUSTED" if self.exhausted else "ACTIVE"

    def next_code(self) -> str:
        self.used += 1
        return f"{self.code_prefix}-{_scramble(self.used)}"


def _voucher_lists(scale: int, days: int) -> list[_VoucherList]:
    # The cinema list holds ~60 % of what its campaign will ask for over the range, so it
    # runs out part-way and the campaign starts failing with VOUCHER_LIST_EXHAUSTED.
    cinema_capacity = max(3, int(scale * _MOVIE_WEIGHT * days * 0.6))
    return [
        _VoucherList("prt_brewhouse", "free-latte", "Free latte", "LATTE", None),
        _VoucherList("prt_brewhouse", "pastry-bogo", "Pastry buy one get one", "BOGO", None),
        _VoucherList("prt_cinemax", "movie-ticket", "Movie ticket", "CINE", cinema_capacity),
        _VoucherList("prt_fitzone", "day-pass", "Gym day pass", "FITD", None),
        _VoucherList("prt_fitzone", "trial-week", "Trial week", "FITW", None, paused=True),
    ]


_LOYALTY, _COUPON = "LOYALTY_POINTS", "COUPON"
_PARTNER, _CUSTOM = "PARTNER_VOUCHER", "CUSTOM_REWARD"
_LIVE, _PAST = "LIVE_BEHAVIOR", "PAST_BEHAVIOR"
_MOVIE_WEIGHT = 0.02
_BURST_FACTOR = 3.0  # a live campaign's busiest day: a push notification or a sale


@dataclass
class _Campaign:
    campaign_id: str
    name: str
    reward_type: str
    segment_kind: str
    weight: float  # reward events per day, as a share of `scale`
    start_day: int  # relative to the first generated day
    end_day: int  # exclusive
    status: str | None = None  # None: derived from the dates
    wallet: int | None = None
    points_menu: tuple[int, ...] = ()  # loyalty points per reward, in cents
    coupon_type: str | None = None
    coupon_benefit: str | None = None
    code: str = ""  # the single code, or the prefix of bulk codes
    voucher_list: int | None = None
    custom_kind: str | None = None
    blast_minute: int | None = None  # past-behaviour segments are sent in one daily batch
    burst_day: int | None = None
    issued: int = 0  # bulk codes handed out so far

    def active_on(self, offset: int) -> bool:
        return self.status not in ("DRAFT", "SCHEDULED") and self.start_day <= offset < self.end_day


def _campaign_plan(days: int) -> list[_Campaign]:
    """About a dozen campaigns covering every reward type, segment kind and status."""
    mid, legacy_off = days // 2, _legacy_cutoff(days)
    return [
        _Campaign(
            "cmp_everyday_points",
            "Everyday Points",
            _LOYALTY,
            _LIVE,
            0.14,
            -60,
            days + 90,
            wallet=_MAIN,
            points_menu=(1000, 2500, 5000, 1250, 750),
        ),
        _Campaign(
            "cmp_travel_miles",
            "Travel Miles Boost",
            _LOYALTY,
            _PAST,
            0.06,
            -14,
            days + 30,
            wallet=_TRAVEL,
            points_menu=(20000, 15000, 5000, 2575),
            blast_minute=570,
        ),
        # Stopped by hand a while after its wallet was switched off: failures in between.
        _Campaign(
            "cmp_legacy_card",
            "Legacy Card Points",
            _LOYALTY,
            _LIVE,
            0.03,
            -120,
            min(days, legacy_off + max(1, days // 4)),
            status="STOPPED",
            wallet=_LEGACY,
            points_menu=(500, 1000),
        ),
        _Campaign(
            "cmp_flash_points",
            "Flash Sale Points",
            _LOYALTY,
            _LIVE,
            0.12,
            mid,
            mid + max(1, days // 5),
            wallet=_MAIN,
            points_menu=(10000, 2500, 3333),
        ),
        _Campaign(
            "cmp_welcome10",
            "Welcome 10% Off",
            _COUPON,
            _LIVE,
            0.04,
            -30,
            days + 30,
            coupon_type="SINGLE",
            coupon_benefit="DISCOUNT",
            code="WELCOME10",
        ),
        _Campaign(
            "cmp_weekend_cashback",
            "Weekend Cashback Code",
            _COUPON,
            _PAST,
            0.03,
            -7,
            days + 14,
            coupon_type="SINGLE",
            coupon_benefit="CASHBACK",
            code="WKND50",
            blast_minute=1425,
        ),  # 23:45 UTC: a batch that runs into midnight
        _Campaign(
            "cmp_personal_discount",
            "Personal Discount Codes",
            _COUPON,
            _LIVE,
            0.04,
            -10,
            days + 20,
            coupon_type="BULK",
            coupon_benefit="DISCOUNT",
            code="PDC",
        ),
        _Campaign(
            "cmp_cashback_vault",
            "Cashback Vault",
            _COUPON,
            _LIVE,
            0.04,
            -3,
            days + 10,
            coupon_type="BULK",
            coupon_benefit="CASHBACK",
            code="CBV",
        ),
        _Campaign(
            "cmp_free_latte",
            "Free Latte Friday",
            _PARTNER,
            _LIVE,
            0.03,
            -30,
            days + 60,
            voucher_list=0,
        ),
        _Campaign(
            "cmp_movie_night",
            "Movie Night Voucher",
            _PARTNER,
            _PAST,
            _MOVIE_WEIGHT,
            -5,
            days + 30,
            voucher_list=2,
            blast_minute=780,
        ),
        _Campaign(
            "cmp_streak_credits",
            "Streak Credits",
            _CUSTOM,
            _LIVE,
            0.03,
            -20,
            days + 40,
            custom_kind="SELF_MANAGED_WALLET_CREDITS",
        ),
        _Campaign(
            "cmp_merch_pack",
            "Merch Pack Giveaway",
            _CUSTOM,
            _PAST,
            0.02,
            -20,
            max(1, 3 * days // 5),
            custom_kind="PHYSICAL_DIGITAL",
            blast_minute=1035,
        ),
        _Campaign(
            "cmp_holiday_double",
            "Holiday Double Points",
            _LOYALTY,
            _LIVE,
            0.1,
            days + 10,
            days + 40,
            status="DRAFT",
            wallet=_MAIN,
            points_menu=(2000,),
        ),
        _Campaign(
            "cmp_new_year_codes",
            "New Year Codes",
            _COUPON,
            _LIVE,
            0.04,
            days + 3,
            days + 33,
            coupon_type="BULK",
            coupon_benefit="DISCOUNT",
            code="NY",
        ),
    ]


def _legacy_cutoff(days: int) -> int:
    """The day (relative) from which the legacy wallet is inactive."""
    return max(1, days // 2)


def _settle_statuses(campaigns: list[_Campaign], days: int) -> None:
    """Statuses as seen at the end of the generated range."""
    for camp in campaigns:
        if camp.status is None:
            if camp.start_day >= days:
                camp.status = "SCHEDULED"
            elif camp.end_day <= days:
                camp.status = "COMPLETED"
            else:
                camp.status = "RUNNING"


def _pick_burst_days(campaigns: list[_Campaign], days: int, rng: random.Random) -> None:
    """About one burst per live campaign every two weeks, so a short range is not made
    mostly of burst days."""
    for camp in campaigns:
        lo, hi = max(0, camp.start_day), min(days, camp.end_day)
        if camp.segment_kind != _LIVE or camp.status == "DRAFT" or lo >= hi:
            continue
        if rng.random() < (hi - lo) / 14:
            camp.burst_day = lo + int(rng.random() * (hi - lo))


# --------------------------------------------------------------------------- stream specs


@dataclass(frozen=True)
class _Spec:
    """What the noise needs to know about a stream to break its records in one way."""

    name: str
    id_field: str
    id_prefix: str
    time_field: str
    fields: tuple[str, ...]  # the contract fields, in contract order
    required: tuple[str, ...]
    conditional: tuple[tuple[str, str, str], ...] = ()  # (field, required when field, == value)
    enum_breaks: tuple[tuple[str, tuple[str, ...]], ...] = ()
    amount_fields: tuple[str, ...] = ()
    amount_rule: str = ""  # positive_2dp | positive | non_negative

    def id_of(self, seq: int) -> str:
        return f"{self.id_prefix}{seq:010d}"


_SPECS = {
    "wallet_transactions": _Spec(
        "wallet_transactions",
        "transaction_id",
        "wtx_",
        "occurred_at",
        fields=(
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
        required=(
            "transaction_id",
            "wallet_id",
            "user_id",
            "transaction_type",
            "transaction_source",
            "points",
            "occurred_at",
        ),
        conditional=(
            ("campaign_id", "transaction_source", "PROMO_CAMPAIGN"),
            ("coupon_code", "transaction_source", "CASHBACK_COUPON"),
        ),
        enum_breaks=(
            ("transaction_type", ("GIFT", "credit", "TRANSFER")),
            ("transaction_source", ("PARTNER", "promo_campaign")),
        ),
        amount_fields=("points",),
        amount_rule="positive_2dp",
    ),
    "reward_events": _Spec(
        "reward_events",
        "event_id",
        "rwe_",
        "occurred_at",
        fields=(
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
        required=("event_id", "campaign_id", "user_id", "reward_type", "status", "occurred_at"),
        conditional=(("error_code", "status", "FAILED"), ("error_message", "status", "FAILED")),
        enum_breaks=(
            ("status", ("success", "PENDING", "Failed")),
            ("reward_type", ("CASHBACK", "POINTS")),
        ),
        amount_fields=("points",),
        amount_rule="positive",
    ),
    "coupon_redemptions": _Spec(
        "coupon_redemptions",
        "redemption_id",
        "red_",
        "redeemed_at",
        fields=(
            "redemption_id",
            "coupon_code",
            "campaign_id",
            "user_id",
            "benefit",
            "discount_amount",
            "cashback_points",
            "redeemed_at",
        ),
        required=(
            "redemption_id",
            "coupon_code",
            "campaign_id",
            "user_id",
            "benefit",
            "redeemed_at",
        ),
        enum_breaks=(("benefit", ("FREE_SHIPPING", "discount")),),
        amount_fields=("discount_amount", "cashback_points"),
        amount_rule="non_negative",
    ),
    "voucher_assignments": _Spec(
        "voucher_assignments",
        "assignment_id",
        "vas_",
        "assigned_at",
        fields=(
            "assignment_id",
            "partner_id",
            "list_tag",
            "voucher_code",
            "user_id",
            "campaign_id",
            "assigned_at",
        ),
        required=(
            "assignment_id",
            "partner_id",
            "list_tag",
            "voucher_code",
            "user_id",
            "assigned_at",
        ),
    ),
}


class _StreamState:
    """What one stream carries from line to line and day to day."""

    def __init__(self, spec: _Spec, noise: _Noise):
        self.spec = spec
        self.summary = StreamSummary()
        self.seq = 0
        self.prev: dict | None = None  # the last valid record written: id_conflict target
        self.older: dict | None = None  # a valid record of an earlier day: same purpose
        self.bad_gap = noise.gap(noise.bad_rate)
        self.redelivery_gap = noise.gap(noise.redelivery_rate)

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def new_id(self) -> str:
        return self.spec.id_of(self.next_seq())


# --------------------------------------------------------------------------- noise


class _Noise:
    """Bad lines and redeliveries: the imperfections ingestion has to survive."""

    def __init__(self, seed: int, bad_rate: float, redelivery_rate: float, clock: _Clock):
        self.rng = random.Random(f"noise-{seed}")
        self.bad_rate = bad_rate
        self.redelivery_rate = redelivery_rate
        self.clock = clock
        # Kinds are taken in turn (from a random start) rather than drawn, so that every
        # kind shows up as soon as there are a handful of bad lines.
        self._turn = int(self.rng.random() * len(BAD_KINDS))

    def gap(self, rate: float) -> int:
        """Lines until the next event of probability `rate` per line (geometric), so the
        hot path decrements a counter instead of drawing a number for every line."""
        if rate <= 0:
            return 1 << 62
        if rate >= 1:
            return 0
        return int(math.log(1.0 - self.rng.random()) / math.log(1.0 - rate))

    def bad_line(self, record: dict, ts: int, state: _StreamState) -> tuple[str, bytes]:
        for step in range(len(BAD_KINDS)):
            kind = BAD_KINDS[(self._turn + step) % len(BAD_KINDS)]
            line = _BREAKERS[kind](self, record, ts, state)
            if line is not None:  # a kind can be impossible for this record: take the next
                self._turn = (self._turn + step + 1) % len(BAD_KINDS)
                return kind, line
        raise AssertionError("invalid_json applies to every record")

    def redelivery(self, record: dict, line: bytes) -> bytes:
        """The same record again: the same bytes, its fields in another order, or another
        unknown extra field (contract fields equal, so it is the same record)."""
        pick = self.rng.random()
        if pick < 0.5:
            return line
        if pick < 0.75:
            return orjson.dumps(dict(reversed(record.items())))
        copy = {k: v for k, v in record.items() if k not in _EXTRA_FIELDS}
        copy["delivery_attempt"] = 2
        return orjson.dumps(copy)

    def pick(self, options: list | tuple) -> Any:
        return options[int(self.rng.random() * len(options))]


def _with_fresh_id(noise: _Noise, record: dict, state: _StreamState) -> dict:
    copy = dict(record)
    copy[state.spec.id_field] = state.new_id()
    return copy


def _break_json(noise: _Noise, record: dict, ts: int, state: _StreamState) -> bytes:
    text = orjson.dumps(_with_fresh_id(noise, record, state))
    way = int(noise.rng.random() * 4)
    if way == 0:  # the writer died mid-line: a proper prefix of an object never parses
        return text[: 1 + int(noise.rng.random() * (len(text) - 2))]
    if way == 1:  # valid JSON, but an array, not an object
        return b"[" + text + b"]"
    if way == 2:  # a proxy's error page ended up in the log
        return b"<html><body>502 Bad Gateway</body></html>"
    return text.replace(b'"', b"'")  # a Python repr instead of JSON


def _break_missing(noise: _Noise, record: dict, ts: int, state: _StreamState) -> bytes:
    spec = state.spec
    rec = _with_fresh_id(noise, record, state)
    options = [f for f in spec.required if f in rec]
    options += [f for f, when, value in spec.conditional if rec.get(when) == value and f in rec]
    del rec[noise.pick(options)]
    return orjson.dumps(rec)


def _break_type(noise: _Noise, record: dict, ts: int, state: _StreamState) -> bytes:
    spec = state.spec
    rec = _with_fresh_id(noise, record, state)
    options = ["user_id", spec.time_field]
    options += [f for f in spec.amount_fields if rec.get(f) is not None]
    name = noise.pick(options)
    if name == "user_id":
        rec[name] = int(rec[name].split("_")[1])  # "usr_0001234" -> 1234
    elif name == spec.time_field:
        rec[name] = ts // 1000  # epoch seconds, a number
    else:
        rec[name] = str(rec[name])  # "12.5"
    return orjson.dumps(rec)


def _break_enum(noise: _Noise, record: dict, ts: int, state: _StreamState) -> bytes | None:
    options = [(f, values) for f, values in state.spec.enum_breaks if f in record]
    if not options:
        return None
    name, values = noise.pick(options)
    rec = _with_fresh_id(noise, record, state)
    rec[name] = noise.pick(values)
    return orjson.dumps(rec)


def _break_amount(noise: _Noise, record: dict, ts: int, state: _StreamState) -> bytes | None:
    spec = state.spec
    options = [f for f in spec.amount_fields if record.get(f) is not None]
    if not options:
        return None
    name = noise.pick(options)
    rec = _with_fresh_id(noise, record, state)
    cents = round(abs(rec[name]) * 100) or 1
    if spec.amount_rule == "positive_2dp":
        rec[name] = noise.pick((0, -_num(cents), (cents * 10 + 5) / 1000))  # 12.345
    elif spec.amount_rule == "positive":
        rec[name] = noise.pick((0, -_num(cents)))
    else:
        rec[name] = -_num(cents)
    return orjson.dumps(rec)


def _break_timestamp(noise: _Noise, record: dict, ts: int, state: _StreamState) -> bytes:
    day_text = noise.clock.date_text(ts // DAY_MS)
    year, month, mday = day_text.split("-")
    rec = _with_fresh_id(noise, record, state)
    rec[state.spec.time_field] = noise.pick(
        (
            f"{year}-13-45T00:00:00Z",
            "yesterday",
            f"{day_text}T10:00:00",  # no offset
            f"{day_text}T25:61:00+05:30",
            f"{mday}/{month}/{year} 10:00",
        )
    )
    return orjson.dumps(rec)


def _break_date(noise: _Noise, record: dict, ts: int, state: _StreamState) -> bytes:
    rec = _with_fresh_id(noise, record, state)
    days = 1 + int(noise.rng.random() * 3)
    # Only backwards when the record has an expiry, so it never expires before it happens.
    if rec.get("expires_at") is None and noise.rng.random() < 0.5:
        shift = days * DAY_MS
    else:
        shift = -days * DAY_MS
    rec[state.spec.time_field] = noise.clock.stamp(ts + shift, noise.rng.random())
    return orjson.dumps(rec)


def _break_conflict(noise: _Noise, record: dict, ts: int, state: _StreamState) -> bytes | None:
    """This record's content under the id of an earlier valid record."""
    target = state.prev
    if state.older is not None and noise.rng.random() < 0.4:
        target = state.older
    if target is None or _same_contract_fields(record, target, state.spec):
        return None
    rec = dict(record)
    rec[state.spec.id_field] = target[state.spec.id_field]
    return orjson.dumps(rec)


def _same_contract_fields(a: dict, b: dict, spec: _Spec) -> bool:
    return all(a.get(f) == b.get(f) for f in spec.fields if f != spec.id_field)


_BREAKERS = {
    "invalid_json": _break_json,
    "missing_field": _break_missing,
    "wrong_type": _break_type,
    "bad_enum": _break_enum,
    "bad_amount": _break_amount,
    "bad_timestamp": _break_timestamp,
    "wrong_date_folder": _break_date,
    "id_conflict": _break_conflict,
}
_EXTRA_FIELDS = ("trace_id", "producer", "delivery_attempt")


# --------------------------------------------------------------------------- output


class _Output:
    """Run-wide output plumbing: where files go and how they are cut and compressed."""

    def __init__(self, storage: Storage, tmp: Path, seed: int, gzip_share: float, noise: _Noise):
        self.storage = storage
        self.tmp = tmp
        self.layout = random.Random(f"layout-{seed}")
        self.gzip_share = gzip_share
        self.noise = noise

    def publish(self, local: Path, key: str) -> None:
        self.storage.put_file(local, key)
        local.unlink()


class _FolderWriter:
    """One stream's lines for one UTC day, spread over several files of its folder.

    Records arrive in time order. Files are cut at random times of the day, as a producer
    rotating its log would, so file-name order is time order and "earlier" means the same
    thing to a reader going through the folder as it does to the simulation. The writer
    mixes in bad lines and redeliveries and counts every line.
    """

    _FLUSH_LINES = 4096

    def __init__(self, out: _Output, state: _StreamState, day: date, expected_lines: int):
        self._out, self._state = out, state
        self._prefix = f"events/{state.spec.name}/date={day.isoformat()}/"
        n_files = min(48, 2 + int(out.layout.random() * 3) + expected_lines // 100_000)
        start = day_start_ms(day)
        cuts = sorted(start + int(out.layout.random() * DAY_MS) for _ in range(n_files - 1))
        self._cuts = [*cuts, start + DAY_MS]
        self._gzip = [out.layout.random() < out.gzip_share for _ in range(n_files)]
        self._index = 0
        self._next_cut = self._cuts[0]
        self._buffer: list[bytes] = []
        self._raw: Any = None
        self._sink: Any = None
        self._local: Path | None = None
        self._line_no = 0  # lines written to this folder
        self._records = 0
        self._pending: list[tuple[int, int, bytes]] = []  # (due line, order, redelivered line)
        self._order = 0

    def write(self, record: dict, ts: int) -> None:
        if ts >= self._next_cut:
            self._rotate(ts)
        if self._pending and self._pending[0][0] <= self._line_no:
            self._flush_due()
        state = self._state
        state.bad_gap -= 1
        if state.bad_gap < 0:
            self._write_bad(record, ts)
        line = orjson.dumps(record)
        if self._sink is None or len(self._buffer) >= self._FLUSH_LINES:
            self._emit(line)
        else:  # the common case of _emit, inlined: this runs for every record
            self._buffer.append(line)
            self._line_no += 1
        self._records += 1
        state.prev = record
        state.redelivery_gap -= 1
        if state.redelivery_gap < 0:
            self._schedule_redelivery(record, line)

    def close(self) -> None:
        """Flush redeliveries still waiting (they stay in this day's folder) and publish."""
        while self._pending:
            self._emit(heapq.heappop(self._pending)[2])
            self._state.summary.redeliveries += 1
        self._close_file()
        summary = self._state.summary
        summary.lines += self._line_no
        summary.records += self._records
        if self._state.prev is not None:
            self._state.older = self._state.prev

    def _write_bad(self, record: dict, ts: int) -> None:
        noise, state = self._out.noise, self._state
        kind, line = noise.bad_line(record, ts, state)
        self._emit(line)
        state.summary.bad[kind] = state.summary.bad.get(kind, 0) + 1
        state.bad_gap = noise.gap(noise.bad_rate)

    def _schedule_redelivery(self, record: dict, line: bytes) -> None:
        noise = self._out.noise
        # 1 to 40 lines later: the same file or, near a cut, the next file of the folder.
        due = self._line_no + 1 + int(noise.rng.random() * 40)
        self._order += 1
        heapq.heappush(self._pending, (due, self._order, noise.redelivery(record, line)))
        self._state.redelivery_gap = noise.gap(noise.redelivery_rate)

    def _flush_due(self) -> None:
        while self._pending and self._pending[0][0] <= self._line_no:
            self._emit(heapq.heappop(self._pending)[2])
            self._state.summary.redeliveries += 1

    def _rotate(self, ts: int) -> None:
        self._close_file()
        while ts >= self._next_cut:
            self._index += 1
            self._next_cut = self._cuts[self._index]

    def _emit(self, line: bytes) -> None:
        if self._sink is None:
            self._open_file()
        self._buffer.append(line)
        self._line_no += 1
        if len(self._buffer) >= self._FLUSH_LINES:
            self._flush_buffer()

    def _flush_buffer(self) -> None:
        if self._buffer:
            self._buffer.append(b"")
            self._sink.write(b"\n".join(self._buffer))
            self._buffer = []

    def _open_file(self) -> None:
        self._local = self._out.tmp / f"{self._state.spec.name}.part"
        self._raw = self._local.open("wb")
        if self._gzip[self._index]:
            # No file name and mtime 0 in the header: same input, same bytes.
            self._sink = igzip.IGzipFile(
                filename="", mode="wb", fileobj=self._raw, mtime=0, compresslevel=1
            )
        else:
            self._sink = self._raw

    def _close_file(self) -> None:
        if self._sink is None:
            return  # an empty time slice: no file rather than an empty one
        self._flush_buffer()
        if self._sink is not self._raw:
            self._sink.close()
        self._raw.close()
        suffix = ".jsonl.gz" if self._gzip[self._index] else ".jsonl"
        self._out.publish(self._local, f"{self._prefix}batch-{self._index:02d}{suffix}")
        self._state.summary.files += 1
        self._sink = self._raw = self._local = None


# --------------------------------------------------------------------------- the world

# Organic wallet activity (not caused by another stream), by transaction kind. Kinds that
# turn out impossible for the chosen user (a debit with no balance, a refund with nothing
# to refund) become an ordinary earn credit.
_EARN, _BONUS, _SPEND, _PROMISE, _REVERSE, _REFUND = range(6)
_ORGANIC_KINDS = (_EARN, _BONUS, _SPEND, _PROMISE, _REVERSE, _REFUND)
_ORGANIC_WEIGHTS = (0.42, 0.06, 0.30, 0.08, 0.05, 0.09)
_ORGANIC_CUM = tuple(sum(_ORGANIC_WEIGHTS[: i + 1]) for i in range(len(_ORGANIC_WEIGHTS)))
# Organic transactions per day as a share of `scale`; campaign credits, cashback credits
# and expiries make up the rest (~0.35 over a month; more on burst days).
_ORGANIC_SHARE = 0.65
_CAMPAIGNLESS_VOUCHERS = 0.012  # assignments by the voucher service outside campaigns
_REDEEM_PROBABILITY = 0.55
_YEAR_MS = 365 * DAY_MS

# Derived wallet intents, merged into the organic flow by time.
_PROMO_CREDIT, _CASHBACK_CREDIT, _EXPIRY = range(3)

_USER_STRIDE = 2_147_483_647  # prime: spreads heavy users over the id space
_WALLET_IDS = tuple(w[0] for w in _WALLETS)


class _World:
    """The promotions platform: users, balances, campaigns, voucher stock, pending events.

    Per user it keeps only integers in flat arrays (balance, last reversible credit, last
    refundable debit per wallet: ~120 bytes per user); records are never kept.
    """

    def __init__(self, seed: int, scale: int, start: date, days: int, clock: _Clock):
        self.rng = random.Random(f"data-{seed}")
        self.scale = scale
        self.start = start
        self.days = days
        self.clock = clock
        self.range_end_ms = day_start_ms(start) + days * DAY_MS
        self.legacy_cutoff = _legacy_cutoff(days)
        self.n_users = max(100, 2 * scale)
        if self.n_users % _USER_STRIDE == 0:
            self.n_users += 1

        def zeros() -> list[array]:
            return [array("q", bytes(8 * self.n_users)) for _ in _WALLETS]

        self.balance = zeros()  # cents
        self.credit_seq, self.credit_cents = zeros(), zeros()  # 0: nothing to reverse
        self.debit_seq, self.debit_cents = zeros(), zeros()  # 0: nothing to refund
        # Users who recently earned or spent, per wallet (index + 1; 0 = empty slot): those
        # who spend, get reversed or refunded are mostly people with recent activity. The
        # rings hold minutes of activity; they are smaller at a small scale to fill quickly.
        self.recent = min(1024, max(16, scale // 20))
        self.earners = [array("q", bytes(8 * self.recent)) for _ in _WALLETS]
        self.spenders = [array("q", bytes(8 * self.recent)) for _ in _WALLETS]

        self.campaigns = _campaign_plan(days)
        _settle_statuses(self.campaigns, days)
        _pick_burst_days(self.campaigns, days, self.rng)
        self.lists = _voucher_lists(scale, days)
        self.redemptions: list[tuple] = []  # heap: (ts, order, campaign index, user, code)
        self.expiries: list[tuple] = []  # heap: (ts, order, wallet, user, credit seq, cents)
        self._order = 0

    # -- draws

    def order(self) -> int:
        self._order += 1
        return self._order

    def user(self) -> int:
        """A user index; low indices are the heavy users (density ~ 1/sqrt(x)): the top
        1 % of users make about 10 % of all activity."""
        r = self.rng.random()
        return int(self.n_users * r * r)

    def remember(self, ring: array, user: int) -> None:
        ring[int(self.rng.random() * self.recent)] = user + 1  # a random slot: bounded, no shifting

    def recall(self, ring: array) -> int:
        """Mostly a recently active user of the ring, sometimes anyone."""
        if self.rng.random() < 0.75:
            slot = ring[int(self.rng.random() * self.recent)]
            if slot:
                return slot - 1
        return self.user()

    def user_id(self, user: int) -> str:
        return f"usr_{(user * _USER_STRIDE + 7) % self.n_users:07d}"

    def count(self, mean: float) -> int:
        """A day's count around `mean` (+-10 %), rounded stochastically so small means
        still average out right."""
        value = mean * (0.9 + 0.2 * self.rng.random())
        whole = int(value)
        return whole + (1 if self.rng.random() < value - whole else 0)

    def cents(self, lo: int, hi: int) -> int:
        """An amount between lo and hi points: 60 % whole points, 40 % with cents."""
        if self.rng.random() < 0.6:
            return (lo + int(self.rng.random() * (hi - lo + 1))) * 100
        return lo * 100 + int(self.rng.random() * ((hi - lo) * 100 + 1)) or 1

    def stamp(self, ts: int) -> str:
        return self.clock.stamp(ts, self.rng.random())

    def live_times(self, day_ms: int, n: int) -> list[int]:
        """n sorted event times over the day, following user activity by hour."""
        rng = self.rng
        near = int(n * _NEAR_MIDNIGHT_SHARE + rng.random())
        hours = rng.choices(_HOURS, cum_weights=_HOUR_CUM, k=n - near)
        times = [day_ms + h * 3_600_000 + int(rng.random() * 3_600_000) for h in hours]
        for _ in range(near):
            edge = int(rng.random() * _NEAR_MIDNIGHT_MS)
            times.append(day_ms + edge if rng.random() < 0.5 else day_ms + DAY_MS - 1 - edge)
        times.sort()
        return times

    def blast_times(self, day_ms: int, n: int, minute: int) -> list[int]:
        """A scheduled batch send: n times within ~20 minutes after `minute` (UTC)."""
        begin = day_ms + minute * 60_000
        width = min(20 * 60_000, day_ms + DAY_MS - begin)
        return sorted(begin + int(self.rng.random() * width) for _ in range(n))

    def day_factor(self, day: date) -> float:
        return _WEEKDAY_FACTOR[day.weekday()]

    def optional(self, rec: dict, names: tuple[str, ...], values: dict) -> None:
        """Optional fields are written as null on some records and left out on others:
        consumers must accept both. A few records carry an unknown extra field."""
        if self.rng.random() < 0.55:
            for name in names:
                rec[name] = values.get(name)
        else:
            for name in names:
                value = values.get(name)
                if value is not None:
                    rec[name] = value
        if self.rng.random() < 0.02:
            rec[_EXTRA_FIELDS[0]] = f"{self.rng.getrandbits(64):016x}"

    # -- queues of future events

    def schedule_redemption(self, ts: int, campaign: int, user: int, code: str) -> None:
        # Most redemptions come within hours, some days later; at least a minute after.
        delay = 60_000 + int(self.rng.expovariate(1.0 / (18 * 3_600_000)))
        if ts + delay < self.range_end_ms:
            heapq.heappush(self.redemptions, (ts + delay, self.order(), campaign, user, code))

    def schedule_expiry(self, ts: int, wallet: int, user: int, seq: int, cents: int) -> None:
        if ts < self.range_end_ms:
            heapq.heappush(self.expiries, (ts, self.order(), wallet, user, seq, cents))

    @staticmethod
    def due(heap: list[tuple], before: int) -> list[tuple]:
        out = []
        while heap and heap[0][0] < before:
            out.append(heapq.heappop(heap))
        return out


# --------------------------------------------------------------------------- reward events

_REWARD_OPTIONAL = _SPECS["reward_events"].fields[6:]
_FAILURES = {
    _LOYALTY: (
        ("USER_NOT_ELIGIBLE", "user is not in the campaign segment"),
        ("DAILY_LIMIT_REACHED", "user already got the daily maximum of points"),
    ),
    _COUPON: (
        ("COUPON_LIMIT_REACHED", "campaign reached its coupon limit for the day"),
        ("USER_NOT_ELIGIBLE", "user is not in the campaign segment"),
    ),
    _PARTNER: (("USER_NOT_ELIGIBLE", "user is not in the campaign segment"),),
    _CUSTOM: (
        ("WEBHOOK_TIMEOUT", "webhook did not answer within 10 s"),
        ("WEBHOOK_HTTP_ERROR", "webhook answered HTTP 502"),
    ),
}
_FAILURE_RATE = {_LOYALTY: 0.04, _COUPON: 0.05, _PARTNER: 0.03, _CUSTOM: 0.12}


@dataclass
class _DayLinks:
    """Records one stream causes in another on the same day."""

    wallet: list[tuple] = field(default_factory=list)  # (ts, order, kind, wallet, user, cents, tag)
    vouchers: list[tuple] = field(default_factory=list)  # (ts, order, list index, code, user, cmp)


def _reward_slots(world: _World, offset: int, day_ms: int, factor: float) -> list[tuple]:
    """(time, campaign index) of every distribution attempt of the day, in time order."""
    slots: list[tuple] = []
    for index, camp in enumerate(world.campaigns):
        if not camp.active_on(offset):
            continue
        burst = _BURST_FACTOR if camp.burst_day == offset else 1.0
        n = world.count(world.scale * camp.weight * factor * burst)
        if camp.blast_minute is None:
            times = world.live_times(day_ms, n)
        else:
            times = world.blast_times(day_ms, n, camp.blast_minute)
        slots.extend((t, index) for t in times)
    slots.sort()
    return slots


def _write_reward_events(
    world: _World,
    writer: _FolderWriter,
    state: _StreamState,
    slots: list[tuple],
    offset: int,
    day_end: int,
    links: _DayLinks,
) -> None:
    for ts, index in slots:
        camp = world.campaigns[index]
        user = world.user()
        values = _REWARD_BUILDERS[camp.reward_type](
            world, camp, index, ts, user, offset, day_end, links
        )
        rec = {
            "event_id": state.new_id(),
            "campaign_id": camp.campaign_id,
            "user_id": world.user_id(user),
            "reward_type": camp.reward_type,
            "status": "FAILED" if "error_code" in values else "SUCCESS",
            "occurred_at": world.stamp(ts),
        }
        world.optional(rec, _REWARD_OPTIONAL, values)
        writer.write(rec, ts)


def _failure(world: _World, reward_type: str) -> dict | None:
    if world.rng.random() >= _FAILURE_RATE[reward_type]:
        return None
    code, message = _FAILURES[reward_type][int(world.rng.random() * len(_FAILURES[reward_type]))]
    return {"error_code": code, "error_message": message}


def _near(world: _World, ts: int, day_end: int, max_ms: int) -> int:
    """A moment shortly after ts, kept on the same UTC day (so in the same folder)."""
    return min(ts + 200 + int(world.rng.random() * max_ms), day_end - 1)


def _loyalty(
    world: _World,
    camp: _Campaign,
    index: int,
    ts: int,
    user: int,
    offset: int,
    day_end: int,
    links: _DayLinks,
) -> dict:
    wallet_id = _WALLETS[camp.wallet][0]
    if camp.wallet == _LEGACY and offset >= world.legacy_cutoff:
        return {
            "wallet_id": wallet_id,
            "error_code": "WALLET_INACTIVE",
            "error_message": f"wallet {wallet_id} is inactive",
        }
    failed = _failure(world, _LOYALTY)
    if failed:
        return {"wallet_id": wallet_id, **failed}
    cents = camp.points_menu[int(world.rng.random() * len(camp.points_menu))]
    credit_ts = _near(world, ts, day_end, 5000)
    links.wallet.append(
        (credit_ts, world.order(), _PROMO_CREDIT, camp.wallet, user, cents, camp.campaign_id)
    )
    return {"wallet_id": wallet_id, "points": _num(cents)}


def _coupon(
    world: _World,
    camp: _Campaign,
    index: int,
    ts: int,
    user: int,
    offset: int,
    day_end: int,
    links: _DayLinks,
) -> dict:
    failed = _failure(world, _COUPON)
    if failed:
        return failed
    if camp.coupon_type == "SINGLE":
        code = camp.code
    else:
        camp.issued += 1
        code = f"{camp.code}-{_scramble(camp.issued)}"
    if world.rng.random() < _REDEEM_PROBABILITY:
        world.schedule_redemption(ts, index, user, code)
    return {"coupon_code": code}


def _partner(
    world: _World,
    camp: _Campaign,
    index: int,
    ts: int,
    user: int,
    offset: int,
    day_end: int,
    links: _DayLinks,
) -> dict:
    stock = world.lists[camp.voucher_list]
    where = {"partner_id": stock.partner_id, "list_tag": stock.list_tag}
    if stock.exhausted:
        return {
            **where,
            "error_code": "VOUCHER_LIST_EXHAUSTED",
            "error_message": f"voucher list {stock.list_tag} has no codes left",
        }
    failed = _failure(world, _PARTNER)
    if failed:
        return {**where, **failed}
    code = stock.next_code()
    assigned = _near(world, ts, day_end, 2000)
    links.vouchers.append(
        (assigned, world.order(), camp.voucher_list, code, user, camp.campaign_id)
    )
    return {**where, "voucher_code": code}


def _custom(
    world: _World,
    camp: _Campaign,
    index: int,
    ts: int,
    user: int,
    offset: int,
    day_end: int,
    links: _DayLinks,
) -> dict:
    failed = _failure(world, _CUSTOM)
    if failed:
        return {"webhook_status": "FAILED", **failed}
    values: dict[str, Any] = {"webhook_status": "SENT"}
    if camp.custom_kind == "SELF_MANAGED_WALLET_CREDITS":
        values["credits"] = _num(world.cents(5, 50))
    return values


_REWARD_BUILDERS = {_LOYALTY: _loyalty, _COUPON: _coupon, _PARTNER: _partner, _CUSTOM: _custom}


# --------------------------------------------------------------------------- redemptions


def _write_redemptions(
    world: _World,
    writer: _FolderWriter,
    state: _StreamState,
    due: list[tuple],
    day_end: int,
    links: _DayLinks,
) -> None:
    for ts, _order, index, user, code in due:
        camp = world.campaigns[index]
        rec = {
            "redemption_id": state.new_id(),
            "coupon_code": code,
            "campaign_id": camp.campaign_id,
            "user_id": world.user_id(user),
            "benefit": camp.coupon_benefit,
        }
        if camp.coupon_benefit == "CASHBACK":
            cents = world.cents(5, 50)
            values = {"cashback_points": _num(cents)}
            credit_ts = _near(world, ts, day_end, 30_000)
            links.wallet.append(
                (credit_ts, world.order(), _CASHBACK_CREDIT, _MAIN, user, cents, code)
            )
        else:
            values = {"discount_amount": _num(world.cents(1, 40))}
        world.optional(rec, ("discount_amount", "cashback_points"), values)
        rec["redeemed_at"] = world.stamp(ts)
        writer.write(rec, ts)


# --------------------------------------------------------------------------- vouchers


def _campaignless_vouchers(world: _World, day_ms: int, factor: float) -> list[tuple]:
    """Codes the voucher service hands out on its own (support gestures, partner apps)."""
    open_lists = [i for i, s in enumerate(world.lists) if not s.paused and not s.exhausted]
    out = []
    for ts in world.live_times(day_ms, world.count(world.scale * _CAMPAIGNLESS_VOUCHERS * factor)):
        if not open_lists:
            break
        index = open_lists[int(world.rng.random() * len(open_lists))]
        if world.lists[index].exhausted:
            continue
        code = world.lists[index].next_code()
        out.append((ts, world.order(), index, code, world.user(), None))
    return out


def _write_vouchers(
    world: _World, writer: _FolderWriter, state: _StreamState, rows: list[tuple]
) -> None:
    for ts, _order, index, code, user, campaign_id in rows:
        stock = world.lists[index]
        rec = {
            "assignment_id": state.new_id(),
            "partner_id": stock.partner_id,
            "list_tag": stock.list_tag,
            "voucher_code": code,
            "user_id": world.user_id(user),
        }
        world.optional(rec, ("campaign_id",), {"campaign_id": campaign_id})
        rec["assigned_at"] = world.stamp(ts)
        writer.write(rec, ts)


# --------------------------------------------------------------------------- wallet


class _Ledger:
    """Turns wallet intents into transactions, in time order, keeping balances >= 0.

    This is the hot path (most lines are wallet transactions): the world's arrays and
    helpers are bound to attributes once per day instead of being looked up per record.
    """

    def __init__(self, world: _World, state: _StreamState, writer: _FolderWriter, offset: int):
        self.w, self.state, self.write = world, state, writer.write
        self.random, self.stamp = world.rng.random, world.clock.stamp
        self.user_id, self.cents = world.user_id, world.cents
        self.balance, self.earners, self.spenders = world.balance, world.earners, world.spenders
        # The legacy wallet only sees activity until it is switched off.
        self.wallet_cum = (0.72, 0.94, 1.0) if offset < world.legacy_cutoff else (0.77, 1.0)
        self.loyalty_by_wallet = [
            [
                c.campaign_id
                for c in world.campaigns
                if c.reward_type == _LOYALTY and c.wallet == w and c.active_on(offset)
            ]
            for w in range(len(_WALLETS))
        ]

    def emit(
        self,
        ts: int,
        wallet: int,
        user: int,
        ttype: str,
        source: str,
        cents: int,
        campaign: str | None = None,
        coupon: str | None = None,
        ref: int = 0,
        expires: int | None = None,
    ) -> int:
        state, random_ = self.state, self.random
        state.seq += 1
        seq = state.seq
        rec: dict[str, Any] = {
            "transaction_id": f"wtx_{seq:010d}",
            "wallet_id": _WALLET_IDS[wallet],
            "user_id": self.user_id(user),
            "transaction_type": ttype,
            "transaction_source": source,
            "points": cents // 100 if cents % 100 == 0 else cents / 100,
        }
        reference = f"wtx_{ref:010d}" if ref else None
        expires_at = self.stamp(expires, random_()) if expires is not None else None
        if random_() < 0.55:  # explicit nulls on some records, omitted fields on others
            rec["campaign_id"] = campaign
            rec["coupon_code"] = coupon
            rec["reference_transaction_id"] = reference
            rec["expires_at"] = expires_at
        else:
            if campaign is not None:
                rec["campaign_id"] = campaign
            if coupon is not None:
                rec["coupon_code"] = coupon
            if reference is not None:
                rec["reference_transaction_id"] = reference
            if expires_at is not None:
                rec["expires_at"] = expires_at
        rec["occurred_at"] = self.stamp(ts, random_())
        if random_() < 0.02:
            rec["producer"] = "wallet-svc-2"
        self.write(rec, ts)
        return seq

    def organic(self, ts: int, kind: int) -> None:
        r = self.random()
        wallet = 0 if r < self.wallet_cum[0] else 1 if r < self.wallet_cum[1] else 2
        if kind == _EARN:
            self.credit(ts, wallet, self.w.user(), "API", self.cents(1, 200), ts + _YEAR_MS)
        elif kind == _SPEND:
            user = self.w.recall(self.earners[wallet])
            if not self._spend(ts, wallet, user):
                self._earn(ts, wallet, user)
        elif kind == _REVERSE:
            user = self.w.recall(self.earners[wallet])
            if not self._reverse(ts, wallet, user):
                self._earn(ts, wallet, user)
        elif kind == _REFUND:
            user = self.w.recall(self.spenders[wallet])
            if not self._refund(ts, wallet, user):
                self._earn(ts, wallet, user)
        elif kind == _PROMISE:
            self._promise(ts, wallet, self.w.user())
        else:
            self._bonus(ts, wallet, self.w.user())

    def _earn(self, ts: int, wallet: int, user: int) -> None:
        """Points for a purchase: the fallback when the drawn kind is impossible."""
        self.credit(ts, wallet, user, "API", self.cents(1, 200), ts + _YEAR_MS)

    def credit(
        self,
        ts: int,
        wallet: int,
        user: int,
        source: str,
        cents: int,
        expires: int,
        campaign: str | None = None,
        coupon: str | None = None,
        reversible: bool = True,
    ) -> int:
        seq = self.emit(
            ts, wallet, user, "CREDIT", source, cents, campaign, coupon, expires=expires
        )
        self.balance[wallet][user] += cents
        self.w.remember(self.earners[wallet], user)
        if reversible:
            self.w.credit_seq[wallet][user] = seq
            self.w.credit_cents[wallet][user] = cents
        return seq

    def short_lived_credit(
        self,
        ts: int,
        wallet: int,
        user: int,
        source: str,
        cents: int,
        days: int,
        campaign: str | None = None,
    ) -> None:
        """A credit that expires within days; its expiry is queued. Kept out of reach of
        REVERSE so that one credit is never both reversed and expired."""
        expires = ts + days * DAY_MS
        seq = self.credit(ts, wallet, user, source, cents, expires, campaign, reversible=False)
        self.w.schedule_expiry(expires, wallet, user, seq, cents)

    def _spend(self, ts: int, wallet: int, user: int) -> bool:
        balance = self.balance[wallet][user]
        if balance < 100:
            return False
        if self.random() < 0.5:  # a round redemption, as far as the balance allows
            cents = min(balance, (1 + int(self.random() * 100)) * 100)
        else:
            cents = max(1, int(balance * (0.1 + 0.9 * self.random())))
        seq = self.emit(ts, wallet, user, "DEBIT", "API", cents)
        self.balance[wallet][user] -= cents
        self.w.debit_seq[wallet][user] = seq
        self.w.debit_cents[wallet][user] = cents
        self.w.remember(self.spenders[wallet], user)
        return True

    def _reverse(self, ts: int, wallet: int, user: int) -> bool:
        seq, cents = self.w.credit_seq[wallet][user], self.w.credit_cents[wallet][user]
        if not seq or self.balance[wallet][user] < cents:
            return False
        source = "SYSTEM" if self.random() < 0.5 else "API"
        self.emit(ts, wallet, user, "REVERSE", source, cents, ref=seq)
        self.balance[wallet][user] -= cents
        self.w.credit_seq[wallet][user] = 0
        return True

    def _refund(self, ts: int, wallet: int, user: int) -> bool:
        seq, cents = self.w.debit_seq[wallet][user], self.w.debit_cents[wallet][user]
        if not seq:
            return False
        if self.random() < 0.3:  # partial refund
            cents = max(1, cents // 2)
        self.emit(ts, wallet, user, "REFUND", "API", cents, ref=seq)
        self.balance[wallet][user] += cents
        self.w.debit_seq[wallet][user] = 0
        return True

    def _promise(self, ts: int, wallet: int, user: int) -> None:
        """Points announced, not yet credited: no effect on the available balance."""
        campaigns = self.loyalty_by_wallet[wallet]
        cents = self.cents(5, 100)
        if campaigns and self.random() < 0.7:
            campaign = campaigns[int(self.random() * len(campaigns))]
            self.emit(ts, wallet, user, "PROMISED", "PROMO_CAMPAIGN", cents, campaign)
        else:
            self.emit(ts, wallet, user, "PROMISED", "API", cents)

    def _bonus(self, ts: int, wallet: int, user: int) -> None:
        cents = self.cents(5, 100)
        if self.random() < 0.5:  # use-it-or-lose-it goodwill points
            days = 1 + int(self.random() * 2)
            self.short_lived_credit(ts, wallet, user, "SYSTEM", cents, days)
        else:
            self.credit(ts, wallet, user, "SYSTEM", cents, ts + 90 * DAY_MS)

    def derived(self, item: tuple) -> None:
        ts, _order, kind, wallet, user, cents, tag = item
        if kind == _PROMO_CREDIT:
            if self.random() < 0.2:  # flash points, valid for a day
                self.short_lived_credit(ts, wallet, user, "PROMO_CAMPAIGN", cents, 1, tag)
            else:
                self.credit(ts, wallet, user, "PROMO_CAMPAIGN", cents, ts + 30 * DAY_MS, tag)
        elif kind == _CASHBACK_CREDIT:
            self.credit(ts, wallet, user, "CASHBACK_COUPON", cents, ts + 180 * DAY_MS, coupon=tag)
        else:
            self._expire(ts, wallet, user, tag)

    def _expire(self, ts: int, wallet: int, user: int, credit: tuple) -> None:
        """What is left of an expiring credit, as far as the balance still holds it."""
        seq, cents = credit
        cents = min(cents, self.balance[wallet][user])
        if cents > 0:
            self.emit(ts, wallet, user, "EXPIRED", "SYSTEM", cents, ref=seq)
            self.balance[wallet][user] -= cents


def _write_wallet(
    world: _World,
    writer: _FolderWriter,
    state: _StreamState,
    offset: int,
    times: list[int],
    links: _DayLinks,
    day_end: int,
) -> None:
    ledger = _Ledger(world, state, writer, offset)
    derived = links.wallet
    for ts, order, wallet, user, seq, cents in world.due(world.expiries, day_end):
        derived.append((ts, order, _EXPIRY, wallet, user, cents, (seq, cents)))
    derived.sort()
    kinds = world.rng.choices(_ORGANIC_KINDS, cum_weights=_ORGANIC_CUM, k=len(times))
    i, n_derived = 0, len(derived)
    for ts, kind in zip(times, kinds, strict=True):
        while i < n_derived and derived[i][0] <= ts:
            ledger.derived(derived[i])
            i += 1
        ledger.organic(ts, kind)
    for item in derived[i:]:
        ledger.derived(item)


# --------------------------------------------------------------------------- dimensions


def _dimension_rows(world: _World) -> dict[str, list[dict]]:
    def at(offset: int) -> str:
        return f"{(world.start + timedelta(days=offset)).isoformat()}T00:00:00Z"

    campaigns = [
        {
            "campaign_id": c.campaign_id,
            "name": c.name,
            "reward_type": c.reward_type,
            "coupon_type": c.coupon_type,
            "coupon_benefit": c.coupon_benefit,
            "custom_reward_kind": c.custom_kind,
            "segment_kind": c.segment_kind,
            "status": c.status,
            "wallet_id": _WALLETS[c.wallet][0] if c.wallet is not None else None,
            "start_at": at(c.start_day),
            "end_at": at(c.end_day),
        }
        for c in world.campaigns
    ]
    return {
        "campaigns": campaigns,
        "wallets": [{"wallet_id": i, "name": n, "status": s} for i, n, s in _WALLETS],
        "partners": [{"partner_id": i, "name": n} for i, n in _PARTNERS],
        "voucher_lists": [
            {"partner_id": s.partner_id, "list_tag": s.list_tag, "name": s.name, "status": s.status}
            for s in world.lists
        ],
    }


def _write_dimensions(world: _World, out: _Output) -> dict[str, int]:
    counts = {}
    for name, rows in _dimension_rows(world).items():
        local = out.tmp / f"{name}.jsonl"
        local.write_bytes(b"".join(orjson.dumps(row) + b"\n" for row in rows))
        out.publish(local, f"dimensions/{name}.jsonl")
        counts[name] = len(rows)
    return counts


# --------------------------------------------------------------------------- entry point


def generate(
    storage: Storage,
    start: date,
    days: int,
    *,
    seed: int = 0,
    scale: int = 2000,
    bad_rate: float = 0.002,
    redelivery_rate: float = 0.003,
    gzip_share: float = 0.3,
    progress: bool = False,
) -> GenerationSummary:
    """Write `days` UTC days of raw promo logs from `start`, and the dimension snapshots.

    `scale` is the average number of wallet transactions per day; the other streams follow
    in proportion (reward events ~0.5x, coupon redemptions ~0.08x, voucher assignments
    ~0.05x). The same arguments always give byte-identical files.
    """
    _check_arguments(days, scale, bad_rate, redelivery_rate, gzip_share)
    clock = _Clock()
    noise = _Noise(seed, bad_rate, redelivery_rate, clock)
    world = _World(seed, scale, start, days, clock)
    states = {name: _StreamState(_SPECS[name], noise) for name in STREAMS}
    with tempfile.TemporaryDirectory(prefix="promo-generator-") as tmp:
        out = _Output(storage, Path(tmp), seed, gzip_share, noise)
        for offset in tqdm(range(days), desc="generating", unit="day", disable=not progress):
            _generate_day(world, out, states, offset)
        dimensions = _write_dimensions(world, out)
    return GenerationSummary({n: s.summary for n, s in states.items()}, dimensions)


def _check_arguments(
    days: int, scale: int, bad_rate: float, redelivery_rate: float, gzip_share: float
) -> None:
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    if scale < 1:
        raise ValueError(f"scale must be at least 1, got {scale}")
    for name, value in (
        ("bad_rate", bad_rate),
        ("redelivery_rate", redelivery_rate),
        ("gzip_share", gzip_share),
    ):
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{name} must be between 0 and 1, got {value}")


def _generate_day(
    world: _World, out: _Output, states: dict[str, _StreamState], offset: int
) -> None:
    """One UTC day of every stream. Reward events go first: they cause wallet credits,
    coupon redemptions (later) and voucher assignments, which are written after them."""
    day = world.start + timedelta(days=offset)
    day_ms = day_start_ms(day)
    day_end = day_ms + DAY_MS
    factor = world.day_factor(day)
    links = _DayLinks()

    slots = _reward_slots(world, offset, day_ms, factor)
    writer = _FolderWriter(out, states["reward_events"], day, len(slots))
    _write_reward_events(world, writer, states["reward_events"], slots, offset, day_end, links)
    writer.close()
    del slots

    due = world.due(world.redemptions, day_end)
    writer = _FolderWriter(out, states["coupon_redemptions"], day, len(due))
    _write_redemptions(world, writer, states["coupon_redemptions"], due, day_end, links)
    writer.close()

    vouchers = sorted(links.vouchers + _campaignless_vouchers(world, day_ms, factor))
    writer = _FolderWriter(out, states["voucher_assignments"], day, len(vouchers))
    _write_vouchers(world, writer, states["voucher_assignments"], vouchers)
    writer.close()

    times = world.live_times(day_ms, world.count(world.scale * _ORGANIC_SHARE * factor))
    writer = _FolderWriter(out, states["wallet_transactions"], day, len(times) + len(links.wallet))
    _write_wallet(world, writer, states["wallet_transactions"], offset, times, links, day_end)
    writer.close()
