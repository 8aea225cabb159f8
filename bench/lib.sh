# shellcheck shell=bash
# Shared by bench/run.sh and bench/scale.sh (sourced, not run): installing wrk, building the
# server, and starting and stopping it. Expects ROOT (the checkout), OUT (the results folder)
# and, for start_server, DATABASE_URL, PORT and BASE.

# wrk from Debian's packages, when it is missing.
ensure_wrk() {
  command -v wrk >/dev/null && return 0
  echo "installing wrk from Debian's packages" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null 2>&1 \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
}

# SERVER_BIN names another build of the server to measure (e.g. a previous commit's, for a
# side-by-side comparison); without it, this checkout's release build is made and measured.
build_server() {
  if [ -n "${SERVER_BIN:-}" ]; then
    [ -x "$SERVER_BIN" ] || { echo "SERVER_BIN=$SERVER_BIN is not an executable" >&2; exit 2; }
    return 0
  fi
  echo "building the server (release)" >&2
  cargo build --release -q -p api
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# A fresh database for the run: PostgreSQL's DBNAME (through PSQL), or the SQLite file
# $OUT/bench.db, as DB says; sets DATABASE_URL. Plain TCP to PostgreSQL, for the server and
# for pgbench alike: over loopback TLS protects nothing, and with libpq's and sqlx's default
# (`prefer`) both would pay for it against a server that has a certificate (Debian's does)
# and not against one that has none (compose.yaml's).
create_database() {
  if [ "$DB" = postgres ]; then
    "${PSQL[@]}" -d postgres -c "CREATE DATABASE \"$DBNAME\""
    DATABASE_URL="postgres://$PG_USER@$PG_HOST:$PG_PORT/$DBNAME?sslmode=disable"
  else
    DATABASE_URL="sqlite://$OUT/bench.db?mode=rwc"
  fi
}

# Drops what create_database made (for a cleanup trap: never fails).
drop_database() {
  if [ "$DB" = postgres ]; then
    "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS \"$DBNAME\" WITH (FORCE)" || true
  else
    rm -f "$OUT/bench.db" "$OUT/bench.db-wal" "$OUT/bench.db-shm"
  fi
}

# Starts the release server with a clean environment and waits for /ready; sets SERVER_PID and
# STARTUP_MS. Login throttling is off (the load logs in as few users, very often);
# BCRYPT_COST, BCRYPT_CONCURRENCY, WORKERS, DATABASE_MAX_CONNECTIONS,
# DATABASE_PREPARED_STATEMENTS and DATABASE_MIGRATION_URL pass through from the environment.
# SERVER_UNDER, an array if set, is a command the server runs under (valgrind and its options).
start_server() {
  local started
  started=$(date +%s.%N)
  env -i PATH="$PATH" DATABASE_URL="$DATABASE_URL" PORT="$PORT" RUST_LOG=warn \
    LOGIN_MAX_FAILURES=0 LOGIN_MAX_FAILURES_PER_CLIENT=0 \
    BCRYPT_COST="${BCRYPT_COST:-12}" ${BCRYPT_CONCURRENCY:+BCRYPT_CONCURRENCY=$BCRYPT_CONCURRENCY} \
    ${WORKERS:+WORKERS=$WORKERS} \
    ${DATABASE_MAX_CONNECTIONS:+DATABASE_MAX_CONNECTIONS=$DATABASE_MAX_CONNECTIONS} \
    ${DATABASE_PREPARED_STATEMENTS:+DATABASE_PREPARED_STATEMENTS=$DATABASE_PREPARED_STATEMENTS} \
    ${DATABASE_MIGRATION_URL:+DATABASE_MIGRATION_URL=$DATABASE_MIGRATION_URL} \
    SECRET_KEY=bench-secret-key-0123456789-abcdefghijklmnop \
    "${SERVER_UNDER[@]}" "${SERVER_BIN:-$ROOT/target/release/api}" 2>>"$OUT/server.log" &
  SERVER_PID=$!
  until curl -sf "$BASE/ready" >/dev/null 2>&1; do
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "server died; see $OUT/server.log" >&2; exit 1; }
    sleep 0.01
  done
  # shellcheck disable=SC2034 # read by the scripts that source this file
  STARTUP_MS=$(python3 -c "import time; print(round((time.time() - $started) * 1000))")
}

# Stops the server gracefully, if one was started.
stop_server() {
  # shellcheck disable=SC2015 # whichever step fails, stopping goes on
  [ -n "${SERVER_PID:-}" ] && kill -TERM "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
}

# bench/sqlite-ceiling, the SQLite ceiling's program (its own Cargo project, outside the root
# workspace, built in release mode into its own target folder); sets SQLITE_CEILING.
build_sqlite_ceiling() {
  echo "building bench/sqlite-ceiling (release)" >&2
  cargo build --release -q --manifest-path "$ROOT/bench/sqlite-ceiling/Cargo.toml"
  # shellcheck disable=SC2034 # read by run.sh
  SQLITE_CEILING="$ROOT/bench/sqlite-ceiling/target/release/sqlite-ceiling"
}
