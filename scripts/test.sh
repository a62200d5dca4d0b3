#!/usr/bin/env bash
# Run every test: the whole suite on SQLite, then the server suite again on PostgreSQL.
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONDONTWRITEBYTECODE=1
pg_url=${ANXIN_TEST_POSTGRES_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test}

if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  # The machines run PostgreSQL already; bring it back if it stopped.
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start 2>/dev/null || true
fi

status=0
echo "== tests on SQLite (everything)"
.venv/bin/python -m pytest "$@" || status=$?
echo "== server tests on PostgreSQL ($pg_url)"
ANXIN_TEST_DATABASE_URL=$pg_url .venv/bin/python -m pytest tests/server "$@" || status=$?
exit "$status"
