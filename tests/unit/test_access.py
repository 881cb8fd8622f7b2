"""Identity and the access file (issue 12, item 4: "identity is self-declared"): each test is
named after one finding of the outside attack, and runs the real CLI in process."""

from __future__ import annotations

import json
import os

import pytest

from orchestration.cli import main
from orchestration.settings import Settings
from promo.access import AccessDenied, load_access, operator_uids, parse_access
from promo.tokens import TokenStore


@pytest.fixture
def access(promo_env, tmp_path):
    path = tmp_path / "access.yaml"
    path.write_text("users:\n  ana@example.com: write\n  bob@example.com: read\n")
    os.chmod(path, 0o644)
    settings = promo_env(
        PROMO_ACCESS_FILE=str(path), PROMO_REPORT_CATALOG=str(tmp_path / "catalog.yaml")
    )
    return settings, path


def log_records(settings: Settings) -> list[dict]:
    return [json.loads(line) for line in (settings.home / "logs" / "promo.log").open()]


def test_yaml_null_and_true_keys_grant_no_rights_to_users_none_and_true(access, capsys):
    settings, path = access
    path.write_text("users:\n  ~: write\n  yes: write\n  ana@example.com: write\n")
    for user in ("none", "true", "None", "True"):
        assert main(["report", "--user", user, "list"]) == 4
    err = capsys.readouterr().err
    assert "is not an e-mail address" in err
    with pytest.raises(AccessDenied, match="key None is not an e-mail address"):
        load_access(path)


def test_a_world_or_group_writable_access_file_is_refused(access, capsys):
    settings, path = access
    for mode in (0o666, 0o664):
        os.chmod(path, mode)
        assert main(["report", "--user", "ana@example.com", "list"]) == 4
        assert "writable by its group or by anyone" in capsys.readouterr().err


def test_an_access_file_of_another_user_is_refused(access, capsys):
    """PROMO_ACCESS_FILE pointed at a file of one's own: it is not the operator's."""
    settings, path = access
    if os.getuid() != 0:
        pytest.skip("changing a file's owner needs root")
    os.chown(path, 4242, -1)
    try:
        assert main(["report", "--user", "ana@example.com", "list"]) == 4
        assert "not to the operator" in capsys.readouterr().err
    finally:
        os.chown(path, 0, -1)
    assert 4242 not in operator_uids(settings.dagster_home)


def test_a_newline_in_the_user_name_cannot_forge_an_audit_log_line(access, capsys):
    settings, _ = access
    forged = 'eve@example.com\n2026-12-01 INFO promo.access granted: eve is "write"'
    assert main(["report", "--user", forged, "create", "--spec", "x.yaml"]) == 4
    assert "control or invisible characters" in capsys.readouterr().err
    records = log_records(settings)
    assert len(records) == 1, "one refusal, one line"
    assert records[0]["event"] == "refused" and records[0]["action"] == "report create"


def test_the_login_name_is_not_the_acting_user(access, monkeypatch, capsys):
    monkeypatch.setenv("USER", "ana@example.com")
    monkeypatch.delenv("PROMO_USER", raising=False)
    assert Settings.from_env().user is None
    assert main(["report", "list"]) == 4
    assert "no user given (set PROMO_USER or --user)" in capsys.readouterr().err


def test_the_acting_user_must_be_an_email_address(access, capsys):
    for user in ("alice", "a@b", "ana@example.com\x00", "x" * 300 + "@example.com"):
        assert main(["report", "--user", user, "list"]) == 4, user
    assert main(["report", "list", "--user", "ANA@example.com "]) == 0, "case and spaces"
    capsys.readouterr()


def test_refusals_are_json_lines_naming_user_action_and_right(access, capsys):
    settings, _ = access
    assert main(["report", "--user", "bob@example.com", "stop", "x"]) == 4
    (record,) = log_records(settings)
    assert record["user"] == "bob@example.com" and record["right"] == "write"
    assert record["message"] == (
        "refused: bob@example.com has only read access; 'report stop' needs write access"
    )


def test_an_alias_bomb_in_the_access_file_is_refused(access, capsys):
    _, path = access
    path.write_text('a: &a ["x","x"]\nb: &b [*a,*a]\nusers: {ana@example.com: write}\n')
    assert main(["report", "--user", "ana@example.com", "list"]) == 4
    assert "YAML" in capsys.readouterr().err


def test_rights_must_be_read_or_write():
    with pytest.raises(AccessDenied, match="must be read or write"):
        parse_access({"users": {"ana@example.com": "admin"}}, "f")


def test_token_store_keeps_hashes_only(tmp_path):
    store = TokenStore(tmp_path / "tokens.json")
    record, token = store.create("ana@example.com")
    assert token.startswith(f"prt_{record.id}_") and token not in store.path.read_text()
    assert oct(store.path.stat().st_mode & 0o777) == "0o600"
    assert store.verify(token).user == "ana@example.com"
    assert store.verify(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    store.revoke(record.id)
    assert store.verify(token) is None
