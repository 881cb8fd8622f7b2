"""From a checked spec to the export engine's request, once per report.

`prepare` resolves the report's window (a one-time preset at the clock of its creation, a
recurring run's partition, or none for a snapshot) and binds its filter values. The CLI
and the API prepare a report where it enters and hand the result to its Dagster run as
run config (`to_run_config`); the run reads it back (`from_run_config`) instead of
checking and resolving again. A run launched from the Dagster launchpad carries only the
spec's keys, and its step prepares it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from promo import layout
from promo.reports.catalog import Catalog
from promo.reports.engine import ReportRequest
from promo.reports.run_config import CREATED_BY, NOW, PREPARED, spec_of_run_config
from promo.reports.spec import ReportSpec
from promo.reports.windows import Window


def report_folder(spec: ReportSpec, run_id: str | None = None) -> str:
    """Where a report's files go under its destination (see `layout.report_folder`)."""
    return layout.report_folder(layout.slugify(spec.name), spec.fingerprint, run_id)


def bind(spec: ReportSpec, catalog: Catalog) -> dict[str, Any]:
    """The query parameters of a spec's filters (contract codes for lists), plus the
    wallet's name for the rows the engine makes itself (quiet days)."""
    params: dict[str, Any] = {}
    for f in spec.definition.filters:
        value = getattr(spec.filters, f.key)
        params[f.param] = [v.code for v in value] if isinstance(value, tuple) else value
    if spec.filters.wallet_id is not None:
        params["wallet_name"] = catalog.wallet_names.get(spec.filters.wallet_id)
    return params


def prepare(
    spec: ReportSpec, catalog: Catalog, now: datetime, tz: ZoneInfo, window: Window | None = None
) -> ReportRequest:
    """The engine's request for `spec` as seen at `now`. `window` is a recurring run's
    (its partition); a snapshot report has none whatever triggered it."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be timezone-aware, got {now.isoformat()}")
    if not spec.definition.date_range:
        window = None
    elif window is None:
        window = spec.date_range.window(now, tz)
    return ReportRequest(
        name=spec.name,
        report_type=spec.report_type,
        params=bind(spec, catalog),
        window=window,
        spec=spec.to_dict(),
    )


def to_run_config(request: ReportRequest, created_by: str, now: datetime) -> dict[str, Any]:
    """A one-time report's run config: the spec's keys, then who and when, then what was
    prepared (the window and the bound values)."""
    spec = {k: v for k, v in request.spec.items() if k != "frequency"}
    prepared = {
        "window": request.window.to_dict() if request.window else None,
        "params": request.params,
    }
    return {**spec, CREATED_BY: created_by, NOW: now.isoformat(), PREPARED: prepared}


def from_run_config(config: Mapping[str, Any]) -> tuple[ReportSpec, ReportRequest] | None:
    """The spec and request an entry point prepared, or None when the run carries only
    the spec (launched from the launchpad: its step prepares it)."""
    prepared = config.get(PREPARED)
    if not prepared:
        return None
    spec = ReportSpec.restore(spec_of_run_config(config))
    window = prepared.get("window")
    request = ReportRequest(
        name=spec.name,
        report_type=spec.report_type,
        params=dict(prepared.get("params") or {}),
        window=Window.from_dict(window) if window else None,
        spec=spec.to_dict(),
    )
    return spec, request
