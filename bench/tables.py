"""Markdown tables of benchmark rows, and the load columns every section shows."""

from __future__ import annotations


def fmt(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def table(rows: list[dict], columns: list[tuple[str, str]]) -> list[str]:
    out = ["| " + " | ".join(label for _, label in columns) + " |"]
    out.append("|" + "|".join("---" if i == 0 else "---:" for i in range(len(columns))) + "|")
    for row in rows:
        out.append("| " + " | ".join(fmt(row.get(key)) for key, _ in columns) + " |")
    return out


LOAD_COLS = [
    ("load1_before", "load (1 min) before"),
    ("others_cores", "other processes' CPU during step (cores)"),
]

LOAD_NOTE = (
    "*Load*: the 1-minute load average just before the step, and the CPU the rest of the "
    "machine used while the step ran (busy time from /proc/stat minus the step's own, in "
    "cores out of {cores}). Where that figure is high, other work shared the machine and "
    "the step's time is inflated."
)
