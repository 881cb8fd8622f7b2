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
        ({"PROMO_LAKE_URI": "ftp://bucket/lake"}, "PROMO_LAKE_URI"),
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


PG_PASSWORD = "s3cr3t-pg-pass"


@pytest.mark.parametrize(
    "url",
    [
        f"mysql://promo:{PG_PASSWORD}@db:5432/dagster",  # not PostgreSQL
        f"postgresql://promo:{PG_PASSWORD}@db:54x2/dagster",  # port not a number
        f"postgresql://promo:{PG_PASSWORD}@db:5432",  # no database
        f"postgresql://promo:{PG_PASSWORD}@db:5432/a/b",  # not one database name
        f"postgresql://:{PG_PASSWORD}@db:5432/dagster",  # no user
        f"postgresql://promo:{PG_PASSWORD}@:5432/dagster",  # no host
        f"postgresql://promo:{PG_PASSWORD}@x@db:5432/dagster",  # raw @ in the password
        f"promo:{PG_PASSWORD}@db:5432/dagster",  # not a URL
    ],
)
def test_a_malformed_dagster_pg_url_is_refused_naming_the_variable_not_the_password(url):
    with pytest.raises(SettingsError, match="PROMO_DAGSTER_PG_URL") as refused:
        Settings.from_env({"PROMO_DAGSTER_PG_URL": url})
    assert PG_PASSWORD not in str(refused.value)


def test_the_dagster_pg_url_is_shown_without_its_password():
    url = f"postgresql://promo:{PG_PASSWORD}@db.internal:5432/dagster?sslmode=require"
    s = Settings.from_env({"PROMO_DAGSTER_PG_URL": url})
    assert s.dagster_pg_url == url
    shown = s.describe()["dagster_pg_url"]
    assert shown == "postgresql://promo:***@db.internal:5432/dagster?sslmode=require"
    assert PG_PASSWORD not in repr(s)
    in_query = Settings.from_env(
        {"PROMO_DAGSTER_PG_URL": f"postgresql://promo@db/dagster?password={PG_PASSWORD}"}
    )
    assert PG_PASSWORD not in str(in_query.describe())
    assert Settings.from_env({}).dagster_pg_url is None  # SQLite under DAGSTER_HOME
