"""`promo-reports report create` end to end on the Berlin sample pipeline."""

import json
from pathlib import Path

import boto3
import pytest
import yaml

from orchestration.cli import main
from tests.conftest import make_env
from tests.helpers import destinations_file

pytestmark = pytest.mark.integration
NOW = "2026-10-29T09:30:00+01:00"  # past_7_days = 2026-10-22 .. 10-28


@pytest.fixture
def cli_env(berlin_pipeline, monkeypatch, tmp_path):
    settings, con, _ = berlin_pipeline
    access = tmp_path / "access.yaml"
    access.write_text("users:\n  ana@example.com: write\n  tester@example.com: write\n")
    env = make_env(
        settings.home,
        PROMO_ACCOUNT_TIMEZONE="Europe/Berlin",
        PROMO_ACCESS_FILE=str(access),
        PROMO_USER="tester@example.com",
        DAGSTER_HOME=str(tmp_path / "dagster_home"),
    )
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return settings, con


def write_spec(tmp_path, **overrides) -> str:
    spec = {
        "name": "Errors of the week",
        "promotion_type": "promo_campaigns",
        "report_type": "user_errors",
        "filters": {"campaign_id": "cmp_welcome10"},
        "date_range": {"preset": "past_7_days"},
        "delivery": {"destination": "download"},
        "frequency": "one_time",
    }
    spec.update(overrides)
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    return str(path)


def test_create_delivers_and_prints_the_location_last(cli_env, tmp_path, capsys):
    settings, con = cli_env
    (campaign,) = con.sql(
        "SELECT campaign_id FROM raw_reward_events WHERE status = 'FAILED' "
        "GROUP BY 1 ORDER BY count(*) DESC"
    ).fetchall()[0]
    spec = write_spec(tmp_path, filters={"campaign_id": campaign})
    assert (
        main(["report", "create", "--spec", spec, "--now", NOW, "--user", "ana@example.com"]) == 0
    )
    last = capsys.readouterr().out.strip().splitlines()[-1]
    path = Path(last)
    assert path.name == "user-errors_2026-10-22_2026-10-28.csv"
    assert path.is_relative_to(settings.downloads_dir)
    manifest = json.loads(Path(last + ".manifest.json").read_text())
    assert manifest["generated_by"] == "ana@example.com"
    assert manifest["window"]["timezone"] == "Europe/Berlin"
    assert manifest["window"]["start"] == "2026-10-22T00:00:00+02:00"
    assert manifest["rows"] == len(path.read_text().splitlines()) - 1 > 0


def test_an_invalid_spec_is_refused_naming_fields_and_nothing_is_written(cli_env, tmp_path, capsys):
    settings, _ = cli_env
    before = sorted(settings.downloads_dir.rglob("*")) if settings.downloads_dir.exists() else []
    spec = write_spec(tmp_path, filters={"campaign_id": "no-such-campaign"}, extra_key=1)
    assert main(["report", "create", "--spec", spec, "--now", NOW]) == 2
    err = capsys.readouterr().err
    assert "filters.campaign_id" in err and "no-such-campaign" in err and "extra_key" in err
    after = sorted(settings.downloads_dir.rglob("*")) if settings.downloads_dir.exists() else []
    assert after == before


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd",
        "/etc/cron.d/evil",
        "Ｒｅｐｏｒｔ ＦＵＬＬＷＩＤＴＨ",
        "x" * 190,
        "'; DROP TABLE x; --",
    ],
)
def test_hostile_names_stay_inside_the_downloads_folder(cli_env, tmp_path, capsys, name):
    settings, _ = cli_env
    assert main(["report", "create", "--spec", write_spec(tmp_path, name=name), "--now", NOW]) == 0
    path = Path(capsys.readouterr().out.strip().splitlines()[-1]).resolve()
    assert path.is_relative_to(settings.downloads_dir.resolve())
    # downloads/<name slug>-<spec fingerprint>/<run>/<file>
    report_dir = path.parent.parent
    assert report_dir.parent == settings.downloads_dir.resolve()
    assert all(c.isalnum() or c == "-" for c in report_dir.name)
    assert all(c.isalnum() for c in path.parent.name)


def test_control_characters_in_a_name_are_refused(cli_env, tmp_path, capsys):
    assert main(["report", "create", "--spec", write_spec(tmp_path, name="bad\x07name")]) == 2
    assert "name" in capsys.readouterr().err


def test_delivery_to_s3(cli_env, tmp_path, capsys, s3_bucket, s3_endpoint, monkeypatch):
    monkeypatch.setenv("PROMO_S3_ENDPOINT_URL", s3_endpoint)
    configured = destinations_file(tmp_path / "destinations.yaml", s3_bucket)
    monkeypatch.setenv("PROMO_DESTINATIONS_FILE", str(configured))
    delivery = {"destination": "s3", "bucket": s3_bucket, "prefix": "team/reports/"}
    code = main(
        ["report", "create", "--spec", write_spec(tmp_path, delivery=delivery), "--now", NOW]
    )
    assert code == 0, capsys.readouterr().err
    uri = capsys.readouterr().out.strip().splitlines()[-1]
    assert uri.startswith(f"s3://{s3_bucket}/team/reports/errors-of-the-week-")
    keys = [
        o["Key"]
        for o in boto3.client("s3", endpoint_url=s3_endpoint).list_objects_v2(Bucket=s3_bucket)[
            "Contents"
        ]
    ]
    assert len(keys) == 2 and all(k.startswith("team/reports/") for k in keys)


def test_missing_marts_fail_with_the_reason(cli_env, tmp_path, capsys):
    spec = write_spec(tmp_path, date_range={"start": "2026-11-10", "end": "2026-11-12"})
    assert main(["report", "create", "--spec", spec, "--now", NOW]) == 1
    assert "materialize --start 2026-11-10 --end 2026-11-12" in capsys.readouterr().err
