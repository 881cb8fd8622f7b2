"""`reward_events`: every distribution attempt of every active campaign, and what each
success causes elsewhere (a wallet credit, a voucher assignment, a later redemption)."""

from __future__ import annotations

from typing import Any

from promo.generator.output import FolderWriter, StreamState
from promo.generator.plan import BURST_FACTOR, LEGACY, WALLET_IDS, Campaign
from promo.generator.streams import VIEWS
from promo.generator.values import (
    COUPON,
    CUSTOM,
    FAILED,
    LOYALTY,
    PARTNER,
    SENT,
    SINGLE,
    SUCCESS,
    WALLET_CREDITS,
    WEBHOOK_FAILED,
    num,
    scramble,
)
from promo.generator.world import PROMO_CREDIT, DayLinks, World

_OPTIONAL = VIEWS["reward_events"].optional
_REDEEM_PROBABILITY = 0.55
_FAILURES = {
    LOYALTY: (
        ("USER_NOT_ELIGIBLE", "user is not in the campaign segment"),
        ("DAILY_LIMIT_REACHED", "user already got the daily maximum of points"),
    ),
    COUPON: (
        ("COUPON_LIMIT_REACHED", "campaign reached its coupon limit for the day"),
        ("USER_NOT_ELIGIBLE", "user is not in the campaign segment"),
    ),
    PARTNER: (("USER_NOT_ELIGIBLE", "user is not in the campaign segment"),),
    CUSTOM: (
        ("WEBHOOK_TIMEOUT", "webhook did not answer within 10 s"),
        ("WEBHOOK_HTTP_ERROR", "webhook answered HTTP 502"),
    ),
}
_FAILURE_RATE = {LOYALTY: 0.04, COUPON: 0.05, PARTNER: 0.03, CUSTOM: 0.12}


def reward_slots(world: World, offset: int, day_ms: int, factor: float) -> list[tuple]:
    """(time, campaign index) of every distribution attempt of the day, in time order."""
    slots: list[tuple] = []
    for index, camp in enumerate(world.campaigns):
        if not camp.active_on(offset):
            continue
        burst = BURST_FACTOR if camp.burst_day == offset else 1.0
        n = world.count(world.scale * camp.weight * factor * burst)
        if camp.blast_minute is None:
            times = world.live_times(day_ms, n)
        else:
            times = world.blast_times(day_ms, n, camp.blast_minute)
        slots.extend((t, index) for t in times)
    slots.sort()
    return slots


def write_reward_events(
    world: World,
    writer: FolderWriter,
    state: StreamState,
    slots: list[tuple],
    offset: int,
    day_end: int,
    links: DayLinks,
) -> None:
    for ts, index in slots:
        camp = world.campaigns[index]
        user = world.user()
        values = _BUILDERS[camp.reward_type](world, camp, index, ts, user, offset, day_end, links)
        rec = {
            "event_id": state.new_id(),
            "campaign_id": camp.campaign_id,
            "user_id": world.user_id(user),
            "reward_type": camp.reward_type,
            "status": FAILED if "error_code" in values else SUCCESS,
            "occurred_at": world.stamp(ts),
        }
        world.optional(rec, _OPTIONAL, values)
        writer.write(rec, ts)


def _failure(world: World, reward_type: str) -> dict | None:
    if world.rng.random() >= _FAILURE_RATE[reward_type]:
        return None
    code, message = _FAILURES[reward_type][int(world.rng.random() * len(_FAILURES[reward_type]))]
    return {"error_code": code, "error_message": message}


# Each builder returns the optional fields of one attempt; it also queues what a success
# causes in another stream. They share one signature so the writer can dispatch on type.


def _loyalty(
    world: World,
    camp: Campaign,
    index: int,
    ts: int,
    user: int,
    offset: int,
    day_end: int,
    links: DayLinks,
) -> dict:
    wallet_id = WALLET_IDS[camp.wallet]
    if camp.wallet == LEGACY and offset >= world.legacy_cutoff:
        return {
            "wallet_id": wallet_id,
            "error_code": "WALLET_INACTIVE",
            "error_message": f"wallet {wallet_id} is inactive",
        }
    failed = _failure(world, LOYALTY)
    if failed:
        return {"wallet_id": wallet_id, **failed}
    cents = camp.points_menu[int(world.rng.random() * len(camp.points_menu))]
    credit_ts = world.near(ts, day_end, 5000)
    links.wallet.append(
        (credit_ts, world.order(), PROMO_CREDIT, camp.wallet, user, cents, camp.campaign_id)
    )
    return {"wallet_id": wallet_id, "points": num(cents)}


def _coupon(
    world: World,
    camp: Campaign,
    index: int,
    ts: int,
    user: int,
    offset: int,
    day_end: int,
    links: DayLinks,
) -> dict:
    failed = _failure(world, COUPON)
    if failed:
        return failed
    if camp.coupon_type == SINGLE:
        code = camp.code
    else:
        camp.issued += 1
        code = f"{camp.code}-{scramble(camp.issued)}"
    if world.rng.random() < _REDEEM_PROBABILITY:
        world.schedule_redemption(ts, index, user, code)
    return {"coupon_code": code}


def _partner(
    world: World,
    camp: Campaign,
    index: int,
    ts: int,
    user: int,
    offset: int,
    day_end: int,
    links: DayLinks,
) -> dict:
    stock = world.lists[camp.voucher_list]
    where = {"partner_id": stock.partner_id, "list_tag": stock.list_tag}
    if stock.exhausted:
        return {
            **where,
            "error_code": "VOUCHER_LIST_EXHAUSTED",
            "error_message": f"voucher list {stock.list_tag} has no codes left",
        }
    failed = _failure(world, PARTNER)
    if failed:
        return {**where, **failed}
    code = stock.next_code()
    assigned = world.near(ts, day_end, 2000)
    links.vouchers.append(
        (assigned, world.order(), camp.voucher_list, code, user, camp.campaign_id)
    )
    return {**where, "voucher_code": code}


def _custom(
    world: World,
    camp: Campaign,
    index: int,
    ts: int,
    user: int,
    offset: int,
    day_end: int,
    links: DayLinks,
) -> dict:
    failed = _failure(world, CUSTOM)
    if failed:
        return {"webhook_status": WEBHOOK_FAILED, **failed}
    values: dict[str, Any] = {"webhook_status": SENT}
    if camp.custom_kind == WALLET_CREDITS:
        values["credits"] = num(world.cents(5, 50))
    return values


_BUILDERS = {LOYALTY: _loyalty, COUPON: _coupon, PARTNER: _partner, CUSTOM: _custom}
