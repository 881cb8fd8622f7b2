"""The instance config written to DAGSTER_HOME: SQLite by default, PostgreSQL when
PROMO_DAGSTER_PG_URL is set (without the URL in the file), the same pools either way."""

import pytest
import yaml

from orchestration.instance import (
    POSTGRES_CONFIG,
    SQLITE_CONFIG,
    InstanceError,
    ensure_dagster_home,
)
from orchestration.settings import Settings
from tests.postgres import free_port

PASSWORD = "unit-pg-password-7c1e"


@pytest.fixture
def env(tmp_path):
    """Settings with PROMO_HOME in a temporary folder (and `extra` variables)."""

    def settings(**extra):
        return Settings.from_env({"PROMO_HOME": str(tmp_path), **extra})

    return settings


def test_both_shipped_configs_keep_the_warehouse_pool():
    sqlite, postgres = (yaml.safe_load(p.read_text()) for p in (SQLITE_CONFIG, POSTGRES_CONFIG))
    assert sqlite["concurrency"] == postgres["concurrency"]
    assert sqlite["concurrency"]["pools"] == {"default_limit": 1, "granularity": "op"}
    assert "storage" not in sqlite
    assert postgres["storage"] == {"postgres": {"postgres_url": {"env": "PROMO_DAGSTER_PG_URL"}}}


def test_an_unreachable_postgres_is_one_line_naming_the_setting_and_host(env):
    url = f"postgresql://promo:{PASSWORD}@127.0.0.1:{free_port()}/dagster"
    settings = env(PROMO_DAGSTER_PG_URL=url)
    with pytest.raises(InstanceError) as refused:
        ensure_dagster_home(settings)
    message = str(refused.value)
    assert message.startswith("PROMO_DAGSTER_PG_URL: ") and "\n" not in message
    assert f"127.0.0.1:{url.split(':')[3].split('/')[0]}" in message
    assert PASSWORD not in message
    written = (settings.dagster_home / "dagster.yaml").read_text()
    assert written == POSTGRES_CONFIG.read_text() and PASSWORD not in written


def test_switching_storage_rewrites_a_shipped_config_but_not_a_hand_edited_one(env):
    sqlite = env()
    config = sqlite.dagster_home / "dagster.yaml"
    ensure_dagster_home(sqlite)
    assert config.read_text() == SQLITE_CONFIG.read_text()
    postgres = env(PROMO_DAGSTER_PG_URL=f"postgresql://p:{PASSWORD}@127.0.0.1:{free_port()}/d")
    with pytest.raises(InstanceError):  # nothing listens there; the config is written first
        ensure_dagster_home(postgres)
    assert config.read_text() == POSTGRES_CONFIG.read_text()
    ensure_dagster_home(sqlite)
    assert config.read_text() == SQLITE_CONFIG.read_text()

    config.write_text(SQLITE_CONFIG.read_text() + "run_monitoring:\n  enabled: false\n")
    with pytest.raises(InstanceError, match="PROMO_DAGSTER_PG_URL is set but .* no PostgreSQL"):
        ensure_dagster_home(postgres)
    assert "run_monitoring" in config.read_text(), "a hand-edited config is never overwritten"
