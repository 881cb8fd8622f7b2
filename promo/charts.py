"""The charts of a campaign's stats, drawn two ways from the same series:

- plotly figures for the HTML pages: one trace per KPI and period (day, week, month; only
  the day traces visible at first), each point's hover holding the exact value and the %
  change against the previous period;
- one PNG per campaign for Dagster's UI (matplotlib on the Agg canvas): a row of small
  line charts by day, kept small (palette PNG, ~7-15 kB) because it travels in metadata.

A campaign's charts: Rewards Distributed first, then its reward type's own.
"""

from __future__ import annotations

import io
import math
from datetime import date, timedelta
from functools import cache

import plotly.graph_objects as go
import plotly.offline

from promo.stats import (
    GRANULARITIES,
    KPIS,
    By,
    CampaignStats,
    Point,
    format_value,
    next_period,
    own_charts,
)

# Shared with the HTML pages so a KPI has one colour everywhere.
COLORS = {
    "rewards_distributed": "#2563eb",
    "points_distributed": "#0d9488",
    "coupons_distributed": "#0d9488",
    "discount_redeemed": "#d97706",
    "cashback_points_credited": "#d97706",
    "voucher_codes_distributed": "#0d9488",
    "webhook_credits_rewarded": "#7c3aed",
    "webhook_sent": "#16a34a",
    "webhook_failed": "#dc2626",
}
X_LABELS = {"day": "Day", "week": "Week starting", "month": "Month"}


def chart_groups(stats: CampaignStats) -> list[tuple[str, ...]]:
    """Every chart of a campaign: Rewards Distributed, then its reward type's own."""
    return [("rewards_distributed",), *own_charts(stats.campaign.kpis)]


def chart_title(kpis: tuple[str, ...]) -> str:
    if kpis == ("webhook_sent", "webhook_failed"):
        return "Webhook calls: sent and failed"
    return " and ".join(KPIS[k].label for k in kpis)


# ----------------------------------------------------------------------------- hover text
def fmt_day(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def fmt_range(first: date, last: date) -> str:
    return f"{fmt_day(first)} – {fmt_day(last)}"


def change_text(point: Point, previous: Point | None, by: By) -> str:
    if previous is None:
        return f"no previous {by} to compare with"
    if point.pct_change is None:
        return f"previous {by} was 0: no % change"
    arrow = "▲" if point.pct_change > 0 else "▼" if point.pct_change < 0 else "="
    return f"{arrow} {point.pct_change:+.1f}% vs previous {by}"


def period_label(start: date, by: By) -> str:
    if by == "day":
        return f"{start:%a} {fmt_day(start)}"
    if by == "week":
        end = next_period(start, by) - timedelta(days=1)
        return f"Week {start.day} {start:%b} – {fmt_day(end)}"
    return f"{start:%B %Y}"


def partial_note(start: date, by: By, first: date, last: date) -> str:
    """For a week or month only partly inside the range, which days it holds."""
    end = next_period(start, by) - timedelta(days=1)
    if by == "day" or (start >= first and end <= last):
        return ""
    lo, hi = max(start, first), min(end, last)
    days = f"{lo.day}–{hi.day} {hi:%b}" if lo != hi else f"{hi.day} {hi:%b}"
    return f"<br><i>partial {by}: {days} only</i>"


# ----------------------------------------------------------------------------- plotly
FONT_STACK = (
    "-apple-system, BlinkMacSystemFont, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
)


def axis_settings(stats: CampaignStats, timezone: str) -> dict[str, dict]:
    """x-axis per period: title, tick format, and a tick step giving at most ~12 ticks."""
    out = {}
    for by in GRANULARITIES:
        n = len(next(iter(stats.series[by].values())))
        step = max(1, math.ceil(n / 12))
        dtick = f"M{step}" if by == "month" else (7 if by == "week" else 1) * step * 86_400_000
        out[by] = {
            "xaxis.title.text": f"{X_LABELS[by]} ({timezone})",
            "xaxis.tickformat": "%b %Y" if by == "month" else "%d %b",
            "xaxis.dtick": dtick,
            "xaxis.tick0": next(iter(stats.series[by].values()))[0].period_start.isoformat(),
            "xaxis.autorange": True,
            "yaxis.autorange": True,
        }
    return out


def plotly_figure(stats: CampaignStats, kpis: tuple[str, ...], axes: dict[str, dict]) -> go.Figure:
    fig = go.Figure()
    for by in GRANULARITIES:
        for kpi in kpis:
            points = stats.series[by][kpi]
            previous = [None, *points[:-1]]
            fig.add_scatter(
                x=[p.period_start.isoformat() for p in points],
                y=[float(p.value) for p in points],
                customdata=[
                    [
                        period_label(p.period_start, by),
                        format_value(kpi, p.value),
                        change_text(p, prev, by),
                        partial_note(p.period_start, by, stats.first_day, stats.last_day),
                    ]
                    for p, prev in zip(points, previous, strict=True)
                ],
                hovertemplate=f"<b>%{{customdata[0]}}</b>%{{customdata[3]}}<br>{KPIS[kpi].label}: "
                "<b>%{customdata[1]}</b><br>%{customdata[2]}<extra></extra>",
                mode="lines+markers",
                name=KPIS[kpi].label,
                line={"color": COLORS[kpi], "width": 2.5},
                marker={"size": 7 if len(points) < 60 else 4},
                visible=by == "day",
                meta={"by": by},
            )
    fig.update_layout(
        template="plotly_white",
        height=330,
        margin={"l": 70, "r": 20, "t": 10, "b": 55},
        font={"family": FONT_STACK, "size": 13, "color": "#1f2937"},
        hovermode="closest",
        hoverlabel={"bgcolor": "white", "font": {"size": 13}},
        showlegend=len(kpis) > 1,
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
        xaxis={"type": "date", "showgrid": False},
        yaxis={"title": {"text": axis_title(kpis)}, "rangemode": "tozero", "tickformat": ","},
    )
    fig.plotly_relayout({k: v for k, v in axes["day"].items() if "autorange" not in k})
    return fig


def axis_title(kpis: tuple[str, ...]) -> str:
    return "Webhook calls" if len(kpis) > 1 else KPIS[kpis[0]].label


@cache
def plotly_js() -> str:
    return plotly.offline.get_plotlyjs()


# ----------------------------------------------------------------------------- PNG
def campaign_png(
    stats: CampaignStats,
    timezone: str,
    by: By = "day",
    panel_px: tuple[int, int] = (330, 210),
    dpi: int = 80,
) -> bytes | None:
    """The campaign's charts side by side as PNG bytes; None when it has no series."""
    # Imported here: matplotlib takes ~1 s to import, and every step process of the daily
    # job imports the code location; only the stats step should pay for it.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if by not in stats.series:
        return None
    groups = chart_groups(stats)
    width, height = panel_px[0] * len(groups), panel_px[1]
    fig = Figure(figsize=(width / dpi, height / dpi), dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    for i, kpis in enumerate(groups):
        ax = fig.add_subplot(1, len(groups), i + 1)
        for kpi in kpis:
            points = stats.series[by][kpi]
            ax.plot(
                [p.period_start for p in points],
                [float(p.value) for p in points],
                marker="o",
                markersize=2.5 if len(points) > 20 else 4,
                linewidth=1.6,
                color=COLORS[kpi],
                label=KPIS[kpi].label,
            )
        ax.set_title(chart_title(kpis), fontsize=9, loc="left")
        ax.set_xlabel(f"{X_LABELS[by]} ({timezone})", fontsize=7, color="#4b5563")
        _style(ax, by)
        if len(kpis) > 1:
            ax.legend(fontsize=7, frameon=False, loc="upper left")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", facecolor="white")
    return _palette_png(buffer.getvalue())


def _style(ax, by: By) -> None:
    from matplotlib.dates import AutoDateLocator, DateFormatter
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    ax.xaxis.set_major_locator(AutoDateLocator(minticks=3, maxticks=6))
    ax.xaxis.set_major_formatter(DateFormatter("%b %Y" if by == "month" else "%d %b"))
    ax.yaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.set_ylim(bottom=0)
    ax.tick_params(labelsize=7)
    ax.grid(axis="y", color="#e5e7eb", linewidth=0.8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _palette_png(data: bytes, colors: int = 64) -> bytes:
    """The same image with a 64-colour palette: a third of the size, no visible loss on
    flat line charts."""
    from PIL import Image

    image = Image.open(io.BytesIO(data)).convert("RGB")
    out = io.BytesIO()
    image.quantize(colors=colors).save(out, format="PNG", optimize=True)
    return out.getvalue()
