#!/usr/bin/env bash
# Install the headless browser the stats page tests drive: Debian's `chromium` package.
# Idempotent: does nothing when /usr/bin/chromium exists. Needs root (or sudo without a
# password); never prompts. Playwright's own browser download (`playwright install`) is not
# used: it fetches from a CDN that offline build machines cannot reach.
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
    echo "chromium already installed: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
else
    echo "error: installing chromium needs root (or password-less sudo)" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update
"${SUDO[@]}" apt-get install -y --no-install-recommends chromium

"$CHROMIUM" --version
