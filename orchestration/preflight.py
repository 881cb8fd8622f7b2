"""Checks before a command starts work: an object store that cannot be reached stops the
command with one line naming the setting and the endpoint, instead of a run that fails
minutes later deep inside a step (or a traceback)."""

from __future__ import annotations

from urllib.parse import urlsplit

from orchestration.settings import Settings
from orchestration.urls import without_credentials

CONNECT_TIMEOUT_SECONDS = 3


class UnreachableStorage(RuntimeError):
    """A storage location of the settings cannot be reached; the message is one line."""


def s3_locations(settings: Settings) -> dict[str, str]:
    """Setting name -> its s3:// URI, for the settings that point at S3."""
    uris = {
        "PROMO_LANDING_URI": settings.landing_uri,
        "PROMO_LAKE_URI": settings.lake_uri,
        "PROMO_MARTS_URI": settings.marts_uri,
    }
    return {name: uri for name, uri in uris.items() if uri.startswith("s3://")}


def check_s3(settings: Settings) -> None:
    """Ask each S3 bucket of the settings once, with a short timeout and no retries."""
    locations = s3_locations(settings)
    if not locations:
        return
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    client = boto3.client(
        "s3",
        endpoint_url=settings.s3_endpoint_url,
        config=Config(
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
            read_timeout=CONNECT_TIMEOUT_SECONDS,
            retries={"max_attempts": 1},
        ),
    )
    endpoint = without_credentials(settings.s3_endpoint_url or "https://s3.amazonaws.com")
    for name, uri in locations.items():
        bucket = urlsplit(uri).netloc
        try:
            client.head_bucket(Bucket=bucket)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "error")
            raise UnreachableStorage(
                f"{name}={uri}: bucket {bucket!r} answered {code} at {endpoint}"
            ) from None
        except BotoCoreError as exc:
            raise UnreachableStorage(
                f"{name}={uri}: cannot reach the S3 endpoint {endpoint} ({type(exc).__name__})"
            ) from None
