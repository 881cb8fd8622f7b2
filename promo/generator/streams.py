"""The event streams as the generator sees them: the raw contract (`promo.contract`) plus
the little the generator adds of its own.

From the contract come the field list and its order, the id and time fields, the required
and conditionally required fields, the amount fields and which of them must be positive.
The generator adds its id prefixes and, for the noise, the wrong values it writes: the
contract says what is valid, not what a producer's mistakes look like. Each wrong value is
checked against the contract at import, so a bad line can never turn out valid.
"""

from __future__ import annotations

from dataclasses import dataclass

from promo import contract as c

# The kinds of bad line the noise writes: every quarantine reason a single line can earn
# on its own (`rule_violation` and `unreadable_file` are not produced).
BAD_KINDS = (
    c.INVALID_JSON,
    c.MISSING_FIELD,
    c.WRONG_TYPE,
    c.BAD_ENUM,
    c.BAD_AMOUNT,
    c.BAD_TIMESTAMP,
    c.WRONG_DATE_FOLDER,
    c.ID_CONFLICT,
)
STREAMS = tuple(c.STREAMS)


@dataclass(frozen=True)
class _Noise:
    """The generator's own choices for one stream."""

    id_prefix: str
    # (enum field, values outside its enum), in the order the noise picks from.
    wrong_values: tuple[tuple[str, tuple[str, ...]], ...] = ()
    spared_amounts: tuple[str, ...] = ()  # amount fields the noise leaves alone
    three_decimals: bool = False  # also spoil amounts with a third decimal


_NOISE = {
    "wallet_transactions": _Noise(
        "wtx_",
        wrong_values=(
            ("transaction_type", ("GIFT", "credit", "TRANSFER")),
            ("transaction_source", ("PARTNER", "promo_campaign")),
        ),
        three_decimals=True,
    ),
    "reward_events": _Noise(
        "rwe_",
        wrong_values=(
            ("status", ("success", "PENDING", "Failed")),
            ("reward_type", ("CASHBACK", "POINTS")),
        ),
        # Never spoiled since the first release; left so, a seed keeps giving the same
        # files (tests and benchmarks compare them).
        spared_amounts=("credits",),
    ),
    "coupon_redemptions": _Noise(
        "red_", wrong_values=(("benefit", ("FREE_SHIPPING", "discount")),)
    ),
    "voucher_assignments": _Noise("vas_"),
}


@dataclass(frozen=True)
class StreamView:
    """What the writers and the noise need to know about one stream."""

    name: str
    id_field: str
    id_prefix: str
    time_field: str
    other_timestamps: tuple[str, ...]  # timestamp fields besides the time field (expires_at)
    fields: tuple[str, ...]  # the contract fields, in contract order
    required: tuple[str, ...]
    optional: tuple[str, ...]  # the fields that are not always required, in contract order
    conditional: tuple[tuple[str, str, str], ...]  # (field, required when field, == value)
    wrong_values: tuple[tuple[str, tuple[str, ...]], ...]
    amount_fields: tuple[str, ...]  # the amounts the noise spoils
    zero_is_wrong: bool  # 0 breaks the contract for those amounts (else only negatives do)
    three_decimals: bool

    def id_of(self, seq: int) -> str:
        return f"{self.id_prefix}{seq:010d}"


def _view(stream: c.Stream, noise: _Noise) -> StreamView:
    fields = {f.name: f for f in stream.fields}
    amounts = tuple(
        f.name for f in stream.fields if f.kind == "amount" and f.name not in noise.spared_amounts
    )
    zero = {name: _zero_is_wrong(stream, fields[name]) for name in amounts}
    if len(set(zero.values())) > 1:
        raise ValueError(f"{stream.name}: amounts disagree on whether 0 is valid: {zero}")
    for name, values in noise.wrong_values:
        if not fields[name].enum or set(values) & set(fields[name].enum):
            raise ValueError(f"{stream.name}.{name}: {values} are not all outside its enum")
    return StreamView(
        name=stream.name,
        id_field=stream.id_field,
        id_prefix=noise.id_prefix,
        time_field=stream.time_field,
        other_timestamps=tuple(
            f.name for f in stream.fields if f.kind == "timestamp" and f.name != stream.time_field
        ),
        fields=tuple(fields),
        required=tuple(f.name for f in stream.fields if f.required),
        optional=tuple(f.name for f in stream.fields if not f.required),
        conditional=tuple(r.required_when for r in stream.rules if r.required_when),
        wrong_values=noise.wrong_values,
        amount_fields=amounts,
        zero_is_wrong=any(zero.values()),
        three_decimals=noise.three_decimals,
    )


def _zero_is_wrong(stream: c.Stream, field: c.Field) -> bool:
    """The field must be positive, or an amount rule of the stream asks it to be (reward
    points on a successful loyalty event: the only records the generator gives points)."""
    return field.positive or any(
        rule.reason == c.BAD_AMOUNT and field.name in rule.requirement.meta.root_names()
        for rule in stream.rules
    )


VIEWS = {name: _view(c.STREAMS[name], _NOISE[name]) for name in STREAMS}
