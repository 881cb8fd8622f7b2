"""The closed vocabularies of the product, each in one place.

A member has three spellings, one per audience:
- its value, snake_case, is how report specs and the API spell it (`promo_campaign`);
- `code`, the member name, is how the raw logs and the marts spell it (`PROMO_CAMPAIGN`);
- `label` is how people read it in report files, pages and lists (`Promo Campaign`).

The raw contract (`promo.contract`), the report definitions, the spec and the stats pages
all take their values from here, so a new transaction type is added once.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self

# Words that keep their capitals in labels ("API", not "Api").
_ACRONYMS = {"api"}


class Vocabulary(StrEnum):
    """Base of every closed vocabulary; see the module docstring."""

    @property
    def code(self) -> str:
        return self.name

    @property
    def label(self) -> str:
        return " ".join(w.upper() if w in _ACRONYMS else w.capitalize() for w in self.split("_"))

    @classmethod
    def codes(cls) -> tuple[str, ...]:
        return tuple(m.code for m in cls)

    @classmethod
    def labels(cls) -> dict[str, str]:
        """code -> label, in vocabulary order."""
        return {m.code: m.label for m in cls}

    @classmethod
    def from_code(cls, code: str) -> Self:
        return cls[code]


class TransactionType(Vocabulary):
    CREDIT = "credit"
    DEBIT = "debit"
    EXPIRED = "expired"
    PROMISED = "promised"
    REVERSE = "reverse"
    REFUND = "refund"


class TransactionSource(Vocabulary):
    CASHBACK_COUPON = "cashback_coupon"
    SYSTEM = "system"
    API = "api"
    PROMO_CAMPAIGN = "promo_campaign"


class RewardType(Vocabulary):
    LOYALTY_POINTS = "loyalty_points"
    COUPON = "coupon"
    PARTNER_VOUCHER = "partner_voucher"
    CUSTOM_REWARD = "custom_reward"


class PromotionType(Vocabulary):
    LOYALTY_WALLET = "loyalty_wallet"
    PARTNER_VOUCHERS = "partner_vouchers"
    PROMO_CAMPAIGNS = "promo_campaigns"


class ReportType(Vocabulary):
    WALLET_SUMMARY = "wallet_summary"
    WALLET_TRANSACTIONS = "wallet_transactions"
    USER_LEDGER_SUMMARY = "user_ledger_summary"
    VOUCHER_ASSIGNMENT_LOGS = "voucher_assignment_logs"
    REWARD_ASSIGNMENT = "reward_assignment"
    USER_ERRORS = "user_errors"

    @property
    def slug(self) -> str:
        """The report file contract's `<report-slug>` in file names: wallet-transactions."""
        return self.value.replace("_", "-")
