#!/usr/bin/env bash
# Everything the whole test suite needs on a Debian 12 machine, as root:
# Chromium and ChromeDriver (browser tests, exports), PostgreSQL 15 with
# PostGIS 3 and Redis (the team store and shared cache, tested like the
# embedded one), axe-core from npm (accessibility audits), strace (the test
# that exports leak nothing) and a Python venv.
# Safe to run again: it installs what is missing and starts what is stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

apt-get update -q
apt-get install -y -q chromium chromium-driver postgresql-15-postgis-3 redis-server strace fonts-dejavu-core
command -v npm >/dev/null || apt-get install -y -q npm

# PostgreSQL: start Debian's cluster and give this user a superuser role, so
# the tests can create and drop their own databases.
pg_ctlcluster 15 main start 2>/dev/null || pg_ctlcluster 15 main status >/dev/null
for _ in $(seq 1 30); do pg_isready -q && break; sleep 1; done
ME="$(id -un)"
su postgres -c "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='$ME'\"" | grep -q 1 \
  || su postgres -c "psql -qc 'CREATE ROLE \"$ME\" SUPERUSER LOGIN'"

# Redis on loopback only, in the background.
redis-cli ping >/dev/null 2>&1 || redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no

# axe-core for the accessibility audits (pinned in tests/js/package.json).
(cd tests/js && npm install --no-audit --no-fund --silent)

python3 -m venv .venv
.venv/bin/pip install -q -r requirements.txt -r tests/requirements.txt
