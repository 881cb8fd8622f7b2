from pathlib import Path

import pytest

from orchestration.settings import REPO_ROOT, Settings, SettingsError


def test_defaults_live_under_promo_home_in_the_repo():
    s = Settings.from_env({})
    assert s.home == REPO_ROOT / ".promo"
    assert s.landing_uri == str(REPO_ROOT / ".promo" / "landing")
    assert s.lake_dir == REPO_ROOT / ".promo" / "lake"
    assert s.warehouse_path == REPO_ROOT / ".promo" / "warehouse.duckdb"
    assert s.marts_uri == str(REPO_ROOT / ".promo" / "marts")
    assert s.downloads_dir == REPO_ROOT / ".promo" / "downloads"
    assert s.account_timezone == "UTC"
    assert s.s3_endpoint_url is None


def test_home_moves_every_default(tmp_path):
    s = Settings.from_env({"PROMO_HOME": str(tmp_path)})
    assert s.lake_dir == tmp_path / "lake"
    assert s.warehouse_path == tmp_path / "warehouse.duckdb"
    assert s.dagster_home == tmp_path / "dagster_home"


def test_s3_uris_are_kept_and_folders_made_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = Settings.from_env(
        {"PROMO_LANDING_URI": "s3://bucket/raw/", "PROMO_MARTS_URI": "relative/marts"}
    )
    assert s.landing_uri == "s3://bucket/raw"
    assert s.marts_uri == str(tmp_path / "relative" / "marts")


@pytest.mark.parametrize(
    "env, names",
    [
        ({"PROMO_ACCOUNT_TIMEZONE": "Mars/Olympus"}, "PROMO_ACCOUNT_TIMEZONE"),
        ({"PROMO_LAKE_URI": "s3://bucket/lake"}, "PROMO_LAKE_URI"),
        ({"PROMO_PARTITION_START": "yesterday"}, "PROMO_PARTITION_START"),
        ({"PROMO_LANDING_URI": "gs://bucket/x"}, "gs://bucket/x"),
        ({"PROMO_MARTS_URI": "s3://"}, "s3://"),
    ],
)
def test_bad_values_are_refused_with_the_variable_named(env, names):
    with pytest.raises(SettingsError, match=names.replace("/", ".")):
        Settings.from_env(env)


def test_empty_values_mean_default():
    s = Settings.from_env({"PROMO_ACCOUNT_TIMEZONE": "", "PROMO_S3_ENDPOINT_URL": ""})
    assert s.account_timezone == "UTC" and s.s3_endpoint_url is None


def test_describe_holds_no_aws_secret(monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "super-secret-value")
    text = str(Settings.from_env().describe())
    assert "super-secret-value" not in text
    assert Path(Settings.from_env().describe()["home"]).is_absolute()


def test_azure_connection_string_is_read_but_never_shown():
    connection = "DefaultEndpointsProtocol=https;AccountName=acc;AccountKey=c2VjcmV0LWtleQ==;"
    s = Settings.from_env({"AZURE_STORAGE_CONNECTION_STRING": connection})
    assert s.azure_connection_string == connection
    assert "c2VjcmV0LWtleQ" not in str(s.describe()) and "c2VjcmV0LWtleQ" not in repr(s)
    assert Settings.from_env({}).azure_connection_string is None


def test_azure_account_url_must_be_a_url():
    url = "https://acc.blob.core.windows.net"
    assert Settings.from_env({"PROMO_AZURE_ACCOUNT_URL": url}).azure_account_url == url
    with pytest.raises(SettingsError, match="PROMO_AZURE_ACCOUNT_URL"):
        Settings.from_env({"PROMO_AZURE_ACCOUNT_URL": "acc.blob.core.windows.net"})
