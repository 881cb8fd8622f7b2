#!/usr/bin/env bash
# Install the PostgreSQL server the instance tests start a throwaway copy of: Debian's
# `postgresql` package (PostgreSQL 15 on Debian 12). Idempotent: does nothing when an
# initdb is already under /usr/lib/postgresql. Needs root (or sudo without a password);
# never prompts. The package's own cluster is not created: the tests run `initdb` and
# `pg_ctl` in a temporary folder on a free port, and nothing listens on 5432.
set -euo pipefail
# shellcheck source=scripts/debian.sh
source "$(dirname "$0")/debian.sh"

if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
    echo "postgresql already installed: $(ls -d /usr/lib/postgresql/*/bin/initdb | tail -1)"
    exit 0
fi

# No `main` cluster on 5432: postgresql-common reads this before the package installs.
if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
    as_root mkdir -p /etc/postgresql-common
    echo "create_main_cluster = false" | as_root tee /etc/postgresql-common/createcluster.conf >/dev/null
fi

debian_install "postgresql" postgresql

ls -d /usr/lib/postgresql/*/bin/initdb
