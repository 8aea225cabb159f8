#!/usr/bin/env bash
# The server behind PgBouncer, as hosted PostgreSQL offers put it in front of applications:
# Debian's package (1.18, which cannot keep prepared statements in transaction mode), on
# free loopback ports, in front of PostgreSQL on 127.0.0.1:5432 (trust auth for user
# postgres; .ci/run starts it before calling this). Three PgBouncers:
#
#   bare         transaction mode, PgBouncer's default settings (every startup parameter it
#                does not track is refused)
#   transaction  transaction mode, ignore_startup_parameters = options (a common set-up)
#   session      session mode, ignore_startup_parameters = options
#
# Through them, on PostgreSQL: newman and schemathesis with DATABASE_PREPARED_STATEMENTS=false
# (bare); the whole HTTP test suite with the setting unset, each server finding the pooler
# itself, and newman likewise (transaction); newman with prepared statements on (session);
# the migration CLI refused through transaction mode and working through session mode; and
# prepared statements forced on through transaction mode: 503s and one hint line, never a
# 500. Migrations go to PostgreSQL directly (DATABASE_MIGRATION_URL). Each server's access
# log is read: a server error (5xx) fails the run, except in the forced-on step.
#
# Installs PgBouncer from Debian's packages when it is missing, without letting the package
# start a system PgBouncer. Every PgBouncer started here stops however this ends.
set -euo pipefail
cd "$(dirname "$0")/.."

export PG_HOST=127.0.0.1 PG_PORT=5432
export TEST_DATABASE_URL="postgres://postgres@${PG_HOST}:${PG_PORT}/postgres"
ACCESS_LOG='warn,actix_web::middleware::logger=info'

step() { printf '\n==> %s\n' "$*"; }

if [ ! -x /usr/sbin/pgbouncer ]; then
  step "installing PgBouncer from Debian's packages (no service started)"
  export DEBIAN_FRONTEND=noninteractive
  # invoke-rc.d asks policy-rc.d before starting a service: 101 means "not allowed". Only put
  # one in place when there is none, and remove only the one this script created.
  policy=/usr/sbin/policy-rc.d
  created_policy=''
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    created_policy=1
  fi
  remove_policy() { if [ -n "$created_policy" ]; then rm -f "$policy"; fi; }
  trap remove_policy EXIT
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends pgbouncer >/dev/null
  remove_policy
  trap - EXIT
  if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    systemctl disable --now pgbouncer >/dev/null 2>&1 || true
  elif command -v update-rc.d >/dev/null; then
    update-rc.d pgbouncer disable >/dev/null 2>&1 || true
  fi
fi
/usr/sbin/pgbouncer --version | head -n 1

step "building the server"
cargo build -q -p api
source .ci/schemathesis.sh
ensure_schemathesis

# PgBouncer refuses to run as root: its directory belongs to the postgres user.
work=$(mktemp -d /tmp/posts-pgbouncer.XXXXXX)
chmod 755 "$work"
printf '"postgres" ""\n' >"$work/userlist.txt"

stop_pgbouncers() {
  local pidfile pid
  for pidfile in "$work"/*/pgbouncer.pid; do
    [ -s "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
  done
  rm -rf "$work"
}
trap stop_pgbouncers EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_pgbouncer NAME MODE IGNORED: one PgBouncer in $work/NAME, its port in $port_NAME.
start_pgbouncer() {
  local name=$1 mode=$2 ignored=$3 dir="$work/$1" port
  port=$(free_port)
  mkdir -p "$dir"
  cat >"$dir/pgbouncer.ini" <<EOF
[databases]
; Any database name: the test suite creates one per test.
* = host=$PG_HOST port=$PG_PORT

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $work/userlist.txt
pool_mode = $mode
max_client_conn = 2000
default_pool_size = 10
ignore_startup_parameters = $ignored
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
EOF
  chown -R postgres "$work"
  runuser -u postgres -- /usr/sbin/pgbouncer -d -q "$dir/pgbouncer.ini"
  for _ in $(seq 1 50); do
    pg_isready -q -h 127.0.0.1 -p "$port" && break
    sleep 0.1
  done
  pg_isready -q -h 127.0.0.1 -p "$port" || {
    echo "FATAL: PgBouncer ($name) is not answering on 127.0.0.1:$port" >&2
    cat "$dir/pgbouncer.log" >&2 || true
    exit 1
  }
  printf -v "port_$name" '%s' "$port"
  echo "PgBouncer $name: pool_mode=$mode, ignore_startup_parameters=${ignored:-(none)}, 127.0.0.1:$port"
}

# server_errors LOG: how many requests of the access log in LOG were answered 5xx.
server_errors() {
  grep -cE '" 5[0-9]{2} [0-9]+ ' "$1" || true
}

# check_log WHAT LOG: fails on any 5xx in LOG; prints how many requests it answered.
check_log() {
  local what=$1 log=$2 total errors
  total=$(grep -cE 'request_id=' "$log" || true)
  errors=$(server_errors "$log")
  echo "$what: $total requests, $errors server errors"
  if [ "$total" -eq 0 ] || [ "$errors" -ne 0 ]; then
    echo "FATAL: $what: server errors (or no request seen)" >&2
    grep -E '" 5[0-9]{2} |ERROR' "$log" | head -n 20 >&2 || true
    exit 1
  fi
}

start_pgbouncer bare transaction ''
start_pgbouncer transaction transaction options
start_pgbouncer session session options

export DEBUG_SERVER_RUST_LOG=$ACCESS_LOG

step "newman through PgBouncer (transaction mode, default settings), prepared statements off"
DEBUG_SERVER_POOLER_PORT=$port_bare DEBUG_SERVER_LOG="$work/newman-bare.log" \
  DATABASE_PREPARED_STATEMENTS=false bash .ci/newman.sh postgres
check_log "newman, transaction mode" "$work/newman-bare.log"

step "schemathesis through PgBouncer (transaction mode, default settings), prepared statements off"
DEBUG_SERVER_POOLER_PORT=$port_bare DEBUG_SERVER_LOG="$work/schemathesis-bare.log" \
  DATABASE_PREPARED_STATEMENTS=false schemathesis_against postgres
check_log "schemathesis, transaction mode" "$work/schemathesis-bare.log"

step "the HTTP test suite through PgBouncer (transaction mode), each server finding the pooler"
TEST_DATABASE_POOLER_URL="postgres://postgres@127.0.0.1:$port_transaction" \
  cargo test -p tests

step "newman through PgBouncer (transaction mode), the server finding the pooler"
DEBUG_SERVER_POOLER_PORT=$port_transaction DEBUG_SERVER_LOG="$work/newman-found.log" \
  bash .ci/newman.sh postgres
check_log "newman, transaction mode, found" "$work/newman-found.log"
grep -q 'answers through a connection pooler' "$work/newman-found.log" || {
  echo "FATAL: the server did not say it found the pooler" >&2
  exit 1
}

step "newman through PgBouncer (session mode), prepared statements on"
DEBUG_SERVER_POOLER_PORT=$port_session DEBUG_SERVER_LOG="$work/newman-session.log" \
  DATABASE_PREPARED_STATEMENTS=true bash .ci/newman.sh postgres
check_log "newman, session mode" "$work/newman-session.log"

step "the migration CLI: refused through transaction mode, working through session mode"
db="posts_ci_pgbouncer_$$"
psql -q -h "$PG_HOST" -p "$PG_PORT" -U postgres -c "CREATE DATABASE $db"
drop_db() {
  psql -q -h "$PG_HOST" -p "$PG_PORT" -U postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" || true
  stop_pgbouncers
}
trap drop_db EXIT
if DATABASE_URL="postgres://postgres@127.0.0.1:$port_transaction/$db" target/debug/api migrate up \
  >"$work/migrate.out" 2>"$work/migrate.err"; then
  echo "FATAL: migrations ran through PgBouncer in transaction mode" >&2
  exit 1
fi
cat "$work/migrate.err"
grep -q 'point DATABASE_MIGRATION_URL at PostgreSQL itself' "$work/migrate.err"
[ "$(wc -l <"$work/migrate.err")" -eq 1 ]
DATABASE_URL="postgres://postgres@127.0.0.1:$port_session/$db" target/debug/api migrate up
DATABASE_URL="postgres://postgres@127.0.0.1:$port_transaction/$db" \
  DATABASE_MIGRATION_URL="postgres://postgres@${PG_HOST}:${PG_PORT}/$db" \
  target/debug/api migrate status >"$work/migrate.status"
if grep -q pending "$work/migrate.status"; then
  echo "FATAL: migrations still pending after up through session mode" >&2
  exit 1
fi
echo "applied through session mode, read with DATABASE_MIGRATION_URL: $(grep -c applied "$work/migrate.status")"

step "prepared statements forced on through transaction mode: 503s and one hint, never a 500"
# Registrations (no token needed: a login may meet the pooler's errors too), 8 at a time.
(
  source .ci/debug-server.sh
  # Exported: the server's log is copied when the subshell ends, after the call.
  export DEBUG_SERVER_POOLER_PORT=$port_transaction DEBUG_SERVER_LOG="$work/forced.log"
  debug_server_up postgres posts_ci_forced DATABASE_PREPARED_STATEMENTS=true WORKERS=2 \
    DATABASE_MAX_CONNECTIONS=8
  seq 1 400 | xargs -P 8 -I{} curl -s -o /dev/null -w '%{http_code}\n' -X POST "$base/users/" \
    -H 'Content-Type: application/json' \
    -d '{"email": "forced{}@example.com", "password": "forced-password"}' >"$work/forced.codes"
)
sort "$work/forced.codes" | uniq -c
[ -s "$work/forced.log" ] || {
  echo "FATAL: no server log to read" >&2
  exit 1
}
hints=$(grep -c 'lost a prepared statement of ours' "$work/forced.log") || hints=0
echo "hint lines: $hints"
if grep -qvE '^(201|503)$' "$work/forced.codes" || [ "$hints" -gt 1 ]; then
  echo "FATAL: an answer other than 201 or 503, or the hint more than once" >&2
  grep -E 'ERROR|internal' "$work/forced.log" | head -n 20 >&2 || true
  exit 1
fi
if ! grep -q '^503$' "$work/forced.codes"; then
  # Nothing was lost to the pooler, so the step proved nothing about what happens when it is.
  echo "FATAL: no 503: the pooler never lost a prepared statement of ours in 400 registrations" >&2
  exit 1
fi
if [ "$hints" -ne 1 ]; then
  echo "FATAL: 503s without the hint line" >&2
  exit 1
fi

step "PgBouncer checks passed"
