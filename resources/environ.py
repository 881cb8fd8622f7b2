"""Variables set in this process's environment for a block, for code that reads no
setting but hands the environment on: the dbt process dagster-dbt starts copies it, and
dbt run in this process (resources/dbt_in_process.py) copies it when it starts. Settings
come from orchestration/settings.py."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager


@contextmanager
def environ(env: Mapping[str, str]) -> Iterator[None]:
    """`env` in this process's environment for the block, as it was afterwards."""
    current = os.environ  # noqa: TID251 (written for dbt, not read as a setting)
    saved = {name: current.get(name) for name in env}
    current.update(env)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                current.pop(name, None)
            else:
                current[name] = value
