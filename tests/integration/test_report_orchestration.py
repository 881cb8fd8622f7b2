"""Reports in Dagster: sensors, backfills, the report list and its lifecycle, access
control and failure notifications."""

import errno
import json
import shutil
import threading
from datetime import datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

import boto3
import pytest
import yaml
from dagster import (
    DagsterEventType,
    DagsterInstance,
    build_run_status_sensor_context,
    instance_for_test,
)

from orchestration.cli import main
from orchestration.definitions import build_definitions
from orchestration.instance import ensure_dagster_home
from orchestration.report_sensors import recent_periods
from orchestration.settings import Settings
from promo.reports.recurring import load_catalog_file
from promo.reports.request import report_folder
from tests.conftest import make_env
from tests.helpers import RANGE_END_TAG, RANGE_START_TAG, destinations_file

pytestmark = pytest.mark.integration
BERLIN = ZoneInfo("Europe/Berlin")


def spec(name, report_type, promotion_type, filters, frequency, bucket="reports-bucket"):
    return {
        "name": name,
        "promotion_type": promotion_type,
        "report_type": report_type,
        "filters": filters,
        "delivery": {"destination": "s3", "bucket": bucket, "prefix": "auto/"},
        "frequency": frequency,
    }


def catalog_file(path: Path, bucket="reports-bucket") -> Path:
    path.write_text(
        yaml.safe_dump(
            {
                "reports": [
                    spec(
                        "Daily errors",
                        "user_errors",
                        "promo_campaigns",
                        {"campaign_id": "cmp_everyday_points"},
                        {"interval": "daily"},
                        bucket,
                    ),
                    spec(
                        "Monday summary",
                        "wallet_summary",
                        "loyalty_wallet",
                        {"wallet_id": "wlt_main"},
                        {"interval": "weekly", "delivery_day": "monday"},
                        bucket,
                    ),
                    spec(
                        "Wednesday rewards",
                        "reward_assignment",
                        "promo_campaigns",
                        {"campaign_id": "cmp_everyday_points"},
                        {"interval": "weekly", "delivery_day": "wednesday"},
                        bucket,
                    ),
                ]
            }
        )
    )
    return path


def settings_for(home: Path, **extra) -> Settings:
    home.mkdir(parents=True, exist_ok=True)
    configured = destinations_file(home / "destinations.yaml", "reports-bucket")
    return Settings.from_env(
        make_env(
            home,
            PROMO_ACCOUNT_TIMEZONE="Europe/Berlin",
            PROMO_PARTITION_START="2026-10-01",
            **{"PROMO_DESTINATIONS_FILE": str(configured), **extra},
        )
    )


def test_every_catalog_entry_is_a_sensor_and_every_job_resolves(tmp_path):
    settings = settings_for(tmp_path, PROMO_REPORT_CATALOG=str(catalog_file(tmp_path / "c.yaml")))
    defs = build_definitions(settings)
    reports, invalid = load_catalog_file(settings.report_catalog)
    assert not invalid and len(reports) == 3
    assert {r.switch_name for r in reports} <= {s.name for s in defs.sensors}
    assert not defs.schedules, "recurring reports wait for their data, not for a clock"
    jobs = {j.name for j in defs.get_repository_def().get_all_jobs()}
    assert {r.job_name for r in reports} <= jobs
    assert {"promo_daily", "promo_dimensions", "one_time_report"} <= jobs


def test_an_entry_edited_in_place_is_a_new_report_not_a_changed_one(tmp_path):
    """A recurring report cannot be edited: an entry changed in the catalog gets another
    identity (sensor, job, folder), so the existing report's sensor and files are
    never silently repointed."""
    catalog = catalog_file(tmp_path / "c.yaml")
    settings = settings_for(tmp_path, PROMO_REPORT_CATALOG=str(catalog))
    (before,) = [r for r in load_catalog_file(catalog)[0] if r.spec.name == "Daily errors"]
    catalog.write_text(catalog.read_text().replace("cmp_everyday_points", "cmp_travel_miles", 1))
    (after,) = [r for r in load_catalog_file(catalog)[0] if r.spec.name == "Daily errors"]
    assert after.spec.filters.campaign_id == "cmp_travel_miles"
    assert after.report_id != before.report_id
    assert report_folder(after.spec) != report_folder(before.spec)
    sensors = {s.name for s in build_definitions(settings).sensors}
    assert after.switch_name in sensors and before.switch_name not in sensors


@pytest.mark.parametrize(
    "report, tick, first_day, last_day, hours",
    [
        # the day after the 25-hour day: it covers exactly that day
        ("Daily errors", "2026-10-26T06:00", "2026-10-25", "2026-10-25", 25),
        ("Daily errors", "2026-10-27T06:00", "2026-10-26", "2026-10-26", 24),
        # weekly on Monday: the 7 days before the delivery day
        ("Monday summary", "2026-11-02T06:00", "2026-10-26", "2026-11-01", 168),
        # weekly on Wednesday, across the end of DST: one hour longer
        ("Wednesday rewards", "2026-10-28T06:00", "2026-10-21", "2026-10-27", 169),
    ],
)
def test_the_period_due_at_the_report_hour_covers_the_right_window(
    tmp_path, report, tick, first_day, last_day, hours
):
    """At PROMO_REPORT_HOUR the sensor's latest due period is the partition that ends that
    day (or, weekly, on the delivery day); its window in the account timezone."""
    settings = settings_for(tmp_path, PROMO_REPORT_CATALOG=str(catalog_file(tmp_path / "c.yaml")))
    defs = build_definitions(settings)
    entry = next(r for r in load_catalog_file(settings.report_catalog)[0] if r.spec.name == report)
    job = defs.resolve_job_def(entry.job_name)
    assert job.partitions_def.timezone == "Europe/Berlin"
    when = datetime.fromisoformat(tick).replace(tzinfo=BERLIN)
    (period,) = recent_periods(job.partitions_def, when, settings.report_hour, 1)
    assert period.due == when, "due at the report hour of the day the period ends"
    request_key = period.key
    job = defs.resolve_job_def(entry.job_name)
    window = job.partitions_def.time_window_for_partition_key(request_key)
    assert window.start.astimezone(BERLIN).date().isoformat() == first_day
    assert (window.end.astimezone(BERLIN).date().toordinal() - 1) == datetime.fromisoformat(
        last_day
    ).toordinal()
    # (in UTC: two datetimes sharing a zoneinfo subtract as wall-clock times)
    elapsed = window.end.astimezone(ZoneInfo("UTC")) - window.start.astimezone(ZoneInfo("UTC"))
    assert elapsed.total_seconds() == hours * 3600


def test_a_backfill_over_a_custom_range_is_one_file_and_a_rerun_the_same(
    berlin_pipeline, tmp_path, s3_bucket, s3_endpoint
):
    built, con, _ = berlin_pipeline
    catalog = catalog_file(tmp_path / "c.yaml", bucket=s3_bucket)
    settings = Settings.from_env(
        make_env(
            built.home,
            PROMO_ACCOUNT_TIMEZONE="Europe/Berlin",
            PROMO_PARTITION_START="2026-10-01",
            PROMO_REPORT_CATALOG=str(catalog),
            PROMO_S3_ENDPOINT_URL=s3_endpoint,
            PROMO_DESTINATIONS_FILE=str(destinations_file(tmp_path / "d.yaml", s3_bucket)),
        )
    )
    defs = build_definitions(settings)
    entry = next(r for r in load_catalog_file(catalog)[0] if r.spec.name == "Daily errors")
    job = defs.resolve_job_def(entry.job_name)
    tags = {RANGE_START_TAG: "2026-10-22", RANGE_END_TAG: "2026-10-28"}
    assert job.execute_in_process(instance=DagsterInstance.ephemeral(), tags=tags).success
    client = boto3.client("s3", endpoint_url=s3_endpoint)
    keys = sorted(o["Key"] for o in client.list_objects_v2(Bucket=s3_bucket)["Contents"])
    csvs = [k for k in keys if k.endswith(".csv")]
    assert len(csvs) == 1 and csvs[0].endswith("/user-errors_2026-10-22_2026-10-28.csv")
    body = client.get_object(Bucket=s3_bucket, Key=csvs[0])["Body"].read()
    (expected,) = con.sql(
        "SELECT count(*) FROM raw_reward_events WHERE campaign_id = 'cmp_everyday_points' "
        "AND status = 'FAILED' AND timezone('Europe/Berlin', occurred_at)::DATE "
        "BETWEEN DATE '2026-10-22' AND DATE '2026-10-28'"
    ).fetchall()[0]
    assert body.count(b"\n") - 1 == expected
    assert job.execute_in_process(instance=DagsterInstance.ephemeral(), tags=tags).success
    again = client.get_object(Bucket=s3_bucket, Key=csvs[0])["Body"].read()
    assert again == body, "a re-run delivers the same file again"


# ---------------------------------------------------------------------------- CLI
@pytest.fixture
def cli(berlin_pipeline, tmp_path, monkeypatch, request):
    """The CLI's environment over the Berlin marts, with the instance in SQLite under
    DAGSTER_HOME, or in PostgreSQL when parametrized with "postgres"."""
    built, _, _ = berlin_pipeline
    access = tmp_path / "access.yaml"
    access.write_text(
        yaml.safe_dump({"users": {"ana@example.com": "write", "bob@example.com": "read"}})
    )
    env = make_env(
        built.home,
        PROMO_ACCOUNT_TIMEZONE="Europe/Berlin",
        PROMO_PARTITION_START="2026-10-01",
        PROMO_ACCESS_FILE=str(access),
        PROMO_REPORT_CATALOG=str(tmp_path / "catalog.yaml"),
        DAGSTER_HOME=str(tmp_path / "dagster_home"),
    )
    if getattr(request, "param", "sqlite") == "postgres":
        env["PROMO_DAGSTER_PG_URL"] = request.getfixturevalue("pg_url")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return Settings.from_env()


def one_time(tmp_path, name, date_range):
    path = tmp_path / f"{name}.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "name": name,
                "promotion_type": "promo_campaigns",
                "report_type": "reward_assignment",
                "filters": {"campaign_id": "cmp_everyday_points"},
                "date_range": date_range,
                "delivery": {"destination": "download"},
                "frequency": "one_time",
            }
        )
    )
    return str(path)


def listing(capsys, *extra):
    capsys.readouterr()
    assert main(["report", "--user", "bob@example.com", "list", "--json", *extra]) == 0
    return {e["name"]: e for e in json.loads(capsys.readouterr().out)}


def test_cli_lifecycle_of_one_time_reports(cli, tmp_path, capsys, monkeypatch):
    good = one_time(tmp_path, "October rewards", {"start": "2026-10-22", "end": "2026-10-28"})
    bad = one_time(tmp_path, "November rewards", {"start": "2026-11-10", "end": "2026-11-12"})
    capsys.readouterr()
    assert main(["report", "--user", "ana@example.com", "create", "--spec", good]) == 0
    said = capsys.readouterr().out.splitlines()
    assert said[0] == "Creating: October rewards (reward_assignment)"
    rows = len(Path(said[-1]).read_text().splitlines()) - 1  # the file, header excluded
    assert said[1].startswith("Created: October rewards (run ") and f", {rows:,} rows)" in said[1]
    assert main(["report", "--user", "ana@example.com", "create", "--spec", bad]) == 1
    assert "materialize --start 2026-11-10" in capsys.readouterr().err
    # a reader may not create; the refusal names the user and the right
    assert main(["report", "--user", "bob@example.com", "create", "--spec", good]) == 4
    assert "bob@example.com has only read access" in capsys.readouterr().err
    assert main(["report", "--user", "eve@example.com", "list"]) == 4
    assert "eve@example.com is not in the access file" in capsys.readouterr().err

    reports = listing(capsys, "--one-time")
    assert reports["October rewards"]["status"] == "Created"
    assert reports["October rewards"]["created_by"] == "ana@example.com"
    assert reports["October rewards"]["created_on"].endswith("+01:00")
    assert reports["November rewards"]["status"] == "Creation Failed"
    assert "no published data" in reports["November rewards"]["reason"]

    target = tmp_path / "mine"
    assert (
        main(
            [
                "report",
                "--user",
                "bob@example.com",
                "download",
                "October rewards",
                "--to",
                str(target),
            ]
        )
        == 0
    )
    copied, manifest = sorted(target.iterdir())
    assert copied.name == "reward-assignment_2026-10-22_2026-10-28.csv"
    before_october = copied.read_bytes()
    assert manifest.name == copied.name + ".manifest.json"
    assert json.loads(manifest.read_text())["report_name"] == "October rewards"

    # The same spec created again is another report, with a file of its own.
    assert main(["report", "--user", "ana@example.com", "create", "--spec", good]) == 0
    capsys.readouterr()
    assert main(["report", "--user", "bob@example.com", "list", "--json", "--one-time"]) == 0
    octobers = [e for e in json.loads(capsys.readouterr().out) if e["name"] == "October rewards"]
    assert len(octobers) == 2 and octobers[0]["location"] != octobers[1]["location"]
    assert all(Path(e["location"]).exists() for e in octobers), "the first file was kept"
    # Another report with the same file name is not copied over the one downloaded.
    other = one_time(tmp_path, "Travel rewards", {"start": "2026-10-22", "end": "2026-10-28"})
    Path(other).write_text(Path(other).read_text().replace("everyday_points", "travel_miles"))
    assert main(["report", "--user", "ana@example.com", "create", "--spec", other]) == 0
    before = copied.read_bytes()
    download = ["report", "--user", "bob@example.com", "download", "--to", str(target)]
    assert main([*download, "Travel rewards"]) == 2
    assert "already exists and holds another file" in capsys.readouterr().err
    assert copied.read_bytes() == before
    assert main([*download, "October rewards"]) == 0, "the same file again is fine"

    # The disk fills half way through a download: nothing under the report's name, no
    # temporary left, and the next download delivers the whole file.
    real_copy = shutil.copyfile

    def half_then_disk_full(source, target, *args, **kwargs):
        Path(target).write_bytes(Path(source).read_bytes()[:100])
        raise OSError(errno.ENOSPC, "No space left on device")

    fresh = tmp_path / "fresh"
    monkeypatch.setattr(shutil, "copyfile", half_then_disk_full)
    assert main([*download[:-1], str(fresh), "October rewards"]) == 1
    assert "'October rewards' was not downloaded to" in capsys.readouterr().err
    assert list(fresh.iterdir()) == []
    monkeypatch.setattr(shutil, "copyfile", real_copy)
    assert main([*download[:-1], str(fresh), "October rewards"]) == 0
    assert (fresh / copied.name).read_bytes() == before_october
    assert (
        main(
            [
                "report",
                "--user",
                "bob@example.com",
                "download",
                "November rewards",
                "--to",
                str(target),
            ]
        )
        == 3
    )
    assert "only a Created report can" in capsys.readouterr().err


@pytest.mark.parametrize("cli", ["sqlite", "postgres"], indirect=True)
def test_a_report_launched_from_the_launchpad_is_listed_by_name(cli, capsys):
    """The UI's launchpad sets no tags: the list reads the launch config while the run is
    Creating, and the run tags itself when it starts."""
    config = {
        "name": "Launchpad rewards",
        "promotion_type": "promo_campaigns",
        "report_type": "reward_assignment",
        "filters": {"campaign_id": "cmp_everyday_points"},
        "date_range": {"start": "2026-10-22", "end": "2026-10-28"},
    }
    run_config = {"ops": {"create_report": {"config": config}}}
    job = build_definitions(cli).resolve_job_def("one_time_report")

    def entries():
        capsys.readouterr()
        assert main(["report", "--user", "bob@example.com", "list", "--json", "--one-time"]) == 0
        return {e["run_id"]: e for e in json.loads(capsys.readouterr().out)}

    ensure_dagster_home(cli)
    with DagsterInstance.get() as instance:
        waiting = instance.create_run_for_job(job_def=job, run_config=run_config)
    creating = entries()[waiting.run_id]
    assert (creating["name"], creating["status"]) == ("Launchpad rewards", "Creating")
    assert creating["report_type"] == "reward_assignment"
    assert creating["created_by"] == "dagster-ui"

    with DagsterInstance.get() as instance:
        result = job.execute_in_process(instance=instance, run_config=run_config)
        assert instance.get_run_by_id(result.run_id).tags["promo/report_name"] == config["name"]
    created = entries()[result.run_id]
    assert (created["name"], created["status"]) == ("Launchpad rewards", "Created")
    assert Path(created["location"]).name == "reward-assignment_2026-10-22_2026-10-28.csv"


@pytest.mark.parametrize("cli", ["sqlite", "postgres"], indirect=True)
def test_cli_recurring_create_stop_start_delete_keeps_files(
    cli, tmp_path, capsys, s3_bucket, s3_endpoint, monkeypatch
):
    monkeypatch.setenv("PROMO_S3_ENDPOINT_URL", s3_endpoint)
    configured = destinations_file(tmp_path / "destinations.yaml", s3_bucket)
    monkeypatch.setenv("PROMO_DESTINATIONS_FILE", str(configured))
    path = tmp_path / "recurring.yaml"
    path.write_text(
        yaml.safe_dump(
            spec(
                "Daily errors",
                "user_errors",
                "promo_campaigns",
                {"campaign_id": "cmp_everyday_points"},
                {"interval": "daily"},
                s3_bucket,
            )
        )
    )
    assert main(["report", "--user", "ana@example.com", "create", "--spec", str(path)]) == 0
    listed = listing(capsys, "--recurring")["Daily errors"]
    assert listed["status"] == "Active" and listed["frequency"] == "Daily"
    assert (listed["promotion_type"], listed["report_type"]) == ("promo_campaigns", "user_errors")
    assert listed["created_by"] == "ana@example.com"
    assert datetime.fromisoformat(listed["created_on"]).tzinfo is not None

    # one scheduled run's file, produced before the deletion
    settings = Settings.from_env()
    entry = load_catalog_file(settings.report_catalog)[0][0]
    job = build_definitions(settings).resolve_job_def(entry.job_name)
    assert job.execute_in_process(
        partition_key="2026-10-25", instance=DagsterInstance.ephemeral()
    ).success

    assert main(["report", "--user", "ana@example.com", "stop", "Daily errors"]) == 0
    assert listing(capsys, "--recurring")["Daily errors"]["status"] == "Stopped"
    assert main(["report", "--user", "ana@example.com", "start", "Daily errors"]) == 0
    assert listing(capsys, "--recurring")["Daily errors"]["status"] == "Active"
    assert listing(capsys, "--recurring")["Daily errors"]["next_run"] is not None
    assert main(["report", "--user", "bob@example.com", "delete", "Daily errors"]) == 4
    assert main(["report", "--user", "ana@example.com", "delete", "Daily errors"]) == 0
    assert "Daily errors" not in listing(capsys, "--recurring")
    # Deleting stopped its sensor in the instance at once (a daemon that has not
    # reloaded the code location yet launches nothing more).
    with DagsterInstance.get() as instance:
        states = {s.name: s.status.value for s in instance.all_instigator_state()}
    assert states[entry.switch_name] == "STOPPED"
    # The same spec created again is the same report identity: it is Active again.
    assert main(["report", "--user", "ana@example.com", "create", "--spec", str(path)]) == 0
    assert listing(capsys, "--recurring")["Daily errors"]["status"] == "Active"
    keys = [
        o["Key"]
        for o in boto3.client("s3", endpoint_url=s3_endpoint).list_objects_v2(Bucket=s3_bucket)[
            "Contents"
        ]
    ]
    assert any(k.endswith("user-errors_2026-10-25_2026-10-25.csv") for k in keys), "files stay"


# ------------------------------------------------------------------- notifications
class Collector(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802 (http.server's naming)
        Collector.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_a_failed_report_is_posted_to_the_webhook(berlin_pipeline, tmp_path):
    built, _, _ = berlin_pipeline
    server = HTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/hook"
        settings = Settings.from_env(
            make_env(
                built.home,
                PROMO_ACCOUNT_TIMEZONE="Europe/Berlin",
                PROMO_PARTITION_START="2026-10-01",
                PROMO_NOTIFY_WEBHOOK_URL=url,
                PROMO_REPORT_CATALOG=str(tmp_path / "none.yaml"),
                PROMO_DESTINATIONS_FILE=str(destinations_file(tmp_path / "d.yaml", "bi-box")),
            )
        )
        defs = build_definitions(settings)
        config = {
            "name": "Doomed",
            "promotion_type": "promo_campaigns",
            "report_type": "user_errors",
            "filters": {"campaign_id": "cmp_everyday_points"},
            "date_range": {"start": "2026-12-01", "end": "2026-12-02"},
            "delivery": {"destination": "cloud", "name": "bi-box", "prefix": "doomed/"},
        }
        with instance_for_test() as instance:
            result = defs.resolve_job_def("one_time_report").execute_in_process(
                run_config={"ops": {"create_report": {"config": config}}},
                instance=instance,
                raise_on_error=False,
                tags={"promo/report_name": "Doomed"},
            )
            assert not result.success
            failure = next(
                e for e in result.all_events if e.event_type == DagsterEventType.RUN_FAILURE
            )
            sensor = defs.resolve_sensor_def("run_failure_alert_sensor")
            context = build_run_status_sensor_context(
                sensor_name=sensor.name,
                dagster_event=failure,
                dagster_instance=instance,
                # as stored: the step added the report's tags once it started
                dagster_run=instance.get_run_by_id(result.run_id),
                repository_def=defs.get_repository_def(),
            )
            sensor(context.for_run_failure())
            tags = instance.get_run_by_id(result.run_id).tags
        (payload,) = Collector.received
        assert payload["report"] == "Doomed" and payload["status"] == "Creation Failed"
        assert payload["destination"] == "cloud bi-box, prefix doomed/"
        assert "no published data for 2026-12-01" in payload["reason"]
        assert "no published data" in tags["promo/failure_reason"]
    finally:
        server.shutdown()
