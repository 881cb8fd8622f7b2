"""`wallet_transactions`: organic activity (earn, spend, reverse, refund, promise, bonus)
merged by time with what other streams cause (campaign credits, cashback credits) and
with the expiries of short-lived credits. Balances never go below zero."""

from __future__ import annotations

from typing import Any

from promo.generator.clock import DAY_MS
from promo.generator.output import FolderWriter, StreamState
from promo.generator.plan import WALLET_IDS, WALLETS
from promo.generator.streams import VIEWS
from promo.generator.values import (
    API,
    CASHBACK_COUPON,
    CREDIT,
    DEBIT,
    EXPIRED,
    EXTRA_FIELDS,
    LOYALTY,
    PROMISED,
    PROMO_CAMPAIGN,
    REFUND,
    REVERSE,
    SYSTEM,
)
from promo.generator.world import CASHBACK_CREDIT, EXPIRY, PROMO_CREDIT, DayLinks, World

# Organic wallet activity (not caused by another stream), by transaction kind. Kinds that
# turn out impossible for the chosen user (a debit with no balance, a refund with nothing
# to refund) become an ordinary earn credit.
_EARN, _BONUS, _SPEND, _PROMISE, _REVERSE, _REFUND = range(6)
_ORGANIC_KINDS = (_EARN, _BONUS, _SPEND, _PROMISE, _REVERSE, _REFUND)
_ORGANIC_WEIGHTS = (0.42, 0.06, 0.30, 0.08, 0.05, 0.09)
_ORGANIC_CUM = tuple(sum(_ORGANIC_WEIGHTS[: i + 1]) for i in range(len(_ORGANIC_WEIGHTS)))
# Organic transactions per day as a share of `scale`; campaign credits, cashback credits
# and expiries make up the rest (~0.35 over a month; more on burst days).
ORGANIC_SHARE = 0.65
_YEAR_MS = 365 * DAY_MS
_ID_PREFIX = VIEWS["wallet_transactions"].id_prefix
_PRODUCER = EXTRA_FIELDS[1]


def write_wallet(
    world: World,
    writer: FolderWriter,
    state: StreamState,
    offset: int,
    times: list[int],
    links: DayLinks,
    day_end: int,
) -> None:
    """The day's transactions: organic ones at `times`, derived ones (the day's links and
    the expiries due) each at its own time."""
    ledger = _Ledger(world, state, writer, offset)
    derived = links.wallet
    for ts, order, wallet, user, seq, cents in world.due(world.expiries, day_end):
        derived.append((ts, order, EXPIRY, wallet, user, cents, (seq, cents)))
    derived.sort()
    kinds = world.rng.choices(_ORGANIC_KINDS, cum_weights=_ORGANIC_CUM, k=len(times))
    i, n_derived = 0, len(derived)
    for ts, kind in zip(times, kinds, strict=True):
        while i < n_derived and derived[i][0] <= ts:
            ledger.derived(derived[i])
            i += 1
        ledger.organic(ts, kind)
    for item in derived[i:]:
        ledger.derived(item)


class _Ledger:
    """Turns wallet intents into transactions, in time order, keeping balances >= 0.

    This is the hot path (most lines are wallet transactions): the world's arrays and
    helpers are bound to attributes once per day instead of being looked up per record.
    """

    def __init__(self, world: World, state: StreamState, writer: FolderWriter, offset: int):
        self.w, self.state, self.write = world, state, writer.write
        self.random, self.stamp = world.rng.random, world.clock.stamp
        self.user_id, self.cents = world.user_id, world.cents
        self.balance, self.earners, self.spenders = world.balance, world.earners, world.spenders
        # The legacy wallet only sees activity until it is switched off.
        self.wallet_cum = (0.72, 0.94, 1.0) if offset < world.legacy_cutoff else (0.77, 1.0)
        self.loyalty_by_wallet = [
            [
                c.campaign_id
                for c in world.campaigns
                if c.reward_type == LOYALTY and c.wallet == w and c.active_on(offset)
            ]
            for w in range(len(WALLETS))
        ]

    def emit(
        self,
        ts: int,
        wallet: int,
        user: int,
        ttype: str,
        source: str,
        cents: int,
        campaign: str | None = None,
        coupon: str | None = None,
        ref: int = 0,
        expires: int | None = None,
    ) -> int:
        state, random_ = self.state, self.random
        state.seq += 1
        seq = state.seq
        rec: dict[str, Any] = {
            "transaction_id": f"{_ID_PREFIX}{seq:010d}",
            "wallet_id": WALLET_IDS[wallet],
            "user_id": self.user_id(user),
            "transaction_type": ttype,
            "transaction_source": source,
            "points": cents // 100 if cents % 100 == 0 else cents / 100,
        }
        reference = f"{_ID_PREFIX}{ref:010d}" if ref else None
        expires_at = self.stamp(expires, random_()) if expires is not None else None
        if random_() < 0.55:  # explicit nulls on some records, omitted fields on others
            rec["campaign_id"] = campaign
            rec["coupon_code"] = coupon
            rec["reference_transaction_id"] = reference
            rec["expires_at"] = expires_at
        else:
            if campaign is not None:
                rec["campaign_id"] = campaign
            if coupon is not None:
                rec["coupon_code"] = coupon
            if reference is not None:
                rec["reference_transaction_id"] = reference
            if expires_at is not None:
                rec["expires_at"] = expires_at
        rec["occurred_at"] = self.stamp(ts, random_())
        if random_() < 0.02:
            rec[_PRODUCER] = "wallet-svc-2"
        self.write(rec, ts)
        return seq

    def organic(self, ts: int, kind: int) -> None:
        r = self.random()
        wallet = 0 if r < self.wallet_cum[0] else 1 if r < self.wallet_cum[1] else 2
        if kind == _EARN:
            self.credit(ts, wallet, self.w.user(), API, self.cents(1, 200), ts + _YEAR_MS)
        elif kind == _SPEND:
            user = self.w.recall(self.earners[wallet])
            if not self._spend(ts, wallet, user):
                self._earn(ts, wallet, user)
        elif kind == _REVERSE:
            user = self.w.recall(self.earners[wallet])
            if not self._reverse(ts, wallet, user):
                self._earn(ts, wallet, user)
        elif kind == _REFUND:
            user = self.w.recall(self.spenders[wallet])
            if not self._refund(ts, wallet, user):
                self._earn(ts, wallet, user)
        elif kind == _PROMISE:
            self._promise(ts, wallet, self.w.user())
        else:
            self._bonus(ts, wallet, self.w.user())

    def derived(self, item: tuple) -> None:
        ts, _order, kind, wallet, user, cents, tag = item
        if kind == PROMO_CREDIT:
            if self.random() < 0.2:  # flash points, valid for a day
                self.short_lived_credit(ts, wallet, user, PROMO_CAMPAIGN, cents, 1, tag)
            else:
                self.credit(ts, wallet, user, PROMO_CAMPAIGN, cents, ts + 30 * DAY_MS, tag)
        elif kind == CASHBACK_CREDIT:
            self.credit(ts, wallet, user, CASHBACK_COUPON, cents, ts + 180 * DAY_MS, coupon=tag)
        else:
            self._expire(ts, wallet, user, tag)

    def credit(
        self,
        ts: int,
        wallet: int,
        user: int,
        source: str,
        cents: int,
        expires: int,
        campaign: str | None = None,
        coupon: str | None = None,
        reversible: bool = True,
    ) -> int:
        seq = self.emit(ts, wallet, user, CREDIT, source, cents, campaign, coupon, expires=expires)
        self.balance[wallet][user] += cents
        self.w.remember(self.earners[wallet], user)
        if reversible:
            self.w.credit_seq[wallet][user] = seq
            self.w.credit_cents[wallet][user] = cents
        return seq

    def short_lived_credit(
        self,
        ts: int,
        wallet: int,
        user: int,
        source: str,
        cents: int,
        days: int,
        campaign: str | None = None,
    ) -> None:
        """A credit that expires within days; its expiry is queued. Kept out of reach of
        REVERSE so that one credit is never both reversed and expired."""
        expires = ts + days * DAY_MS
        seq = self.credit(ts, wallet, user, source, cents, expires, campaign, reversible=False)
        self.w.schedule_expiry(expires, wallet, user, seq, cents)

    def _earn(self, ts: int, wallet: int, user: int) -> None:
        """Points for a purchase: the fallback when the drawn kind is impossible."""
        self.credit(ts, wallet, user, API, self.cents(1, 200), ts + _YEAR_MS)

    def _spend(self, ts: int, wallet: int, user: int) -> bool:
        balance = self.balance[wallet][user]
        if balance < 100:
            return False
        if self.random() < 0.5:  # a round redemption, as far as the balance allows
            cents = min(balance, (1 + int(self.random() * 100)) * 100)
        else:
            cents = max(1, int(balance * (0.1 + 0.9 * self.random())))
        seq = self.emit(ts, wallet, user, DEBIT, API, cents)
        self.balance[wallet][user] -= cents
        self.w.debit_seq[wallet][user] = seq
        self.w.debit_cents[wallet][user] = cents
        self.w.remember(self.spenders[wallet], user)
        return True

    def _reverse(self, ts: int, wallet: int, user: int) -> bool:
        seq, cents = self.w.credit_seq[wallet][user], self.w.credit_cents[wallet][user]
        if not seq or self.balance[wallet][user] < cents:
            return False
        source = SYSTEM if self.random() < 0.5 else API
        self.emit(ts, wallet, user, REVERSE, source, cents, ref=seq)
        self.balance[wallet][user] -= cents
        self.w.credit_seq[wallet][user] = 0
        return True

    def _refund(self, ts: int, wallet: int, user: int) -> bool:
        seq, cents = self.w.debit_seq[wallet][user], self.w.debit_cents[wallet][user]
        if not seq:
            return False
        if self.random() < 0.3:  # partial refund
            cents = max(1, cents // 2)
        self.emit(ts, wallet, user, REFUND, API, cents, ref=seq)
        self.balance[wallet][user] += cents
        self.w.debit_seq[wallet][user] = 0
        return True

    def _promise(self, ts: int, wallet: int, user: int) -> None:
        """Points announced, not yet credited: no effect on the available balance."""
        campaigns = self.loyalty_by_wallet[wallet]
        cents = self.cents(5, 100)
        if campaigns and self.random() < 0.7:
            campaign = campaigns[int(self.random() * len(campaigns))]
            self.emit(ts, wallet, user, PROMISED, PROMO_CAMPAIGN, cents, campaign)
        else:
            self.emit(ts, wallet, user, PROMISED, API, cents)

    def _bonus(self, ts: int, wallet: int, user: int) -> None:
        cents = self.cents(5, 100)
        if self.random() < 0.5:  # use-it-or-lose-it goodwill points
            days = 1 + int(self.random() * 2)
            self.short_lived_credit(ts, wallet, user, SYSTEM, cents, days)
        else:
            self.credit(ts, wallet, user, SYSTEM, cents, ts + 90 * DAY_MS)

    def _expire(self, ts: int, wallet: int, user: int, credit: tuple) -> None:
        """What is left of an expiring credit, as far as the balance still holds it."""
        seq, cents = credit
        cents = min(cents, self.balance[wallet][user])
        if cents > 0:
            self.emit(ts, wallet, user, EXPIRED, SYSTEM, cents, ref=seq)
            self.balance[wallet][user] -= cents
