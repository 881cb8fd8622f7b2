"""From a validated report spec to a delivered file: the catalog of what exists, where a
report is delivered, and the folder that identifies it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl

from promo.reports.engine import Delivered, ReportRequest, export_report
from promo.reports.files import slugify
from promo.reports.spec import Catalog, Destination, ReportSpec, load_spec
from resources.storage import LocalStorage, Storage, open_storage


def load_catalog(lake_dir: Path) -> tuple[Catalog, dict[str, str]]:
    """Known wallets, campaigns, partners and list tags from the lake's dimension
    snapshots, and wallet names by id. Missing snapshots give an empty catalog (every id
    is then unknown, and the spec says so)."""

    def ids(name: str, *cols: str) -> pl.DataFrame:
        path = lake_dir / "dimensions" / f"{name}.parquet"
        return (
            pl.read_parquet(path, columns=list(cols))
            if path.exists()
            else pl.DataFrame(schema={c: pl.String for c in cols})
        )

    wallets = ids("wallets", "wallet_id", "name")
    lists = ids("voucher_lists", "partner_id", "list_tag")
    tags: dict[str, set[str]] = {}
    for partner, tag in lists.iter_rows():
        tags.setdefault(partner, set()).add(tag)
    catalog = Catalog(
        wallets=frozenset(wallets["wallet_id"]),
        campaigns=frozenset(ids("campaigns", "campaign_id")["campaign_id"]),
        partners=frozenset(ids("partners", "partner_id")["partner_id"]),
        list_tags={k: frozenset(v) for k, v in tags.items()},
    )
    return catalog, dict(wallets.iter_rows())


def report_folder(spec: ReportSpec, run_id: str | None = None) -> str:
    """The report's own folder: its name as a slug plus a fingerprint of the whole spec.
    Two reports with the same name but other settings never share a folder (no file of
    one can overwrite the other's). A recurring report's partitions share it, so
    re-running a day writes the same names again. Each one-time report is a report of
    its own (its own line in `report list`), so it gets a sub-folder named after its
    run: creating the same spec twice (e.g. `today` in the morning and again at noon)
    keeps both files."""
    folder = f"{slugify(spec.name)}-{spec.fingerprint[:8]}"
    return f"{folder}/{run_id[:8]}" if run_id else folder


def destination_of(spec: ReportSpec, downloads_dir: Path, s3_endpoint_url: str | None) -> Storage:
    delivery = spec.delivery
    if delivery.destination is Destination.S3:
        prefix = (delivery.prefix or "").strip("/")
        uri = f"s3://{delivery.bucket}" + (f"/{prefix}" if prefix else "")
        return open_storage(uri, s3_endpoint_url)
    return LocalStorage(downloads_dir)


def request_of(spec: ReportSpec, now: datetime, tz: ZoneInfo, wallet_names: dict) -> ReportRequest:
    """The engine's request: the window and the filter values it binds."""
    f = spec.filters
    params = {
        "wallet_id": f.wallet_id,
        "wallet_name": wallet_names.get(f.wallet_id),
        "partner_id": f.partner_id,
        "list_tag": f.list_tag,
        "campaign_id": f.campaign_id,
        "sources": [s.contract_value for s in f.transaction_sources or ()],
        "types": [t.contract_value for t in f.transaction_types or ()],
    }
    return ReportRequest(
        name=spec.name,
        report_type=spec.report_type.value,
        params={k: v for k, v in params.items() if v is not None},
        window=spec.window(now, tz),
        spec=spec.to_dict(),
    )


@dataclass
class ReportContext:
    """What a report run needs from the deployment (built from Settings by callers)."""

    marts: Storage
    lake_dir: Path
    downloads_dir: Path
    timezone: str
    s3_endpoint_url: str | None = None


def run_report(
    spec: ReportSpec,
    ctx: ReportContext,
    now: datetime,
    user: str,
    window=None,
    run_id: str | None = None,
) -> Delivered:
    """Export and deliver. `window` overrides the spec's (a recurring report's
    partition), except for a snapshot report (User Ledger Summary), which stays "as of
    now" whatever partition triggered it. `run_id` gives a one-time report its own
    folder (see `report_folder`)."""
    catalog, names = load_catalog(ctx.lake_dir)
    # The ids were checked when the spec was created; the catalog may have changed since
    # (a hand-edited recurring entry, a wallet gone from the snapshot): check again, so a
    # report about an unknown id fails with its name instead of delivering empty files.
    load_spec(spec, catalog)
    request = request_of(spec, now, ZoneInfo(ctx.timezone), names)
    if window is not None and request.window is not None:
        request.window = window
    return export_report(
        request,
        marts=ctx.marts,
        destination=destination_of(spec, ctx.downloads_dir, ctx.s3_endpoint_url),
        folder=report_folder(spec, run_id),
        timezone=ctx.timezone,
        now=now,
        generated_by=user,
    )
