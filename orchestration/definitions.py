"""The code location (`workspace.yaml`, `dagster dev`): the one `Definitions`, built from
the environment's settings. Nothing else imports this module (tests aside): the CLI and
the runner build definitions from the settings they hold (`orchestration/location.py`)."""

from orchestration.location import build_definitions
from orchestration.settings import Settings

defs = build_definitions(Settings.from_env())
