"""Campaign stats asset: KPIs per campaign from the published `campaign_daily_stats` mart,
as JSON, a self-contained HTML page per campaign and an index, written through the storage
interface to `<marts>/stats/`, with a KPI table and chart images in the run's metadata.

Layout (see docs/stats.md):
```
<marts>/stats/index.html            every campaign with its headline KPIs, linking the pages
<marts>/stats/index.json            the same list for scripts (and `promo-reports stats`)
<marts>/stats/<campaign>.html       KPI tiles, charts by day / week / month
<marts>/stats/<campaign>.json       the stable JSON shape (totals and every series)
<marts>/stats/images/<campaign>.png the charts by day as one PNG (live-behaviour campaigns)
```
"""

import base64
import hashlib
import io
import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import polars as pl
from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    BackfillPolicy,
    MaterializeResult,
    MetadataValue,
    PartitionsDefinition,
    asset,
)

from promo import layout, published
from promo.charts import campaign_png
from promo.lake import Lake
from promo.marts import CAMPAIGN_DAILY_STATS
from promo.stats import KPIS, CampaignStats, all_campaign_stats, dumps, format_value
from promo.stats_page import PageContext, campaign_page, index_page, subtitle
from promo.storage import Storage
from promo.timeutil import Weekday
from resources.dagster_resources import LakeResource, StorageResource

MART = CAMPAIGN_DAILY_STATS.name
# Chart images inline in the run's metadata: the live campaigns with the most rewards.
# A PNG is 5-11 kB (7-15 kB once base64), and every materialization stores its metadata
# again in the run storage, so it grows with the number of campaigns times the runs: 12
# keeps one materialization under ~180 kB (every live campaign of the sample data fits:
# 8), where all of 200 live campaigns would be ~3 MB a run, ~1 GB a year of daily runs.
# Every campaign's image is also written to <marts>/stats/images/ and is on its page.
METADATA_CHARTS = 12


def read_published_mart(storage: Storage) -> tuple[pl.DataFrame, tuple[date, date] | None]:
    """Every published day of the mart, and the first and last published day."""
    parts = published.daily_files(storage, MART)  # through each day's manifest
    frames = []
    for key in parts.values():
        with storage.open(key) as stream:
            frames.append(pl.read_parquet(io.BytesIO(stream.read())))
    days = list(parts)
    rows = pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame()
    return rows, (days[0], days[-1]) if days else None


def read_campaigns(lake: Lake) -> list[dict]:
    """The campaigns dimension's rows, or none when the lake has no snapshot yet."""
    key = layout.lake_dimension("campaigns")
    if not lake.exists(key):
        return []
    with lake.local(key) as path:
        return pl.read_parquet(path).to_dicts()


def file_name(campaign_id: str) -> str:
    """A storage-safe name for a campaign's files; ids that need changing get a short hash
    so two ids never share a name (and no campaign can overwrite `index`)."""
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", campaign_id)
    if safe != campaign_id or safe == "index":
        safe += "-" + hashlib.sha1(campaign_id.encode()).hexdigest()[:8]
    return safe


def page_uri(storage: Storage, key: str) -> str:
    """Where a person opens a page: a file:// URI for a local folder, else s3://..."""
    local = storage.local_path(key)
    return local.as_uri() if local is not None else storage.uri_of(key)


def publish_stats(
    storage: Storage, all_stats: list[CampaignStats], ctx: PageContext
) -> dict[str, bytes]:
    """Write every campaign's JSON, page and image, then the index; returns the images."""
    images, links = {}, {}
    for s in all_stats:
        name = file_name(s.campaign.campaign_id)
        s.page = page_uri(storage, f"{layout.STATS}/{name}.html")
        links[s.campaign.campaign_id] = f"{name}.html"
        storage.put_bytes(campaign_page(s, ctx).encode(), f"{layout.STATS}/{name}.html")
        storage.put_bytes(_json(s.to_json()), f"{layout.STATS}/{name}.json")
        png = campaign_png(s, ctx.timezone)
        if png:
            images[s.campaign.campaign_id] = png
            storage.put_bytes(png, f"{layout.STATS}/images/{name}.png")
    index = {
        "generated_at": ctx.generated_at.isoformat(timespec="seconds"),
        "account_timezone": ctx.timezone,
        "week_start": ctx.week_start.code,
        "published_days": [d.isoformat() for d in ctx.coverage] if ctx.coverage else None,
        "campaigns": [
            {
                **{k: v for k, v in s.to_json().items() if k != "series"},
                "json": f"{file_name(s.campaign.campaign_id)}.json",
                "first_day": s.first_day.isoformat() if s.first_day else None,
                "last_day": s.last_day.isoformat() if s.last_day else None,
            }
            for s in all_stats
        ],
    }
    # The index goes last: when it names a campaign, that campaign's files are complete.
    storage.put_bytes(_json(index), f"{layout.STATS}/index.json")
    storage.put_bytes(index_page(all_stats, links, ctx).encode(), f"{layout.STATS}/index.html")
    return images


def _json(payload) -> bytes:
    return (dumps(payload) + "\n").encode()  # amounts as exact JSON numbers


def kpi_table(all_stats: list[CampaignStats]) -> str:
    lines = [
        "| Campaign | Reward type | Segment | Rewards distributed | Other KPIs |",
        "|---|---|---|--:|---|",
    ]
    for s in all_stats:
        c = s.campaign
        others = "; ".join(
            f"{KPIS[k].label} {format_value(k, v)}"
            for k, v in s.totals.items()
            if k != "rewards_distributed"
        )
        segment = "past (totals only)" if c.totals_only else "live"
        rewards = format_value("rewards_distributed", s.totals["rewards_distributed"])
        lines.append(
            f"| {_md(c.name)} (`{c.campaign_id}`) | {_md(subtitle(s))} | {segment} "
            f"| {rewards} | {_md(others)} |"
        )
    return "\n".join(lines)


def charts_markdown(all_stats: list[CampaignStats], images: dict[str, bytes]) -> str:
    shown = sorted(
        (s for s in all_stats if s.campaign.campaign_id in images),
        key=lambda s: -s.totals["rewards_distributed"],
    )[:METADATA_CHARTS]
    blocks = [
        f"**{_md(s.campaign.name)}** (`{s.campaign.campaign_id}`), by day\n\n"
        f"![{_md(s.campaign.name)}](data:image/png;base64,"
        f"{base64.b64encode(images[s.campaign.campaign_id]).decode()})"
        for s in shown
    ]
    rest = len(images) - len(shown)
    if rest > 0:
        blocks.append(f"{rest} more campaign(s) with charts: see the pages or `stats/images/`.")
    return "\n\n".join(blocks) or "No live-behaviour campaign with activity yet."


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def build_stats_assets(
    partitions: PartitionsDefinition, tz: ZoneInfo, week_start: Weekday = Weekday.MONDAY
) -> list[AssetsDefinition]:
    account_timezone = str(tz)

    @asset(
        key=AssetKey(["stats", "campaign_stats"]),
        deps=[AssetKey(["marts", MART]), AssetKey(["lake", "campaigns"])],
        partitions_def=partitions,
        backfill_policy=BackfillPolicy.single_run(),
        group_name="stats",
        kinds={"plotly", "html"},
        description=(
            "Campaign stats: one entry per campaign (every campaign in the published "
            "`campaign_daily_stats` mart or in the campaigns dimension), with the KPIs of its "
            "reward type as totals and, for live-behaviour segments, series by "
            f"{account_timezone} day, week (from {week_start.label}) and month "
            "with the % change against the previous period. Writes a self-contained HTML "
            "page and a JSON file per campaign and an index to `<marts>/stats/`. Any "
            "partition or range recomputes everything from the whole published mart (stats "
            "span all days), so a backfill runs it once."
        ),
    )
    def campaign_stats(
        context: AssetExecutionContext, marts: StorageResource, lake: LakeResource
    ) -> MaterializeResult:
        storage = marts.storage()
        rows, coverage = read_published_mart(storage)
        dimension = read_campaigns(lake.lake())
        if not dimension:
            context.log.warning(f"no campaigns dimension in the lake at {lake.uri}: mart rows only")
        all_stats = all_campaign_stats(rows.to_dicts(), dimension, tz, coverage, week_start)
        ctx = PageContext(account_timezone, week_start, datetime.now(UTC), coverage)
        images = publish_stats(storage, all_stats, ctx)
        index = page_uri(storage, f"{layout.STATS}/index.html")
        local_index = storage.local_path(layout.stats_key("index.html"))
        index_value = (
            MetadataValue.path(str(local_index)) if local_index else MetadataValue.url(index)
        )
        context.log.info(f"{len(all_stats)} campaign pages; index at {index}")
        return MaterializeResult(
            metadata={
                "campaigns": len(all_stats),
                "with_charts": len(images),
                "published_days": MetadataValue.text(
                    f"{coverage[0]} .. {coverage[1]}" if coverage else "none"
                ),
                "account_timezone": MetadataValue.text(account_timezone),
                "week_start": MetadataValue.text(week_start.code),
                "index_page": index_value,
                "kpis": MetadataValue.md(kpi_table(all_stats)),
                "charts": MetadataValue.md(charts_markdown(all_stats, images)),
            }
        )

    return [campaign_stats]
