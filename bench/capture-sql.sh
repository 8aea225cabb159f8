#!/usr/bin/env bash
# The SQL the server really sends for one request of each scenario, in order: what the
# ceilings' statement files (bench/pgbench/*.sql, bench/sqlite/*.sql) must replay.
#
#   bench/capture-sql.sh [--sqlite] [--scenarios "s1 s2 s3 s4 s5 s6 s6off s7 s8"]
#
# Starts the release server on a fresh database, seeds it through the API (3 users, 20 posts,
# 5 votes), then sends one request per scenario (s6 a vote on a pair with none, s6off its
# withdrawal) and prints each scenario's statements, also written to
# bench/results/<stamp>-capture-<db>/<scenario>.sql.
# PostgreSQL: `log_statement = 'all'` set on the fresh database alone (ALTER DATABASE), read
# back from the server's log (LOG_FILE, default Debian's /var/log/postgresql/postgresql-15-main.log):
# prepared statements show as `execute <name>: SQL` with their parameters on the next line.
# SQLite: the server logs no SQL (its request pool has sqlx's logging off), so each scenario
# runs in a fresh server under gdb with one connection, and a breakpoint on
# sqlite3_prepare_v3 prints each statement's text as it is prepared: with sqlx's
# per-connection statement cache, every statement a request sends, once, in order (the
# parameters are bound later, as `?`). SERVER_BIN=path as for bench/run.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DB=postgres
SCENARIOS="s1 s2 s3 s4 s5 s6 s6off s7 s8"
PG_HOST=127.0.0.1 PG_PORT=5432 PG_USER=postgres
LOG_FILE=${LOG_FILE:-/var/log/postgresql/postgresql-15-main.log}
while [ $# -gt 0 ]; do
  case "$1" in
    --sqlite) DB=sqlite ;;
    --scenarios) SCENARIOS=$2; shift ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
build_server
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT="$ROOT/bench/results/$STAMP-capture-$DB"
mkdir -p "$OUT"
PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
PSQL=(psql -q -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER")
DBNAME="posts_capture_${STAMP,,}"
SERVER_PID='' GDB_PID=''

cleanup() {
  stop_server
  if [ -n "$GDB_PID" ]; then wait "$GDB_PID" 2>/dev/null || true; fi
  if [ "$DB" = postgres ]; then
    "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS \"$DBNAME\" WITH (FORCE)" || true
  else
    rm -f "$OUT/capture.db" "$OUT/capture.db-wal" "$OUT/capture.db-shm"
  fi
}
trap cleanup EXIT

if [ "$DB" = postgres ]; then
  [ -r "$LOG_FILE" ] || { echo "cannot read PostgreSQL's log $LOG_FILE (set LOG_FILE)" >&2; exit 2; }
  "${PSQL[@]}" -d postgres -c "CREATE DATABASE \"$DBNAME\""
  "${PSQL[@]}" -d postgres -c "ALTER DATABASE \"$DBNAME\" SET log_statement = 'all'"
  DATABASE_URL="postgres://$PG_USER@$PG_HOST:$PG_PORT/$DBNAME?sslmode=disable"
else
  command -v gdb >/dev/null || { echo "gdb is needed for --sqlite" >&2; exit 2; }
  DATABASE_URL="sqlite://$OUT/capture.db?mode=rwc"
fi

start_server
python3 "$ROOT/bench/seed.py" --base "$BASE" --users 3 --posts 20 --votes 5 \
  --out "$OUT/data.lua" --json "$OUT/data.json"
# What the requests need: a token, its user's own post, another post, and a post the user
# has not voted on.
read -r TOKEN OWN POST UNVOTED < <(python3 - "$OUT/data.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
voted = {(u, p) for u, p in d["voted"]}
own = next(p["id"] for p in d["posts"] if p["owner"] == 0)
other = next(p["id"] for p in d["posts"] if p["owner"] != 0)
unvoted = next(p["id"] for p in d["posts"] if (0, p["id"]) not in voted)
print(d["users"][0]["token"], own, other, unvoted)
PY
)
EMAIL=bench0@example.com
if [ "$DB" = sqlite ]; then stop_server; SERVER_PID=; fi

send() {
  local auth=(-H "Authorization: Bearer $TOKEN") json=(-H "Content-Type: application/json")
  case "$1" in
    s1) curl -sS -o /dev/null -w '%{http_code}' "${auth[@]}" "$BASE/posts/$POST" ;;
    s2) curl -sS -o /dev/null -w '%{http_code}' "${auth[@]}" "$BASE/posts/?limit=10&skip=3" ;;
    s3) curl -sS -o /dev/null -w '%{http_code}' "${auth[@]}" "$BASE/posts/?limit=10&search=alpha" ;;
    s4) curl -sS -o /dev/null -w '%{http_code}' "${auth[@]}" "${json[@]}" \
          -d '{"title": "capture", "content": "load test body"}' "$BASE/posts/" ;;
    s5) curl -sS -o /dev/null -w '%{http_code}' -X PUT "${auth[@]}" "${json[@]}" \
          -d '{"title": "edited", "content": "edited body", "published": true}' "$BASE/posts/$OWN" ;;
    s6) curl -sS -o /dev/null -w '%{http_code}' "${auth[@]}" "${json[@]}" \
          -d "{\"post_id\": $UNVOTED, \"dir\": 1}" "$BASE/vote/" ;;
    s6off) curl -sS -o /dev/null -w '%{http_code}' "${auth[@]}" "${json[@]}" \
          -d "{\"post_id\": $UNVOTED, \"dir\": 0}" "$BASE/vote/" ;;
    s7) curl -sS -o /dev/null -w '%{http_code}' --data-urlencode "username=$EMAIL" \
          --data-urlencode "password=bench password 1" "$BASE/login" ;;
    s8) curl -sS -o /dev/null -w '%{http_code}' "${json[@]}" \
          -d "{\"email\": \"capture-$STAMP@example.com\", \"password\": \"bench password 1\"}" "$BASE/users/" ;;
    *) echo "unknown scenario $1" >&2; return 2 ;;
  esac
}

# The server under gdb, one connection, printing each statement sqlite3_prepare_v3 is given.
start_traced() {
  cat > "$OUT/gdb.cmd" <<'GDB'
set pagination off
set confirm off
set print thread-events off
handle SIGTERM nostop noprint pass
handle SIGPIPE nostop noprint pass
break sqlite3_prepare_v3
commands
silent
if $rdx > 0 && $rdx < 1000000
eval "printf \"SQL\\t%%.%ds\\n\", $rsi", $rdx
else
printf "SQL\t%s\n", $rsi
end
continue
end
run
GDB
  : > "$OUT/gdb.log"
  env -i PATH="$PATH" DATABASE_URL="$DATABASE_URL" PORT="$PORT" RUST_LOG=warn \
    LOGIN_MAX_FAILURES=0 LOGIN_MAX_FAILURES_PER_CLIENT=0 BCRYPT_COST="${BCRYPT_COST:-12}" \
    DATABASE_MAX_CONNECTIONS=1 SECRET_KEY=bench-secret-key-0123456789-abcdefghijklmnop \
    gdb -q -batch -x "$OUT/gdb.cmd" --args "${SERVER_BIN:-$ROOT/target/release/api}" \
    >> "$OUT/gdb.log" 2>>"$OUT/server.log" &
  GDB_PID=$!
  until curl -sf "$BASE/ready" >/dev/null 2>&1; do
    kill -0 "$GDB_PID" 2>/dev/null || { echo "gdb or the server died; see $OUT/gdb.log" >&2; exit 1; }
    sleep 0.1
  done
  SERVER_PID=$(pgrep -P "$GDB_PID" | head -1)
}

for s in $SCENARIOS; do
  if [ "$DB" = postgres ]; then
    from=$(stat -c %s "$LOG_FILE")
    code=$(send "$s")
    sleep 0.5
    # Statement lines (and their parameters) of this database's sessions, the prefix cut.
    tail -c +"$((from + 1))" "$LOG_FILE" \
      | awk -v db="@$DBNAME " 'index($0, db) { keep = 1; sub(/^.*(LOG|DETAIL): +/, ""); print; next }
                               /^\t/ && keep { print; next } { keep = 0 }' > "$OUT/$s.sql"
  else
    start_traced
    from=$(wc -l < "$OUT/gdb.log")
    code=$(send "$s")
    sleep 0.5
    tail -n +"$((from + 1))" "$OUT/gdb.log" | awk -F '\t' '$1 == "SQL" { print $2 }' > "$OUT/$s.sql"
    kill -TERM "$SERVER_PID"
    wait "$GDB_PID" || true
    GDB_PID='' SERVER_PID=''
  fi
  echo "== $s (HTTP $code)"
  cat "$OUT/$s.sql"
done
echo "captured: $OUT" >&2
