"""Report specs: every rule of SPEC.md, refused with a message naming the field, and every
problem of a spec reported at once."""

import json
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
import yaml
from pydantic import ValidationError

from promo.contract import TRANSACTION_SOURCES, TRANSACTION_TYPES
from promo.reports.catalog import Catalog
from promo.reports.definitions import REPORTS as REPORT_RULES
from promo.reports.request import prepare
from promo.reports.spec import SECTIONS, ReportSpec
from promo.reports.spec_errors import SpecError
from promo.reports.spec_io import load_spec, load_spec_file
from promo.reports.windows import recurring_window
from promo.vocabulary import PromotionType, ReportType, TransactionSource, TransactionType

BERLIN = ZoneInfo("Europe/Berlin")
CATALOG = Catalog(
    wallets={"W1", "W2"},
    campaigns={"C1"},
    partners={"P1", "P2"},
    list_tags={"P1": {"summer"}, "P2": {"winter"}},
)
MONTH = {"preset": "past_month"}

# A valid one-time spec of each report type.
VALID = {
    "wallet_summary": ("loyalty_wallet", {"wallet_id": "W1"}, MONTH),
    "wallet_transactions": ("loyalty_wallet", {"wallet_id": "W1"}, MONTH),
    "user_ledger_summary": ("loyalty_wallet", {"wallet_id": "W1"}, None),
    "voucher_assignment_logs": (
        "partner_vouchers",
        {"partner_id": "P1", "list_tag": "summer"},
        MONTH,
    ),
    "reward_assignment": ("promo_campaigns", {"campaign_id": "C1"}, MONTH),
    "user_errors": ("promo_campaigns", {"campaign_id": "C1"}, MONTH),
}


def spec_data(report_type: str = "wallet_summary", **changes) -> dict:
    """A valid spec as a mapping, with top-level keys replaced (None removes one)."""
    promotion_type, filters, date_range = VALID[report_type]
    data = {
        "name": f"My {report_type}",
        "promotion_type": promotion_type,
        "report_type": report_type,
        "filters": dict(filters),
        "date_range": date_range,
        "delivery": {"destination": "download"},
        "frequency": "one_time",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def problems(data, catalog: Catalog | None = CATALOG) -> list[str]:
    with pytest.raises(SpecError) as refused:
        load_spec(data, catalog)
    return refused.value.problems


def refused_with(data, expected: str, catalog: Catalog | None = CATALOG) -> None:
    found = problems(data, catalog)
    assert any(p.startswith(expected) for p in found), found


ISSUE_EXAMPLE = """
name: October wallet transactions, app channel
promotion_type: loyalty_wallet      # loyalty_wallet | partner_vouchers | promo_campaigns
report_type: wallet_transactions
filters:
  wallet_id: W1
  transaction_sources: [promo_campaign, cashback_coupon]
  transaction_types: [credit, expired]
date_range: {preset: past_7_days}
delivery: {destination: download}
frequency: one_time
"""


# -- Valid specs --------------------------------------------------------------------------


def test_the_issues_example_loads():
    spec = load_spec(ISSUE_EXAMPLE, CATALOG)
    assert spec.report_type is ReportType.WALLET_TRANSACTIONS
    assert spec.filters.wallet_id == "W1"
    # In vocabulary order, whatever order the YAML used.
    assert spec.filters.transaction_sources == (
        TransactionSource.CASHBACK_COUPON,
        TransactionSource.PROMO_CAMPAIGN,
    )
    assert spec.filters.transaction_types == (TransactionType.CREDIT, TransactionType.EXPIRED)
    assert spec.report_type.slug == "wallet-transactions"
    assert not spec.is_recurring


@pytest.mark.parametrize("report_type", list(VALID))
def test_each_report_type_has_a_valid_spec_that_round_trips_through_yaml(report_type):
    spec = load_spec(spec_data(report_type), CATALOG)
    again = load_spec(yaml.safe_dump(spec.to_dict()), CATALOG)
    assert again == spec
    assert again.fingerprint == spec.fingerprint


def test_round_trip_of_a_weekly_s3_spec_keeps_the_yaml_shape():
    text = """
    name: Weekly errors
    promotion_type: promo_campaigns
    report_type: user_errors
    filters: {campaign_id: C1}
    delivery: {destination: s3, bucket: promo-reports, prefix: team/errors}
    frequency: {interval: weekly, delivery_day: monday}
    """
    spec = load_spec(text, CATALOG)
    assert spec.to_dict() == {
        "name": "Weekly errors",
        "promotion_type": "promo_campaigns",
        "report_type": "user_errors",
        "filters": {"campaign_id": "C1"},
        "delivery": {"destination": "s3", "bucket": "promo-reports", "prefix": "team/errors/"},
        "frequency": {"interval": "weekly", "delivery_day": "monday"},
    }
    assert load_spec(yaml.safe_dump(spec.to_dict())) == spec
    assert spec.is_recurring
    assert spec.frequency.label == "Weekly on Monday"


def test_custom_dates_round_trip_through_json_shaped_input():
    data = spec_data(date_range={"start": "2026-10-01", "end": "2026-10-31"})
    spec = load_spec(data)
    assert (spec.date_range.start, spec.date_range.end) == (date(2026, 10, 1), date(2026, 10, 31))
    assert spec.to_dict()["date_range"] == {"start": "2026-10-01", "end": "2026-10-31"}


def test_wallet_transactions_selects_every_source_and_type_by_default():
    spec = load_spec(spec_data("wallet_transactions"))
    assert spec.filters.transaction_sources == tuple(TransactionSource)
    assert spec.filters.transaction_types == tuple(TransactionType)
    assert [s.code for s in spec.filters.transaction_sources] == list(TRANSACTION_SOURCES)


def test_duplicate_choices_collapse():
    filters = {"wallet_id": "W1", "transaction_types": ["debit", "credit", "debit"]}
    spec = load_spec(spec_data("wallet_transactions", filters=filters))
    assert spec.filters.transaction_types == (TransactionType.CREDIT, TransactionType.DEBIT)


def test_defaults_for_frequency_delivery_and_a_bare_filters_line():
    data = spec_data("user_ledger_summary", frequency=None, delivery=None)
    spec = load_spec(data)
    assert not spec.is_recurring
    assert spec.delivery.destination == "download"
    refused_with(spec_data(filters=None) | {"filters": None}, "filters.wallet_id: required")


def test_one_time_has_two_spellings():
    long_form = load_spec(spec_data(frequency={"interval": "one_time"}))
    assert long_form == load_spec(spec_data(frequency="one_time"))
    assert long_form.to_dict()["frequency"] == "one_time"


def test_the_spec_is_immutable():
    spec = load_spec(spec_data())
    with pytest.raises(ValidationError):
        spec.name = "changed"


# -- Vocabulary ---------------------------------------------------------------------------


def test_vocabulary_maps_to_codes_and_labels():
    assert [t.code for t in TransactionType] == list(TRANSACTION_TYPES)
    assert [s.code for s in TransactionSource] == list(TRANSACTION_SOURCES)
    assert [t.label for t in TransactionType] == [
        "Credit",
        "Debit",
        "Expired",
        "Promised",
        "Reverse",
        "Refund",
    ]
    assert [s.label for s in TransactionSource] == [
        "Cashback Coupon",
        "System",
        "API",
        "Promo Campaign",
    ]
    assert ReportType.USER_LEDGER_SUMMARY.label == "User Ledger Summary"
    assert PromotionType.PARTNER_VOUCHERS.label == "Partner Vouchers"


def test_every_report_type_has_rules_and_a_slug():
    assert set(REPORT_RULES) == set(ReportType)
    assert [t.slug for t in ReportType] == [
        "wallet-summary",
        "wallet-transactions",
        "user-ledger-summary",
        "voucher-assignment-logs",
        "reward-assignment",
        "user-errors",
    ]


# -- Promotion type and filters -------------------------------------------------------------


@pytest.mark.parametrize("report_type", list(VALID))
@pytest.mark.parametrize("promotion_type", [p.value for p in PromotionType])
def test_report_type_must_belong_to_the_promotion_type(report_type, promotion_type):
    data = spec_data(report_type, promotion_type=promotion_type)
    if promotion_type == VALID[report_type][0]:
        load_spec(data, CATALOG)
    else:
        refused_with(data, f"report_type: {report_type} is a {VALID[report_type][0]} report")


@pytest.mark.parametrize(
    ("report_type", "key"),
    [
        ("wallet_summary", "wallet_id"),
        ("wallet_transactions", "wallet_id"),
        ("user_ledger_summary", "wallet_id"),
        ("voucher_assignment_logs", "partner_id"),
        ("voucher_assignment_logs", "list_tag"),
        ("reward_assignment", "campaign_id"),
        ("user_errors", "campaign_id"),
    ],
)
def test_the_id_filters_are_required(report_type, key):
    filters = {k: v for k, v in VALID[report_type][1].items() if k != key}
    refused_with(
        spec_data(report_type, filters=filters), f"filters.{key}: required for {report_type}"
    )


@pytest.mark.parametrize(
    ("report_type", "key", "noun"),
    [
        ("wallet_summary", "wallet_id", "wallet"),
        ("voucher_assignment_logs", "partner_id", "partner"),
        ("voucher_assignment_logs", "list_tag", "list tag"),
        ("user_errors", "campaign_id", "campaign"),
    ],
)
def test_a_list_where_one_value_is_expected_is_refused(report_type, key, noun):
    filters = VALID[report_type][1] | {key: ["A", "B"]}
    refused_with(
        spec_data(report_type, filters=filters), f"filters.{key}: exactly one {noun} expected"
    )


@pytest.mark.parametrize("value", ["", "   ", 123, True, "W\x001"])
def test_an_id_must_be_text(value):
    refused_with(spec_data(filters={"wallet_id": value}), "filters.wallet_id: ")


def test_an_unquoted_number_is_not_guessed_into_an_id():
    # YAML reads 0123 as the octal number 83: refuse rather than look up wallet "83".
    text = yaml.safe_dump(spec_data()).replace("wallet_id: W1", "wallet_id: 0123")
    refused_with(text, "filters.wallet_id: expected text, got int (quote it in YAML)")


@pytest.mark.parametrize("key", ["transaction_sources", "transaction_types"])
def test_at_least_one_source_and_one_type(key):
    filters = {"wallet_id": "W1", key: []}
    refused_with(spec_data("wallet_transactions", filters=filters), f"filters.{key}: at least one")


def test_unknown_source_or_type_values_are_refused():
    filters = {"wallet_id": "W1", "transaction_sources": ["api", "PROMO_CAMPAIGN"]}
    refused_with(
        spec_data("wallet_transactions", filters=filters),
        "filters.transaction_sources[1]: unknown value 'PROMO_CAMPAIGN'; "
        "expected 'cashback_coupon', 'system', 'api' or 'promo_campaign'",
    )
    filters = {"wallet_id": "W1", "transaction_types": "credit"}
    refused_with(spec_data("wallet_transactions", filters=filters), "filters.transaction_types:")


@pytest.mark.parametrize(
    ("report_type", "extra"),
    [
        ("wallet_summary", {"campaign_id": "C1"}),
        ("wallet_summary", {"transaction_types": ["credit"]}),
        ("user_ledger_summary", {"transaction_sources": ["api"]}),
        ("wallet_transactions", {"partner_id": "P1"}),
        ("voucher_assignment_logs", {"wallet_id": "W1"}),
        ("reward_assignment", {"list_tag": "summer"}),
        ("user_errors", {"wallet_id": "W1"}),
    ],
)
def test_filters_the_report_type_does_not_take_are_refused(report_type, extra):
    (key,) = extra
    data = spec_data(report_type, filters=VALID[report_type][1] | extra)
    refused_with(data, f"filters.{key}: not a filter of {report_type}")


# -- Unknown keys ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "where"),
    [
        ({"colour": "red"}, "colour"),
        ({"filters": {"wallet_id": "W1", "wallet": "W2"}}, "filters.wallet"),
        ({"date_range": {"preset": "today", "tz": "UTC"}}, "date_range.tz"),
        ({"delivery": {"destination": "download", "email": "a@b"}}, "delivery.email"),
        ({"frequency": {"interval": "daily", "hour": 6}}, "frequency.hour"),
    ],
)
def test_unknown_keys_are_refused_everywhere(changes, where):
    refused_with(spec_data(**changes), f"{where}: unknown key (allowed: ")


def test_a_misspelt_filter_also_reports_the_missing_one():
    found = problems(spec_data(filters={"wallet": "W1"}))
    assert "filters.wallet_id: required for wallet_summary" in found
    assert any(p.startswith("filters.wallet: unknown key") for p in found)


# -- Date range ---------------------------------------------------------------------------


@pytest.mark.parametrize("report_type", [t for t in VALID if t != "user_ledger_summary"])
def test_a_one_time_report_needs_a_date_range(report_type):
    data = spec_data(report_type, date_range=None)
    refused_with(data, f"date_range: required for {report_type}")


def test_the_user_ledger_is_a_snapshot_without_date_range():
    data = spec_data("user_ledger_summary", date_range=MONTH)
    refused_with(data, "date_range: not allowed for user_ledger_summary: it is a snapshot")


def test_a_recurring_report_has_no_date_range():
    data = spec_data(
        date_range=MONTH,
        delivery={"destination": "s3", "bucket": "promo-reports"},
        frequency={"interval": "daily"},
    )
    refused_with(data, "date_range: not allowed for a recurring report")


def test_end_before_start_is_refused():
    data = spec_data(date_range={"start": date(2026, 10, 31), "end": date(2026, 10, 1)})
    refused_with(data, "date_range.end: 2026-10-01 is before start 2026-10-31")


@pytest.mark.parametrize(
    ("date_range", "expected"),
    [
        ({"preset": "today", "start": date(2026, 1, 1)}, "date_range: give a preset, or"),
        ({"start": date(2026, 1, 1)}, "date_range.end: required for a custom range"),
        ({"end": date(2026, 1, 1)}, "date_range.start: required for a custom range"),
        ({}, "date_range.start: required"),
        ({"preset": "last_quarter"}, "date_range.preset: unknown preset 'last_quarter'; choose"),
        (
            {"start": datetime(2026, 1, 1), "end": date(2026, 1, 2)},
            "date_range.start: expected a date",
        ),
        ({"start": 20260101, "end": date(2026, 1, 2)}, "date_range.start: expected a date"),
        ({"start": "2026-02-30", "end": date(2026, 3, 2)}, "date_range.start: "),
    ],
)
def test_malformed_date_ranges(date_range, expected):
    refused_with(spec_data(date_range=date_range), expected)


@pytest.mark.parametrize(
    ("start", "end", "field", "day"),
    [
        ("9999-12-31", "9999-12-31", "start", "9999-12-31"),  # its end would overflow
        ("1999-12-31", "2000-01-01", "start", "1999-12-31"),
        ("2099-12-31", "2100-01-01", "end", "2100-01-01"),
    ],
)
def test_days_outside_the_data_range_are_refused(start, end, field, day):
    # No raw timestamp can fall outside 2000-01-01..2099-12-31 (the contract's range)
    refused_with(
        spec_data("wallet_summary", date_range={"start": start, "end": end}),
        f"date_range.{field}: must be between 2000-01-01 and 2099-12-31 (got {day})",
    )
    edges = {"start": "2000-01-01", "end": "2099-12-31"}
    assert load_spec(spec_data("wallet_summary", date_range=edges)).date_range.end.year == 2099


def test_unknown_preset_lists_the_presets():
    found = problems(spec_data(date_range={"preset": "custom"}))
    assert "yesterday, today, past_7_days, past_week" in found[0]


# The product spec's table: these four take at most 3 months; Wallet Summary has no cap and
# the User Ledger Summary no date range (written out, not read from the code under test).
CAPPED = ["wallet_transactions", "voucher_assignment_logs", "reward_assignment", "user_errors"]


def test_the_cap_applies_to_exactly_the_capped_types():
    assert sorted(t for t in VALID if REPORT_RULES[t].three_month_cap) == sorted(CAPPED)


@pytest.mark.parametrize("report_type", CAPPED)
def test_three_month_cap(report_type):
    too_long = {"start": date(2026, 1, 1), "end": date(2026, 4, 1)}
    refused_with(
        spec_data(report_type, date_range=too_long),
        f"date_range: at most 3 months for {report_type}: 2026-01-01..2026-04-01 ends after "
        "2026-03-31",
    )
    for fits in (
        {"start": date(2026, 1, 1), "end": date(2026, 3, 31)},
        {"start": date(2026, 1, 31), "end": date(2026, 4, 30)},
        {"preset": "past_3_months"},
    ):
        load_spec(spec_data(report_type, date_range=fits), CATALOG)


def test_wallet_summary_has_no_cap():
    a_year = {"start": date(2025, 1, 1), "end": date(2025, 12, 31)}
    assert load_spec(spec_data("wallet_summary", date_range=a_year)).date_range.end.year == 2025


# -- Delivery and frequency -------------------------------------------------------------------


def s3(**delivery) -> dict:
    return {"destination": "s3", **delivery}


def test_s3_needs_a_bucket():
    refused_with(spec_data(delivery=s3()), "delivery.bucket: required for destination s3")


@pytest.mark.parametrize(
    "bucket",
    [
        "ab",
        "Promo",
        "promo_reports",
        "-promo",
        "promo-",
        "pro..mo",
        "192.168.1.1",
        "a" * 64,
        "xn--promo",
        "promo-s3alias",
        "promo reports",
    ],
)
def test_invalid_bucket_names_are_refused(bucket):
    refused_with(spec_data(delivery=s3(bucket=bucket)), "delivery.bucket: ")


@pytest.mark.parametrize("bucket", ["abc", "promo-reports", "promo.reports.eu", "a" * 63])
def test_valid_bucket_names(bucket):
    assert load_spec(spec_data(delivery=s3(bucket=bucket))).delivery.bucket == bucket


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("/reports", "delivery.prefix: must be relative"),
        ("reports/../secrets", "delivery.prefix: must not contain '..'"),
        ("..", "delivery.prefix: must not contain '..'"),
        ("reports\\x", "delivery.prefix: must not contain"),
        ("a//b", "delivery.prefix: must not contain"),
        ("rep\norts", "delivery.prefix: must not contain control characters"),
        # Azure would store these under another name than the one shown
        ("a/./b", "delivery.prefix: must not have a folder name that is '.' or ends with"),
        ("./", "delivery.prefix: must not have a folder name that is '.'"),
        ("v1./x", "delivery.prefix: must not have a folder name that is '.' or ends with"),
    ],
)
def test_unsafe_prefixes_are_refused(prefix, expected):
    refused_with(spec_data(delivery=s3(bucket="promo", prefix=prefix)), expected)


@pytest.mark.parametrize(
    ("prefix", "stored"), [("reports", "reports/"), ("a/b/", "a/b/"), ("", None), (None, None)]
)
def test_prefixes_are_kept_relative_and_end_with_a_slash(prefix, stored):
    spec = load_spec(spec_data(delivery=s3(bucket="promo", prefix=prefix)))
    assert spec.delivery.prefix == stored


def test_download_takes_no_bucket_or_prefix():
    delivery = {"destination": "download", "bucket": "promo", "prefix": "x"}
    assert problems(spec_data(delivery=delivery)) == [
        "delivery.bucket: only for destination s3",
        "delivery.prefix: only for destination cloud or s3",
    ]
    refused_with(
        spec_data(delivery={"destination": "email"}), "delivery.destination: unknown value"
    )
    refused_with(spec_data(delivery={}), "delivery.destination: required")


@pytest.mark.parametrize(
    "frequency", [{"interval": "daily"}, {"interval": "weekly", "delivery_day": "friday"}]
)
def test_recurring_reports_go_to_a_cloud_destination_only(frequency):
    data = spec_data(date_range=None, frequency=frequency)
    refused_with(
        data,
        "delivery.destination: recurring reports can only be delivered to a cloud destination",
    )
    spec = load_spec(data | {"delivery": s3(bucket="promo")})
    assert spec.is_recurring


@pytest.mark.parametrize(
    ("frequency", "expected"),
    [
        ({"interval": "weekly"}, "frequency.delivery_day: required when weekly (monday, tuesday"),
        ({"interval": "daily", "delivery_day": "monday"}, "frequency.delivery_day: only for"),
        ({"interval": "weekly", "delivery_day": "funday"}, "frequency.delivery_day: unknown value"),
        ({"interval": "monthly"}, "frequency.interval: unknown value 'monthly'"),
        ("daily", "frequency: expected one_time, {interval: daily} or"),
        ("one_time", None),
    ],
)
def test_frequency_shapes(frequency, expected):
    data = spec_data(date_range=None, delivery=s3(bucket="promo"), frequency=frequency)
    data["date_range"] = MONTH if frequency == "one_time" else None
    data = {k: v for k, v in data.items() if v is not None}
    if expected is None:
        load_spec(data)
    else:
        refused_with(data, expected)


# -- The catalog ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("report_type", "filters", "expected"),
    [
        ("wallet_summary", {"wallet_id": "W9"}, "filters.wallet_id: unknown wallet 'W9'"),
        ("user_errors", {"campaign_id": "C9"}, "filters.campaign_id: unknown campaign 'C9'"),
        (
            "voucher_assignment_logs",
            {"partner_id": "P9", "list_tag": "summer"},
            "filters.partner_id: unknown partner 'P9'",
        ),
        (
            "voucher_assignment_logs",
            {"partner_id": "P1", "list_tag": "winter"},  # P2's tag, not P1's
            "filters.list_tag: 'winter' is not a list tag of 'P1'",
        ),
    ],
)
def test_unknown_ids_are_refused_against_the_catalog(report_type, filters, expected):
    data = spec_data(report_type, filters=filters)
    refused_with(data, expected)
    load_spec(data, catalog=None)  # without a catalog only the look-ups are skipped


def test_a_tag_of_an_unknown_partner_is_not_judged_twice():
    filters = {"partner_id": "P9", "list_tag": "summer"}
    assert problems(spec_data("voucher_assignment_logs", filters=filters)) == [
        "filters.partner_id: unknown partner 'P9'"
    ]


def test_without_a_catalog_every_other_rule_still_runs():
    refused_with(spec_data(filters={}), "filters.wallet_id: required", catalog=None)


def test_the_catalog_reaches_plain_pydantic_validation_too():
    with pytest.raises(ValidationError) as refused:
        ReportSpec.model_validate(
            spec_data(filters={"wallet_id": "W9"}), context={"catalog": CATALOG}
        )
    assert SpecError.from_validation_error(refused.value, SECTIONS).problems == [
        "filters.wallet_id: unknown wallet 'W9'"
    ]


# -- The name -------------------------------------------------------------------------------


def test_name_is_required_and_not_blank():
    refused_with(spec_data(name=None), "name: required")
    refused_with(spec_data(name="   "), "name: must not be empty")
    refused_with(spec_data(name=7), "name: expected text")


def test_name_is_stripped_and_at_most_200_characters():
    assert load_spec(spec_data(name="  Weekly  ")).name == "Weekly"
    assert load_spec(spec_data(name="x" * 200)).name == "x" * 200
    refused_with(spec_data(name="x" * 201), "name: at most 200 characters (got 201)")


@pytest.mark.parametrize(
    "name", ["a\x00b", "red \x1b[31m", "two\nlines", "tab\there", "x\u2028y", "del\x7f"]
)
def test_control_characters_in_the_name_are_refused(name):
    refused_with(spec_data(name=name), "name: must not contain control characters")


def test_a_lone_surrogate_in_the_name_is_refused():
    # JSON's "\ud800" decodes to one; no file name or database can store it
    refused_with(spec_data(name="bad\ud800name"), "name: must be valid Unicode")


def test_a_hostile_name_is_refused_for_length_and_control_characters_at_once():
    found = problems(spec_data(name="../" * 3000 + "\x00" + "x" * 1000))
    assert found == [
        "name: at most 200 characters (got 10001); "
        "must not contain control characters or line breaks"
    ]


def test_path_traversal_text_is_allowed_in_a_name():
    # A name is only a label here: the engine slugs it before it reaches a path or key,
    # so refusing "../" would only get in the user's way.
    assert load_spec(spec_data(name="../../etc/passwd")).name == "../../etc/passwd"
    assert load_spec(spec_data(name="Rapport d'été — ventes/2026")).name.endswith("/2026")


# -- Every problem at once --------------------------------------------------------------------


def test_every_problem_is_reported_at_once_in_field_order():
    data = {
        "name": "",
        "promotion_type": "partner_vouchers",
        "report_type": "wallet_transactions",
        "colour": "red",
        "filters": {"wallet_id": ["W1", "W2"], "campaign_id": "C1", "transaction_types": []},
        "date_range": {"start": date(2026, 1, 1), "end": date(2026, 4, 1)},
        "delivery": {"destination": "download"},
        "frequency": {"interval": "weekly"},
    }
    with pytest.raises(SpecError) as refused:
        load_spec(data, CATALOG)
    assert refused.value.problems == [
        "name: must not be empty",
        "report_type: wallet_transactions is a loyalty_wallet report, not a partner_vouchers one",
        "filters.wallet_id: exactly one wallet expected",
        "filters.transaction_types: at least one transaction type is required "
        "(leave the key out for all)",
        "filters.campaign_id: not a filter of wallet_transactions "
        "(wallet_id, transaction_sources, transaction_types)",
        "date_range: not allowed for a recurring report: each run covers the previous day "
        "(daily) or the 7 days before its delivery day (weekly)",
        "delivery.destination: recurring reports can only be delivered to a cloud destination "
        "(destination cloud, a configured name)",
        "frequency.delivery_day: required when weekly "
        "(monday, tuesday, wednesday, thursday, friday, saturday, sunday)",
        "colour: unknown key (allowed: name, promotion_type, report_type, filters, date_range, "
        "delivery, frequency)",
    ]
    message = str(refused.value)
    assert message.startswith("invalid report spec (9 problems):\n  - name: must not be empty\n")


def test_a_single_problem_reads_on_one_line():
    with pytest.raises(SpecError, match=r"^invalid report spec: filters.wallet_id: required"):
        load_spec(spec_data(filters={}))


def test_pydantic_validation_never_returns_an_invalid_spec():
    with pytest.raises(ValidationError):
        ReportSpec.model_validate(spec_data(date_range=None))


# -- Loading ----------------------------------------------------------------------------------


def test_load_spec_file(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text(ISSUE_EXAMPLE, encoding="utf-8")
    assert load_spec_file(path, CATALOG).name == "October wallet transactions, app channel"
    with pytest.raises(SpecError, match="spec: cannot read"):
        load_spec_file(tmp_path / "missing.yaml")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name: [", "spec: not valid YAML"),
        ("- name: x", "spec: expected a mapping, got list"),
        ("", "spec: expected a mapping, got NoneType"),
        (
            ISSUE_EXAMPLE.replace("{preset: past_7_days}", "{start: 2026-02-30, end: 2026-03-02}"),
            "date_range.start: '2026-02-30' is not a date",
        ),
    ],
)
def test_unreadable_yaml_is_a_spec_error(text, expected):
    refused_with(text, expected)


def test_a_spec_reloads_from_itself():
    spec = load_spec(spec_data())
    assert load_spec(spec, CATALOG) == spec
    refused_with(spec, "filters.wallet_id: unknown wallet", catalog=Catalog())


# -- Windows of a spec -------------------------------------------------------------------------

NOW = datetime(2026, 11, 18, 10, 0, tzinfo=BERLIN)


def window_of(data, now=NOW):
    return prepare(load_spec(data), CATALOG, now, BERLIN).window


def test_window_of_a_preset_and_of_a_custom_range():
    assert window_of(spec_data()).first_day == date(2026, 10, 1)
    custom = spec_data(date_range={"start": date(2026, 3, 29), "end": date(2026, 3, 29)})
    window = window_of(custom)
    assert (window.end - window.start).total_seconds() == 23 * 3600


def test_the_user_ledger_has_no_window():
    assert window_of(spec_data("user_ledger_summary")) is None


@pytest.mark.parametrize(
    ("frequency", "first_day"),
    [
        ({"interval": "daily"}, date(2026, 11, 17)),
        ({"interval": "weekly", "delivery_day": "wednesday"}, date(2026, 11, 11)),
    ],
)
def test_a_recurring_window_ends_where_the_run_day_starts(frequency, first_day):
    data = spec_data(date_range=None, delivery=s3(bucket="promo"), frequency=frequency)
    interval = load_spec(data).frequency.interval
    window = recurring_window(interval, NOW.date(), BERLIN)
    assert (window.first_day, window.last_day) == (first_day, date(2026, 11, 17))
    assert window.end == datetime(2026, 11, 17, 23, 0, tzinfo=UTC)


def test_window_needs_an_aware_now():
    with pytest.raises(ValueError, match="timezone-aware"):
        window_of(spec_data(), datetime(2026, 11, 18))


def test_fingerprint_changes_with_any_edit():
    spec = load_spec(spec_data())
    renamed = load_spec(spec_data(name="Other"))
    assert len(spec.fingerprint) == 16
    assert spec.fingerprint != renamed.fingerprint


@pytest.mark.parametrize("report_type", list(VALID))
def test_the_full_json_dump_with_nulls_reloads(report_type):
    # Dagster run config and manifests may carry the unpruned dump, nulls included.
    spec = load_spec(spec_data(report_type))
    assert load_spec(json.loads(spec.model_dump_json()), CATALOG) == spec
