"""The report spec: what a user asks for, checked once, then used by everything else.

The YAML shape and its key names are a public interface: the CLI's `--spec` file, the
Dagster launchpad's run config and the catalog of recurring reports all load specs here.
Every rule of the product spec is checked when a spec is created, and every problem is
reported at once, each naming its field: `filters.wallet_id: required for wallet_summary`.

```yaml
name: October wallet transactions, app channel
promotion_type: loyalty_wallet
report_type: wallet_transactions
filters: {wallet_id: W1, transaction_sources: [promo_campaign], transaction_types: [credit]}
date_range: {preset: past_7_days}      # or {start: 2026-10-01, end: 2026-10-31}
delivery: {destination: download}      # or {destination: s3, bucket: b, prefix: reports/}
frequency: one_time                    # or {interval: weekly, delivery_day: monday}
```

Existence of wallets, campaigns, partners and list tags is checked against a `Catalog`
passed as pydantic validation context (`load_spec(..., catalog=...)` does it); without a
catalog only those look-ups are skipped.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Mapping, Set
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError

from promo.reports.windows import (
    PRESETS,
    Window,
    custom_window,
    latest_last_day,
    months_between_ok,
    recurring_window,
    resolve_preset,
)

Loc = tuple[str | int, ...]
Problem = tuple[Loc, str]

NAME_MAX = 200
ID_MAX = 200
PREFIX_MAX = 512


# -- Vocabulary -------------------------------------------------------------------------


class _Vocabulary(StrEnum):
    """snake_case in YAML; the member name is the contract value (CREDIT, PROMO_CAMPAIGN)."""

    @property
    def contract_value(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        """As the product names it: Credit, Promo Campaign, API."""
        return " ".join(w.upper() if w == "api" else w.capitalize() for w in self.split("_"))


class PromotionType(_Vocabulary):
    LOYALTY_WALLET = "loyalty_wallet"
    PARTNER_VOUCHERS = "partner_vouchers"
    PROMO_CAMPAIGNS = "promo_campaigns"


class ReportType(_Vocabulary):
    WALLET_SUMMARY = "wallet_summary"
    WALLET_TRANSACTIONS = "wallet_transactions"
    USER_LEDGER_SUMMARY = "user_ledger_summary"
    VOUCHER_ASSIGNMENT_LOGS = "voucher_assignment_logs"
    REWARD_ASSIGNMENT = "reward_assignment"
    USER_ERRORS = "user_errors"

    @property
    def slug(self) -> str:
        """The contract's `<report-slug>` in file names: wallet-transactions."""
        return self.value.replace("_", "-")

    @property
    def rules(self) -> ReportRules:
        return REPORT_RULES[self]


class TransactionSource(_Vocabulary):
    CASHBACK_COUPON = "cashback_coupon"
    SYSTEM = "system"
    API = "api"
    PROMO_CAMPAIGN = "promo_campaign"


class TransactionType(_Vocabulary):
    CREDIT = "credit"
    DEBIT = "debit"
    EXPIRED = "expired"
    PROMISED = "promised"
    REVERSE = "reverse"
    REFUND = "refund"


class Destination(_Vocabulary):
    DOWNLOAD = "download"
    S3 = "s3"


class Interval(_Vocabulary):
    ONE_TIME = "one_time"
    DAILY = "daily"
    WEEKLY = "weekly"


class Weekday(_Vocabulary):
    MONDAY = "monday"
    TUESDAY = "tuesday"
    WEDNESDAY = "wednesday"
    THURSDAY = "thursday"
    FRIDAY = "friday"
    SATURDAY = "saturday"
    SUNDAY = "sunday"

    @property
    def index(self) -> int:
        """0 for Monday, as `date.weekday()` counts."""
        return list(Weekday).index(self)


@dataclass(frozen=True)
class ReportRules:
    """What SPEC.md's report table says about one report type."""

    promotion_type: PromotionType
    filters: tuple[str, ...]  # the filters it takes; ids are required, lists default to all
    date_range: bool  # False: a snapshot as of generation time
    three_month_cap: bool


_WALLET, _VOUCHERS, _CAMPAIGNS = list(PromotionType)
REPORT_RULES: dict[ReportType, ReportRules] = {
    ReportType.WALLET_SUMMARY: ReportRules(_WALLET, ("wallet_id",), True, False),
    ReportType.WALLET_TRANSACTIONS: ReportRules(
        _WALLET, ("wallet_id", "transaction_sources", "transaction_types"), True, True
    ),
    ReportType.USER_LEDGER_SUMMARY: ReportRules(_WALLET, ("wallet_id",), False, False),
    ReportType.VOUCHER_ASSIGNMENT_LOGS: ReportRules(
        _VOUCHERS, ("partner_id", "list_tag"), True, True
    ),
    ReportType.REWARD_ASSIGNMENT: ReportRules(_CAMPAIGNS, ("campaign_id",), True, True),
    ReportType.USER_ERRORS: ReportRules(_CAMPAIGNS, ("campaign_id",), True, True),
}


@dataclass(frozen=True)
class Catalog:
    """What exists in the account, for the existence checks of a spec."""

    wallets: Set[str] = frozenset()
    campaigns: Set[str] = frozenset()
    partners: Set[str] = frozenset()
    list_tags: Mapping[str, Set[str]] = field(default_factory=dict)  # partner_id -> tags


class SpecError(ValueError):
    """An invalid report spec; `problems` lists every problem, each naming its field."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__(self.problems)

    def __str__(self) -> str:
        if len(self.problems) == 1:
            return f"invalid report spec: {self.problems[0]}"
        lines = "".join(f"\n  - {p}" for p in self.problems)
        return f"invalid report spec ({len(self.problems)} problems):{lines}"

    @classmethod
    def from_validation_error(cls, exc: ValidationError) -> SpecError:
        return cls([_format(*_friendly(e)) for e in exc.errors()])


# -- Field types --------------------------------------------------------------------------

_NOUNS = {"wallet_id": "wallet", "campaign_id": "campaign", "partner_id": "partner"}
_NOUNS |= {"list_tag": "list tag", "transaction_sources": "transaction source"}
_NOUNS |= {"transaction_types": "transaction type"}


def _text(value: Any, max_len: int) -> str:
    """Stripped, non-empty text without control characters (names end up in file names)."""
    if not isinstance(value, str):
        # YAML turns unquoted 0123 into 83 and yes into True: never guess an id from that.
        raise ValueError(f"expected text, got {type(value).__name__} (quote it in YAML)")
    value = value.strip()
    problems = []
    if not value:
        problems.append("must not be empty")
    if len(value) > max_len:
        problems.append(f"at most {max_len} characters (got {len(value)})")
    if any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in value):
        problems.append("must not contain control characters or line breaks")
    if problems:
        raise ValueError("; ".join(problems))
    return value


def _one_id(value: Any, info: ValidationInfo) -> str:
    if isinstance(value, list | tuple | set | dict):
        raise ValueError(f"exactly one {_NOUNS.get(info.field_name or '', 'value')} expected")
    return _text(value, ID_MAX)


def _at_least_one(values: tuple[StrEnum, ...], info: ValidationInfo) -> tuple[StrEnum, ...]:
    """Deduplicated, in vocabulary order, so equal selections make equal specs."""
    if not values:
        noun = _NOUNS[info.field_name or ""]
        raise ValueError(f"at least one {noun} is required (leave the key out for all)")
    return tuple(sorted(set(values), key=list(type(values[0])).index))


def _date_only(value: Any) -> Any:
    # pydantic would read a number as a Unix time and a datetime at midnight as its date.
    if isinstance(value, datetime) or not isinstance(value, date | str):
        raise ValueError("expected a date as YYYY-MM-DD")
    return value


Name = Annotated[str, BeforeValidator(lambda v: _text(v, NAME_MAX))]
OneId = Annotated[str, BeforeValidator(_one_id)]
Day = Annotated[date, BeforeValidator(_date_only)]
Sources = Annotated[tuple[TransactionSource, ...], AfterValidator(_at_least_one)]
Types = Annotated[tuple[TransactionType, ...], AfterValidator(_at_least_one)]

_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_IP_LIKE = re.compile(r"\d+\.\d+\.\d+\.\d+")
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def _bucket_name(value: Any) -> str:
    """AWS's bucket naming rules, so a typo fails here rather than at upload time."""
    name = _text(value, 63)
    if not _BUCKET.fullmatch(name) or ".." in name:
        raise ValueError(
            f"{name!r} is not a valid S3 bucket name: 3 to 63 lowercase letters, digits, "
            "dots and hyphens, starting and ending with a letter or digit"
        )
    if _IP_LIKE.fullmatch(name):
        raise ValueError(f"{name!r} is not a valid S3 bucket name: it looks like an IP address")
    if name.startswith(_RESERVED_PREFIXES) or name.endswith(_RESERVED_SUFFIXES):
        raise ValueError(f"{name!r} uses a prefix or suffix that S3 reserves")
    return name


def _key_prefix(value: Any) -> str | None:
    """A relative key prefix ending in '/', so `prefix + file name` is always a clean key."""
    if value is None or value == "":
        return None
    prefix = _text(value, PREFIX_MAX)
    if prefix.startswith("/"):
        raise ValueError("must be relative (no leading /)")
    if ".." in prefix or "\\" in prefix or "//" in prefix:
        raise ValueError("must not contain '..', '\\' or '//'")
    return prefix if prefix.endswith("/") else prefix + "/"


# -- Sections -----------------------------------------------------------------------------


def _fail(title: str, problems: list[Problem]) -> None:
    """Raise every problem at once (if any); pydantic keeps their locations, also nested."""
    if not problems:
        return
    details = [
        InitErrorDetails(
            type=PydanticCustomError("report_spec", "{problem}", {"problem": msg}),
            loc=loc,
            input=None,
        )
        for loc, msg in problems
    ]
    raise ValidationError.from_exception_data(title, details)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Filters(_Section):
    wallet_id: OneId | None = None
    partner_id: OneId | None = None
    list_tag: OneId | None = None
    campaign_id: OneId | None = None
    transaction_sources: Sources | None = None
    transaction_types: Types | None = None

    @model_validator(mode="before")
    @classmethod
    def _empty_is_none(cls, data: Any) -> Any:
        return {} if data is None else data  # a bare `filters:` line in YAML


class DateRange(_Section):
    """A preset, or a custom range of local days `start`..`end` (both included)."""

    preset: str | None = None
    start: Day | None = None
    end: Day | None = None

    @field_validator("preset")
    @classmethod
    def _known_preset(cls, preset: str | None) -> str | None:
        if preset is not None and preset not in PRESETS:
            raise ValueError(f"unknown preset {preset!r}; choose one of: {', '.join(PRESETS)}")
        return preset

    @model_validator(mode="after")
    def _preset_or_range(self) -> DateRange:
        custom = {"start": self.start, "end": self.end}
        if self.preset is not None:
            if self.start or self.end:
                _fail("DateRange", [((), "give a preset, or start and end, not both")])
            return self
        missing = [((k,), "required for a custom range") for k, v in custom.items() if v is None]
        _fail("DateRange", missing)
        if self.end < self.start:
            _fail("DateRange", [(("end",), f"{self.end} is before start {self.start}")])
        return self

    def window(self, now: datetime, tz: ZoneInfo) -> Window:
        if self.preset is not None:
            return resolve_preset(self.preset, now, tz)
        return custom_window(self.start, self.end, tz)


class Delivery(_Section):
    destination: Destination
    bucket: Annotated[str, BeforeValidator(_bucket_name)] | None = None
    prefix: Annotated[str | None, BeforeValidator(_key_prefix)] = None

    @model_validator(mode="after")
    def _bucket_only_for_s3(self) -> Delivery:
        if self.destination is Destination.S3 and self.bucket is None:
            _fail("Delivery", [(("bucket",), "required for destination s3")])
        if self.destination is Destination.DOWNLOAD:
            given = [k for k in ("bucket", "prefix") if getattr(self, k) is not None]
            _fail("Delivery", [((k,), "only for destination s3") for k in given])
        return self


class Frequency(_Section):
    """`one_time` in YAML, or `{interval: daily}` / `{interval: weekly, delivery_day: ...}`."""

    interval: Interval = Interval.ONE_TIME
    delivery_day: Weekday | None = None

    @model_validator(mode="before")
    @classmethod
    def _one_time_shorthand(cls, data: Any) -> Any:
        if data == Interval.ONE_TIME:
            return {"interval": Interval.ONE_TIME}
        if isinstance(data, str):
            raise ValueError(
                "expected one_time, {interval: daily} or {interval: weekly, delivery_day: <day>}"
            )
        return data

    @model_validator(mode="after")
    def _day_only_when_weekly(self) -> Frequency:
        if self.interval is Interval.WEEKLY and self.delivery_day is None:
            days = ", ".join(Weekday)
            _fail("Frequency", [(("delivery_day",), f"required when weekly ({days})")])
        if self.interval is not Interval.WEEKLY and self.delivery_day is not None:
            _fail("Frequency", [(("delivery_day",), "only for interval weekly")])
        return self

    @model_serializer
    def _as_yaml(self) -> str | dict[str, str]:
        if self.interval is Interval.ONE_TIME:
            return Interval.ONE_TIME.value
        weekly = {"delivery_day": self.delivery_day.value} if self.delivery_day else {}
        return {"interval": self.interval.value, **weekly}

    @property
    def is_recurring(self) -> bool:
        return self.interval is not Interval.ONE_TIME

    @property
    def label(self) -> str:
        """For report lists: One Time, Daily, Weekly on Monday."""
        day = f" on {self.delivery_day.display_name}" if self.delivery_day else ""
        return self.interval.display_name + day


# -- The spec -----------------------------------------------------------------------------


class ReportSpec(_Section):
    """One report as a user asked for it; valid by construction (see the module doc)."""

    name: Name
    promotion_type: PromotionType
    report_type: ReportType
    filters: Filters = Filters()
    date_range: DateRange | None = None
    delivery: Delivery = Delivery(destination=Destination.DOWNLOAD)
    frequency: Frequency = Frequency()

    @model_validator(mode="wrap")
    @classmethod
    def _check_everything(cls, data: Any, handler: Any, info: ValidationInfo) -> ReportSpec:
        # The cross-field rules also run when some sections are broken, on the sections that
        # parsed, so a user sees every problem in one go rather than one per attempt.
        catalog = (info.context or {}).get("catalog")
        try:
            spec = handler(data)
        except ValidationError as exc:
            errors = exc.errors()
            problems = [_friendly(e) for e in errors]
            parts = _sections_that_parse(data, failed={e["loc"][0] for e in errors if e["loc"]})
        else:
            problems, parts = [], dict(spec)
        problems += _rule_problems(_with_facts(parts, data), catalog)
        _fail(cls.__name__, sorted(problems, key=_in_field_order))
        return _with_default_filters(spec)  # reached only when nothing failed

    @property
    def slug(self) -> str:
        """The contract's `<report-slug>`: the report type, e.g. wallet-transactions."""
        return self.report_type.slug

    @property
    def is_recurring(self) -> bool:
        return self.frequency.is_recurring

    @property
    def fingerprint(self) -> str:
        """A short hash of the whole spec: any edit gives another one."""
        canonical = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    def window(self, now: datetime, tz: ZoneInfo) -> Window | None:
        """The window a run at the instant `now` covers; None for the user ledger (a snapshot).

        One-time: the date range (a preset resolved at `now`, or the custom days). Recurring:
        `now` is the run's tick; daily covers the local day before it, weekly the 7 days
        before it.
        """
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError(f"now must be timezone-aware, got {now.isoformat()}")
        if not self.report_type.rules.date_range:
            return None
        if self.is_recurring:
            return recurring_window(self.frequency.interval, now.astimezone(tz).date(), tz)
        return self.date_range.window(now, tz)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able, in the YAML shape: `load_spec(spec.to_dict()) == spec`."""
        return self.model_dump(mode="json", exclude_none=True)


_ID_FILTERS = ("wallet_id", "partner_id", "list_tag", "campaign_id")
_SECTIONS: dict[Loc, type[BaseModel]] = {
    (): ReportSpec,
    ("filters",): Filters,
    ("date_range",): DateRange,
    ("delivery",): Delivery,
    ("frequency",): Frequency,
}


def _promotion_problems(parts: dict[str, Any]) -> list[Problem]:
    report_type, promotion_type = parts.get("report_type"), parts.get("promotion_type")
    if report_type is None or promotion_type is None:
        return []
    owner = report_type.rules.promotion_type
    if owner is promotion_type:
        return []
    return [(("report_type",), f"{report_type} is a {owner} report, not a {promotion_type} one")]


def _filter_problems(parts: dict[str, Any]) -> list[Problem]:
    report_type, given_keys = parts.get("report_type"), parts.get("filter_keys")
    if report_type is None or given_keys is None:
        return []
    takes = report_type.rules.filters
    problems: list[Problem] = []
    for key in Filters.model_fields:
        given = key in given_keys
        if key in takes and key in _ID_FILTERS and not given:
            problems.append((("filters", key), f"required for {report_type}"))
        elif key not in takes and given:
            accepted = ", ".join(takes)
            problems.append((("filters", key), f"not a filter of {report_type} ({accepted})"))
    return problems


def _date_range_problems(parts: dict[str, Any]) -> list[Problem]:
    report_type, recurring = parts.get("report_type"), parts.get("recurring")
    if report_type is None or "date_range" not in parts:
        return []
    date_range, rules = parts["date_range"], report_type.rules
    where = ("date_range",)
    if not rules.date_range:
        snapshot = f"not allowed for {report_type}: it is a snapshot as of generation time"
        return [] if date_range is None else [(where, snapshot)]
    if recurring is None:
        return []
    if recurring:
        auto = (
            "not allowed for a recurring report: each run covers the previous day (daily) "
            "or the 7 days before its delivery day (weekly)"
        )
        return [] if date_range is None else [(where, auto)]
    if date_range is None:
        return [(where, f"required for {report_type} (a preset, or start and end)")]
    if rules.three_month_cap and date_range.preset is None:
        first, last = date_range.start, date_range.end
        if not months_between_ok(first, last):
            latest = latest_last_day(first)
            too_long = f"at most 3 months for {report_type}: {first}..{last} ends after {latest}"
            return [(where, too_long)]
    return []


def _delivery_problems(parts: dict[str, Any]) -> list[Problem]:
    delivery = parts.get("delivery")
    if delivery is None or not parts.get("recurring"):
        return []
    if delivery.destination is Destination.S3:
        return []
    cloud_only = "recurring reports can only be delivered to a cloud destination (s3)"
    return [(("delivery", "destination"), cloud_only)]


def _catalog_problems(parts: dict[str, Any], catalog: Catalog | None) -> list[Problem]:
    filters, report_type = parts.get("filters"), parts.get("report_type")
    if catalog is None or filters is None:
        return []
    known = {
        "wallet_id": catalog.wallets,
        "campaign_id": catalog.campaigns,
        "partner_id": catalog.partners,
    }
    # A filter the report type does not take is refused already; looking it up adds noise.
    taken = report_type.rules.filters if report_type else tuple(known)
    problems: list[Problem] = []
    for key, existing in known.items():
        value = getattr(filters, key)
        if key in taken and value is not None and value not in existing:
            problems.append((("filters", key), f"unknown {_NOUNS[key]} {value!r}"))
    partner, tag = filters.partner_id, filters.list_tag
    # A tag of an unknown partner is not judged: the partner's problem already says why.
    tags = catalog.list_tags.get(partner, frozenset())
    if tag is not None and partner in catalog.partners and tag not in tags:
        problems.append((("filters", "list_tag"), f"{tag!r} is not a list tag of {partner!r}"))
    return problems


def _rule_problems(parts: dict[str, Any], catalog: Catalog | None) -> list[Problem]:
    """The rules that span sections; each skips itself when a section it needs is broken."""
    return [
        *_promotion_problems(parts),
        *_filter_problems(parts),
        *_date_range_problems(parts),
        *_delivery_problems(parts),
        *_catalog_problems(parts, catalog),
    ]


@cache
def _section_adapter(name: str) -> TypeAdapter[Any]:
    info = ReportSpec.model_fields[name]
    if info.metadata:
        return TypeAdapter(Annotated[(info.annotation, *info.metadata)])
    return TypeAdapter(info.annotation)


def _sections_that_parse(data: Any, failed: set[str | int]) -> dict[str, Any]:
    """The sections of a broken spec that are fine on their own, parsed."""
    if not isinstance(data, Mapping):
        return {}
    parts = {}
    for name, info in ReportSpec.model_fields.items():
        if name not in failed:
            parts[name] = (
                _section_adapter(name).validate_python(data[name]) if name in data else info.default
            )
    return parts


def _with_facts(parts: dict[str, Any], data: Any) -> dict[str, Any]:
    """Add what the rules need to know about filters and frequency: which filters are given
    and whether the report recurs. A broken section often still shows that much (a list for
    `wallet_id` is still a wallet_id given; `{interval: weekly}` without a day still
    recurs), and reading it keeps the other rules running."""
    raw = data if isinstance(data, Mapping) else {}
    raw_filters, raw_frequency = raw.get("filters") or {}, raw.get("frequency", Interval.ONE_TIME)
    if "filters" in parts:
        keys: set[str] | None = {key for key, value in parts["filters"] if value is not None}
    elif isinstance(raw_filters, Mapping):
        keys = {key for key, value in raw_filters.items() if value is not None}
    else:
        keys = None
    if "frequency" in parts:
        recurring: bool | None = parts["frequency"].is_recurring
    elif isinstance(raw_frequency, Mapping):
        interval = str(raw_frequency.get("interval", Interval.ONE_TIME))
        recurring = {"one_time": False, "daily": True, "weekly": True}.get(interval)
    else:
        recurring = None
    return {**parts, "filter_keys": keys, "recurring": recurring}


def _in_field_order(problem: Problem) -> int:
    """Problems listed in the order of the YAML keys; unknown keys last."""
    fields = list(ReportSpec.model_fields)
    top = problem[0][0] if problem[0] else None
    return fields.index(top) if top in fields else len(fields)


def _with_default_filters(spec: ReportSpec) -> ReportSpec:
    """Wallet Transactions selects every source and every type unless told otherwise."""
    if spec.report_type is not ReportType.WALLET_TRANSACTIONS:
        return spec
    defaults: dict[str, Any] = {}
    if spec.filters.transaction_sources is None:
        defaults["transaction_sources"] = tuple(TransactionSource)
    if spec.filters.transaction_types is None:
        defaults["transaction_types"] = tuple(TransactionType)
    if not defaults:
        return spec
    return spec.model_copy(update={"filters": spec.filters.model_copy(update=defaults)})


def _friendly(error: ErrorDetails) -> Problem:
    """pydantic's error, reworded for someone editing YAML."""
    kind, loc, ctx = error["type"], tuple(error["loc"]), error.get("ctx") or {}
    if kind == "report_spec":
        return loc, ctx["problem"]
    if kind == "value_error":
        return loc, str(ctx["error"])
    if kind == "extra_forbidden":
        section = _SECTIONS.get(loc[:-1])
        allowed = f" (allowed: {', '.join(section.model_fields)})" if section else ""
        return loc, f"unknown key{allowed}"
    if kind == "missing":
        return loc, "required"
    if kind == "enum":
        return loc, f"unknown value {error['input']!r}; expected {ctx['expected']}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return loc, f"expected a mapping, got {type(error['input']).__name__}"
    return loc, error["msg"]


def _format(loc: Loc, message: str) -> str:
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
    return f"{path or 'spec'}: {message}"


# -- Loading ------------------------------------------------------------------------------


def load_spec(
    source: str | bytes | Mapping[str, Any] | ReportSpec, catalog: Catalog | None = None
) -> ReportSpec:
    """A checked spec from YAML text or a mapping; raises `SpecError` listing every problem.

    Without a catalog, everything but the existence of ids is checked.
    """
    if isinstance(source, ReportSpec):
        source = source.to_dict()
    data = _read_yaml(source) if isinstance(source, str | bytes) else source
    if isinstance(data, Mapping):
        data = dict(data)
    try:
        return ReportSpec.model_validate(data, context={"catalog": catalog})
    except ValidationError as exc:
        raise SpecError.from_validation_error(exc) from None


def load_spec_file(path: str | Path, catalog: Catalog | None = None) -> ReportSpec:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError([f"spec: cannot read {path}: {exc}"]) from None
    return load_spec(text, catalog)


def _read_yaml(text: str | bytes) -> Any:
    try:
        return yaml.safe_load(text)
    except (yaml.YAMLError, ValueError) as exc:  # ValueError: a date such as 2026-02-30
        raise SpecError([f"spec: not valid YAML ({exc})"]) from None
