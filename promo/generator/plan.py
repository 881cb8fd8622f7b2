"""The plan of the simulated platform: wallets, partners and their voucher lists, and
about a dozen campaigns covering every reward type, segment kind and status.

Days in the plan are relative to the first generated day (0) and `days` is the length of
the range, so a plan stretches with the range: a campaign that ends mid-range ends
mid-range for any length.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from promo.generator.values import (
    ACTIVE,
    BULK,
    CASHBACK,
    COMPLETED,
    COUPON,
    CUSTOM,
    DISCOUNT,
    DRAFT,
    INACTIVE,
    LIVE,
    LOYALTY,
    PARTNER,
    PAST,
    PHYSICAL_DIGITAL,
    RUNNING,
    SCHEDULED,
    SINGLE,
    STOPPED,
    WALLET_CREDITS,
    scramble,
)

WALLETS = (
    ("wlt_main", "Main Rewards Wallet", ACTIVE),
    ("wlt_travel", "Travel Miles Wallet", ACTIVE),
    ("wlt_legacy", "Legacy Card Wallet", INACTIVE),
)
MAIN, TRAVEL, LEGACY = 0, 1, 2
WALLET_IDS = tuple(w[0] for w in WALLETS)

PARTNERS = (
    ("prt_brewhouse", "BrewHouse Coffee"),
    ("prt_cinemax", "CineMax Theatres"),
    ("prt_fitzone", "FitZone Gyms"),
)

MOVIE_WEIGHT = 0.02
BURST_FACTOR = 3.0  # a live campaign's busiest day: a push notification or a sale


@dataclass
class VoucherList:
    partner_id: str
    list_tag: str
    name: str
    code_prefix: str
    capacity: int | None  # None: refilled by the partner, never runs out
    paused: bool = False
    used: int = 0

    @property
    def exhausted(self) -> bool:
        return self.capacity is not None and self.used >= self.capacity

    @property
    def status(self) -> str:
        """Free text in the contract (voucher_lists.status has no fixed values)."""
        return "PAUSED" if self.paused else "EXHAUSTED" if self.exhausted else "ACTIVE"

    def next_code(self) -> str:
        self.used += 1
        return f"{self.code_prefix}-{scramble(self.used)}"


def voucher_lists(scale: int, days: int) -> list[VoucherList]:
    # The cinema list holds ~60 % of what its campaign will ask for over the range, so it
    # runs out part-way and the campaign starts failing with VOUCHER_LIST_EXHAUSTED.
    cinema_capacity = max(3, int(scale * MOVIE_WEIGHT * days * 0.6))
    return [
        VoucherList("prt_brewhouse", "free-latte", "Free latte", "LATTE", None),
        VoucherList("prt_brewhouse", "pastry-bogo", "Pastry buy one get one", "BOGO", None),
        VoucherList("prt_cinemax", "movie-ticket", "Movie ticket", "CINE", cinema_capacity),
        VoucherList("prt_fitzone", "day-pass", "Gym day pass", "FITD", None),
        VoucherList("prt_fitzone", "trial-week", "Trial week", "FITW", None, paused=True),
    ]


@dataclass
class Campaign:
    campaign_id: str
    name: str
    reward_type: str
    segment_kind: str
    weight: float  # reward events per day, as a share of `scale`
    start_day: int  # relative to the first generated day
    end_day: int  # exclusive
    status: str | None = None  # None: derived from the dates
    wallet: int | None = None
    points_menu: tuple[int, ...] = ()  # loyalty points per reward, in cents
    coupon_type: str | None = None
    coupon_benefit: str | None = None
    code: str = ""  # the single code, or the prefix of bulk codes
    voucher_list: int | None = None
    custom_kind: str | None = None
    blast_minute: int | None = None  # past-behaviour segments are sent in one daily batch
    burst_day: int | None = None
    issued: int = 0  # bulk codes handed out so far

    def active_on(self, offset: int) -> bool:
        return self.status not in (DRAFT, SCHEDULED) and self.start_day <= offset < self.end_day


def campaign_plan(days: int, rng: random.Random) -> list[Campaign]:
    """The campaigns in a fixed order (it decides ties between simultaneous events), with
    their statuses at the end of the range and their burst days drawn from `rng`."""
    campaigns = [
        *_loyalty_campaigns(days),
        *_coupon_campaigns(days),
        *_voucher_and_custom_campaigns(days),
        *_upcoming_campaigns(days),
    ]
    _settle_statuses(campaigns, days)
    _pick_burst_days(campaigns, days, rng)
    return campaigns


def legacy_cutoff(days: int) -> int:
    """The day (relative) from which the legacy wallet is inactive."""
    return max(1, days // 2)


def _loyalty_campaigns(days: int) -> list[Campaign]:
    mid = days // 2
    return [
        Campaign(
            "cmp_everyday_points",
            "Everyday Points",
            LOYALTY,
            LIVE,
            0.14,
            -60,
            days + 90,
            wallet=MAIN,
            points_menu=(1000, 2500, 5000, 1250, 750),
        ),
        Campaign(
            "cmp_travel_miles",
            "Travel Miles Boost",
            LOYALTY,
            PAST,
            0.06,
            -14,
            days + 30,
            wallet=TRAVEL,
            points_menu=(20000, 15000, 5000, 2575),
            blast_minute=570,
        ),
        # Stopped by hand a while after its wallet was switched off: failures in between.
        Campaign(
            "cmp_legacy_card",
            "Legacy Card Points",
            LOYALTY,
            LIVE,
            0.03,
            -120,
            min(days, legacy_cutoff(days) + max(1, days // 4)),
            status=STOPPED,
            wallet=LEGACY,
            points_menu=(500, 1000),
        ),
        Campaign(
            "cmp_flash_points",
            "Flash Sale Points",
            LOYALTY,
            LIVE,
            0.12,
            mid,
            mid + max(1, days // 5),
            wallet=MAIN,
            points_menu=(10000, 2500, 3333),
        ),
    ]


def _coupon_campaigns(days: int) -> list[Campaign]:
    return [
        Campaign(
            "cmp_welcome10",
            "Welcome 10% Off",
            COUPON,
            LIVE,
            0.04,
            -30,
            days + 30,
            coupon_type=SINGLE,
            coupon_benefit=DISCOUNT,
            code="WELCOME10",
        ),
        # Sent at 23:45 UTC: a batch that runs into midnight.
        Campaign(
            "cmp_weekend_cashback",
            "Weekend Cashback Code",
            COUPON,
            PAST,
            0.03,
            -7,
            days + 14,
            coupon_type=SINGLE,
            coupon_benefit=CASHBACK,
            code="WKND50",
            blast_minute=1425,
        ),
        Campaign(
            "cmp_personal_discount",
            "Personal Discount Codes",
            COUPON,
            LIVE,
            0.04,
            -10,
            days + 20,
            coupon_type=BULK,
            coupon_benefit=DISCOUNT,
            code="PDC",
        ),
        Campaign(
            "cmp_cashback_vault",
            "Cashback Vault",
            COUPON,
            LIVE,
            0.04,
            -3,
            days + 10,
            coupon_type=BULK,
            coupon_benefit=CASHBACK,
            code="CBV",
        ),
    ]


def _voucher_and_custom_campaigns(days: int) -> list[Campaign]:
    return [
        Campaign(
            "cmp_free_latte",
            "Free Latte Friday",
            PARTNER,
            LIVE,
            0.03,
            -30,
            days + 60,
            voucher_list=0,
        ),
        Campaign(
            "cmp_movie_night",
            "Movie Night Voucher",
            PARTNER,
            PAST,
            MOVIE_WEIGHT,
            -5,
            days + 30,
            voucher_list=2,
            blast_minute=780,
        ),
        Campaign(
            "cmp_streak_credits",
            "Streak Credits",
            CUSTOM,
            LIVE,
            0.03,
            -20,
            days + 40,
            custom_kind=WALLET_CREDITS,
        ),
        Campaign(
            "cmp_merch_pack",
            "Merch Pack Giveaway",
            CUSTOM,
            PAST,
            0.02,
            -20,
            max(1, 3 * days // 5),
            custom_kind=PHYSICAL_DIGITAL,
            blast_minute=1035,
        ),
    ]


def _upcoming_campaigns(days: int) -> list[Campaign]:
    """Campaigns that start after the range: in the catalog, never in the events."""
    return [
        Campaign(
            "cmp_holiday_double",
            "Holiday Double Points",
            LOYALTY,
            LIVE,
            0.1,
            days + 10,
            days + 40,
            status=DRAFT,
            wallet=MAIN,
            points_menu=(2000,),
        ),
        Campaign(
            "cmp_new_year_codes",
            "New Year Codes",
            COUPON,
            LIVE,
            0.04,
            days + 3,
            days + 33,
            coupon_type=BULK,
            coupon_benefit=DISCOUNT,
            code="NY",
        ),
    ]


def _settle_statuses(campaigns: list[Campaign], days: int) -> None:
    """Statuses as seen at the end of the generated range."""
    for camp in campaigns:
        if camp.status is None:
            if camp.start_day >= days:
                camp.status = SCHEDULED
            elif camp.end_day <= days:
                camp.status = COMPLETED
            else:
                camp.status = RUNNING


def _pick_burst_days(campaigns: list[Campaign], days: int, rng: random.Random) -> None:
    """About one burst per live campaign every two weeks, so a short range is not made
    mostly of burst days."""
    for camp in campaigns:
        lo, hi = max(0, camp.start_day), min(days, camp.end_day)
        if camp.segment_kind != LIVE or camp.status == DRAFT or lo >= hi:
            continue
        if rng.random() < (hi - lo) / 14:
            camp.burst_day = lo + int(rng.random() * (hi - lo))
