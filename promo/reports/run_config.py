"""A one-time report's run config as the report list reads it back: the spec's own keys,
who asked, and the run tags that name the report.

Kept apart from `promo.reports.request` (which brings the export engine, polars and the
spec models) so that reading the list imports none of that.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from promo import names
from promo.reports.destinations import delivery_label

# Run config keys next to the spec's own: who asked, the clock, and what the entry point
# prepared (absent when a run is launched from the launchpad).
CREATED_BY, NOW, PREPARED = "created_by", "now", "prepared"


def spec_of_run_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """The spec's own keys of a one-time report's run config."""
    extra = (CREATED_BY, NOW, PREPARED)
    return {**{k: v for k, v in config.items() if k not in extra}, "frequency": "one_time"}


def report_tags(config: Mapping[str, Any]) -> dict[str, str]:
    """The run tags that make a run a line of `report list` (name, types, created by),
    from a one-time report's run config."""
    values = {
        names.REPORT_NAME_TAG: config.get("name"),
        names.REPORT_TYPE_TAG: config.get("report_type"),
        names.PROMOTION_TYPE_TAG: config.get("promotion_type"),
        names.CREATED_BY_TAG: config.get(CREATED_BY),
        names.DESTINATION_TAG: delivery_label(config.get("delivery")),
    }
    return {k: str(v) for k, v in values.items() if v is not None}
