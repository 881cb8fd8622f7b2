"""The report spec: what a user asks for, checked once where it enters, then used by
everything else.

The YAML shape and its key names are a public interface: the CLI's `--spec` file, the
Dagster launchpad's run config, the catalog of recurring reports and the HTTP API all
load specs here (`promo.reports.spec_io.load_spec`). Every rule of the product spec is
checked when a spec is created and every problem is reported at once, each naming its
field: `filters.wallet_id: required for wallet_summary`.

```yaml
name: October wallet transactions, app channel
promotion_type: loyalty_wallet
report_type: wallet_transactions
filters: {wallet_id: W1, transaction_sources: [promo_campaign], transaction_types: [credit]}
date_range: {preset: past_7_days}      # or {start: 2026-10-01, end: 2026-10-31}
delivery: {destination: download}      # or {destination: cloud, name: bi-bucket, prefix: w/}
frequency: one_time                    # or {interval: weekly, delivery_day: monday}
```

Field types are in `spec_fields`, the rules that span sections in `spec_rules` (they read
the report definitions), the wording of problems in `spec_errors`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from functools import cache
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import (
    BaseModel,
    ConfigDict,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)

from promo.reports.definitions import REPORTS, ReportDefinition
from promo.reports.spec_errors import Loc, friendly, raise_problems
from promo.reports.spec_fields import (
    Bucket,
    Day,
    Destination,
    DestinationName,
    Interval,
    KeyPrefix,
    Name,
    OneId,
    Sources,
    Types,
)
from promo.reports.spec_rules import rule_problems
from promo.reports.windows import PRESETS, Window, custom_window, resolve_preset
from promo.timeutil import Weekday
from promo.vocabulary import PromotionType, ReportType, TransactionSource, TransactionType


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
                raise_problems("DateRange", [((), "give a preset, or start and end, not both")])
            return self
        missing = [((k,), "required for a custom range") for k, v in custom.items() if v is None]
        raise_problems("DateRange", missing)
        if self.end < self.start:
            raise_problems("DateRange", [(("end",), f"{self.end} is before start {self.start}")])
        return self

    def window(self, now: datetime, tz: ZoneInfo) -> Window:
        if self.preset is not None:
            return resolve_preset(self.preset, now, tz)
        return custom_window(self.start, self.end, tz)


class Delivery(_Section):
    """Where the file goes: `download`, a configured cloud destination by `name` (`cloud`),
    or the older `s3` form naming a `bucket`. Whether the name or bucket is configured is
    checked against the operator's destinations (`spec_rules`)."""

    destination: Destination
    name: DestinationName | None = None
    bucket: Bucket | None = None
    prefix: KeyPrefix = None

    @model_validator(mode="after")
    def _keys_of_each_destination(self) -> Delivery:
        takes = {
            Destination.DOWNLOAD: (),
            Destination.CLOUD: ("name", "prefix"),
            Destination.S3: ("bucket", "prefix"),
        }[self.destination]
        problems = []
        if self.destination is Destination.CLOUD and self.name is None:
            problems.append((("name",), "required for destination cloud (a configured name)"))
        if self.destination is Destination.S3 and self.bucket is None:
            problems.append((("bucket",), "required for destination s3"))
        for key in ("name", "bucket", "prefix"):
            if key not in takes and getattr(self, key) is not None:
                owner = "cloud" if key == "name" else "s3" if key == "bucket" else "cloud or s3"
                problems.append(((key,), f"only for destination {owner}"))
        raise_problems("Delivery", problems)
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
            raise_problems("Frequency", [(("delivery_day",), f"required when weekly ({days})")])
        if self.interval is not Interval.WEEKLY and self.delivery_day is not None:
            raise_problems("Frequency", [(("delivery_day",), "only for interval weekly")])
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
        day = f" on {self.delivery_day.label}" if self.delivery_day else ""
        return self.interval.label + day


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
        context = info.context or {}
        if context.get("restore"):
            return handler(data)  # checked where it entered; see `restore`
        # The cross-field rules also run when some sections are broken, on the sections that
        # parsed, so a user sees every problem in one go rather than one per attempt.
        try:
            spec = handler(data)
        except ValidationError as exc:
            errors = exc.errors()
            problems = [_problem(e) for e in errors]
            parts = _sections_that_parse(data, failed={e["loc"][0] for e in errors if e["loc"]})
        else:
            problems, parts = [], dict(spec)
        facts = _with_facts(parts, data)
        problems += rule_problems(facts, context.get("catalog"), context.get("destinations"))
        raise_problems(cls.__name__, sorted(problems, key=_in_field_order))
        return _with_default_filters(spec)  # reached only when nothing failed

    @classmethod
    def restore(cls, data: Mapping[str, Any]) -> ReportSpec:
        """A spec that was checked where it entered (the CLI, the API), read back from its
        serialized form (a run's config): types are parsed, the rules are not run again."""
        return cls.model_validate(dict(data), context={"restore": True})

    @property
    def definition(self) -> ReportDefinition:
        return REPORTS[self.report_type]

    @property
    def is_recurring(self) -> bool:
        return self.frequency.is_recurring

    @property
    def fingerprint(self) -> str:
        """A short hash of the whole spec: any edit gives another one."""
        canonical = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able, in the YAML shape: `load_spec(spec.to_dict()) == spec`."""
        return self.model_dump(mode="json", exclude_none=True)


SECTIONS: dict[Loc, type[BaseModel]] = {
    (): ReportSpec,
    ("filters",): Filters,
    ("date_range",): DateRange,
    ("delivery",): Delivery,
    ("frequency",): Frequency,
}


def _problem(error) -> tuple[Loc, str]:
    return friendly(error, SECTIONS)


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


def _in_field_order(problem: tuple[Loc, str]) -> int:
    """Problems listed in the order of the YAML keys; unknown keys last."""
    fields = list(ReportSpec.model_fields)
    top = problem[0][0] if problem[0] else None
    return fields.index(top) if top in fields else len(fields)


def _with_default_filters(spec: ReportSpec) -> ReportSpec:
    """A list filter left out means all of it (every source, every type)."""
    defaults: dict[str, Any] = {}
    vocabularies = {"transaction_sources": TransactionSource, "transaction_types": TransactionType}
    for f in spec.definition.filters:
        if not f.required and getattr(spec.filters, f.key) is None:
            defaults[f.key] = tuple(vocabularies[f.key])
    if not defaults:
        return spec
    return spec.model_copy(update={"filters": spec.filters.model_copy(update=defaults)})
