"""The values the generator writes into records.

Enum values are named here once, each checked against the raw contract
(`promo.contract`) when the package is imported: the generator cannot write a value the
contract does not allow, and a value the contract renames or drops fails at import
instead of producing files that ingestion quarantines.
"""

from __future__ import annotations

from promo import contract as c


def _allowed(stream: c.Stream, field: str, *values: str) -> tuple[str, ...]:
    """`values`, each checked to be one of the contract's values for `stream.field`."""
    enum = next(f.enum for f in stream.fields if f.name == field) or ()
    unknown = [v for v in values if v not in enum]
    if unknown:
        raise ValueError(f"{stream.name}.{field} does not allow {unknown} (allowed: {enum})")
    return values


_WT, _RE, _CR, _CAMP = c.WALLET_TRANSACTIONS, c.REWARD_EVENTS, c.COUPON_REDEMPTIONS, c.CAMPAIGNS

CREDIT, DEBIT, EXPIRED, PROMISED, REVERSE, REFUND = _allowed(
    _WT, "transaction_type", "CREDIT", "DEBIT", "EXPIRED", "PROMISED", "REVERSE", "REFUND"
)
API, SYSTEM, PROMO_CAMPAIGN, CASHBACK_COUPON = _allowed(
    _WT, "transaction_source", "API", "SYSTEM", "PROMO_CAMPAIGN", "CASHBACK_COUPON"
)
LOYALTY, COUPON, PARTNER, CUSTOM = _allowed(
    _RE, "reward_type", "LOYALTY_POINTS", "COUPON", "PARTNER_VOUCHER", "CUSTOM_REWARD"
)
SUCCESS, FAILED = _allowed(_RE, "status", "SUCCESS", "FAILED")
SENT, WEBHOOK_FAILED = _allowed(_RE, "webhook_status", "SENT", "FAILED")
DISCOUNT, CASHBACK = _allowed(_CR, "benefit", "DISCOUNT", "CASHBACK")
# The campaigns snapshot writes the same values into its own reward and benefit fields.
_allowed(_CAMP, "reward_type", LOYALTY, COUPON, PARTNER, CUSTOM)
_allowed(_CAMP, "coupon_benefit", DISCOUNT, CASHBACK)
SINGLE, BULK = _allowed(_CAMP, "coupon_type", "SINGLE", "BULK")
WALLET_CREDITS, PHYSICAL_DIGITAL = _allowed(
    _CAMP, "custom_reward_kind", "SELF_MANAGED_WALLET_CREDITS", "PHYSICAL_DIGITAL"
)
LIVE, PAST = _allowed(_CAMP, "segment_kind", "LIVE_BEHAVIOR", "PAST_BEHAVIOR")
DRAFT, SCHEDULED, RUNNING, COMPLETED, STOPPED = _allowed(
    _CAMP, "status", "DRAFT", "SCHEDULED", "RUNNING", "COMPLETED", "STOPPED"
)
ACTIVE, INACTIVE = _allowed(c.WALLETS, "status", "ACTIVE", "INACTIVE")

# Unknown extra fields producers add to some lines; the contract says readers ignore them.
EXTRA_FIELDS = ("trace_id", "producer", "delivery_attempt")


def num(cents: int) -> int | float:
    """Points as JSON: whole values as integers, others with their (at most 2) decimals."""
    return cents // 100 if cents % 100 == 0 else cents / 100


def scramble(n: int) -> str:
    """A code-like, distinct token for each n < 2**32 (odd multiplier: a bijection)."""
    return format((n * 0x9E3779B1) & 0xFFFFFFFF, "08X")
