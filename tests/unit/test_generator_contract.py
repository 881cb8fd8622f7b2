"""The generator takes its idea of the raw contract from `promo.contract`: a contract
change reaches it, and a generator value the contract does not allow fails at import
instead of writing files that ingestion would quarantine."""

from __future__ import annotations

import dataclasses

import pytest

from promo import contract as c
from promo.generator import BAD_KINDS, STREAMS, streams, values


def test_every_stream_view_follows_the_contract_fields():
    assert tuple(c.STREAMS) == STREAMS
    for name, view in streams.VIEWS.items():
        stream = c.STREAMS[name]
        assert view.fields == tuple(stream.columns)
        assert view.required == tuple(f.name for f in stream.fields if f.required)
        assert view.id_field == stream.id_field
        assert view.time_field == stream.time_field
        assert set(view.amount_fields) <= {f.name for f in stream.fields if f.kind == "amount"}


def test_bad_kinds_are_quarantine_reasons():
    assert set(BAD_KINDS) <= set(c.REASON_CODES)


def test_a_conditional_requirement_added_to_the_contract_reaches_the_noise():
    stream = c.STREAMS["voucher_assignments"]
    rule = c._required_when("campaign_id", "list_tag", "movie-ticket")
    changed = dataclasses.replace(stream, rules=(*stream.rules, rule))
    view = streams._view(changed, streams._NOISE["voucher_assignments"])
    assert view.conditional == (("campaign_id", "list_tag", "movie-ticket"),)


def test_a_value_the_contract_does_not_allow_is_refused():
    with pytest.raises(ValueError, match="GIFT"):
        values._allowed(c.WALLET_TRANSACTIONS, "transaction_type", "CREDIT", "GIFT")


def test_a_wrong_value_that_is_valid_is_refused():
    noise = dataclasses.replace(
        streams._NOISE["coupon_redemptions"], wrong_values=(("benefit", ("CASHBACK",)),)
    )
    with pytest.raises(ValueError, match="outside its enum"):
        streams._view(c.COUPON_REDEMPTIONS, noise)
