"""Benchmark steps, each run in its own process by bench/run.py. The last line printed is
a JSON object of counts."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date


def generate(args) -> dict:
    from orchestration.settings import Settings
    from promo.generator import generate as gen
    from resources.storage import LocalStorage

    settings = Settings.from_env()
    summary = gen(
        LocalStorage(settings.landing_uri),
        date.fromisoformat(args.start),
        args.days,
        scale=args.scale,
    )
    return {"lines": sum(s.lines for s in summary.streams.values())}


def ingest(args) -> dict:
    from dagster import AssetKey, DagsterInstance

    from orchestration.definitions import build_definitions
    from orchestration.settings import Settings
    from promo import contract

    settings = Settings.from_env()
    job = build_definitions(settings).resolve_job_def("promo_daily")
    result = job.execute_in_process(
        instance=DagsterInstance.ephemeral(),
        tags={
            "dagster/asset_partition_range_start": args.start,
            "dagster/asset_partition_range_end": args.end,
        },
        asset_selection=[AssetKey(["lake", s]) for s in contract.STREAMS],
    )
    assert result.success
    lines = sum(
        m.metadata["lines"].value
        for s in contract.STREAMS
        for m in result.asset_materializations_for_node(f"lake__{s}")
    )
    return {"lines": lines}


def main() -> int:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="step", required=True)
    g = sub.add_parser("generate")
    g.add_argument("--start", required=True)
    g.add_argument("--days", type=int, required=True)
    g.add_argument("--scale", type=int, required=True)
    i = sub.add_parser("ingest")
    i.add_argument("--start", required=True)
    i.add_argument("--end", required=True)
    args = parser.parse_args()
    print(json.dumps({"generate": generate, "ingest": ingest}[args.step](args)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
