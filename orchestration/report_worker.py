"""`python -m orchestration.report_worker RUN_ID [LOCK_FD]`: execute one one-time report run
that the service created in the instance (see `orchestration.report_runs`).

The run already exists (status Creating) with its run config and tags; this process runs
it with the job's in-process executor and exits. It holds the run's lock file (inherited
as LOCK_FD) until it ends, which tells `resume_orphans` that the run has a worker.
"""

from __future__ import annotations

import sys

from dagster import reconstructable

# Dagster has no public function that executes a run which already exists in the
# instance (`execute_job` and `execute_in_process` always create a new one; the run
# launchers need a code server). `execute_run` is what those launchers call in the end;
# tests/integration/test_report_service.py runs it, so an upgrade that moves it fails there.
from dagster._core.execution.api import execute_run

from orchestration.instance import open_instance
from orchestration.report_runs import job_from_environment
from orchestration.settings import Settings


def main(argv: list[str]) -> int:
    run_id = argv[0]
    settings = Settings.from_env()
    with open_instance(settings) as instance:
        run = instance.get_run_by_id(run_id)
        if run is None:
            print(f"no run {run_id} in the instance", file=sys.stderr)
            return 2
        result = execute_run(reconstructable(job_from_environment), run, instance)
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
