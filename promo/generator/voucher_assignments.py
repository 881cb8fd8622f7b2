"""`voucher_assignments`: the voucher service's log, fed by partner-voucher campaigns and
by codes the service hands out on its own."""

from __future__ import annotations

from promo.generator.output import FolderWriter, StreamState
from promo.generator.streams import VIEWS
from promo.generator.world import World

_OPTIONAL = VIEWS["voucher_assignments"].optional
CAMPAIGNLESS_SHARE = 0.012  # assignments outside campaigns per day, as a share of `scale`


def campaignless_vouchers(world: World, day_ms: int, factor: float) -> list[tuple]:
    """Codes the voucher service hands out on its own (support gestures, partner apps)."""
    open_lists = [i for i, s in enumerate(world.lists) if not s.paused and not s.exhausted]
    out = []
    for ts in world.live_times(day_ms, world.count(world.scale * CAMPAIGNLESS_SHARE * factor)):
        if not open_lists:
            break
        index = open_lists[int(world.rng.random() * len(open_lists))]
        if world.lists[index].exhausted:
            continue
        code = world.lists[index].next_code()
        out.append((ts, world.order(), index, code, world.user(), None))
    return out


def write_vouchers(
    world: World, writer: FolderWriter, state: StreamState, rows: list[tuple]
) -> None:
    for ts, _order, index, code, user, campaign_id in rows:
        stock = world.lists[index]
        rec = {
            "assignment_id": state.new_id(),
            "partner_id": stock.partner_id,
            "list_tag": stock.list_tag,
            "voucher_code": code,
            "user_id": world.user_id(user),
        }
        world.optional(rec, _OPTIONAL, {"campaign_id": campaign_id})
        rec["assigned_at"] = world.stamp(ts)
        writer.write(rec, ts)
