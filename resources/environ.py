"""Variables set in this process's environment, for code that reads no setting but hands
the environment on: the dbt process dagster-dbt starts copies it, and dbt run in this
process (resources/dbt_in_process.py) reads it while it runs. Settings come from
orchestration/settings.py."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

Saved = dict[str, str | None]  # each variable's value before, None where it was unset


def set_environ(env: Mapping[str, str]) -> Saved:
    """Sets `env`; returns what `restore_environ` needs to put it back."""
    current = os.environ  # noqa: TID251 (written for dbt, not read as a setting)
    saved = {name: current.get(name) for name in env}
    current.update(env)
    return saved


def differing(env: Mapping[str, str]) -> dict[str, str]:
    """The variables of `env` this process's environment does not already have so."""
    current = os.environ  # noqa: TID251 (compared, not read as a setting)
    return {name: value for name, value in env.items() if current.get(name) != value}


def restore_environ(saved: Saved) -> None:
    current = os.environ  # noqa: TID251 (written for dbt, not read as a setting)
    for name, value in saved.items():
        if value is None:
            current.pop(name, None)
        else:
            current[name] = value


@contextmanager
def environ(env: Mapping[str, str]) -> Iterator[None]:
    """`env` in this process's environment for the block, as it was afterwards."""
    saved = set_environ(env)
    try:
        yield
    finally:
        restore_environ(saved)
