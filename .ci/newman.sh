#!/usr/bin/env bash
# newman.sh sqlite|postgres: runs the Postman collection (postman/posts-api.postman_collection.json)
# with newman against the already-built debug server (target/debug/api; `cargo build -p api`) on a
# free port with a fresh database: a temporary SQLite file, or a new PostgreSQL database on
# $PG_HOST:$PG_PORT (default 127.0.0.1:5432, user postgres) dropped afterwards. newman is pinned
# and installed from the npm registry into target/newman (git ignores it), reused while it holds
# the pinned version. The server stops (and the database is dropped) however this ends; on
# failure the tail of the server log is printed. Needs node and npm (and psql for postgres).
set -euo pipefail
cd "$(dirname "$0")/.."

NEWMAN_VERSION=6.2.2
NEWMAN_PREFIX=target/newman
PG_HOST=${PG_HOST:-127.0.0.1}
PG_PORT=${PG_PORT:-5432}

step() { printf '\n==> %s\n' "$*"; }

case ${1:-} in
  sqlite | postgres) kind=$1 ;;
  *)
    echo "usage: $0 sqlite|postgres" >&2
    exit 2
    ;;
esac

if [ ! -x target/debug/api ]; then
  echo "FATAL: target/debug/api is missing; build it first with: cargo build -p api" >&2
  exit 1
fi

newman="$NEWMAN_PREFIX/node_modules/.bin/newman"
if [ "$("$newman" --version 2>/dev/null)" != "$NEWMAN_VERSION" ]; then
  step "installing newman $NEWMAN_VERSION into $NEWMAN_PREFIX"
  rm -rf "$NEWMAN_PREFIX"
  mkdir -p "$NEWMAN_PREFIX"
  npm install --prefix "$NEWMAN_PREFIX" --no-audit --no-fund --prefer-offline \
    --fetch-retries=5 --loglevel=error "newman@$NEWMAN_VERSION" >/dev/null
  if [ "$("$newman" --version)" != "$NEWMAN_VERSION" ]; then
    echo "FATAL: $newman is not version $NEWMAN_VERSION" >&2
    exit 1
  fi
fi

root=$PWD
work=$(mktemp -d)
pid='' db=''
cleanup() {
  status=$?
  if [ "$status" -ne 0 ] && [ -s "$work/server.log" ]; then
    echo "--- server log (RUST_LOG=warn), last 50 lines ---" >&2
    tail -n 50 "$work/server.log" >&2
  fi
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  if [ -n "$db" ]; then
    psql -q -h "$PG_HOST" -p "$PG_PORT" -U postgres \
      -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

case $kind in
  sqlite) url="sqlite://$work/posts.db?mode=rwc" ;;
  postgres)
    db="posts_ci_newman_$$"
    psql -q -h "$PG_HOST" -p "$PG_PORT" -U postgres -c "CREATE DATABASE $db"
    url="postgres://postgres@${PG_HOST}:${PG_PORT}/${db}"
    ;;
esac

port=$(node -e 'const s = require("net").createServer();
s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });')
base="http://127.0.0.1:$port"

step "newman $NEWMAN_VERSION: the Postman collection against the server on $kind ($base)"
# Run from the temporary directory, so that no .env of the checkout applies.
(cd "$work" && DATABASE_URL="$url" HOST=127.0.0.1 PORT="$port" BCRYPT_COST=4 \
  SHUTDOWN_TIMEOUT_SECS=1 RUST_LOG=warn exec "$root/target/debug/api") >"$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do
  curl -sf "$base/ready" >/dev/null && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if ! curl -sf "$base/ready" >/dev/null; then
  echo "FATAL: the server is not ready on $base" >&2
  exit 1
fi

# The cli reporter prints each request, its assertions and a summary table; the JUnit report is
# for CI systems that show test results (target/newman/report-<database>.xml).
"$newman" run postman/posts-api.postman_collection.json \
  -e postman/local.postman_environment.json \
  --env-var "baseUrl=$base" \
  --bail \
  --reporters cli,junit \
  --reporter-cli-no-banner \
  --reporter-junit-export "$NEWMAN_PREFIX/report-$kind.xml"
