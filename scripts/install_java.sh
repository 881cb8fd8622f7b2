#!/usr/bin/env bash
# Install the Java runtime that Spark needs (the PROMO_ENGINE=spark engine runs a local
# Spark inside the dbt process): Debian's `openjdk-17-jre-headless`. Idempotent: does
# nothing when `java` is already on the PATH. Needs root (or sudo without a password);
# never prompts. Java comes from Debian, not from a vendor download: build machines reach
# only the package registries.
set -euo pipefail
# shellcheck source=scripts/debian.sh
source "$(dirname "$0")/debian.sh"

if command -v java >/dev/null; then
    echo "java already installed: $(java -version 2>&1 | head -n 1)"
    exit 0
fi

debian_install "Java" openjdk-17-jre-headless

java -version
