"""`promo-reports stats`: one campaign's KPIs and series, read from the published stats
(`<marts>/stats/`, written by the `stats/campaign_stats` asset), so the command shows
exactly what the pages show, with the week start the pipeline used."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from orchestration.settings import Settings
from promo.stats import GRANULARITIES, KPIS, REWARD_TYPE_LABELS, dumps, format_value, loads

if TYPE_CHECKING:  # pyarrow, behind the storage protocol, costs 0.1 s to import
    from promo.storage import Storage

INDEX_KEY = "stats/index.json"
MATERIALIZE_HINT = (
    "run `promo-reports materialize --start DATE --end DATE` first (it publishes the marts, "
    "then the campaign stats)"
)


def add_stats_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "stats",
        help="print a campaign's KPIs and their series by day, week or month",
        description="Print one campaign's KPIs (totals) and, for live-behaviour campaigns, "
        "their series by account-timezone day, week or month with the % change against "
        "the previous period, and where its HTML page is. Reads the stats published by the "
        "last materialization. Exit codes: 0 ok, 1 no published stats, 2 unknown campaign.",
    )
    parser.add_argument("--campaign", required=True, metavar="ID", help="the campaign id")
    parser.add_argument(
        "--by",
        choices=GRANULARITIES,
        help="series period (table default: day; --json default: all three)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the campaign's stable JSON (docs/stats.md) instead of tables; with --by, "
        "only that series",
    )
    parser.set_defaults(func=cmd_stats)
    return parser


def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    from promo.storage import StorageError
    from resources.storage import open_storage  # lazy: cloud clients cost seconds to import

    storage = open_storage(settings.marts_uri, settings.s3_endpoint_url)
    try:
        if not storage.exists(INDEX_KEY):
            print(
                f"error: no published campaign stats in {storage.uri}/stats: {MATERIALIZE_HINT}",
                file=sys.stderr,
            )
            return 1
        index = _read_json(storage, INDEX_KEY)
        entry = next((c for c in index["campaigns"] if c["campaign_id"] == args.campaign), None)
        if entry is None:
            known = ", ".join(sorted(c["campaign_id"] for c in index["campaigns"])) or "none"
            print(
                f"error: unknown campaign {args.campaign!r}; known campaigns: {known}",
                file=sys.stderr,
            )
            return 2
        stats = _read_json(storage, f"stats/{entry['json']}")
    except StorageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.by:
        stats["series"] = {b: s for b, s in stats["series"].items() if b == args.by}
    if args.json:
        print(dumps(stats))
    else:
        print("\n".join(human_lines(stats, entry, index, args.by or "day")))
    return 0


def _read_json(storage: Storage, key: str) -> Any:
    # Decimal, not float: the amounts are printed again exactly as they were published.
    return loads(storage.read_bytes(key))


def human_lines(stats: dict, entry: dict, index: dict, by: str) -> list[str]:
    kind = stats["reward_type"]
    live = stats["segment_kind"] != "PAST_BEHAVIOR"
    segment = "live behaviour" if live else "past behaviour (totals only)"
    days = f"{entry['first_day']} .. {entry['last_day']}" if entry["first_day"] else "none"
    lines = [
        f"{stats['campaign_name'] or stats['campaign_id']} ({stats['campaign_id']})",
        f"reward type: {REWARD_TYPE_LABELS.get(kind, kind)}; segment: {segment}",
        f"days: {days} in {index['account_timezone']}; weeks start {index['week_start'].title()}",
        "",
        "Totals",
    ]
    width = max(len(KPIS[k].label) for k in stats["totals"])
    lines += [
        f"  {KPIS[k].label:<{width}}  {format_value(k, v)}" for k, v in stats["totals"].items()
    ]
    series = stats["series"].get(by)
    if series:
        lines += ["", f"By {by} (change against the previous {by})", *series_table(series, by)]
    elif live:
        lines += ["", "No series: the campaign has no day inside the published data."]
    else:
        lines += ["", "No series: past-behaviour campaigns are reported as totals only."]
    lines += ["", f"page: {stats['page']}"]
    return lines


def series_table(series: dict[str, list[dict]], by: str) -> list[str]:
    kpis = list(series)
    cells = [[f"{by} starting" if by != "day" else "day", *(KPIS[k].label for k in kpis)]]
    for i, first in enumerate(series[kpis[0]]):
        row = [first["period_start"]]
        for k in kpis:
            point = series[k][i]
            row.append(f"{format_value(k, point['value'])} ({_change(point['pct_change'])})")
        cells.append(row)
    widths = [max(len(r[c]) for r in cells) for c in range(len(cells[0]))]
    return [
        "  "
        + "  ".join(
            v.ljust(w) if c == 0 else v.rjust(w)
            for c, (v, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in cells
    ]


def _change(pct: float | None) -> str:
    return "n/a" if pct is None else f"{pct:+.1f}%"
