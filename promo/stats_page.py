"""Self-contained HTML pages of campaign stats: one per campaign, and an index.

A campaign page has KPI tiles (totals), the Rewards Distributed line chart and its reward
type's own charts (plotly; plotly.js inlined once, so the page works offline and from
file://), a Day / Week / Month selector that switches every chart, and a hover on every
point with the exact value and the % change against the previous period. Past-behaviour
campaigns get the tiles and a note instead of charts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from html import escape

from promo.charts import (
    FONT_STACK,
    axis_settings,
    chart_groups,
    chart_title,
    fmt_range,
    plotly_figure,
    plotly_js,
)
from promo.stats import (
    GRANULARITIES,
    KPIS,
    REWARD_TYPE_LABELS,
    CampaignStats,
    format_value,
)
from promo.timeutil import Weekday


@dataclass(frozen=True)
class PageContext:
    timezone: str
    week_start: Weekday
    generated_at: datetime
    coverage: tuple[date, date] | None  # the published days

    @property
    def footer(self) -> str:
        days = fmt_range(*self.coverage) if self.coverage else "none"
        return (
            f"Days are calendar days in <b>{escape(self.timezone)}</b>; weeks start on "
            f"{self.week_start.label}. Published days: {days}. Generated "
            f"{self.generated_at:%Y-%m-%d %H:%M} UTC."
        )


# ----------------------------------------------------------------------------- text
CONFIG_LABELS = {
    "SINGLE": "Single code",
    "BULK": "Bulk codes",
    "DISCOUNT": "Discount",
    "CASHBACK": "Cashback",
    "SELF_MANAGED_WALLET_CREDITS": "Self-managed wallet credits",
    "PHYSICAL_DIGITAL": "Physical & digital",
}


def subtitle(stats: CampaignStats) -> str:
    """The reward type and, for coupons and custom rewards, their configuration."""
    c = stats.campaign
    parts = [REWARD_TYPE_LABELS.get(c.reward_type or "", c.reward_type or "Unknown reward type")]
    extras = {
        "COUPON": (c.coupon_type, c.coupon_benefit),
        "CUSTOM_REWARD": (c.custom_reward_kind,),
    }.get(c.reward_type or "", ())
    parts += [CONFIG_LABELS.get(e, e) for e in extras if e]
    return " · ".join(parts)


def segment_text(segment_kind: str | None) -> str:
    return {
        "LIVE_BEHAVIOR": "Live behaviour",
        "PAST_BEHAVIOR": "Past behaviour",
    }.get(segment_kind or "", "Unknown")


def charts_text(stats: CampaignStats) -> str:
    if stats.campaign.totals_only:
        return "totals only"
    return "totals and charts" if stats.series else "no activity yet"


def script_json(value) -> str:
    """JSON safe inside a <script> element ('</script>' cannot close it)."""
    text = value if isinstance(value, str) else json.dumps(value)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


# ----------------------------------------------------------------------------- pages
CSS = """
body{font-family:FONT_STACK;margin:0;background:#f3f4f6;color:#1f2937}
main{max-width:1120px;margin:0 auto;padding:24px 20px 40px}
a{color:#1d4ed8} h1{font-size:26px;margin:4px 0 2px} .muted{color:#6b7280}
.meta{color:#4b5563;font-size:14px;margin:6px 0 18px}
.tag{display:inline-block;background:#e0e7ff;color:#3730a3;border-radius:999px;
 padding:2px 10px;font-size:13px;margin-right:6px}
.tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(230px,1fr));gap:12px}
.tile{background:#fff;border:1px solid #e5e7eb;border-radius:10px;padding:14px 16px}
.tile .label{font-size:13px;color:#4b5563;text-transform:uppercase;letter-spacing:.03em}
.tile .value{font-size:28px;font-weight:650;margin-top:4px;font-variant-numeric:tabular-nums}
.tile .hint{font-size:12px;color:#6b7280;margin-top:2px}
.bar{display:flex;justify-content:space-between;align-items:center;margin:26px 0 10px}
.bar h2{font-size:18px;margin:0}
.selector{display:inline-flex;border:1px solid #cbd5e1;border-radius:8px;overflow:hidden}
.selector button{font:inherit;font-size:14px;border:0;background:#fff;padding:6px 16px;
 cursor:pointer;color:#334155}
.selector button+button{border-left:1px solid #cbd5e1}
.selector button[aria-pressed=true]{background:#1d4ed8;color:#fff}
.card{background:#fff;border:1px solid #e5e7eb;border-radius:10px;padding:12px 14px 4px;
 margin-bottom:14px}
.card h3{font-size:15px;margin:2px 0 0 4px}
.note{background:#fffbeb;border:1px solid #fde68a;border-radius:10px;padding:12px 16px;
 margin-top:22px}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid #e5e7eb}
th,td{text-align:left;padding:9px 12px;border-bottom:1px solid #e5e7eb;font-size:14px;
 vertical-align:top}
th{background:#f9fafb;font-size:13px;color:#4b5563}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
footer{margin-top:28px;font-size:13px;color:#6b7280}
""".replace("FONT_STACK", FONT_STACK)

SWITCH_JS = """
function showPeriod(by) {
  document.querySelectorAll('.selector button').forEach(function (b) {
    b.setAttribute('aria-pressed', String(b.dataset.by === by));
  });
  document.querySelectorAll('.chart').forEach(function (div) {
    var visible = div.data.map(function (t) { return t.meta.by === by; });
    Plotly.update(div, {visible: visible}, AXES[by]);
  });
}
document.querySelectorAll('.selector button').forEach(function (b) {
  b.addEventListener('click', function () { showPeriod(b.dataset.by); });
});
"""


PLOTLY_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "modeBarButtonsToRemove": ["lasso2d", "select2d"],
}


def html_document(title: str, body: str, scripts: str = "") -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head>"
        f"<body><main>{body}</main>{scripts}</body></html>\n"
    )


def tiles(stats: CampaignStats) -> str:
    hints = {}
    if stats.campaign.reward_type == "COUPON":
        hints["coupons_distributed"] = (
            "distinct codes handed out"
            if stats.campaign.coupon_type == "BULK"
            else "times the code was handed out"
        )
    return "".join(
        f'<div class="tile"><div class="label">{KPIS[k].label}</div>'
        f'<div class="value">{format_value(k, v)}</div>'
        + (f'<div class="hint">{hints[k]}</div>' if k in hints else "")
        + "</div>"
        for k, v in stats.totals.items()
    )


def campaign_page(stats: CampaignStats, ctx: PageContext) -> str:
    c = stats.campaign
    span = (
        fmt_range(stats.first_day, stats.last_day)
        if stats.first_day and stats.last_day
        else "no activity in the published days"
    )
    head = (
        '<a href="index.html">← All campaigns</a>'
        f"<h1>{escape(c.name)}</h1>"
        f'<div class="meta"><span class="tag">{escape(subtitle(stats))}</span>'
        f'<span class="tag">{segment_text(c.segment_kind)} segment</span> '
        f'<span class="muted">{escape(c.campaign_id)} · {span}</span></div>'
        f'<h2 style="font-size:18px">Totals</h2><div class="tiles">{tiles(stats)}</div>'
    )
    if not stats.series:
        why = (
            "This campaign targets a <b>past-behaviour segment</b>: its audience was fixed "
            "from what users had already done when it started, so it is reported as totals "
            "only, without time charts."
            if c.totals_only
            else "No chart: the campaign has no day inside the published data yet."
        )
        body = head + f'<div class="note">{why}</div><footer>{ctx.footer}</footer>'
        return html_document(f"{c.name} – campaign stats", body)
    axes = axis_settings(stats, ctx.timezone)
    buttons = "".join(
        f'<button type="button" data-by="{by}" aria-pressed="{str(by == "day").lower()}">'
        f"{by.title()}</button>"
        for by in GRANULARITIES
    )
    cards, plots, figs = [], [], []
    for i, kpis in enumerate(chart_groups(stats)):
        figs.append(script_json(plotly_figure(stats, kpis, axes).to_json()))
        cards.append(
            f'<section class="card"><h3>{chart_title(kpis)}</h3>'
            f'<div class="chart" id="chart-{i}" data-kpis="{" ".join(kpis)}"></div></section>'
        )
        plots.append(f"Plotly.newPlot('chart-{i}', FIGS[{i}].data, FIGS[{i}].layout, CONFIG);")
    body = (
        head + '<div class="bar"><h2>Over time</h2><div class="selector" role="group" '
        f'aria-label="Group the charts by">{buttons}</div></div>'
        + "".join(cards)
        + "<footer>Hover a point for its exact value and its change against the previous "
        "period; a change from 0 has no percentage. The first and last week or month can be "
        f"partial. {ctx.footer}</footer>"
    )
    scripts = (
        f"<script>{plotly_js()}</script><script>var FIGS=[{','.join(figs)}];"
        f"var AXES={script_json(axes)};"
        f"var CONFIG={script_json(PLOTLY_CONFIG)};{''.join(plots)}{SWITCH_JS}</script>"
    )
    return html_document(f"{c.name} – campaign stats", body, scripts)


def index_page(all_stats: list[CampaignStats], links: dict[str, str], ctx: PageContext) -> str:
    rows = []
    for s in all_stats:
        c = s.campaign
        rewards = format_value("rewards_distributed", s.totals["rewards_distributed"])
        others = "<br>".join(
            f"{KPIS[k].label}: <b>{format_value(k, v)}</b>"
            for k, v in s.totals.items()
            if k != "rewards_distributed"
        )
        rows.append(
            f'<tr><td><a href="{escape(links[c.campaign_id])}">{escape(c.name)}</a>'
            f'<div class="muted">{escape(c.campaign_id)}</div></td>'
            f"<td>{escape(subtitle(s))}</td><td>{segment_text(c.segment_kind)}"
            f'<div class="muted">{charts_text(s)}</div></td>'
            f'<td class="num">{rewards}</td>'
            f"<td>{others}</td></tr>"
        )
    body = (
        "<h1>Campaign stats</h1>"
        f'<div class="meta">{len(all_stats)} campaigns. Totals over the published days; '
        "open a campaign for its charts by day, week or month.</div>"
        '<table><thead><tr><th style="width:24%">Campaign</th>'
        '<th style="width:20%">Reward type</th><th style="width:15%">Segment</th>'
        '<th style="text-align:right;width:13%">Rewards distributed</th><th>Other KPIs</th></tr>'
        f"</thead><tbody>{''.join(rows)}</tbody></table><footer>{ctx.footer}</footer>"
    )
    return html_document("Campaign stats", body)
