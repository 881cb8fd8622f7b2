"""The entry point: a range of UTC days, one day at a time, then the dimension snapshots."""

from __future__ import annotations

import tempfile
from datetime import date, timedelta
from pathlib import Path

from tqdm import tqdm

from promo.generator.clock import DAY_MS, Clock, day_start_ms
from promo.generator.coupon_redemptions import write_redemptions
from promo.generator.dimensions import write_dimensions
from promo.generator.noise import Noise
from promo.generator.output import FolderWriter, Output, StreamState
from promo.generator.reward_events import reward_slots, write_reward_events
from promo.generator.streams import STREAMS, VIEWS
from promo.generator.summary import GenerationSummary
from promo.generator.voucher_assignments import campaignless_vouchers, write_vouchers
from promo.generator.wallet_transactions import ORGANIC_SHARE, write_wallet
from promo.generator.world import DayLinks, World
from promo.storage import Storage


def generate(
    storage: Storage,
    start: date,
    days: int,
    *,
    seed: int = 0,
    scale: int = 2000,
    bad_rate: float = 0.002,
    redelivery_rate: float = 0.003,
    gzip_share: float = 0.3,
    progress: bool = False,
) -> GenerationSummary:
    """Write `days` UTC days of raw promo logs from `start`, and the dimension snapshots.

    `scale` is the average number of wallet transactions per day; the other streams follow
    in proportion (reward events ~0.5x, coupon redemptions ~0.08x, voucher assignments
    ~0.05x). The same arguments always give byte-identical files.
    """
    _check_arguments(days, scale, bad_rate, redelivery_rate, gzip_share)
    clock = Clock()
    noise = Noise(seed, bad_rate, redelivery_rate, clock)
    world = World(seed, scale, start, days, clock)
    states = {name: StreamState(VIEWS[name], noise) for name in STREAMS}
    with tempfile.TemporaryDirectory(prefix="promo-generator-") as tmp:
        out = Output(storage, Path(tmp), seed, gzip_share, noise)
        for offset in tqdm(range(days), desc="generating", unit="day", disable=not progress):
            _generate_day(world, out, states, offset)
        dimensions = write_dimensions(world, out)
    return GenerationSummary({n: s.summary for n, s in states.items()}, dimensions)


def _check_arguments(
    days: int, scale: int, bad_rate: float, redelivery_rate: float, gzip_share: float
) -> None:
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    if scale < 1:
        raise ValueError(f"scale must be at least 1, got {scale}")
    for name, value in (
        ("bad_rate", bad_rate),
        ("redelivery_rate", redelivery_rate),
        ("gzip_share", gzip_share),
    ):
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{name} must be between 0 and 1, got {value}")


def _generate_day(world: World, out: Output, states: dict[str, StreamState], offset: int) -> None:
    """One UTC day of every stream. Reward events go first: they cause wallet credits,
    coupon redemptions (later) and voucher assignments, which are written after them."""
    day = world.start + timedelta(days=offset)
    day_ms = day_start_ms(day)
    day_end = day_ms + DAY_MS
    factor = world.day_factor(day)
    links = DayLinks()

    slots = reward_slots(world, offset, day_ms, factor)
    writer = FolderWriter(out, states["reward_events"], day, len(slots))
    write_reward_events(world, writer, states["reward_events"], slots, offset, day_end, links)
    writer.close()
    del slots

    due = world.due(world.redemptions, day_end)
    writer = FolderWriter(out, states["coupon_redemptions"], day, len(due))
    write_redemptions(world, writer, states["coupon_redemptions"], due, day_end, links)
    writer.close()

    vouchers = sorted(links.vouchers + campaignless_vouchers(world, day_ms, factor))
    writer = FolderWriter(out, states["voucher_assignments"], day, len(vouchers))
    write_vouchers(world, writer, states["voucher_assignments"], vouchers)
    writer.close()

    times = world.live_times(day_ms, world.count(world.scale * ORGANIC_SHARE * factor))
    writer = FolderWriter(out, states["wallet_transactions"], day, len(times) + len(links.wallet))
    write_wallet(world, writer, states["wallet_transactions"], offset, times, links, day_end)
    writer.close()
