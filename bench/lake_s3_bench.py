"""Section 5 of `make bench`: what a lake on S3 costs (issue 14).

One day of 1M wallet transactions (all streams, the default bad-line and redelivery
rates) is ingested and built by dbt twice from the same local landing zone: once with
the lake in a local folder, once with `PROMO_LAKE_URI=s3://…` on an S3-compatible server
(moto in server mode, started by this harness on 127.0.0.1). Each runs in a fresh home.
The S3 server runs inside the harness process, so its own CPU is not in the steps' CPU
seconds; wall time includes it. A real S3 endpoint adds network latency that a server on
the same machine does not have: read the ratio as the cost of going through the S3 API
(requests, multipart uploads, range reads), not of the network.
"""

from __future__ import annotations

import os
import shutil
from datetime import date
from pathlib import Path

from bench.tables import LOAD_COLS, table

DAY = date(2026, 8, 1)
BUCKET = "bench-lake"


def bench_lake_s3(work: Path, rows: int, measure, env_of) -> dict:
    import logging

    import boto3
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=BUCKET)
    landing = work / "lake-s3-landing"
    shutil.rmtree(landing, ignore_errors=True)
    span = ("--start", DAY.isoformat(), "--end", DAY.isoformat())
    out, by_where = [], {}
    try:
        generated = measure(
            "generate", "--start", DAY.isoformat(), "--days", "1", "--scale", str(rows),
            env={**env_of(work / "lake-s3-gen"), "PROMO_LANDING_URI": str(landing)},
        )  # fmt: skip
        generated.update(what="generate (one day)", rows=rows)
        out.append(generated)
        for where in ("local", "s3"):
            home = work / f"lake-{where}"
            shutil.rmtree(home, ignore_errors=True)
            env = {**env_of(home), "PROMO_LANDING_URI": str(landing)}
            if where == "s3":
                env.update(PROMO_LAKE_URI=f"s3://{BUCKET}/lake", PROMO_S3_ENDPOINT_URL=endpoint)
            steps = {}
            for step in ("dimensions", "ingest", "dbt"):
                r = measure(step, *(() if step == "dimensions" else span), env=env)
                r.update(what=f"{step}, lake {where}", rows=rows)
                out.append(r)
                steps[step] = r
            by_where[where] = steps
            shutil.rmtree(home, ignore_errors=True)
    finally:
        server.stop()
        shutil.rmtree(landing, ignore_errors=True)
    summary = []
    for step in ("ingest", "dbt"):
        local, s3 = by_where["local"][step], by_where["s3"][step]
        summary.append(
            {
                "step": step,
                "local_s": local["seconds"],
                "s3_s": s3["seconds"],
                "ratio": round(s3["seconds"] / local["seconds"], 2),
                "local_peak_mb": local["peak_rss_mb"],
                "s3_peak_mb": s3["peak_rss_mb"],
            }
        )
    return {"rows": out, "summary": summary, "day_rows": rows}


def render_lake_s3(section: dict) -> list[str]:
    out = [
        f"One UTC day of {section['day_rows']:,} wallet transactions (all streams), the "
        "lake in a local folder against the lake on an S3-compatible server on this machine "
        "(moto in server mode, `PROMO_LAKE_URI=s3://…`, `PROMO_S3_ENDPOINT_URL`); the same "
        "landing files, a fresh home each. *ingest*: the ingestion assets (writes accepted, "
        "quarantine and manifests to the lake; reads the other folders' ids); *dbt*: the "
        "first `dbt build` of that day (reads the lake through pyarrow's S3 filesystem "
        "registered in DuckDB). The server's own CPU is not counted in CPU s.",
        "",
    ]
    out += table(
        section["summary"],
        [
            ("step", "step"),
            ("local_s", "local lake wall s"),
            ("s3_s", "S3 lake wall s"),
            ("ratio", "S3 / local"),
            ("local_peak_mb", "local peak RSS MB"),
            ("s3_peak_mb", "S3 peak RSS MB"),
        ],
    )
    out += ["", "Every step:", ""]
    out += table(
        section["rows"],
        [
            ("what", "step"),
            ("seconds", "wall s"),
            ("cpu_s", "CPU s"),
            ("peak_rss_mb", "peak RSS MB"),
            *LOAD_COLS,
        ],
    )
    return out
