"""The one place that reads the environment.

Every setting has the `PROMO_` prefix and is documented in README.md and `.env.example`.
`Settings.from_env()` is called where a process starts (the code location, the CLI, a
test fixture); everything else receives a `Settings` object.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from promo.timeutil import Weekday

REPO_ROOT = Path(__file__).resolve().parents[1]


class SettingsError(ValueError):
    """A setting has a value the pipeline cannot use; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    home: Path
    landing_uri: str
    lake_dir: Path
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

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.account_timezone)

    @property
    def token_file(self) -> Path:
        """The report service's bearer tokens, as salted hashes (owner-only, 0600)."""
        return self.home / "service" / "tokens.json"

    @property
    def lake_uri(self) -> str:
        return str(self.lake_dir)

    def child_environment(self) -> dict[str, str]:
        """The environment of processes we start (dagster-graphql, `dagster dev`): ours,
        with DAGSTER_HOME pointing at this instance."""
        return {**os.environ, "DAGSTER_HOME": str(self.dagster_home)}

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env

        def get(name: str) -> str | None:
            value = env.get(name)
            return value if value not in (None, "") else None

        home = Path(get("PROMO_HOME") or REPO_ROOT / ".promo").expanduser().resolve()
        lake = get("PROMO_LAKE_URI") or str(home / "lake")
        if lake.startswith("s3://"):
            # dbt reads the lake with DuckDB, and DuckDB's S3 support (httpfs) is a
            # download at run time that offline machines cannot make.
            raise SettingsError(
                "PROMO_LAKE_URI must be a local folder (dbt reads the lake with DuckDB, "
                f"whose S3 extension is not available offline); got {lake!r}"
            )
        timezone = get("PROMO_ACCOUNT_TIMEZONE") or "UTC"
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise SettingsError(
                f"PROMO_ACCOUNT_TIMEZONE={timezone!r} is not an IANA time zone name "
                "(for example Europe/Berlin or Asia/Kolkata)"
            ) from exc
        start_text = get("PROMO_PARTITION_START") or "2025-01-01"
        try:
            start = date.fromisoformat(start_text)
        except ValueError as exc:
            raise SettingsError(
                f"PROMO_PARTITION_START={start_text!r} is not a date (YYYY-MM-DD)"
            ) from exc
        hour_text = get("PROMO_REPORT_HOUR") or "6"
        if not hour_text.isdigit() or not 0 <= int(hour_text) <= 23:
            raise SettingsError(f"PROMO_REPORT_HOUR={hour_text!r} must be an hour from 0 to 23")
        week_text = get("PROMO_WEEK_START") or "monday"
        try:
            week_start = Weekday.parse(week_text)
        except ValueError as exc:
            raise SettingsError(
                f"PROMO_WEEK_START={week_text!r} is not a weekday name (monday .. sunday)"
            ) from exc
        webhook = get("PROMO_NOTIFY_WEBHOOK_URL")
        if webhook and not webhook.startswith(("http://", "https://")):
            raise SettingsError(f"PROMO_NOTIFY_WEBHOOK_URL={webhook!r} must be an http(s) URL")
        azure_url = get("PROMO_AZURE_ACCOUNT_URL")
        if azure_url and not azure_url.startswith(("http://", "https://")):
            raise SettingsError(
                f"PROMO_AZURE_ACCOUNT_URL={azure_url!r} must be an http(s) URL "
                "(https://<account>.blob.core.windows.net)"
            )
        return cls(
            home=home,
            landing_uri=_uri(get("PROMO_LANDING_URI") or str(home / "landing")),
            lake_dir=Path(lake).expanduser().resolve(),
            warehouse_path=Path(get("PROMO_WAREHOUSE_PATH") or home / "warehouse.duckdb")
            .expanduser()
            .resolve(),
            marts_uri=_uri(get("PROMO_MARTS_URI") or str(home / "marts")),
            downloads_dir=Path(get("PROMO_DOWNLOADS_DIR") or home / "downloads")
            .expanduser()
            .resolve(),
            account_timezone=timezone,
            s3_endpoint_url=get("PROMO_S3_ENDPOINT_URL"),
            partition_start=start,
            dagster_home=Path(get("DAGSTER_HOME") or home / "dagster_home").expanduser().resolve(),
            report_catalog=Path(
                get("PROMO_REPORT_CATALOG") or REPO_ROOT / "reports" / "recurring.yaml"
            )
            .expanduser()
            .resolve(),
            access_file=Path(get("PROMO_ACCESS_FILE") or home / "access.yaml")
            .expanduser()
            .resolve(),
            notify_webhook_url=webhook,
            report_hour=int(hour_text),
            week_start=week_start,
            user=get("PROMO_USER"),
            azure_account_url=azure_url,
            azure_connection_string=get("AZURE_STORAGE_CONNECTION_STRING"),
        )

    def describe(self) -> dict[str, str]:
        """Settings as text, for logs and `promo-reports settings`. Holds no secrets: a
        webhook URL may carry a token in its path or query, so only its host is shown."""
        out = {f.name: str(getattr(self, f.name)) for f in fields(self)}
        if self.notify_webhook_url:
            scheme, _, rest = self.notify_webhook_url.partition("://")
            out["notify_webhook_url"] = f"{scheme}://{rest.split('/')[0].split('@')[-1]}/…"
        if self.azure_connection_string:  # it holds the account key
            out["azure_connection_string"] = "(set, not shown)"
        return out


def _uri(value: str) -> str:
    """A folder becomes an absolute path; an s3:// URI is kept as given."""
    if value.startswith("s3://"):
        if len(value) <= len("s3://") or value[len("s3://") :].startswith("/"):
            raise SettingsError(f"{value!r} is not an s3://bucket/prefix URI")
        return value.rstrip("/")
    if "://" in value:
        raise SettingsError(f"{value!r}: only local folders and s3:// URIs are supported")
    return str(Path(value).expanduser().resolve())
