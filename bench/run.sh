#!/usr/bin/env bash
# The project's benchmark: builds the server in release mode, starts it on PostgreSQL (or,
# with --sqlite, on the embedded default), seeds it through the HTTP API, runs each scenario
# with wrk after a warm-up, measures the database's own ceiling with pgbench for the same
# SQL, and writes a Markdown table to bench/results/. Stops everything it started.
#
#   bench/run.sh [--sqlite] [--users N] [--posts N] [--votes N] [--duration S] [--warmup S]
#                [--connections C] [--scenarios "s1 s2 ..."] [--sweep "64 256"] [--no-sweep]
#                [--no-pgbench]
#   BCRYPT_COST, BCRYPT_CONCURRENCY, WORKERS and DATABASE_MAX_CONNECTIONS in the environment
#   reach the server.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

DB=postgres
USERS=20 POSTS=1000 VOTES=1000
DURATION=10 WARMUP=3 CONNS=16 THREADS=2
SCENARIOS="s1 s2 s3 s4 s5 s6 s7 s8"
SWEEP=1 SWEEP_CONNS="64 256" PGBENCH=1
PG_HOST=127.0.0.1 PG_PORT=5432 PG_USER=postgres
while [ $# -gt 0 ]; do
  case "$1" in
    --sqlite) DB=sqlite ;;
    --users) USERS=$2; shift ;;
    --posts) POSTS=$2; shift ;;
    --votes) VOTES=$2; shift ;;
    --duration) DURATION=$2; shift ;;
    --warmup) WARMUP=$2; shift ;;
    --connections) CONNS=$2; shift ;;
    --scenarios) SCENARIOS=$2; shift ;;
    --sweep) SWEEP_CONNS=$2; shift ;;
    --no-sweep) SWEEP=0 ;;
    --no-pgbench) PGBENCH=0 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

source "$ROOT/bench/lib.sh"
ensure_wrk
build_server

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT="$ROOT/bench/results/$STAMP-$DB"
mkdir -p "$OUT"
PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
PSQL=(psql -q -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER")
DBNAME="posts_bench_${STAMP,,}"
SERVER_PID=

cleanup() {
  stop_server
  if [ "$DB" = postgres ]; then
    "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS \"$DBNAME\" WITH (FORCE)" || true
  else
    rm -f "$OUT/bench.db" "$OUT/bench.db-wal" "$OUT/bench.db-shm"
  fi
}
trap cleanup EXIT

if [ "$DB" = postgres ]; then
  "${PSQL[@]}" -d postgres -c "CREATE DATABASE \"$DBNAME\""
  # Plain TCP for the server and for pgbench alike: over loopback TLS protects nothing, and
  # with libpq's and sqlx's default (`prefer`) both would pay for it against a server that
  # has a certificate (Debian's does) and not against one that has none (compose.yaml's).
  DATABASE_URL="postgres://$PG_USER@$PG_HOST:$PG_PORT/$DBNAME?sslmode=disable"
else
  DATABASE_URL="sqlite://$OUT/bench.db?mode=rwc"
fi

start_server
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$SERVER_PID/status"; }
hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$SERVER_PID/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$SERVER_PID/stat"; }
IDLE_RSS_KB=$(rss_kb)
TICK=$(getconf CLK_TCK)

echo "seeding: $USERS users, $POSTS posts, $VOTES votes" >&2
python3 "$ROOT/bench/seed.py" --base "$BASE" --users "$USERS" --posts "$POSTS" --votes "$VOTES" \
  --out "$OUT/data.lua"

export BENCH_DIR="$ROOT/bench" BENCH_DATA="$OUT/data.lua" BENCH_THREADS="$THREADS"
declare -A SCRIPT=(
  [s1]=s1_get_post [s2]=s2_list [s3]=s3_search [s4]=s4_create
  [s5]=s5_update [s6]=s6_vote [s7]=s7_login [s8]=s8_register [s1flood]=s1_get_post
)

# run_scenario NAME CONNECTIONS -> appends one JSON line to $OUT/results.jsonl
run_scenario() {
  local name=$1 conns=$2 script="$ROOT/bench/wrk/${SCRIPT[$1]}.lua"
  # S6's toggles must start from the seeded votes, so it gets no warm-up of its own (the
  # scenarios before it have warmed the server).
  if [ "$name" != s6 ]; then
    BENCH_OUT=/dev/null wrk -t "$THREADS" -c "$conns" -d "${WARMUP}s" -s "$script" "$BASE" >/dev/null
  fi
  echo 5 > "/proc/$SERVER_PID/clear_refs" 2>/dev/null || true
  local before=$(cpu_ticks)
  BENCH_OUT="$OUT/$name-$conns.json" wrk -t "$THREADS" -c "$conns" -d "${DURATION}s" --timeout 10s \
    -s "$script" "$BASE" > "$OUT/$name-$conns.txt"
  local after=$(cpu_ticks)
  python3 - "$OUT/$name-$conns.json" "$name" "$conns" "$before" "$after" "$TICK" "$(hwm_kb)" \
    >> "$OUT/results.jsonl" <<'PY'
import json, sys
path, name, conns, before, after, tick, hwm = sys.argv[1:]
r = json.load(open(path))
secs = r["duration_us"] / 1e6
cpu_ms = (int(after) - int(before)) * 1000 / int(tick)
r.update(scenario=name, connections=int(conns), rps=r["requests"] / secs,
         cpu_ms_per_req=cpu_ms / max(r["requests"], 1), peak_rss_mb=int(hwm) / 1024)
print(json.dumps(r))
PY
  echo "  $name @ $conns connections done" >&2
}

: > "$OUT/results.jsonl" "$OUT/ceiling.jsonl"

# The database's ceiling: pgbench running the statements the server sends (bench/pgbench/),
# prepared, with the same client count, on the same data. Half of it runs right before the
# API's run of the same scenario and half right after, and the two are averaged: this
# machine's speed drifts by tens of percent over a minute, and a ceiling measured at another
# moment than the API would turn that drift into the ratio.
has_ceiling() {
  [ "$DB" = postgres ] && [ "$PGBENCH" = 1 ] && [ -f "$ROOT/bench/pgbench/$1.sql" ]
}
pgbench_tps() {
  local s=$1 secs=$2 max_post max_user
  max_post=$("${PSQL[@]}" -d "$DBNAME" -Atc "SELECT max(id) FROM posts")
  max_user=$("${PSQL[@]}" -d "$DBNAME" -Atc "SELECT max(id) FROM users")
  PGSSLMODE=disable pgbench -n -M prepared -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -c "$CONNS" \
    -j "$THREADS" -T "$secs" -D max_post="$max_post" -D max_user="$max_user" -D posts="$POSTS" \
    -f "$ROOT/bench/pgbench/$s.sql" "$DBNAME" 2>/dev/null | awk '/^tps/ {print $3; exit}'
}

HALF=$(( (DURATION + 1) / 2 ))
for s in $SCENARIOS; do
  if has_ceiling "$s"; then
    before=$(pgbench_tps "$s" "$HALF")
    run_scenario "$s" "$CONNS"
    after=$(pgbench_tps "$s" "$HALF")
    python3 -c "import json, sys; b, a = float(sys.argv[2] or 0), float(sys.argv[3] or 0); \
print(json.dumps({'scenario': sys.argv[1], 'tps': (b + a) / 2, 'before': b, 'after': a}))" \
      "$s" "$before" "$after" >> "$OUT/ceiling.jsonl"
    echo "  $s ceiling (pgbench, before and after) done" >&2
  else
    run_scenario "$s" "$CONNS"
  fi
done
# S1 again while S7 floods the server with logins (bcrypt at full concurrency) on as many
# connections of their own: reads must not starve behind the hashing.
case " $SCENARIOS " in *" s1 "*)
  BENCH_OUT="$OUT/flood.json" wrk -t 1 -c "$CONNS" -d "$((WARMUP + DURATION + 2))s" --timeout 30s \
    -s "$ROOT/bench/wrk/s7_login.lua" "$BASE" >/dev/null &
  FLOOD_PID=$!
  sleep 1
  run_scenario s1flood "$CONNS"
  wait "$FLOOD_PID" || true
  ;;
esac

if [ "$SWEEP" = 1 ]; then
  for c in $SWEEP_CONNS; do
    for s in s1 s4; do
      case " $SCENARIOS " in *" $s "*) run_scenario "$s" "$c" ;; esac
    done
  done
fi

python3 "$ROOT/bench/report.py" --dir "$OUT" --db "$DB" --startup-ms "$STARTUP_MS" \
  --idle-rss-kb "$IDLE_RSS_KB" --connections "$CONNS" --duration "$DURATION" \
  --sizes "$USERS users, $POSTS posts, $VOTES votes" | tee "$OUT/results.md"
echo "results: $OUT/results.md" >&2
