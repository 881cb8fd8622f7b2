"""The one place that reads the environment.

Every setting is documented in README.md and `.env.example`. `Settings.from_env()` is
called where a process starts (the code location, the CLI, the service, a test fixture);
everything else receives a `Settings` object. A value the pipeline cannot use stops the
process with a message naming the variable, never showing a secret.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from orchestration.urls import host_only, postgres_problem, redact_postgres_url, without_credentials
from promo.timeutil import Weekday

REPO_ROOT = Path(__file__).resolve().parents[1]
ENGINES = ("duckdb", "spark")


class SettingsError(ValueError):
    """A setting has a value the pipeline cannot use; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    home: Path
    landing_uri: str
    lake_uri: str  # a folder or s3://bucket/prefix
    warehouse_path: Path
    marts_uri: str
    downloads_dir: Path
    account_timezone: str
    s3_endpoint_url: str | None
    partition_start: date
    dagster_home: Path
    report_catalog: Path  # the recurring report catalog (YAML list of specs)
    access_file: Path  # who may read and write reports (the CLI and the service)
    notify_webhook_url: str | None  # report failures are POSTed here as JSON when set
    report_hour: int  # local hour at which recurring reports run (marts built by then)
    week_start: Weekday = Weekday.MONDAY  # first day of a week in campaign stats
    # The acting user of `report` commands (PROMO_USER). Not the login name ($USER): that is
    # no e-mail address, and the access file names people by e-mail.
    user: str | None = None
    # Azure Blob Storage (az:// URIs): the account, from the standard connection string
    # (a secret: never printed) or an account URL used with the default Azure credential
    # chain. S3 and GCS clients find their own credentials; Azure's needs these handed in.
    azure_account_url: str | None = None
    azure_connection_string: str | None = field(default=None, repr=False)
    # The Dagster instance in PostgreSQL (None: SQLite under dagster_home). It holds the
    # password: kept out of repr(), shown by describe() without it.
    dagster_pg_url: str | None = field(default=None, repr=False)
    engine: str = "duckdb"  # what dbt builds the marts on: duckdb | spark
    spark_warehouse_dir: Path | None = None  # the Spark engine's tables and catalog

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.account_timezone)

    @property
    def lake_dir(self) -> Path:
        """The lake as a local folder (refused when it is on S3)."""
        if "://" in self.lake_uri:
            raise SettingsError(f"the lake is not a local folder: {self.lake_uri}")
        return Path(self.lake_uri)

    @property
    def token_file(self) -> Path:
        """The report service's bearer tokens, as salted hashes (owner-only, 0600)."""
        return self.home / "service" / "tokens.json"

    def child_environment(self) -> dict[str, str]:
        """The environment of processes we start (dagster-graphql, `dagster dev`): ours,
        with DAGSTER_HOME pointing at this instance."""
        env = {**os.environ, "DAGSTER_HOME": str(self.dagster_home)}
        if self.dagster_pg_url:  # dagster.yaml names the variable (deploy/dagster-postgres.yaml)
            env["PROMO_DAGSTER_PG_URL"] = self.dagster_pg_url
        return env

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        read = _Reader(os.environ if env is None else env)
        home = read.path("PROMO_HOME", REPO_ROOT / ".promo")
        engine = read.choice("PROMO_ENGINE", ENGINES, "duckdb")
        lake = read.uri("PROMO_LAKE_URI", home / "lake")
        if engine == "spark" and lake.startswith("s3://"):
            # The local Spark session reads the lake through Hadoop's s3a, whose jars come
            # from Maven at run time; a cluster reads its own lake location (scale-out.md).
            raise SettingsError(
                f"PROMO_LAKE_URI={lake!r}: the Spark engine reads a local lake only "
                "(on a cluster, point dbt's lake_dir at the cluster's s3a:// path)"
            )
        return cls(
            home=home,
            landing_uri=read.uri("PROMO_LANDING_URI", home / "landing"),
            lake_uri=lake,
            warehouse_path=read.path("PROMO_WAREHOUSE_PATH", home / "warehouse.duckdb"),
            marts_uri=read.uri("PROMO_MARTS_URI", home / "marts"),
            downloads_dir=read.path("PROMO_DOWNLOADS_DIR", home / "downloads"),
            account_timezone=read.timezone("PROMO_ACCOUNT_TIMEZONE"),
            s3_endpoint_url=read.url("PROMO_S3_ENDPOINT_URL"),
            partition_start=read.day("PROMO_PARTITION_START", date(2025, 1, 1)),
            dagster_home=read.path("DAGSTER_HOME", home / "dagster_home"),
            report_catalog=read.path("PROMO_REPORT_CATALOG", REPO_ROOT / "reports/recurring.yaml"),
            access_file=read.path("PROMO_ACCESS_FILE", home / "access.yaml"),
            notify_webhook_url=read.url("PROMO_NOTIFY_WEBHOOK_URL"),
            report_hour=read.hour("PROMO_REPORT_HOUR", 6),
            week_start=read.weekday("PROMO_WEEK_START", Weekday.MONDAY),
            user=read.text("PROMO_USER"),
            azure_account_url=read.url("PROMO_AZURE_ACCOUNT_URL"),
            azure_connection_string=read.text("AZURE_STORAGE_CONNECTION_STRING"),
            dagster_pg_url=read.postgres_url("PROMO_DAGSTER_PG_URL"),
            engine=engine,
            spark_warehouse_dir=read.path("PROMO_SPARK_WAREHOUSE_DIR", home / "spark_warehouse"),
        )

    def describe(self) -> dict[str, str]:
        """Settings as text, for logs and `promo-reports settings`, without secrets: a
        webhook URL may carry a token in its path or query (only its host is shown), an
        endpoint URL keys in its user part, the PostgreSQL URL a password."""
        out = {f.name: str(getattr(self, f.name)) for f in fields(self)}
        if self.notify_webhook_url:
            out["notify_webhook_url"] = host_only(self.notify_webhook_url)
        if self.s3_endpoint_url:
            out["s3_endpoint_url"] = without_credentials(self.s3_endpoint_url)
        if self.azure_connection_string:  # it holds the account key
            out["azure_connection_string"] = "(set, not shown)"
        if self.dagster_pg_url:
            out["dagster_pg_url"] = redact_postgres_url(self.dagster_pg_url)
        return out


class _Reader:
    """Typed reads of environment variables; an empty value counts as unset."""

    def __init__(self, env: Mapping[str, str]):
        self.env = env

    def text(self, name: str, default: str | None = None) -> str | None:
        value = self.env.get(name)
        return value if value not in (None, "") else default

    def path(self, name: str, default: Path) -> Path:
        return Path(self.text(name) or default).expanduser().resolve()

    def uri(self, name: str, default: Path) -> str:
        """A folder becomes an absolute path; an s3:// URI is kept as given."""
        value = self.text(name) or str(default)
        if value.startswith("s3://"):
            if len(value) <= len("s3://") or value[len("s3://") :].startswith("/"):
                raise SettingsError(f"{name}={value!r} is not an s3://bucket/prefix URI")
            return value.rstrip("/")
        if "://" in value:
            raise SettingsError(
                f"{name}={value!r}: only local folders and s3:// URIs are supported"
            )
        return str(Path(value).expanduser().resolve())

    def url(self, name: str) -> str | None:
        value = self.text(name)
        if value and not value.startswith(("http://", "https://")):
            raise SettingsError(f"{name}={host_only(value)!r} must be an http(s) URL")
        return value

    def timezone(self, name: str) -> str:
        value = self.text(name, "UTC")
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise SettingsError(
                f"{name}={value!r} is not an IANA time zone name "
                "(for example Europe/Berlin or Asia/Kolkata)"
            ) from exc
        return value

    def day(self, name: str, default: date) -> date:
        value = self.text(name)
        try:
            return date.fromisoformat(value) if value else default
        except ValueError:
            raise SettingsError(f"{name}={value!r} is not a date (YYYY-MM-DD)") from None

    def hour(self, name: str, default: int) -> int:
        value = self.text(name, str(default))
        if not value.isdigit() or not 0 <= int(value) <= 23:
            raise SettingsError(f"{name}={value!r} must be an hour from 0 to 23")
        return int(value)

    def weekday(self, name: str, default: Weekday) -> Weekday:
        value = self.text(name)
        try:
            return Weekday.parse(value) if value else default
        except ValueError:
            raise SettingsError(
                f"{name}={value!r} is not a weekday name (monday .. sunday)"
            ) from None

    def choice(self, name: str, choices: tuple[str, ...], default: str) -> str:
        value = (self.text(name) or default).strip().lower()
        if value not in choices:
            raise SettingsError(f"{name}={value!r} must be one of: {', '.join(choices)}")
        return value

    def postgres_url(self, name: str) -> str | None:
        """Checked for the parts dagster-postgres needs; messages hide the password."""
        value = self.text(name)
        problem = postgres_problem(value) if value else None
        if problem:
            raise SettingsError(
                f"{name}={redact_postgres_url(value)!r} {problem}: expected "
                "postgresql://user:password@host:port/database"
            )
        return value
