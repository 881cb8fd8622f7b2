"""The dimension snapshots (campaigns, wallets, partners, voucher lists) as they stand at
the end of the range, one row per line, fields in contract order."""

from __future__ import annotations

from datetime import timedelta

import orjson

from promo import contract as c
from promo.generator.output import Output
from promo.generator.plan import PARTNERS, WALLETS
from promo.generator.world import World


def write_dimensions(world: World, out: Output) -> dict[str, int]:
    """Writes `dimensions/<name>.jsonl` for each snapshot; returns rows per snapshot."""
    counts = {}
    for name, rows in _dimension_rows(world).items():
        local = out.tmp / f"{name}.jsonl"
        local.write_bytes(b"".join(orjson.dumps(row) + b"\n" for row in rows))
        out.publish(local, f"dimensions/{name}.jsonl")
        counts[name] = len(rows)
    return counts


def _dimension_rows(world: World) -> dict[str, list[dict]]:
    def at(offset: int) -> str:
        return f"{(world.start + timedelta(days=offset)).isoformat()}T00:00:00Z"

    campaigns = [
        {
            "campaign_id": camp.campaign_id,
            "name": camp.name,
            "reward_type": camp.reward_type,
            "coupon_type": camp.coupon_type,
            "coupon_benefit": camp.coupon_benefit,
            "custom_reward_kind": camp.custom_kind,
            "segment_kind": camp.segment_kind,
            "status": camp.status,
            "wallet_id": WALLETS[camp.wallet][0] if camp.wallet is not None else None,
            "start_at": at(camp.start_day),
            "end_at": at(camp.end_day),
        }
        for camp in world.campaigns
    ]
    rows = {
        "campaigns": campaigns,
        "wallets": [{"wallet_id": i, "name": n, "status": s} for i, n, s in WALLETS],
        "partners": [{"partner_id": i, "name": n} for i, n in PARTNERS],
        "voucher_lists": [
            {"partner_id": s.partner_id, "list_tag": s.list_tag, "name": s.name, "status": s.status}
            for s in world.lists
        ],
    }
    return {
        name: [_in_contract_order(c.DIMENSIONS[name], row) for row in table]
        for name, table in rows.items()
    }


def _in_contract_order(stream: c.Stream, values: dict) -> dict:
    """Every contract field of the snapshot, in contract order; an optional field the
    generator has no value for is written as null, a required one is an error."""
    unknown = values.keys() - set(stream.columns)
    if unknown:
        raise ValueError(f"{stream.name}: {sorted(unknown)} are not contract fields")
    return {f.name: values[f.name] if f.required else values.get(f.name) for f in stream.fields}
