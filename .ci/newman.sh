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

source .ci/debug-server.sh
debug_server_up "$kind" posts_ci_newman
step "newman $NEWMAN_VERSION: the Postman collection against the server on $kind ($base)"

# The cli reporter prints each request, its assertions and a summary table; the JUnit report is
# for CI systems that show test results (target/newman/report-<database>.xml).
"$newman" run postman/posts-api.postman_collection.json \
  -e postman/local.postman_environment.json \
  --env-var "baseUrl=$base" \
  --bail \
  --reporters cli,junit \
  --reporter-cli-no-banner \
  --reporter-junit-export "$NEWMAN_PREFIX/report-$kind.xml"
