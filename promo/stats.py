"""Campaign stats: the KPIs that apply to a campaign, their totals, and series by day, week
or month with the % change against the previous period. Pure functions, no Dagster, no I/O.

Input is the published `campaign_daily_stats` mart (one row per campaign per
account-timezone day with activity) and, optionally, the campaigns dimension (so campaigns
without any activity are listed too, and a campaign's series runs over its whole life
within the published days). See docs/stats.md for what each KPI means.

Counts are `int`, amounts (points, credits, discounts) `Decimal`, summed exactly; in JSON
an amount is a number written with the Decimal's own digits (0.30, never
0.30000000000000004): `dumps` writes them, `loads` reads them back as Decimal.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

from promo.timeutil import Weekday
from promo.vocabulary import RewardType

Number = int | Decimal
By = Literal["day", "week", "month"]
GRANULARITIES: tuple[By, ...] = ("day", "week", "month")


@dataclass(frozen=True)
class Kpi:
    name: str  # snake_case, the public name in JSON
    label: str
    amount: bool  # Decimal amount (exact) rather than a count


# Canonical order: JSON objects, tiles and tables list KPIs in this order.
KPIS: dict[str, Kpi] = {
    k.name: k
    for k in (
        Kpi("rewards_distributed", "Rewards distributed", amount=False),
        Kpi("points_distributed", "Points distributed", amount=True),
        Kpi("coupons_distributed", "Coupons distributed", amount=False),
        Kpi("discount_redeemed", "Discount redeemed", amount=True),
        Kpi("cashback_points_credited", "Cashback points credited", amount=True),
        Kpi("voucher_codes_distributed", "Voucher codes distributed", amount=False),
        Kpi("webhook_credits_rewarded", "Webhook credits rewarded", amount=True),
        Kpi("webhook_sent", "Webhooks sent", amount=False),
        Kpi("webhook_failed", "Webhooks failed", amount=False),
    )
}

REWARD_TYPE_LABELS = RewardType.labels()  # code -> label, as in the report files


def applicable_kpis(
    reward_type: str | None, coupon_benefit: str | None = None, custom_kind: str | None = None
) -> tuple[str, ...]:
    """The KPIs a campaign of this configuration shows, in canonical order."""
    names = {"rewards_distributed"}
    if reward_type == "LOYALTY_POINTS":
        names.add("points_distributed")
    elif reward_type == "COUPON":
        names.add("coupons_distributed")
        if coupon_benefit == "DISCOUNT":
            names.add("discount_redeemed")
        elif coupon_benefit == "CASHBACK":
            names.add("cashback_points_credited")
    elif reward_type == "PARTNER_VOUCHER":
        names.add("voucher_codes_distributed")
    elif reward_type == "CUSTOM_REWARD":
        names |= {"webhook_sent", "webhook_failed"}
        if custom_kind == "SELF_MANAGED_WALLET_CREDITS":
            names.add("webhook_credits_rewarded")
    return tuple(k for k in KPIS if k in names)


def own_charts(kpis: Iterable[str]) -> list[tuple[str, ...]]:
    """The reward type's own charts (each a tuple of KPIs drawn together), after the
    Rewards Distributed chart that every campaign has. Sent and failed webhooks share one."""
    charts: list[tuple[str, ...]] = []
    rest = [k for k in kpis if k != "rewards_distributed"]
    webhooks = tuple(k for k in rest if k in ("webhook_sent", "webhook_failed"))
    for k in rest:
        if k in webhooks:
            if k == webhooks[0]:
                charts.append(webhooks)
        else:
            charts.append((k,))
    # The webhook outcome chart says more than the credits chart: put it first.
    return sorted(charts, key=lambda c: c != webhooks) if webhooks else charts


# ----------------------------------------------------------------------------- periods
def period_start(day: date, by: By, week_start: Weekday = Weekday.MONDAY) -> date:
    """The first day of the calendar period holding `day`."""
    if by == "day":
        return day
    if by == "week":
        return day - timedelta(days=(day.weekday() - week_start.index) % 7)
    if by == "month":
        return day.replace(day=1)
    raise ValueError(f"unknown period {by!r}")


def next_period(start: date, by: By) -> date:
    if by == "day":
        return start + timedelta(days=1)
    if by == "week":
        return start + timedelta(days=7)
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1)


def period_starts(
    first: date, last: date, by: By, week_start: Weekday = Weekday.MONDAY
) -> list[date]:
    """Every period overlapping `first`..`last`, gaps included."""
    out, current = [], period_start(first, by, week_start)
    while current <= last:
        out.append(current)
        current = next_period(current, by)
    return out


def pct_change(current: Number, previous: Number | None) -> float | None:
    """% change from `previous` to `current`; None when there is no previous period or it
    was 0 (a change from nothing has no percentage; infinity would mislead)."""
    if previous is None or previous == 0:
        return None
    change = (Decimal(current) - Decimal(previous)) * 100 / abs(Decimal(previous))
    # Half away from zero, as people (and spreadsheets) round: 0.125 % is 0.13, not 0.12.
    return float(change.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Point:
    period_start: date
    value: Number
    pct_change: float | None


def build_series(
    daily: Mapping[date, Number],
    first: date,
    last: date,
    by: By,
    week_start: Weekday = Weekday.MONDAY,
    zero: Number = 0,
) -> list[Point]:
    """Sum the daily values of `first`..`last` into periods; periods without a day of
    activity are `zero`, and every point carries its change against the period before it.
    The first and last period may be partial (they hold only the days inside the range)."""
    sums: dict[date, Number] = dict.fromkeys(period_starts(first, last, by, week_start), zero)
    for day, value in daily.items():
        if first <= day <= last and value is not None:
            key = period_start(day, by, week_start)
            sums[key] = sums[key] + value
    points, previous = [], None
    for start, value in sums.items():
        points.append(Point(start, value, pct_change(value, previous)))
        previous = value
    return points


# ----------------------------------------------------------------------------- campaigns
@dataclass(frozen=True)
class Campaign:
    campaign_id: str
    campaign_name: str | None = None
    reward_type: str | None = None
    coupon_type: str | None = None
    coupon_benefit: str | None = None
    custom_reward_kind: str | None = None
    segment_kind: str | None = None
    first_local_day: date | None = None  # the campaign's life, from the dimension
    last_local_day: date | None = None

    @property
    def kpis(self) -> tuple[str, ...]:
        return applicable_kpis(self.reward_type, self.coupon_benefit, self.custom_reward_kind)

    @property
    def totals_only(self) -> bool:
        """Past-behaviour segments are fixed when the campaign starts: totals, no series."""
        return self.segment_kind == "PAST_BEHAVIOR"

    @property
    def name(self) -> str:
        return self.campaign_name or self.campaign_id


@dataclass
class CampaignStats:
    campaign: Campaign
    totals: dict[str, Number]
    series: dict[str, dict[str, list[Point]]]  # by -> kpi -> points; {} when totals only
    first_day: date | None  # the days the series cover (None: no day to show)
    last_day: date | None
    page: str | None = None

    def to_json(self, by: Iterable[str] = GRANULARITIES) -> dict[str, Any]:
        """The stable public shape (docs/stats.md): series only for the periods in `by`."""
        c = self.campaign
        return {
            "campaign_id": c.campaign_id,
            "campaign_name": c.campaign_name,
            "reward_type": c.reward_type,
            "segment_kind": c.segment_kind,
            "totals": {k: json_number(v) for k, v in self.totals.items()},
            "series": {
                b: {
                    kpi: [
                        {
                            "period_start": p.period_start.isoformat(),
                            "value": json_number(p.value),
                            "pct_change": p.pct_change,
                        }
                        for p in points
                    ]
                    for kpi, points in self.series[b].items()
                }
                for b in by
                if b in self.series
            },
            "page": self.page,
        }


def json_number(value: Number) -> Number:
    """Counts stay integers; amounts stay Decimal with at least 2 places ("12.30")."""
    if isinstance(value, Decimal):
        if value.as_tuple().exponent > -2:  # type: ignore[operator]
            value = value.quantize(Decimal("0.01"))  # pad to 2 places, never rounds
        return value
    return int(value)


def dumps(payload: Any, indent: int = 2, _level: int = 0) -> str:
    """`json.dumps(payload, indent=indent, ensure_ascii=False)`, except that a Decimal is
    written as a JSON number with exactly its own digits. The standard encoder has no way
    to emit a Decimal as a number other than through float, and a float sum of cents is
    where 0.30000000000000004 comes from; here no float ever holds an amount."""
    if isinstance(payload, Decimal):
        if not payload.is_finite():
            raise ValueError(f"{payload} has no JSON form")
        return format(payload, "f")  # plain digits: never exponent notation
    if isinstance(payload, Mapping):
        items = [
            f"{json.dumps(str(k), ensure_ascii=False)}: {dumps(v, indent, _level + 1)}"
            for k, v in payload.items()
        ]
        return _block("{", items, "}", indent, _level)
    if isinstance(payload, list | tuple):
        return _block("[", [dumps(v, indent, _level + 1) for v in payload], "]", indent, _level)
    return json.dumps(payload, ensure_ascii=False)


def _block(open_: str, items: list[str], close: str, indent: int, level: int) -> str:
    if not items:
        return open_ + close
    inner, outer = "\n" + " " * indent * (level + 1), "\n" + " " * indent * level
    return open_ + inner + ("," + inner).join(items) + outer + close


def loads(text: str | bytes) -> Any:
    """Read JSON written by `dumps`: numbers with a fraction come back as exact Decimal."""
    return json.loads(text, parse_float=Decimal)


ALWAYS_TWO_DECIMALS = {"discount_redeemed"}  # money: 12.50, never 12.5


def format_value(kpi: str, value: Number | str) -> str:
    """For people: thousands separators; amounts with 2 decimals unless whole (exact: the
    value is never converted to float)."""
    if not KPIS[kpi].amount:
        return f"{int(value):,}"
    value = Decimal(value)
    if kpi in ALWAYS_TWO_DECIMALS or value != value.to_integral_value():
        return f"{value:,.2f}"
    return f"{value:,.0f}"


def local_day(instant: datetime | None, tz: ZoneInfo, *, end: bool = False) -> date | None:
    """The account-timezone day of an instant; for an exclusive end, the day before it."""
    if instant is None:
        return None
    if end:
        instant = instant - timedelta(microseconds=1)
    return instant.astimezone(tz).date()


def series_range(
    activity: list[date], campaign: Campaign, coverage: tuple[date, date] | None
) -> tuple[date, date] | None:
    """The days a campaign's series cover: its life (from the dimension) within the
    published days, widened to every day with activity; a campaign with no end (still
    running) lives to the last published day; without a known start, its first to last
    day with activity."""
    lo = hi = None
    if coverage and campaign.first_local_day:
        lo = max(coverage[0], campaign.first_local_day)
        hi = min(coverage[1], campaign.last_local_day or coverage[1])
        if lo > hi:
            lo = hi = None
    if activity:
        lo = min(activity[0], lo) if lo else activity[0]
        hi = max(activity[-1], hi) if hi else activity[-1]
    return (lo, hi) if lo and hi else None


def campaign_stats(
    campaign: Campaign,
    rows: Iterable[Mapping[str, Any]],
    coverage: tuple[date, date] | None = None,
    week_start: Weekday = Weekday.MONDAY,
) -> CampaignStats:
    """Totals and series of one campaign from its mart rows (one per local day)."""
    kpis = campaign.kpis
    daily: dict[str, dict[date, Number]] = {k: {} for k in kpis}
    for row in rows:
        for k in kpis:
            if row.get(k) is not None:
                day = row["local_date"]
                daily[k][day] = daily[k].get(day, 0) + row[k]
    zero = {k: Decimal("0.00") if KPIS[k].amount else 0 for k in kpis}
    totals = {k: sum(daily[k].values(), zero[k]) for k in kpis}
    activity = sorted({d for values in daily.values() for d in values})
    span = series_range(activity, campaign, coverage)
    series: dict[str, dict[str, list[Point]]] = {}
    if span and not campaign.totals_only:
        for by in GRANULARITIES:
            series[by] = {k: build_series(daily[k], *span, by, week_start, zero[k]) for k in kpis}
    first, last = span or (None, None)
    return CampaignStats(campaign, totals, series, first, last)


def all_campaign_stats(
    rows: list[Mapping[str, Any]],
    dimension: list[Mapping[str, Any]],
    tz: ZoneInfo,
    coverage: tuple[date, date] | None = None,
    week_start: Weekday = Weekday.MONDAY,
) -> list[CampaignStats]:
    """Stats of every campaign in the mart or the dimension, sorted by name then id.

    A campaign's configuration comes from the dimension when it is there (the newest
    snapshot); otherwise from its most recent mart row."""
    by_campaign: dict[str, list[Mapping[str, Any]]] = {}
    for row in sorted(rows, key=lambda r: r["local_date"]):
        by_campaign.setdefault(row["campaign_id"], []).append(row)
    campaigns = {cid: Campaign(cid, **_attributes(r[-1])) for cid, r in by_campaign.items()}
    for d in dimension:
        campaigns[d["campaign_id"]] = Campaign(
            d["campaign_id"],
            **_attributes({**d, "campaign_name": d.get("name", d.get("campaign_name"))}),
            first_local_day=local_day(d.get("start_at"), tz),
            last_local_day=local_day(d.get("end_at"), tz, end=True),
        )
    out = [
        campaign_stats(c, by_campaign.get(cid, []), coverage, week_start)
        for cid, c in campaigns.items()
    ]
    return sorted(out, key=lambda s: (s.campaign.name.lower(), s.campaign.campaign_id))


ATTRIBUTES = (
    "campaign_name",
    "reward_type",
    "coupon_type",
    "coupon_benefit",
    "custom_reward_kind",
    "segment_kind",
)


def _attributes(source: Mapping[str, Any]) -> dict[str, Any]:
    return {a: source.get(a) for a in ATTRIBUTES}
