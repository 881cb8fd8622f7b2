"""The report engine's domain: report specs and their windows (plain Python, no Dagster)."""

from promo.reports.spec import (
    Catalog,
    ReportSpec,
    ReportType,
    SpecError,
    load_spec,
    load_spec_file,
)
from promo.reports.windows import (
    PRESETS,
    Window,
    custom_window,
    months_between_ok,
    recurring_window,
    resolve_preset,
)

__all__ = [
    "PRESETS",
    "Catalog",
    "ReportSpec",
    "ReportType",
    "SpecError",
    "Window",
    "custom_window",
    "load_spec",
    "load_spec_file",
    "months_between_ok",
    "recurring_window",
    "resolve_preset",
]
