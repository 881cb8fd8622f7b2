"""The rules of a report spec that span sections, read from the report definitions.

Each rule gets the sections that parsed (`parts`) and skips itself when a section it needs
is broken, so one attempt shows every problem. `filter_keys` and `recurring` are facts a
broken section often still shows (see `spec._with_facts`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from promo.reports.definitions import REPORTS
from promo.reports.destinations import Destinations, unconfigured
from promo.reports.spec_errors import Problem
from promo.reports.spec_fields import NOUNS, Destination
from promo.reports.windows import MAX_MONTHS, latest_last_day, months_between_ok

if TYPE_CHECKING:  # polars, which the catalog is read with, costs 0.13 s to import
    from promo.reports.catalog import Catalog

# Every filter key any report type takes, in the order problems list them.
ALL_FILTERS = tuple(dict.fromkeys(k for d in REPORTS.values() for k in d.filter_keys))


def _promotion_problems(parts: dict[str, Any]) -> list[Problem]:
    report_type, promotion_type = parts.get("report_type"), parts.get("promotion_type")
    if report_type is None or promotion_type is None:
        return []
    owner = REPORTS[report_type].promotion_type
    if owner is promotion_type:
        return []
    return [(("report_type",), f"{report_type} is a {owner} report, not a {promotion_type} one")]


def _filter_problems(parts: dict[str, Any]) -> list[Problem]:
    report_type, given_keys = parts.get("report_type"), parts.get("filter_keys")
    if report_type is None or given_keys is None:
        return []
    takes = {f.key: f for f in REPORTS[report_type].filters}
    problems: list[Problem] = []
    for key in ALL_FILTERS:
        given = key in given_keys
        if key in takes and takes[key].required and not given:
            problems.append((("filters", key), f"required for {report_type}"))
        elif key not in takes and given:
            accepted = ", ".join(takes)
            problems.append((("filters", key), f"not a filter of {report_type} ({accepted})"))
    return problems


def _date_range_problems(parts: dict[str, Any]) -> list[Problem]:
    report_type, recurring = parts.get("report_type"), parts.get("recurring")
    if report_type is None or "date_range" not in parts:
        return []
    date_range, definition = parts["date_range"], REPORTS[report_type]
    where = ("date_range",)
    if not definition.date_range:
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
    if definition.three_month_cap and date_range.preset is None:
        first, last = date_range.start, date_range.end
        if not months_between_ok(first, last):
            latest = latest_last_day(first)
            too_long = (
                f"at most {MAX_MONTHS} months for {report_type}: {first}..{last} ends after "
                f"{latest}"
            )
            return [(where, too_long)]
    return []


def _delivery_problems(parts: dict[str, Any]) -> list[Problem]:
    delivery = parts.get("delivery")
    if delivery is None or not parts.get("recurring"):
        return []
    if delivery.destination is not Destination.DOWNLOAD:
        return []
    cloud_only = (
        "recurring reports can only be delivered to a cloud destination (destination cloud, "
        "a configured name)"
    )
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
    taken = REPORTS[report_type].filter_keys if report_type else tuple(known)
    problems: list[Problem] = []
    for key, existing in known.items():
        value = getattr(filters, key)
        if key in taken and value is not None and value not in existing:
            problems.append((("filters", key), f"unknown {NOUNS[key]} {value!r}"))
    partner, tag = filters.partner_id, filters.list_tag
    # A tag of an unknown partner is not judged: the partner's problem already says why.
    tags = catalog.list_tags.get(partner, frozenset())
    if tag is not None and partner in catalog.partners and tag not in tags:
        problems.append((("filters", "list_tag"), f"{tag!r} is not a list tag of {partner!r}"))
    return problems


def _destination_problems(parts: dict[str, Any], destinations: Destinations | None):
    delivery = parts.get("delivery")
    if delivery is None or destinations is None:
        return []
    return [
        (("delivery", field), message) for field, message in unconfigured(delivery, destinations)
    ]


def rule_problems(
    parts: dict[str, Any], catalog: Catalog | None, destinations: Destinations | None = None
) -> list[Problem]:
    """Every problem of the rules that span sections; without `destinations` a delivery's
    name or bucket is not looked up (the run looks it up again before it delivers)."""
    return [
        *_promotion_problems(parts),
        *_filter_problems(parts),
        *_date_range_problems(parts),
        *_delivery_problems(parts),
        *_destination_problems(parts, destinations),
        *_catalog_problems(parts, catalog),
    ]
