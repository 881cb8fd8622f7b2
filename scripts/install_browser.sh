#!/usr/bin/env bash
# Install the headless browser the stats page tests drive: Debian's `chromium` package.
# Idempotent: does nothing when /usr/bin/chromium exists. Needs root (or sudo without a
# password); never prompts. Playwright's own browser download (`playwright install`) is not
# used: it fetches from a CDN that offline build machines cannot reach.
set -euo pipefail
# shellcheck source=scripts/debian.sh
source "$(dirname "$0")/debian.sh"

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
    echo "chromium already installed: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
    exit 0
fi

debian_install "chromium" chromium

"$CHROMIUM" --version
