#!/usr/bin/env bash
# Run every test: the whole suite on SQLite, then the server suite again on PostgreSQL (all but
# the tests that drive Chromium: a page reads the same rows whatever the database behind it).
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONDONTWRITEBYTECODE=1
# Waits in tests are upper bounds: stretch them so a busy 2-core machine does not fail a test
# that is merely slow (a developer running pytest directly gets the strict timeouts).
export ANXIN_TEST_TIMEOUT_SCALE=${ANXIN_TEST_TIMEOUT_SCALE:-3}
pg_url=${ANXIN_TEST_POSTGRES_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test}

if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  # The machines run PostgreSQL already; bring it back if it stopped.
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start 2>/dev/null || true
fi

status=0
echo "== tests on SQLite (everything)"
.venv/bin/python -m pytest "$@" || status=$?
echo "== server tests on PostgreSQL, but those driving Chromium ($pg_url)"
ANXIN_TEST_DATABASE_URL=$pg_url .venv/bin/python -m pytest tests/server -m "not chromium" "$@" \
  || status=$?
exit "$status"
