"""Deterministic sample data: raw promo logs that follow the raw log contract
(`docs/contracts/raw_promo_logs.md`, executable form in `promo.contract`).

The generator simulates a small promotions platform day by day (UTC days): users earn and
spend wallet points, campaigns hand out points, coupons, partner vouchers and webhook
rewards, coupons get redeemed, credits expire. Every day's records are written to that
day's folders and forgotten; only compact per-user state (balances, the last credit and
debit per user and wallet) and a few queues of future events (coupon redemptions, point
expiries) survive from one day to the next, so memory does not grow with the number of
days.

Three independent random streams keep the output stable where it matters: the data
stream decides the valid records, the layout stream the file cuts and compression, the
noise stream the bad lines and redeliveries. Changing `bad_rate` therefore changes the
noise but not the valid records' content.

Modules, in the order a day flows through them:

- `streams`, `values`: the contract as the generator sees it (fields, ids, enum values,
  all derived from or checked against `promo.contract`);
- `plan`, `world`, `clock`: the platform (wallets, partners, campaigns), its state and
  draws, and timestamps;
- `reward_events`, `coupon_redemptions`, `voucher_assignments`, `wallet_transactions`:
  one writer per stream; `dimensions`: the snapshots;
- `output`, `noise`: files per day folder, bad lines and redeliveries;
- `run`: `generate()`, the range day by day; `summary`: what it returns.
"""

from promo.generator.clock import DAY_MS, day_start_ms
from promo.generator.run import generate
from promo.generator.streams import BAD_KINDS, STREAMS
from promo.generator.summary import GenerationSummary, StreamSummary

__all__ = [
    "BAD_KINDS",
    "DAY_MS",
    "STREAMS",
    "GenerationSummary",
    "StreamSummary",
    "day_start_ms",
    "generate",
]
