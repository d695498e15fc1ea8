#!/usr/bin/env sh
# The real servers and programs the tests need, installed where this machine lets us.
#
# One script for a newcomer's run and CI's run (.ci/run calls it before the README's test command):
# - chromium: headless Chromium renders the handbook and report HTML in the tests.
# Installs Debian packages only when they are missing and we are root with apt-get; otherwise it
# says what is missing and the tests that need it skip locally (under CI=true they fail instead).
set -eu

missing=""
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"

if [ -n "$missing" ]; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        echo "tests/services.sh: installing$missing (Debian packages)" >&2
        apt-get update -qq >/dev/null
        # shellcheck disable=SC2086
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
    else
        echo "tests/services.sh: missing$missing; install them (Debian: apt-get install$missing)" \
             "or the tests that need them skip" >&2
    fi
fi
