"""The operator's cloud destinations (PROMO_DESTINATIONS_FILE) and the spec's delivery that
names one: the file is checked whole, and a spec may only deliver where it says."""

from __future__ import annotations

import pytest

from orchestration.settings import Settings, SettingsError
from promo.reports.destinations import (
    CloudDestination,
    DestinationsError,
    delivery_label,
    load_destinations,
    parse_destinations,
    resolve,
)
from promo.reports.spec_errors import SpecError
from promo.reports.spec_io import load_spec
from tests.unit.test_report_spec import CATALOG, spec_data

ISSUE_FILE = """
destinations:
  bi-bucket: {kind: s3, bucket: promo-bi, prefix: exports/}   # prefix optional
  gcs-bi: {kind: gcs, bucket: promo-bi-gcs}
  azure-bi: {kind: azure, container: promo-bi}
"""


@pytest.fixture
def configured(tmp_path):
    path = tmp_path / "destinations.yaml"
    path.write_text(ISSUE_FILE)
    return load_destinations(path)


def test_the_issues_file_loads_in_order_with_uris(configured):
    assert [d.name for d in configured] == ["bi-bucket", "gcs-bi", "azure-bi"]
    assert configured.get("bi-bucket") == CloudDestination(
        "bi-bucket", "s3", "promo-bi", "exports/"
    )
    assert [d.uri("wallet/") for d in configured] == [
        "s3://promo-bi/exports/wallet",
        "gs://promo-bi-gcs/wallet",
        "az://promo-bi/wallet",
    ]
    assert configured.get("gcs-bi").uri() == "gs://promo-bi-gcs"


def test_no_file_means_no_destination():
    assert len(load_destinations(None)) == 0


def test_every_problem_of_the_file_is_listed_naming_the_file_and_the_entry():
    data = {
        "destinations": {
            "Bad Name": {"kind": "s3", "bucket": "promo"},
            "ftp": {"kind": "ftp", "bucket": "promo"},
            "no-bucket": {"kind": "gcs"},
            "s3-with-container": {"kind": "s3", "container": "promo"},
            "typo": {"kind": "s3", "bucket": "promo", "prefx": "a/"},
            "bad-prefix": {"kind": "azure", "container": "promo", "prefix": "../up"},
            "bad-container": {"kind": "azure", "container": "Promo_Box"},
            "bad-s3-bucket": {"kind": "s3", "bucket": "Promo"},
            "not-a-mapping": "s3://promo",
        }
    }
    with pytest.raises(DestinationsError) as refused:
        parse_destinations(data, "/etc/promo/destinations.yaml")
    text = str(refused.value)
    assert text.startswith("/etc/promo/destinations.yaml: ")
    expected = [
        "destinations.Bad Name: a name is 1 to 63 lowercase",
        "destinations.ftp.kind: 'ftp' is not one of: s3, gcs, azure",
        "destinations.no-bucket.bucket: required for kind gcs",
        "destinations.s3-with-container.container: unknown key for kind s3",
        "destinations.s3-with-container.bucket: required for kind s3",
        "destinations.typo.prefx: unknown key for kind s3 (allowed: kind, bucket, prefix)",
        "destinations.bad-prefix.prefix: must not contain '..'",
        "destinations.bad-container.container: 'Promo_Box' is not a valid Azure container",
        "destinations.bad-s3-bucket.bucket: 'Promo' is not a valid S3 bucket name",
        "destinations.not-a-mapping: expected a mapping",
    ]
    for line in expected:
        assert any(p.startswith(line) for p in refused.value.problems), (line, text)
    assert len(refused.value.problems) == len(expected)


@pytest.mark.parametrize(
    "text",
    ["- bi-bucket", "destinations: [a, b]", "destinations: {}\nextra: 1", "a: &x 1\nb: *x"],
)
def test_a_file_of_the_wrong_shape_is_refused(tmp_path, text):
    path = tmp_path / "d.yaml"
    path.write_text(text)
    with pytest.raises(DestinationsError, match=str(path)):
        load_destinations(path)


def test_settings_stop_on_a_bad_file_naming_the_variable(tmp_path):
    path = tmp_path / "d.yaml"
    path.write_text("destinations:\n  x: {kind: s4, bucket: b}\n")
    env = {"PROMO_HOME": str(tmp_path), "PROMO_DESTINATIONS_FILE": str(path)}
    with pytest.raises(SettingsError) as refused:
        Settings.from_env(env)
    assert "PROMO_DESTINATIONS_FILE" in str(refused.value)
    assert "destinations.x.kind" in str(refused.value)
    path.write_text(ISSUE_FILE)
    settings = Settings.from_env(env)
    assert [d.name for d in settings.destinations] == ["bi-bucket", "gcs-bi", "azure-bi"]
    assert "bi-bucket (Amazon S3: promo-bi/exports/)" in settings.describe()["destinations"]


# -- the spec's delivery ----------------------------------------------------------------------


def cloud(**delivery) -> dict:
    return {"destination": "cloud", **delivery}


def refusal(delivery, destinations) -> SpecError:
    with pytest.raises(SpecError) as refused:
        load_spec(spec_data(delivery=delivery), CATALOG, destinations)
    return refused.value


def test_a_spec_names_a_configured_destination(configured):
    spec = load_spec(spec_data(delivery=cloud(name="gcs-bi", prefix="wallet")), CATALOG, configured)
    assert spec.to_dict()["delivery"] == {
        "destination": "cloud",
        "name": "gcs-bi",
        "prefix": "wallet/",
    }
    assert (
        resolve(spec.delivery, configured).uri(spec.delivery.prefix) == "gs://promo-bi-gcs/wallet"
    )


def test_an_unconfigured_name_is_refused_naming_the_field_and_the_choices(configured):
    error = refusal(cloud(name="elsewhere"), configured)
    assert error.fields == ["delivery.name"]
    assert error.problems == [
        "delivery.name: 'elsewhere' is not a configured destination; configured: "
        "bi-bucket (s3), gcs-bi (gcs), azure-bi (azure)"
    ]


def test_the_older_s3_form_works_only_for_a_configured_s3_bucket(configured):
    spec = load_spec(
        spec_data(delivery={"destination": "s3", "bucket": "promo-bi", "prefix": "w/"}),
        CATALOG,
        configured,
    )
    # The destination's base prefix applies to the older form too.
    assert resolve(spec.delivery, configured).uri(spec.delivery.prefix) == "s3://promo-bi/exports/w"
    error = refusal({"destination": "s3", "bucket": "any-bucket-we-reach"}, configured)
    assert error.fields == ["delivery.bucket"]
    assert "'any-bucket-we-reach' is not a configured S3 destination bucket" in error.problems[0]
    assert "configured: promo-bi" in error.problems[0]
    # A GCS bucket is no S3 bucket, even under the same name.
    assert refusal({"destination": "s3", "bucket": "promo-bi-gcs"}, configured).fields == [
        "delivery.bucket"
    ]


def test_with_nothing_configured_every_cloud_delivery_is_refused():
    empty = load_destinations(None)
    assert "none are configured" in refusal(cloud(name="bi-bucket"), empty).problems[0]
    assert (
        "no S3 destination is configured"
        in refusal({"destination": "s3", "bucket": "promo-bi"}, empty).problems[0]
    )


def test_the_keys_of_each_destination(configured):
    assert refusal(cloud(), configured).problems == [
        "delivery.name: required for destination cloud (a configured name)"
    ]
    both = refusal(cloud(name="gcs-bi", bucket="promo-bi"), configured)
    assert both.problems == ["delivery.bucket: only for destination s3"]
    download = refusal({"destination": "download", "name": "gcs-bi"}, configured)
    assert download.problems == ["delivery.name: only for destination cloud"]


def test_a_destination_problem_is_listed_with_the_others(configured):
    data = spec_data(delivery=cloud(name="nowhere"), filters={})
    with pytest.raises(SpecError) as refused:
        load_spec(data, CATALOG, configured)
    assert "delivery.name" in refused.value.fields and len(refused.value.problems) >= 2


def test_a_destination_removed_since_creation_is_refused_at_delivery(configured):
    spec = load_spec(spec_data(delivery=cloud(name="azure-bi")), CATALOG, configured)
    with pytest.raises(ValueError, match="delivery.name: 'azure-bi' is not a configured"):
        resolve(spec.delivery, load_destinations(None))


def test_delivery_labels_name_the_destination():
    assert delivery_label(None) == "download"
    assert delivery_label(cloud(name="gcs-bi", prefix="w/")) == "cloud gcs-bi, prefix w/"
    assert delivery_label({"destination": "s3", "bucket": "b1"}) == "s3 bucket b1"
