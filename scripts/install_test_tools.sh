#!/usr/bin/env bash
# Install the command-line tools some tests use as independent checkers: Info-ZIP's
# `unzip` (the report ZIP tests run `unzip -t` on archives our own writer produced).
# Idempotent: does nothing when the tools exist. Needs root (or sudo without a password)
# only when something is missing; never prompts.
set -euo pipefail

missing=()
command -v unzip >/dev/null || missing+=(unzip)

if [ "${#missing[@]}" -eq 0 ]; then
    echo "test tools already installed: unzip"
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
else
    echo "error: installing ${missing[*]} needs root (or password-less sudo)" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update
"${SUDO[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
