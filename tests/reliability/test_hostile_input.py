"""Hostile report input through `promo-reports report create`: SQL, path traversal,
absolute paths, control characters, 10,000-character strings and Unicode look-alikes, in
every filter value (wallet_id, campaign_id, partner_id, list_tag) and in report names.

A filter value names a wallet, campaign, partner or list tag that must exist, so every
hostile one is refused (exit 2) with its field named. A name is refused or ends up only as
a slug inside the downloads folder. Either way: nothing is written outside
PROMO_DOWNLOADS_DIR (the whole temporary tree is compared before and after), and the
warehouse file and the published marts are byte-for-byte unchanged."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml

from orchestration.cli import main
from tests.conftest import make_env

pytestmark = pytest.mark.reliability
NOW = "2026-10-29T09:30:00+01:00"

# Look-alikes of real ids: Cyrillic а (U+0430), fullwidth letters, a zero-width space,
# a right-to-left override. None of them may resolve to the real wallet.
LOOKALIKES = ["wlt_m\u0430in", "ｗｌｔ＿ｍａｉｎ", "wlt_\u200bmain", "wlt_main\u202e"]


def hostile_values(escape: Path) -> dict[str, str]:
    """Kind -> value. `escape` is an absolute path inside the temporary tree, so a write
    that follows it would show in the before/after comparison."""
    return {
        "sql": "'; DROP TABLE wallet_transactions; --",
        "sql_union": "x' UNION SELECT * FROM read_text('/etc/passwd') --",
        "traversal": "../../../../escaped",
        "traversal_etc": "../../etc/passwd",
        "absolute": str(escape),
        "nul": "wlt_main\x00",
        "escape_sequence": "wlt_main\x1b[2J",
        "newline": "wlt_main\n../x",
        "long": "w" * 10_000,
        **{f"lookalike_{i}": v for i, v in enumerate(LOOKALIKES)},
    }


SPECS = {  # report type -> (promotion type, valid filters)
    "wallet_transactions": ("loyalty_wallet", {"wallet_id": "wlt_main"}),
    "user_errors": ("promo_campaigns", {"campaign_id": "cmp_everyday_points"}),
    "voucher_assignment_logs": (
        "partner_vouchers",
        {"partner_id": "prt_cinemax", "list_tag": "movie-ticket"},
    ),
}
FIELDS = [(report, field) for report, (_, filters) in SPECS.items() for field in filters]


def spec_file(folder: Path, report_type: str, name: str = "Hostile", **filters) -> str:
    promotion, valid = SPECS[report_type]
    spec = {
        "name": name,
        "promotion_type": promotion,
        "report_type": report_type,
        "filters": {**valid, **filters},
        "date_range": {"start": "2026-10-22", "end": "2026-10-28"},
        "delivery": {"destination": "download"},
        "frequency": "one_time",
    }
    path = folder / f"spec-{hashlib.sha256(repr(spec).encode()).hexdigest()[:12]}.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True))
    return str(path)


def tree(root: Path, skip: list[Path]) -> dict[str, tuple[int, int]]:
    """Every file under `root` with its size and modification time, except under `skip`."""
    return {
        str(p): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in root.rglob("*")
        if p.is_file() and not any(p.is_relative_to(s) for s in skip)
    }


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def hostile_env(berlin_pipeline, monkeypatch, tmp_path, tmp_path_factory):
    built, _, _ = berlin_pipeline
    access = tmp_path / "access.yaml"
    access.write_text("users:\n  ana@example.com: write\n")
    env = make_env(
        built.home,
        PROMO_ACCOUNT_TIMEZONE="Europe/Berlin",
        PROMO_ACCESS_FILE=str(access),
        PROMO_USER="ana@example.com",
        PROMO_DOWNLOADS_DIR=str(tmp_path / "downloads"),
        PROMO_REPORT_CATALOG=str(tmp_path / "recurring.yaml"),
        DAGSTER_HOME=str(tmp_path / "dagster_home"),
    )
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    specs = tmp_path / "specs"
    specs.mkdir()
    root = tmp_path_factory.getbasetemp()
    # What may change: the downloads folder, this test's instance, specs and audit log.
    allowed = [tmp_path / "downloads", tmp_path / "dagster_home", specs, built.home / "logs"]
    # The session's Azurite keeps its database under the same temporary root and saves it
    # on its own timer, so writes of an earlier cloud test can land during this one.
    allowed += list(root.glob("azurite*"))
    marts = Path(built.marts_uri)
    before = {
        "tree": tree(root, allowed),
        "warehouse": sha256(Path(built.warehouse_path)),
        "marts": {str(p): sha256(p) for p in sorted(marts.rglob("*")) if p.is_file()},
    }
    # Where the relative traversals would land if followed from the downloads folder
    # (outside the temporary tree: checked one by one).
    targets = [(tmp_path / "downloads" / v).resolve() for v in ("../../../../escaped", "../../etc")]
    existed = {t: t.exists() for t in targets}
    yield specs, tmp_path / "downloads", root / "escaped"
    assert not (root / "escaped").exists()
    assert {t: t.exists() for t in targets} == existed
    assert sha256(Path(built.warehouse_path)) == before["warehouse"], "warehouse untouched"
    assert {str(p): sha256(p) for p in sorted(marts.rglob("*")) if p.is_file()} == before[
        "marts"
    ], "published marts untouched"
    after = tree(root, allowed)
    assert after == before["tree"], "nothing written outside the downloads folder"


def test_hostile_filter_values_are_refused_naming_the_field(hostile_env, capsys, record_fault):
    specs, downloads, escape = hostile_env
    values = hostile_values(escape)
    for report_type, field in FIELDS:
        for kind, value in values.items():
            code = main(
                [
                    "report",
                    "create",
                    "--spec",
                    spec_file(specs, report_type, **{field: value}),
                    "--now",
                    NOW,
                ]
            )
            err = capsys.readouterr().err
            assert code == 2, (report_type, field, kind, err[-500:])
            assert f"filters.{field}" in err, (field, kind, err[-500:])
            assert "\x1b" not in err and "\x00" not in err, "no raw control characters echoed"
            assert len(err) < 2_000, "a 10,000-character value is not echoed whole"
    assert not downloads.exists() or not any(downloads.rglob("*.csv"))
    record_fault(
        "hostile filter values (SQL, traversal, absolute path, control characters, "
        "10k characters, look-alikes) refused by report create",
        tried=len(FIELDS) * len(values),
        survived=True,
    )


def test_hostile_names_are_refused_or_kept_inside_the_downloads_folder(
    hostile_env, capsys, record_fault
):
    specs, downloads, escape = hostile_env
    names = hostile_values(escape)
    outcomes = {}
    for kind, name in names.items():
        code = main(
            ["report", "create", "--spec", spec_file(specs, "user_errors", name=name), "--now", NOW]
        )
        out, err = capsys.readouterr()
        assert code in (0, 2), (kind, err[-500:])
        if code == 2:
            assert "name" in err, (kind, err[-500:])
            assert "\x1b" not in err and "\x00" not in err
            outcomes[kind] = "refused"
            continue
        delivered = Path(out.strip().splitlines()[-1]).resolve()
        assert delivered.is_file() and delivered.is_relative_to(downloads.resolve()), kind
        folders = delivered.relative_to(downloads.resolve()).parts[:-1]
        for folder in folders:  # only slugs between the downloads folder and the file
            assert all(c.isascii() and c.isalnum() or c == "-" for c in folder), (kind, folder)
        outcomes[kind] = "created as " + folders[0]
    # Control characters and over-long names must not pass; the rest may, as a slug.
    for kind in ("nul", "escape_sequence", "newline", "long"):
        assert outcomes[kind] == "refused", (kind, outcomes[kind])
    record_fault(
        "hostile report names through report create",
        tried=len(names),
        survived=True,
        outcomes=outcomes,
    )
