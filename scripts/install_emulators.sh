#!/usr/bin/env bash
# Install the cloud storage emulators the test suite starts (tests/emulators.py):
# - Azurite (Azure Blob Storage), from the npm registry, into .tools/azurite (project-local,
#   never global), at the versions of scripts/azurite/package-lock.json;
# - gcp-storage-emulator (Google Cloud Storage) comes from the package index with the dev
#   extras of pyproject.toml (`make install`): nothing to do here.
# Azurite 3.35.0 is the last release that runs on Node.js 20 (3.36 needs 21, 3.37 needs 22).
# Idempotent: does nothing when the installed lock file matches the committed one. Node.js
# and npm come from Debian when the machine has none (needs root or password-less sudo).
set -euo pipefail
cd "$(dirname "$0")/.."

SOURCE=scripts/azurite
TARGET=.tools/azurite
BIN="$TARGET/node_modules/.bin/azurite-blob"

if [ -x "$BIN" ] && cmp -s "$SOURCE/package-lock.json" "$TARGET/package-lock.json"; then
    echo "azurite already installed: $TARGET ($("$BIN" --version))"
    exit 0
fi

if ! command -v npm >/dev/null; then
    if [ "$(id -u)" -eq 0 ]; then
        SUDO=()
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        SUDO=(sudo -n)
    else
        echo "error: npm is missing and installing it needs root (or password-less sudo)" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${SUDO[@]}" apt-get update
    "${SUDO[@]}" apt-get install -y --no-install-recommends nodejs npm
fi

mkdir -p "$TARGET"
cp "$SOURCE/package.json" "$SOURCE/package-lock.json" "$TARGET/"
(cd "$TARGET" && npm ci --omit=dev --no-audit --no-fund --loglevel=error)
"$BIN" --version
