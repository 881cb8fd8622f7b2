"""`GET /api/options`: what the Create Report form offers, derived from the report
definitions (`promo.reports.definitions`: which filters each type takes, whether it has a
date range), the vocabularies (`promo.vocabulary`), the spec's own field types and presets,
and the dimension snapshots (wallets, campaigns, partners and their list tags)."""

from __future__ import annotations

import typing
from typing import Any

from orchestration.settings import Settings
from promo.reports.choices import load_choices
from promo.reports.definitions import REPORTS
from promo.reports.destinations import Destinations
from promo.reports.spec import Filters
from promo.reports.spec_fields import NOUNS, Destination, Interval
from promo.reports.windows import PRESETS
from promo.timeutil import Weekday
from promo.vocabulary import PromotionType, TransactionSource, TransactionType, Vocabulary

# Where the form finds the choices of each filter: a dimension of the options document
# (list tags: those of the chosen partner), or a vocabulary.
CHOICES = {
    "wallet_id": "wallets",
    "campaign_id": "campaigns",
    "partner_id": "partners",
    "list_tag": "partners.list_tags",
    "transaction_sources": "transaction_sources",
    "transaction_types": "transaction_types",
}


def destinations(configured: Destinations) -> list[dict[str, Any]]:
    """The form's destination choices: download, then every configured cloud destination
    by name (the spec's `{destination: cloud, name: ...}`); the fields each asks for, and
    whether recurring reports may use it (the spec rule: recurring reports go to the cloud
    only)."""
    download = Destination.DOWNLOAD
    out: list[dict[str, Any]] = [
        {
            "value": download.value,
            "label": download.label,
            "destination": download.value,
            "fields": [],
            "recurring": False,
        }
    ]
    for d in configured:
        out.append(
            {
                "value": f"{Destination.CLOUD.value}:{d.name}",
                "label": d.label,
                "destination": Destination.CLOUD.value,
                "name": d.name,
                "kind": d.kind,
                "location": d.uri(),
                "fields": ["prefix"],
                "recurring": True,
            }
        )
    return out


def _vocabulary(vocabulary: type[Vocabulary]) -> list[dict[str, str]]:
    return [{"value": m.value, "label": m.label} for m in vocabulary]


def _is_list(key: str) -> bool:
    """A filter holding several values (a tuple in the spec's model), e.g. sources."""
    for arg in typing.get_args(Filters.model_fields[key].annotation):  # X | None
        if typing.get_origin(arg) is typing.Annotated:
            arg = typing.get_args(arg)[0]
        if typing.get_origin(arg) is tuple:
            return True
    return False


def report_types() -> list[dict[str, Any]]:
    out = []
    for definition in REPORTS.values():
        filters = [
            {
                "key": f.key,
                "label": NOUNS[f.key].capitalize(),
                "required": f.required,
                "multiple": _is_list(f.key),
                "choices": CHOICES[f.key],
            }
            for f in definition.filters
        ]
        out.append(
            {
                "value": definition.report_type.value,
                "label": definition.label,
                "promotion_type": definition.promotion_type.value,
                "filters": filters,
                "date_range": definition.date_range,
                "three_month_cap": definition.three_month_cap,
            }
        )
    return out


def options(settings: Settings, lake) -> dict[str, Any]:
    types = report_types()
    promotion_types = [
        {
            **entry,
            "report_types": [t["value"] for t in types if t["promotion_type"] == entry["value"]],
        }
        for entry in _vocabulary(PromotionType)
    ]
    return {
        "timezone": settings.account_timezone,
        "promotion_types": promotion_types,
        "report_types": types,
        **load_choices(lake),
        "transaction_sources": _vocabulary(TransactionSource),
        "transaction_types": _vocabulary(TransactionType),
        "presets": [{"value": p, "label": p.replace("_", " ").capitalize()} for p in PRESETS],
        "frequencies": _vocabulary(Interval),
        "weekdays": _vocabulary(Weekday),
        "destinations": destinations(settings.destinations),
    }
