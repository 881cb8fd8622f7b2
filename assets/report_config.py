"""The launchpad form of a one-time report, derived from the report spec's own model.

The spec is defined once, as pydantic models (`promo.reports.spec`); this module walks
those models and builds the equivalent Dagster config schema, so the launchpad offers the
same keys, enums and optional sections as a YAML spec, and a field added to the spec
appears here without a second definition. The values the launchpad sends are then
checked by the same `load_spec` as the CLI's (every rule, every problem at once).
"""

from __future__ import annotations

import types
from datetime import date
from enum import Enum as PyEnum
from functools import cache
from typing import Annotated, Any, Union, get_args, get_origin

from dagster import Array, Enum, EnumValue, Field, Noneable, Permissive, Shape, String
from pydantic import BaseModel

from promo.reports.run_config import CREATED_BY, NOW, PREPARED
from promo.reports.spec import ReportSpec

# A one-time report's frequency is implied by the job.
NOT_IN_LAUNCHPAD = ("frequency",)


def _config_type(annotation: Any) -> Any:
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return _config_type(args[0])
    if origin in (Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        if len(inner) != 1:
            raise TypeError(f"no config type for the union {annotation}")
        inner_type = _config_type(inner[0])
        return Noneable(inner_type) if type(None) in args else inner_type
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return Array(_config_type(args[0]))
    if isinstance(annotation, type) and issubclass(annotation, PyEnum):
        return Enum(annotation.__name__, [EnumValue(m.value) for m in annotation])
    if annotation in (str, date):
        return String
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _shape(annotation)
    raise TypeError(f"no config type for {annotation!r}: extend assets/report_config.py")


def _shape(model: type[BaseModel], skip: tuple[str, ...] = ()) -> Shape:
    fields = {}
    for name, info in model.model_fields.items():
        if name in skip:
            continue
        fields[name] = Field(_config_type(info.annotation), is_required=info.is_required())
    return Shape(fields)


@cache
def one_time_report_config() -> Shape:
    """The run config of the `one_time_report` job: the spec's keys (see README, Reports),
    who creates it, an optional clock for presets, and what the CLI or the API prepared."""
    spec = _shape(ReportSpec, skip=NOT_IN_LAUNCHPAD)
    return Shape(
        {
            **spec.fields,
            CREATED_BY: Field(String, default_value="dagster-ui"),
            NOW: Field(
                Noneable(String),
                is_required=False,
                description="ISO 8601 with offset: fixes the clock for date-range presets",
            ),
            PREPARED: Field(
                Noneable(Permissive()),
                is_required=False,
                description="Set by the CLI and the API (the resolved window); leave empty.",
            ),
        }
    )
