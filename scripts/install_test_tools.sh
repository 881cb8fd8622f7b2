#!/usr/bin/env bash
# Install the command-line tools some tests use as independent checkers: Info-ZIP's
# `unzip` (the report ZIP tests run `unzip -t` on archives our own writer produced).
# Idempotent: does nothing when the tools exist. Needs root (or sudo without a password)
# only when something is missing; never prompts.
set -euo pipefail
# shellcheck source=scripts/debian.sh
source "$(dirname "$0")/debian.sh"

missing=()
command -v unzip >/dev/null || missing+=(unzip)

if [ "${#missing[@]}" -eq 0 ]; then
    echo "test tools already installed: unzip"
    exit 0
fi

debian_install "${missing[*]}" "${missing[@]}"
