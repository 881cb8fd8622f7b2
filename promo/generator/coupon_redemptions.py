"""`coupon_redemptions`: coupons handed out earlier, redeemed when their time comes; a
cashback redemption credits the main wallet shortly after."""

from __future__ import annotations

from promo.generator.output import FolderWriter, StreamState
from promo.generator.plan import MAIN
from promo.generator.streams import VIEWS
from promo.generator.values import CASHBACK, num
from promo.generator.world import CASHBACK_CREDIT, DayLinks, World

_OPTIONAL = VIEWS["coupon_redemptions"].optional


def write_redemptions(
    world: World,
    writer: FolderWriter,
    state: StreamState,
    due: list[tuple],
    day_end: int,
    links: DayLinks,
) -> None:
    for ts, _order, index, user, code in due:
        camp = world.campaigns[index]
        rec = {
            "redemption_id": state.new_id(),
            "coupon_code": code,
            "campaign_id": camp.campaign_id,
            "user_id": world.user_id(user),
            "benefit": camp.coupon_benefit,
        }
        if camp.coupon_benefit == CASHBACK:
            cents = world.cents(5, 50)
            values = {"cashback_points": num(cents)}
            credit_ts = world.near(ts, day_end, 30_000)
            links.wallet.append(
                (credit_ts, world.order(), CASHBACK_CREDIT, MAIN, user, cents, code)
            )
        else:
            values = {"discount_amount": num(world.cents(1, 40))}
        world.optional(rec, _OPTIONAL, values)
        rec["redeemed_at"] = world.stamp(ts)
        writer.write(rec, ts)
