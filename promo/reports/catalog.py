"""What exists in the account — wallets, campaigns, partners and their list tags — for the
existence checks of a report spec, read from the lake's dimension snapshots."""

from __future__ import annotations

import io
from collections.abc import Mapping, Set
from dataclasses import dataclass, field

import polars as pl

from promo import layout
from promo.storage import Storage


@dataclass(frozen=True)
class Catalog:
    wallets: Set[str] = frozenset()
    campaigns: Set[str] = frozenset()
    partners: Set[str] = frozenset()
    list_tags: Mapping[str, Set[str]] = field(default_factory=dict)  # partner_id -> tags
    wallet_names: Mapping[str, str] = field(default_factory=dict)  # wallet_id -> name


def _dimension(lake: Storage, name: str, *columns: str) -> pl.DataFrame:
    key = layout.lake_dimension(name)
    if not lake.exists(key):
        return pl.DataFrame(schema={c: pl.String for c in columns})
    local = lake.local_path(key)
    source = local if local is not None else io.BytesIO(lake.read_bytes(key))
    return pl.read_parquet(source, columns=list(columns))


def load_catalog(lake: Storage) -> Catalog:
    """The catalog from the lake's dimension snapshots. A missing snapshot gives empty
    sets (every id is then unknown, and the spec says so)."""
    wallets = _dimension(lake, "wallets", "wallet_id", "name")
    tags: dict[str, set[str]] = {}
    for partner, tag in _dimension(lake, "voucher_lists", "partner_id", "list_tag").iter_rows():
        tags.setdefault(partner, set()).add(tag)
    return Catalog(
        wallets=frozenset(wallets["wallet_id"]),
        campaigns=frozenset(_dimension(lake, "campaigns", "campaign_id")["campaign_id"]),
        partners=frozenset(_dimension(lake, "partners", "partner_id")["partner_id"]),
        list_tags={k: frozenset(v) for k, v in tags.items()},
        wallet_names=dict(wallets.iter_rows()),
    )
