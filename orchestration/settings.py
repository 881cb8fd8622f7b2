"""The one place that reads the environment.

Every setting is documented in README.md and `.env.example`. `Settings.from_env()` is
called where a process starts (the code location, the CLI, the service, a test fixture);
everything else receives a `Settings` object. A value the pipeline cannot use stops the
process with a message naming the variable, never showing a secret.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from orchestration.urls import host_only, postgres_problem, redact_postgres_url, without_credentials
from promo.reports.destinations import Destinations, DestinationsError, load_destinations
from promo.timeutil import Weekday

REPO_ROOT = Path(__file__).resolve().parents[1]
ENGINES = ("duckdb", "spark")
AZURE_CONNECTION_STRING = "AZURE_STORAGE_CONNECTION_STRING"  # Azure's own variable


class SettingsError(ValueError):
    """A setting has a value the pipeline cannot use; the message names the variable."""


@dataclass(frozen=True)
class AlertSettings:
    """Where failures and stale marts are announced. The webhook is the main channel;
    Slack and email are switched on by giving their settings. Secrets (the Slack token,
    the SMTP password, a token in the webhook URL) are kept out of repr() and describe()."""

    webhook_url: str | None = field(default=None, repr=False)  # POSTed JSON (alerts.md)
    ui_url: str | None = None  # the Dagster UI's base URL: alerts link to the run
    slack_token: str | None = field(default=None, repr=False)
    slack_channel: str | None = None
    smtp_host: str | None = None
    smtp_port: int | None = None  # None: 465 for ssl, 587 for starttls
    smtp_security: str = "ssl"  # ssl | starttls
    smtp_user: str | None = None  # None: the sender address
    smtp_password: str | None = field(default=None, repr=False)
    email_from: str | None = None
    email_to: tuple[str, ...] = ()

    @property
    def slack(self) -> bool:
        return bool(self.slack_token and self.slack_channel)

    @property
    def email(self) -> bool:
        return bool(self.smtp_host and self.email_from and self.email_to)

    def describe(self) -> dict[str, str]:
        secret = {"slack_token", "smtp_password"}
        out = {
            f"alerts.{f.name}": "(set, not shown)"
            if f.name in secret and getattr(self, f.name)
            else str(getattr(self, f.name))
            for f in fields(self)
        }
        if self.webhook_url:
            out["alerts.webhook_url"] = host_only(self.webhook_url)
        out["alerts.email_to"] = ", ".join(self.email_to) or "None"
        return out


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
    report_hour: int  # earliest local hour at which a recurring report is delivered
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
    alerts: AlertSettings = AlertSettings()
    # The cloud destinations reports may be delivered to (PROMO_DESTINATIONS_FILE), read and
    # checked once here: none configured means downloads only.
    destinations_file: Path | None = None
    destinations: Destinations = field(default_factory=Destinations)
    # Local hour by which a day's marts are expected published (their freshness deadline).
    marts_due_hour: int = 5
    # Who owns every asset in the catalog (an email or `team:<name>`).
    asset_owner: str = "team:promo-data"
    # The repository's web address: code references in the catalog link there.
    git_url: str | None = None
    git_branch: str = "main"

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
            report_hour=read.hour("PROMO_REPORT_HOUR", 6),
            week_start=read.weekday("PROMO_WEEK_START", Weekday.MONDAY),
            user=read.text("PROMO_USER"),
            azure_account_url=read.url("PROMO_AZURE_ACCOUNT_URL"),
            azure_connection_string=read.text(AZURE_CONNECTION_STRING),
            dagster_pg_url=read.postgres_url("PROMO_DAGSTER_PG_URL"),
            engine=engine,
            spark_warehouse_dir=read.path("PROMO_SPARK_WAREHOUSE_DIR", home / "spark_warehouse"),
            alerts=read_alerts(read),
            **read_destinations(read),
            marts_due_hour=read.hour("PROMO_MARTS_DUE_HOUR", 5, lowest=1),
            asset_owner=read.owner("PROMO_ASSET_OWNER", "team:promo-data"),
            git_url=read.url("PROMO_GIT_URL"),
            git_branch=read.text("PROMO_GIT_BRANCH") or "main",
        )

    def describe(self) -> dict[str, str]:
        """Settings as text, for logs and `promo-reports settings`, without secrets: a
        webhook URL may carry a token in its path or query (only its host is shown), an
        endpoint URL keys in its user part, the PostgreSQL URL a password."""
        skip = ("alerts", "destinations")
        out = {f.name: str(getattr(self, f.name)) for f in fields(self) if f.name not in skip}
        out["destinations"] = ", ".join(d.label for d in self.destinations) or "None"
        out.update(self.alerts.describe())
        if self.s3_endpoint_url:
            out["s3_endpoint_url"] = without_credentials(self.s3_endpoint_url)
        if self.azure_connection_string:  # it holds the account key
            out["azure_connection_string"] = "(set, not shown)"
        if self.dagster_pg_url:
            out["dagster_pg_url"] = redact_postgres_url(self.dagster_pg_url)
        return out


def read_destinations(read: _Reader) -> dict:
    """The destinations file, checked whole; its problems stop the process, each named."""
    text = read.text("PROMO_DESTINATIONS_FILE")
    path = Path(text).expanduser().resolve() if text else None
    try:
        destinations = load_destinations(path)
    except DestinationsError as exc:
        raise SettingsError(f"PROMO_DESTINATIONS_FILE={text!r}: {exc}") from None
    return {"destinations_file": path, "destinations": destinations}


def read_alerts(read: _Reader) -> AlertSettings:
    security = read.choice("PROMO_SMTP_SECURITY", ("ssl", "starttls"), "ssl")
    port = read.text("PROMO_SMTP_PORT")
    if port is not None and not (port.isdigit() and 0 < int(port) < 65536):
        raise SettingsError(f"PROMO_SMTP_PORT={port!r} must be a port number (1-65535)")
    to = tuple(a.strip() for a in (read.text("PROMO_ALERT_EMAIL_TO") or "").split(",") if a.strip())
    return AlertSettings(
        webhook_url=read.url("PROMO_NOTIFY_WEBHOOK_URL"),
        ui_url=(read.url("PROMO_UI_URL") or "").rstrip("/") or None,
        slack_token=read.text("PROMO_SLACK_TOKEN"),
        slack_channel=read.text("PROMO_SLACK_CHANNEL"),
        smtp_host=read.text("PROMO_SMTP_HOST"),
        smtp_port=int(port) if port else None,
        smtp_security=security,
        smtp_user=read.text("PROMO_SMTP_USER"),
        smtp_password=read.text("PROMO_SMTP_PASSWORD"),
        email_from=read.text("PROMO_ALERT_EMAIL_FROM"),
        email_to=to,
    )


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

    def hour(self, name: str, default: int, lowest: int = 0) -> int:
        value = self.text(name, str(default))
        if not value.isdigit() or not lowest <= int(value) <= 23:
            raise SettingsError(f"{name}={value!r} must be an hour from {lowest} to 23")
        return int(value)

    def owner(self, name: str, default: str) -> str:
        """An email address or `team:<name>`, the two forms Dagster accepts as owners."""
        value = (self.text(name) or default).strip()
        team = value.startswith("team:") and len(value) > len("team:")
        if not team and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
            raise SettingsError(f"{name}={value!r} must be an email address or team:<name>")
        return value

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
