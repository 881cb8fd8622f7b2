"""What a person can pick when writing a spec: the wallets, campaigns (every status),
partners and their list tags that exist, with their names, from the lake's dimension
snapshots (the same files `catalog.load_catalog` checks ids against)."""

from __future__ import annotations

from typing import Any

from promo.reports.catalog import _dimension
from promo.storage import Storage


def load_choices(lake: Storage) -> dict[str, list[dict[str, Any]]]:
    """{"wallets": [{id, name, status}], "campaigns": [...], "partners": [{id, name,
    list_tags: [{tag, name, status}]}]}, each sorted by name then id."""
    wallets = _dimension(lake, "wallets", "wallet_id", "name", "status")
    campaigns = _dimension(lake, "campaigns", "campaign_id", "name", "status")
    partners = _dimension(lake, "partners", "partner_id", "name")
    lists = _dimension(lake, "voucher_lists", "partner_id", "list_tag", "name", "status")
    tags: dict[str, list[dict[str, Any]]] = {}
    for partner, tag, name, status in lists.sort("name", "list_tag").iter_rows():
        tags.setdefault(partner, []).append({"tag": tag, "name": name, "status": status})
    return {
        "wallets": [
            {"id": i, "name": n, "status": s}
            for i, n, s in wallets.sort("name", "wallet_id").iter_rows()
        ],
        "campaigns": [
            {"id": i, "name": n, "status": s}
            for i, n, s in campaigns.sort("name", "campaign_id").iter_rows()
        ],
        "partners": [
            {"id": i, "name": n, "list_tags": tags.get(i, [])}
            for i, n in partners.sort("name", "partner_id").iter_rows()
        ],
    }
