#!/usr/bin/env bash
# Install the Java runtime that Spark needs (the PROMO_ENGINE=spark engine runs a local
# Spark inside the dbt process): Debian's `openjdk-17-jre-headless`. Idempotent: does
# nothing when `java` is already on the PATH. Needs root (or sudo without a password);
# never prompts. Java comes from Debian, not from a vendor download: build machines reach
# only the package registries.
set -euo pipefail

if command -v java >/dev/null; then
    echo "java already installed: $(java -version 2>&1 | head -n 1)"
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
else
    echo "error: installing Java needs root (or password-less sudo)" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update
"${SUDO[@]}" apt-get install -y --no-install-recommends openjdk-17-jre-headless

java -version
