"""Loading report specs from YAML text, files and mappings."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from promo import yamlfile
from promo.reports.destinations import Destinations
from promo.reports.spec import SECTIONS, ReportSpec
from promo.reports.spec_errors import SpecError

if TYPE_CHECKING:  # polars, which the catalog is read with, costs 0.13 s to import
    from promo.reports.catalog import Catalog

SPEC_MAX_BYTES = 64 * 1024  # a spec is a few hundred bytes


def load_spec(
    source: str | bytes | Mapping[str, Any] | ReportSpec,
    catalog: Catalog | None = None,
    destinations: Destinations | None = None,
) -> ReportSpec:
    """A checked spec from YAML text or a mapping; raises `SpecError` listing every problem.

    Without a catalog, everything but the existence of ids is checked; without
    `destinations`, a delivery's destination name or bucket is not looked up.
    """
    if isinstance(source, ReportSpec):
        source = source.to_dict()
    if isinstance(source, str | bytes):
        try:
            data = yamlfile.parse(source, "spec", SPEC_MAX_BYTES)
        except yamlfile.YamlError as exc:
            raise SpecError([str(exc)]) from None
    else:
        data = source
    if isinstance(data, Mapping):
        data = dict(data)
    try:
        return ReportSpec.model_validate(
            data, context={"catalog": catalog, "destinations": destinations}
        )
    except ValidationError as exc:
        raise SpecError.from_validation_error(exc, SECTIONS) from None


def load_spec_file(
    path: str | Path, catalog: Catalog | None = None, destinations: Destinations | None = None
) -> ReportSpec:
    try:
        data = yamlfile.read(Path(path), SPEC_MAX_BYTES)
    except yamlfile.YamlError as exc:
        raise SpecError([f"spec: {exc}"]) from None
    return load_spec(data, catalog, destinations)
