#!/usr/bin/env bash
# newman.sh sqlite|postgres: runs the Postman collection (postman/posts-api.postman_collection.json)
# with newman against the already-built debug server (target/debug/api; `cargo build -p api`) on a
# free port with a fresh database: a temporary SQLite file, or a new PostgreSQL database on
# $PG_HOST:$PG_PORT (default 127.0.0.1:5432, user postgres) dropped afterwards. newman is pinned
# and installed from the npm registry into target/newman (git ignores it), reused while it holds
# the pinned version. The server sends its mail to maildev (pinned, installed beside newman), an
# SMTP sink with an HTTP API, from which the collection reads the password-reset token. The
# server and maildev stop (and the database is dropped) however this ends; on failure the tail
# of the server log is printed. Needs node and npm (and psql for postgres).
set -euo pipefail
cd "$(dirname "$0")/.."

NEWMAN_VERSION=6.2.2
MAILDEV_VERSION=3.0.0
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
maildev="$NEWMAN_PREFIX/node_modules/.bin/maildev"
if [ "$("$newman" --version 2>/dev/null)" != "$NEWMAN_VERSION" ] ||
  [ "$("$maildev" --version 2>/dev/null)" != "$MAILDEV_VERSION" ]; then
  step "installing newman $NEWMAN_VERSION and maildev $MAILDEV_VERSION into $NEWMAN_PREFIX"
  rm -rf "$NEWMAN_PREFIX"
  mkdir -p "$NEWMAN_PREFIX"
  npm install --prefix "$NEWMAN_PREFIX" --no-audit --no-fund --prefer-offline \
    --fetch-retries=5 --loglevel=error "newman@$NEWMAN_VERSION" "maildev@$MAILDEV_VERSION" >/dev/null
  if [ "$("$newman" --version)" != "$NEWMAN_VERSION" ] ||
    [ "$("$maildev" --version)" != "$MAILDEV_VERSION" ]; then
    echo "FATAL: $newman or $maildev is not the pinned version" >&2
    exit 1
  fi
fi

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
smtp_port=$(free_port)
mail_port=$(free_port)
"$maildev" --smtp "$smtp_port" --ip 127.0.0.1 --web "$mail_port" --web-ip 127.0.0.1 \
  >"$NEWMAN_PREFIX/maildev-$kind.log" 2>&1 &
maildev_pid=$!
mail_url="http://127.0.0.1:$mail_port"
for _ in $(seq 1 100); do
  curl -sf "$mail_url/api/email" >/dev/null && break
  kill -0 "$maildev_pid" 2>/dev/null || break
  sleep 0.1
done
if ! curl -sf "$mail_url/api/email" >/dev/null; then
  kill "$maildev_pid" 2>/dev/null || true
  echo "FATAL: maildev is not answering on $mail_url" >&2
  cat "$NEWMAN_PREFIX/maildev-$kind.log" >&2
  exit 1
fi

source .ci/debug-server.sh
debug_server_up "$kind" posts_ci_newman SMTP_URL="smtp://127.0.0.1:$smtp_port"
# debug_server_up's EXIT trap stops the server; maildev goes first, and the status is kept.
_newman_down() {
  local status=$?
  kill "$maildev_pid" 2>/dev/null || true
  wait "$maildev_pid" 2>/dev/null || true
  (exit "$status")
  _debug_server_down
}
trap _newman_down EXIT
step "newman $NEWMAN_VERSION: the Postman collection against the server on $kind ($base)"

# The cli reporter prints each request, its assertions and a summary table; the JUnit report is
# for CI systems that show test results (target/newman/report-<database>.xml).
"$newman" run postman/posts-api.postman_collection.json \
  -e postman/local.postman_environment.json \
  --env-var "baseUrl=$base" \
  --env-var "mailUrl=$mail_url" \
  --bail \
  --reporters cli,junit \
  --reporter-cli-no-banner \
  --reporter-junit-export "$NEWMAN_PREFIX/report-$kind.xml"
