"""The simulated platform's state and the data stream's draws: users, balances, the plan,
queues of future events, and when things happen during a day."""

from __future__ import annotations

import heapq
import random
from array import array
from dataclasses import dataclass, field
from datetime import date

from promo.generator.clock import DAY_MS, Clock, day_start_ms
from promo.generator.plan import WALLETS, campaign_plan, legacy_cutoff, voucher_lists
from promo.generator.values import EXTRA_FIELDS

# Activity by UTC hour: the user base spans Asia, Europe and the Americas, so no hour is
# empty, with a trough around 01-03 UTC and a plateau in the afternoon.
_HOUR_WEIGHTS = (3, 2, 2, 2, 3, 4, 5, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 8, 7, 6, 5, 4, 3)
_HOUR_CUM = tuple(sum(_HOUR_WEIGHTS[: h + 1]) for h in range(24))
_HOURS = tuple(range(24))
_NEAR_MIDNIGHT_SHARE = 0.005  # events within 2 minutes of a UTC midnight: folder edge cases
_NEAR_MIDNIGHT_MS = 120_000

# Monday..Sunday: shoppers are busier on Friday and the weekend. Mean 1.0.
_WEEKDAY_FACTOR = (0.90, 0.88, 0.92, 0.96, 1.06, 1.20, 1.08)

_USER_STRIDE = 2_147_483_647  # prime: spreads heavy users over the id space

# Derived wallet intents (caused by another stream), merged into the organic flow by time.
PROMO_CREDIT, CASHBACK_CREDIT, EXPIRY = range(3)


@dataclass
class DayLinks:
    """Records one stream causes in another on the same day."""

    wallet: list[tuple] = field(default_factory=list)  # (ts, order, kind, wallet, user, cents, tag)
    vouchers: list[tuple] = field(default_factory=list)  # (ts, order, list index, code, user, cmp)


class World:
    """The promotions platform: users, balances, campaigns, voucher stock, pending events.

    Per user it keeps only integers in flat arrays (balance, last reversible credit, last
    refundable debit per wallet: ~120 bytes per user); records are never kept.
    """

    def __init__(self, seed: int, scale: int, start: date, days: int, clock: Clock):
        self.rng = random.Random(f"data-{seed}")
        self.scale = scale
        self.start = start
        self.days = days
        self.clock = clock
        self.range_end_ms = day_start_ms(start) + days * DAY_MS
        self.legacy_cutoff = legacy_cutoff(days)
        self.n_users = max(100, 2 * scale)
        if self.n_users % _USER_STRIDE == 0:
            self.n_users += 1

        def zeros() -> list[array]:
            return [array("q", bytes(8 * self.n_users)) for _ in WALLETS]

        self.balance = zeros()  # cents
        self.credit_seq, self.credit_cents = zeros(), zeros()  # 0: nothing to reverse
        self.debit_seq, self.debit_cents = zeros(), zeros()  # 0: nothing to refund
        # Users who recently earned or spent, per wallet (index + 1; 0 = empty slot): those
        # who spend, get reversed or refunded are mostly people with recent activity. The
        # rings hold minutes of activity; they are smaller at a small scale to fill quickly.
        self.recent = min(1024, max(16, scale // 20))
        self.earners = [array("q", bytes(8 * self.recent)) for _ in WALLETS]
        self.spenders = [array("q", bytes(8 * self.recent)) for _ in WALLETS]

        self.campaigns = campaign_plan(days, self.rng)
        self.lists = voucher_lists(scale, days)
        self.redemptions: list[tuple] = []  # heap: (ts, order, campaign index, user, code)
        self.expiries: list[tuple] = []  # heap: (ts, order, wallet, user, credit seq, cents)
        self._order = 0

    # -- draws

    def order(self) -> int:
        self._order += 1
        return self._order

    def user(self) -> int:
        """A user index; low indices are the heavy users (density ~ 1/sqrt(x)): the top
        1 % of users make about 10 % of all activity."""
        r = self.rng.random()
        return int(self.n_users * r * r)

    def remember(self, ring: array, user: int) -> None:
        ring[int(self.rng.random() * self.recent)] = user + 1  # a random slot: bounded, no shifting

    def recall(self, ring: array) -> int:
        """Mostly a recently active user of the ring, sometimes anyone."""
        if self.rng.random() < 0.75:
            slot = ring[int(self.rng.random() * self.recent)]
            if slot:
                return slot - 1
        return self.user()

    def user_id(self, user: int) -> str:
        return f"usr_{(user * _USER_STRIDE + 7) % self.n_users:07d}"

    def count(self, mean: float) -> int:
        """A day's count around `mean` (+-10 %), rounded stochastically so small means
        still average out right."""
        value = mean * (0.9 + 0.2 * self.rng.random())
        whole = int(value)
        return whole + (1 if self.rng.random() < value - whole else 0)

    def cents(self, lo: int, hi: int) -> int:
        """An amount between lo and hi points: 60 % whole points, 40 % with cents."""
        if self.rng.random() < 0.6:
            return (lo + int(self.rng.random() * (hi - lo + 1))) * 100
        return lo * 100 + int(self.rng.random() * ((hi - lo) * 100 + 1)) or 1

    def stamp(self, ts: int) -> str:
        return self.clock.stamp(ts, self.rng.random())

    def optional(self, rec: dict, names: tuple[str, ...], values: dict) -> None:
        """Optional fields are written as null on some records and left out on others:
        consumers must accept both. A few records carry an unknown extra field."""
        if self.rng.random() < 0.55:
            for name in names:
                rec[name] = values.get(name)
        else:
            for name in names:
                value = values.get(name)
                if value is not None:
                    rec[name] = value
        if self.rng.random() < 0.02:
            rec[EXTRA_FIELDS[0]] = f"{self.rng.getrandbits(64):016x}"

    # -- when things happen

    def live_times(self, day_ms: int, n: int) -> list[int]:
        """n sorted event times over the day, following user activity by hour."""
        rng = self.rng
        near = int(n * _NEAR_MIDNIGHT_SHARE + rng.random())
        hours = rng.choices(_HOURS, cum_weights=_HOUR_CUM, k=n - near)
        times = [day_ms + h * 3_600_000 + int(rng.random() * 3_600_000) for h in hours]
        for _ in range(near):
            edge = int(rng.random() * _NEAR_MIDNIGHT_MS)
            times.append(day_ms + edge if rng.random() < 0.5 else day_ms + DAY_MS - 1 - edge)
        times.sort()
        return times

    def blast_times(self, day_ms: int, n: int, minute: int) -> list[int]:
        """A scheduled batch send: n times within ~20 minutes after `minute` (UTC)."""
        begin = day_ms + minute * 60_000
        width = min(20 * 60_000, day_ms + DAY_MS - begin)
        return sorted(begin + int(self.rng.random() * width) for _ in range(n))

    def day_factor(self, day: date) -> float:
        return _WEEKDAY_FACTOR[day.weekday()]

    def near(self, ts: int, day_end: int, max_ms: int) -> int:
        """A moment shortly after ts, kept on the same UTC day (so in the same folder)."""
        return min(ts + 200 + int(self.rng.random() * max_ms), day_end - 1)

    # -- queues of future events

    def schedule_redemption(self, ts: int, campaign: int, user: int, code: str) -> None:
        # Most redemptions come within hours, some days later; at least a minute after.
        delay = 60_000 + int(self.rng.expovariate(1.0 / (18 * 3_600_000)))
        if ts + delay < self.range_end_ms:
            heapq.heappush(self.redemptions, (ts + delay, self.order(), campaign, user, code))

    def schedule_expiry(self, ts: int, wallet: int, user: int, seq: int, cents: int) -> None:
        if ts < self.range_end_ms:
            heapq.heappush(self.expiries, (ts, self.order(), wallet, user, seq, cents))

    @staticmethod
    def due(heap: list[tuple], before: int) -> list[tuple]:
        out = []
        while heap and heap[0][0] < before:
            out.append(heapq.heappop(heap))
        return out
