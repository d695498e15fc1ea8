#!/usr/bin/env sh
# The real servers and programs the tests need, installed and started where this machine lets us.
#
# One script for a newcomer's run and CI's run (.ci/run calls it before the README's test command):
# - chromium: headless Chromium renders the handbook and report HTML in the tests (with a CJK font,
#   so zh-CN screenshots show characters, not boxes);
# - postgresql: the fleet's shared ledger (DESKBOOK_LEDGER=postgresql://...);
# - redis-server: the Celery broker of the fleet workers.
# Installs Debian packages only when they are missing and we are root with apt-get; starts the
# PostgreSQL cluster (with a superuser role for the current user) and a Redis on 127.0.0.1:6379.
# Otherwise it says what is missing and the tests that need it skip locally (under CI=true they fail).
set -eu

missing=""
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || missing="$missing fonts-wqy-microhei"
command -v pg_ctlcluster >/dev/null 2>&1 || missing="$missing postgresql"
command -v redis-server >/dev/null 2>&1 || missing="$missing redis-server"

root=no
[ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1 && root=yes

if [ -n "$missing" ]; then
    if [ "$root" = yes ]; then
        echo "tests/services.sh: installing$missing (Debian packages)" >&2
        apt-get update -qq >/dev/null
        # shellcheck disable=SC2086
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
    else
        echo "tests/services.sh: missing$missing; install them (Debian: apt-get install$missing)" \
             "or the tests that need them skip" >&2
    fi
fi

# PostgreSQL: the Debian cluster, and a role for whoever runs the tests.
if command -v pg_lsclusters >/dev/null 2>&1; then
    cluster=$(pg_lsclusters --no-header 2>/dev/null | head -n 1)
    if [ -n "$cluster" ]; then
        version=$(echo "$cluster" | awk '{print $1}')
        name=$(echo "$cluster" | awk '{print $2}')
        status=$(echo "$cluster" | awk '{print $4}')
        if [ "$status" != "online" ] && [ "$root" = yes ]; then
            pg_ctlcluster "$version" "$name" start
        fi
        if [ "$root" = yes ]; then
            user=$(id -un)
            runuser -u postgres -- psql -qtAc "SELECT 1 FROM pg_roles WHERE rolname='$user'" | grep -q 1 \
                || runuser -u postgres -- psql -qc "CREATE ROLE \"$user\" SUPERUSER LOGIN"
            runuser -u postgres -- psql -qtAc "SELECT 1 FROM pg_database WHERE datname='deskbook_test'" | grep -q 1 \
                || runuser -u postgres -- psql -qc "CREATE DATABASE deskbook_test OWNER \"$user\""
        fi
    fi
fi

# Redis: one on loopback for the Celery tests (no persistence needed).
if command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1; then
    if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
        redis-server --bind 127.0.0.1 --port 6379 --save '' --appendonly no --daemonize yes >/dev/null
    fi
fi
