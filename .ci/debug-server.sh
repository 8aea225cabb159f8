# Sourced by .ci/run (schemathesis), .ci/newman.sh and .ci/browser.sh: the debug server
# (target/debug/api, already built) on a free port with a fresh database, stopped however the
# caller ends, its log printed when the caller fails.
#
#   debug_server_up sqlite|postgres NAME [VAR=VALUE ...]
#
# NAME names the PostgreSQL database (NAME_<pid>, on $PG_HOST:$PG_PORT as user postgres,
# dropped afterwards); VAR=VALUE are extra settings. Sets `base` (http://127.0.0.1:<port>)
# and installs an EXIT trap, so call it once per (sub)shell.
#
# From the environment (.ci/pgbouncer.sh sets them):
#   DEBUG_SERVER_POOLER_PORT  postgres only: the server reaches its database through a pooler
#                             on 127.0.0.1:<port> (DATABASE_URL), and migrates it directly
#                             (DATABASE_MIGRATION_URL)
#   DEBUG_SERVER_LOG          a file the server's log is copied to when it stops
#   DEBUG_SERVER_RUST_LOG     RUST_LOG of the server (default warn)

debug_server_up() {
  local kind=$1 name=$2 url
  shift 2
  _ds_root=$PWD
  _ds_work=$(mktemp -d)
  _ds_pid='' _ds_db=''
  trap _debug_server_down EXIT
  trap 'exit 130' INT TERM
  case $kind in
    sqlite) url="sqlite://$_ds_work/posts.db?mode=rwc" ;;
    postgres)
      _ds_db="${name}_$$"
      psql -q -h "$PG_HOST" -p "$PG_PORT" -U postgres -c "CREATE DATABASE $_ds_db"
      url="postgres://postgres@${PG_HOST}:${PG_PORT}/${_ds_db}"
      if [ -n "${DEBUG_SERVER_POOLER_PORT:-}" ]; then
        set -- DATABASE_MIGRATION_URL="$url" "$@"
        url="postgres://postgres@127.0.0.1:${DEBUG_SERVER_POOLER_PORT}/${_ds_db}"
      fi
      ;;
    *)
      echo "debug_server_up: sqlite or postgres, not '$kind'" >&2
      return 2
      ;;
  esac
  local port
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  base="http://127.0.0.1:$port"
  # Run from the temporary directory, so that no .env of the checkout applies.
  (cd "$_ds_work" && exec env DATABASE_URL="$url" HOST=127.0.0.1 PORT="$port" BCRYPT_COST=4 \
    SHUTDOWN_TIMEOUT_SECS=1 RUST_LOG="${DEBUG_SERVER_RUST_LOG:-warn}" "$@" \
    "$_ds_root/target/debug/api") \
    >"$_ds_work/server.log" 2>&1 &
  _ds_pid=$!
  for _ in $(seq 1 300); do
    curl -sf "$base/ready" >/dev/null && return 0
    kill -0 "$_ds_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "FATAL: the server is not ready on $base" >&2
  exit 1
}

_debug_server_down() {
  local status=$?
  if [ "$status" -ne 0 ] && [ -s "$_ds_work/server.log" ]; then
    echo "--- server log (RUST_LOG=${DEBUG_SERVER_RUST_LOG:-warn}), last 50 lines ---" >&2
    tail -n 50 "$_ds_work/server.log" >&2
  fi
  if [ -n "$_ds_pid" ]; then
    kill "$_ds_pid" 2>/dev/null || true
    wait "$_ds_pid" 2>/dev/null || true
  fi
  if [ -n "${DEBUG_SERVER_LOG:-}" ]; then
    cp "$_ds_work/server.log" "$DEBUG_SERVER_LOG" 2>/dev/null || true
  fi
  if [ -n "$_ds_db" ]; then
    psql -q -h "$PG_HOST" -p "$PG_PORT" -U postgres \
      -c "DROP DATABASE IF EXISTS $_ds_db WITH (FORCE)" || true
  fi
  rm -rf "$_ds_work"
}
