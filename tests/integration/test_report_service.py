"""The report service through a real uvicorn server (`promo-reports serve` in a child
process, on a free port): every endpoint and status code, the six report types created
over HTTP and compared byte for byte with the CLI's files for the same spec, bad input,
tokens, and a restart that loses no report."""

from __future__ import annotations

import contextlib
import io
import json
import os
import socket
import stat
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from dagster import DagsterInstance

from orchestration.cli import main
from orchestration.report_runs import LAUNCHER_TAG, report_job, run_config
from orchestration.settings import Settings
from tests.integration.conftest import READER, WRITER, wait_for
from tests.integration.report_support import spec_of

pytestmark = pytest.mark.integration
NOW = "2026-10-29T09:30:00+01:00"
DAYS = ("2026-10-22", "2026-10-28")
FILTERS = {
    "wallet_summary": {"wallet_id": "wlt_main"},
    "wallet_transactions": {"wallet_id": "wlt_main", "transaction_sources": ["promo_campaign"]},
    "user_ledger_summary": {"wallet_id": "wlt_main"},
    "voucher_assignment_logs": {"partner_id": "prt_cinemax", "list_tag": "movie-ticket"},
    "reward_assignment": {"campaign_id": "cmp_everyday_points"},
    "user_errors": {"campaign_id": "cmp_everyday_points"},
}


def spec(report_type: str, **extra) -> dict:
    days = None if report_type == "user_ledger_summary" else tuple(map(_date, DAYS))
    return {**spec_of(report_type, FILTERS[report_type], days, name=f"HTTP {report_type}"), **extra}


def _date(text):
    from datetime import date

    return date.fromisoformat(text)


def recurring_spec(name: str = "Daily errors over HTTP") -> dict:
    return {
        "name": name,
        "promotion_type": "promo_campaigns",
        "report_type": "user_errors",
        "filters": {"campaign_id": "cmp_everyday_points"},
        "delivery": {"destination": "s3", "bucket": "reports-bucket", "prefix": "auto/"},
        "frequency": {"interval": "daily"},
    }


def cli_create(service, monkeypatch, tmp_path, body: dict) -> Path:
    """The CLI's file for the same spec, in the same instance."""
    for key, value in service.env.items():
        monkeypatch.setenv(key, value)
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(body))
    out = tmp_path / "out.txt"
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = main(["report", "--user", WRITER, "create", "--spec", str(path), "--now", NOW])
    out.write_text(buffer.getvalue())
    assert code == 0, buffer.getvalue()
    return Path(buffer.getvalue().strip().splitlines()[-1])


def test_each_report_type_over_http_equals_the_cli_file(service, monkeypatch, tmp_path):
    writer = service.client(WRITER)
    started = {}
    for report_type in FILTERS:  # all six start at once: the server does not wait for any
        answer = writer.post("/api/reports", params={"now": NOW}, json=spec(report_type))
        assert answer.status_code == 202, answer.text
        body = answer.json()
        assert body["status"] == "Creating" and body["kind"] == "one_time"
        assert answer.headers["location"] == f"/api/reports/{body['id']}"
        started[report_type] = body["id"]
    for report_type, report_id in started.items():
        report = wait_for(writer, report_id)
        assert report["status"] == "Created", report
        assert report["created_by"] == WRITER and report["created_on"].endswith("+01:00")
        assert report["configuration"]["report_type"] == report_type
        download = writer.get(f"/api/reports/{report_id}/file")
        assert download.status_code == 200
        expected = cli_create(service, monkeypatch, tmp_path, spec(report_type))
        disposition = download.headers["content-disposition"]
        assert f'filename="{expected.name}"' in disposition, (disposition, expected.name)
        assert download.content == expected.read_bytes(), report_type
    listed = {r["id"]: r for r in writer.get("/api/reports?kind=one_time").json()["reports"]}
    assert set(started.values()) <= set(listed)
    # the same runs are in the CLI's list, Created: one instance
    monkeypatch.setenv("PROMO_USER", READER)
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert main(["report", "list", "--one-time", "--json"]) == 0
    in_cli = {e["run_id"]: e["status"] for e in json.loads(buffer.getvalue())}
    assert {run: in_cli.get(run) for run in started.values()} == {
        run: "Created" for run in started.values()
    }


def test_readers_strangers_and_bad_tokens(service):
    reader, anonymous = service.client(READER), service.client()
    answer = reader.post("/api/reports", json=spec("user_errors"))
    assert answer.status_code == 403
    assert answer.json()["detail"] == (
        f"refused: {READER} has only read access; 'report create' needs write access"
    )
    assert reader.get("/api/reports").status_code == 200
    assert anonymous.get("/api/reports").status_code == 401
    assert anonymous.get("/api/reports").headers["www-authenticate"].startswith("Bearer")
    for bad in ("nope", "prt_0000abcd_" + "x" * 43, service.tokens[WRITER] + "x", "a" * 5000):
        answer = anonymous.get("/api/reports", headers={"Authorization": f"Bearer {bad}"})
        assert answer.status_code == 401, bad
    log = (service.home / "logs" / "promo.log").read_text()
    records = [json.loads(line) for line in log.splitlines()]
    assert any(r.get("event") == "unauthenticated" for r in records)
    assert any(r.get("event") == "refused" and r.get("user") == READER for r in records)
    assert service.tokens[WRITER] not in log and service.tokens[READER] not in log


def test_invalid_specs_and_bad_input_are_refused_and_nothing_is_written(service):
    writer = service.client(WRITER)
    before = sorted(service.downloads.rglob("*")) if service.downloads.exists() else []
    bad = spec("user_errors", extra_key=1)
    bad["filters"] = {"campaign_id": "x'; DROP TABLE reports; --"}
    answer = writer.post("/api/reports", json=bad)
    assert answer.status_code == 422
    fields = {e["field"]: e["message"] for e in answer.json()["errors"]}
    assert "unknown campaign" in fields["filters.campaign_id"]
    assert "unknown key" in fields["extra_key"]
    for name in ("x" * 10_000, "bad\nname", "bad\x07name"):
        answer = writer.post("/api/reports", json=spec("user_errors", name=name))
        assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "name"
    cases = [
        ({"content": b"{not json", "headers": {"Content-Type": "application/json"}}, 400),
        ({"content": b"[" * 20_000 + b"]" * 20_000}, 400),
        ({"content": b"name=x", "headers": {"Content-Type": "text/plain"}}, 415),
        ({"content": b" " * 70_000}, 413),
        ({"json": [1, 2]}, 422),
        ({"json": spec("user_errors"), "params": {"now": "yesterday"}}, 422),
        # a clock whose preset window would overflow the calendar
        ({"json": spec("user_errors"), "params": {"now": "9999-12-31T23:59:59-12:00"}}, 422),
        # a lone surrogate (not UTF-8 encodable) in the name
        ({"content": json.dumps(spec("user_errors", name="a\ud800b")).encode()}, 422),
    ]
    for kwargs, status in cases:
        assert writer.post("/api/reports", **kwargs).status_code == status, kwargs
    assert writer.get("/api/reports", params={"kind": "weekly"}).status_code == 422
    after = sorted(service.downloads.rglob("*")) if service.downloads.exists() else []
    assert after == before, "nothing delivered"
    for path in ("/api/reports/no-such-id", "/api/reports/..%2F..%2Fetc", "/api/reports/a%00b"):
        assert writer.get(path).status_code == 404, path
    assert writer.get("/api/reports/no-such-id/file").status_code == 404
    assert writer.post("/api/reports/no-such-id/stop").status_code == 404


def test_an_oversized_form_is_refused_before_it_ends(service):
    """The sign-in and sign-out forms take no login: a body past the limit (64 KiB) is
    answered 413 as soon as the limit is crossed, without waiting for (and holding) the
    rest. Twice the limit is sent, chunked, and the body is never finished."""
    address = urlsplit(service.url)
    chunk = b"x" * 16_384
    for path in ("/signin", "/signout"):
        with socket.create_connection((address.hostname, address.port), timeout=20) as conn:
            conn.sendall(
                f"POST {path} HTTP/1.1\r\nHost: {address.netloc}\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\n"
                "Transfer-Encoding: chunked\r\n\r\n".encode()
            )
            for _ in range(8):
                conn.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            answer = conn.recv(64)  # times out if the server waits for the end
        assert answer.startswith(b"HTTP/1.1 413"), (path, answer)


def test_a_name_with_path_separators_stays_in_the_downloads_folder(service):
    writer = service.client(WRITER)
    body = spec("user_errors", name="../../etc/passwd")
    report = wait_for(writer, writer.post("/api/reports", json=body).json()["id"])
    assert report["status"] == "Created", report
    assert Path(report["location"]).resolve().is_relative_to(service.downloads.resolve())


def test_file_of_a_failed_report_is_409_with_the_reason(service):
    writer = service.client(WRITER)
    body = spec("user_errors")
    body["date_range"] = {"start": "2026-12-01", "end": "2026-12-02"}  # nothing published
    report = wait_for(writer, writer.post("/api/reports", json=body).json()["id"])
    assert report["status"] == "Creation Failed" and "no published data" in report["reason"]
    answer = writer.get(f"/api/reports/{report['id']}/file")
    assert answer.status_code == 409 and "only a Created report" in answer.json()["detail"]
    answer = writer.post(f"/api/reports/{report['id']}/stop")
    assert answer.status_code == 409 and "one-time report" in answer.json()["detail"]


def test_recurring_reports_over_http(service):
    writer, reader = service.client(WRITER), service.client(READER)
    answer = writer.post("/api/reports", json=recurring_spec())
    assert answer.status_code == 201, answer.text
    report = answer.json()
    assert (report["status"], report["frequency"]) == ("Active", "Daily")
    assert report["next_run"].endswith(("+01:00", "+02:00"))
    assert writer.post("/api/reports", json=recurring_spec()).status_code == 422  # same name
    rid = report["id"]
    listed = writer.get("/api/reports", params={"kind": "recurring"}).json()["reports"]
    assert [r["id"] for r in listed] == [rid]
    assert reader.post(f"/api/reports/{rid}/stop").status_code == 403
    assert writer.post(f"/api/reports/{rid}/stop").json()["status"] == "Stopped"
    assert writer.get(f"/api/reports/{rid}").json()["next_run"] is None
    assert writer.post(f"/api/reports/{rid}/start").json()["status"] == "Active"
    answer = writer.get(f"/api/reports/{rid}/file")
    assert answer.status_code == 409 and "s3://reports-bucket/auto/" in answer.json()["detail"]
    assert reader.delete(f"/api/reports/{rid}").status_code == 403
    assert writer.delete(f"/api/reports/{rid}").json()["deleted"] == rid
    assert writer.get(f"/api/reports/{rid}").status_code == 404


def test_options_come_from_the_definitions_and_the_dimensions(service):
    options = service.client(READER).get("/api/options").json()
    types = {t["value"]: t for t in options["report_types"]}
    assert list(types) == list(FILTERS)
    assert [f["key"] for f in types["voucher_assignment_logs"]["filters"]] == [
        "partner_id",
        "list_tag",
    ]
    assert types["user_ledger_summary"]["date_range"] is False
    assert types["wallet_transactions"]["filters"][1]["multiple"] is True
    partners = {p["id"]: p for p in options["partners"]}
    assert "movie-ticket" in {t["tag"] for t in partners["prt_cinemax"]["list_tags"]}
    assert {c["status"] for c in options["campaigns"]} > {"RUNNING"}  # every status
    destinations = options["destinations"]
    assert [d["value"] for d in destinations] == [
        "download",
        "cloud:reports-bucket",
        "cloud:bi-bucket",
        "cloud:bi-gcs",
    ]
    gcs = destinations[-1]
    assert (gcs["destination"], gcs["name"], gcs["kind"]) == ("cloud", "bi-gcs", "gcs")
    assert gcs["location"] == "gs://promo-bi-gcs/exports" and gcs["recurring"] is True


def test_openapi_document_and_reference_page(service):
    document = service.client().get("/openapi.json").json()
    assert {"/api/reports", "/api/reports/{report_id}/file", "/api/options"} <= set(
        document["paths"]
    )
    page = service.client().get("/docs")
    assert page.status_code == 200 and "/api/reports/{report_id}/stop" in page.text
    assert "cdn" not in page.text.lower()


def test_tokens_are_stored_hashed_listed_without_secrets_and_revocable(service):
    store = service.home / "service" / "tokens.json"
    assert stat.S_IMODE(store.stat().st_mode) == 0o600
    text = store.read_text()
    assert all(token not in text for token in service.tokens.values())
    assert service.cli("token", "create", "--user", "eve@example.com").returncode == 2
    made = service.cli("token", "create", "--user", WRITER)
    token = made.stdout.strip().splitlines()[-1]
    listed = service.cli("token", "list", "--json")
    assert token not in listed.stdout
    client = service.client()
    client.headers["Authorization"] = f"Bearer {token}"
    assert client.get("/api/reports").status_code == 200
    token_id = token.split("_")[1]
    assert service.cli("token", "revoke", token_id).returncode == 0
    assert client.get("/api/reports").status_code == 401, "revoked at once"


def test_write_access_taken_away_takes_effect_at_once(service):
    access = Path(service.env["PROMO_ACCESS_FILE"])
    original = access.read_text()
    try:
        access.write_text(original.replace(f"{WRITER}: write", f"{WRITER}: read"))
        answer = service.client(WRITER).post("/api/reports", json=recurring_spec("Never made"))
        assert answer.status_code == 403 and "has only read access" in answer.json()["detail"]
    finally:
        access.write_text(original)


def test_a_server_restart_loses_no_report(service):
    """The server stops right after answering 202, and a run it created whose worker never
    started (a crash between the two) is started by the next server."""
    writer = service.client(WRITER)
    first = writer.post("/api/reports", json=spec("reward_assignment")).json()["id"]
    service.stop()
    settings = Settings.from_env(service.env)
    config = {
        **{k: v for k, v in spec("user_errors").items() if k != "frequency"},
        "created_by": WRITER,
    }
    with DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        job = report_job(settings)
        orphan = instance.create_run_for_job(
            job_def=job,
            run_config=run_config(config),
            tags={**job.run_tags, "promo/report_name": config["name"], LAUNCHER_TAG: "service"},
        ).run_id
    service.start()
    for report_id in (first, orphan):
        assert wait_for(writer, report_id)["status"] == "Created"


def test_cli_and_service_share_one_log_format(service):
    lines = (service.home / "logs" / "promo.log").read_text().splitlines()
    assert lines  # the service logs its start at least
    for line in lines:
        assert isinstance(json.loads(line), dict)
    assert os.path.exists(service.home / "logs" / "report_worker.log")
