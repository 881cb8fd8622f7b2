"""Regressions of the outside attack of round 2 (issue 12) that need no pipeline run:
YAML alias bombs, invisible characters in names, credentials in an endpoint URL."""

from __future__ import annotations

import resource
import time

import pytest

from orchestration.cli import main
from orchestration.settings import Settings
from promo.reports.recurring import CatalogError, read_entries
from promo.reports.spec_errors import SpecError
from promo.reports.spec_io import load_spec, load_spec_file

# 0.5 KB that expands to 10^9 list items when aliases are followed.
BOMB = (
    'a: &a ["x","x","x","x","x","x","x","x","x","x"]\n'
    + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8)
    )
    + "name: *i\n"
)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_a_yaml_alias_bomb_spec_is_refused_before_anything_is_built(tmp_path):
    assert len(BOMB) < 600
    before, started = peak_rss_mb(), time.perf_counter()
    with pytest.raises(SpecError, match="YAML anchors .* are not accepted"):
        load_spec(BOMB)
    path = tmp_path / "bomb.yaml"
    path.write_text(BOMB)
    with pytest.raises(SpecError, match="not accepted"):
        load_spec_file(path)
    assert time.perf_counter() - started < 5
    assert peak_rss_mb() - before < 50, "refused without expanding the aliases"


def test_a_yaml_alias_bomb_in_the_recurring_catalog_is_refused(tmp_path):
    path = tmp_path / "recurring.yaml"
    path.write_text("reports:\n  - " + BOMB.replace("\n", "\n    "))
    with pytest.raises(CatalogError, match="not accepted"):
        read_entries(path)


def test_an_oversized_spec_file_is_refused_by_its_size(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("name: x\n# " + "y" * 200_000 + "\n")
    with pytest.raises(SpecError, match="bytes, more than the 65536 accepted"):
        load_spec_file(path)


def test_report_create_with_an_alias_bomb_exits_2_without_a_traceback(promo_env, tmp_path, capsys):
    settings = promo_env()
    settings.access_file.parent.mkdir(parents=True, exist_ok=True)
    settings.access_file.write_text("users:\n  w@example.com: write\n")
    path = tmp_path / "bomb.yaml"
    path.write_text(BOMB)
    assert main(["report", "--user", "w@example.com", "create", "--spec", str(path)]) == 2
    err = capsys.readouterr().err
    assert "not accepted" in err and "Traceback" not in err and "MemoryError" not in err


@pytest.mark.parametrize(
    "name",
    [
        "Monthly \u202efdp.exe",  # right-to-left override: prints as "Monthly exe.pdf"
        "Wallet\u200bsummary",  # zero-width space
        "Re\u2066port\u2069",  # isolates
        "a\ufeffb",  # a byte order mark inside
    ],
)
def test_names_with_bidirectional_or_zero_width_characters_are_refused(name):
    spec = {
        "name": name,
        "promotion_type": "loyalty_wallet",
        "report_type": "user_ledger_summary",
        "filters": {"wallet_id": "W1"},
    }
    with pytest.raises(SpecError, match="invisible formatting characters"):
        load_spec(spec)


def test_settings_never_print_credentials_embedded_in_the_s3_endpoint_url(promo_env, capsys):
    url = "http://AKIAEXAMPLE:s3cr3t-endpoint-key@minio.internal:9000"
    shown = Settings.from_env({"PROMO_S3_ENDPOINT_URL": url}).describe()["s3_endpoint_url"]
    assert shown == "http://minio.internal:9000"
    promo_env(PROMO_S3_ENDPOINT_URL=url)
    assert main(["settings"]) == 0
    out = capsys.readouterr().out
    assert "s3cr3t-endpoint-key" not in out and "AKIAEXAMPLE" not in out
