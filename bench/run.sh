#!/usr/bin/env bash
# The project's benchmark: builds the server in release mode, starts it on PostgreSQL (or,
# with --sqlite, on the embedded default), seeds it through the HTTP API, runs each scenario
# with wrk after a warm-up, measures the database's own ceiling for the same SQL (pgbench on
# PostgreSQL, bench/sqlite-ceiling on SQLite), and writes a Markdown table to bench/results/.
# Stops everything it started.
#
#   bench/run.sh [--sqlite] [--users N] [--posts N] [--votes N] [--duration S] [--warmup S]
#                [--connections C] [--scenarios "s1 s2 ..."] [--sweep "64 256"] [--no-sweep]
#                [--no-pgbench] [--compare URL]
#   bench/run.sh --deep [--posts N] [--depth N] [...]: the deep-page measurement instead
#   (bench/deep.sh): 1,000,000 posts inserted with SQL, a page 500,000 deep by skip and by
#   cursor against the first page.
#   bench/run.sh --instructions [--sqlite] [--requests N] [--scenarios "s1 s2 s4 s6"] [...]:
#   the server's instructions per request under callgrind instead (bench/instructions.sh).
#   bench/run.sh --mixed [--sqlite] [--rates "50 90"] [--duration S] [...]: the 80/15/5 mix,
#   closed loop for its maximum, then at fixed arrival rates with oha (bench/mixed.sh).
#   --compare URL: also seed the server already running at URL (another implementation of
#   the same API, e.g. the FastAPI course's, on an empty database) and run each scenario
#   against it right after ours, at the same connection count; the report adds "ours ÷ theirs".
#   --sweep "64 256": S1 and S4 again at each of these connection counts, each right after a
#   run of its own at C (the reference its throughput is compared with).
#   --no-pgbench (or --no-ceiling): no ceilings, on either database.
#   Ceilings: bench/pgbench/<scenario>.sql (or bench/sqlite/<scenario>.sql with --sqlite) is
#   the scenario's own; bench/pgbench/<scenario>_<name>.sql files are further ceilings of the
#   same scenario (s1_post_only.sql: the post alone, no token check), reported beside it.
#   BCRYPT_COST, BCRYPT_CONCURRENCY, WORKERS, DATABASE_MAX_CONNECTIONS and
#   DATABASE_PREPARED_STATEMENTS in the environment reach the server. SERVER_BIN=path measures
#   that binary instead of building this checkout's. POOLER_PORT=P puts the server's
#   connections through a pooler (PgBouncer) on 127.0.0.1:P in front of the same PostgreSQL;
#   it migrates directly (DATABASE_MIGRATION_URL), and pgbench still goes directly.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
case " $* " in
  *" --deep "*) exec bash "$ROOT/bench/deep.sh" "$@" ;;
  *" --instructions "*) exec bash "$ROOT/bench/instructions.sh" "$@" ;;
  *" --mixed "*) exec bash "$ROOT/bench/mixed.sh" "$@" ;;
esac

DB=postgres
USERS=20 POSTS=1000 VOTES=1000
DURATION=10 WARMUP=3 CONNS=16 THREADS=2
SCENARIOS="s1 s2 s3 s4 s5 s6 s7 s8"
SWEEP=1 SWEEP_CONNS="64 256" PGBENCH=1 COMPARE=
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
    --no-pgbench|--no-ceiling) PGBENCH=0 ;;
    --compare) COMPARE=$2; shift ;;
    -h|--help) sed -n '2,31p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
ensure_wrk
build_server
if [ "$DB" = sqlite ] && [ "$PGBENCH" = 1 ]; then build_sqlite_ceiling; fi

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
  drop_database
}
trap cleanup EXIT

create_database
if [ "$DB" = postgres ] && [ -n "${POOLER_PORT:-}" ]; then
  DATABASE_MIGRATION_URL=$DATABASE_URL
  DATABASE_URL="postgres://$PG_USER@127.0.0.1:$POOLER_PORT/$DBNAME?sslmode=disable"
fi

start_server
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$SERVER_PID/status"; }
hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$SERVER_PID/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$SERVER_PID/stat"; }
IDLE_RSS_KB=$(rss_kb)
TICK=$(getconf CLK_TCK)

echo "seeding: $USERS users, $POSTS posts, $VOTES votes" >&2
seed() {
  python3 "$ROOT/bench/seed.py" --base "$1" --users "$USERS" --posts "$POSTS" --votes "$VOTES" \
    --out "$2" "${@:3}"
}
seed "$BASE" "$OUT/data.lua" --json "$OUT/data.json"
# The last seeded post: S6's ceilings vote on posts made after it (by S4 and its ceiling),
# which the API's S6 never touches.
SEEDED_MAX_POST=$(python3 -c 'import json, sys; print(max(p["id"] for p in json.load(open(sys.argv[1]))["posts"]))' \
  "$OUT/data.json")
if [ -n "$COMPARE" ]; then
  echo "seeding the server to compare with at $COMPARE" >&2
  seed "$COMPARE" "$OUT/compare-data.lua"
fi

export BENCH_DIR="$ROOT/bench" BENCH_THREADS="$THREADS"
declare -A SCRIPT=(
  [s1]=s1_get_post [s2]=s2_list [s3]=s3_search [s4]=s4_create
  [s5]=s5_update [s6]=s6_vote [s7]=s7_login [s8]=s8_register [s1flood]=s1_get_post
  [s1ref]=s1_get_post [s4ref]=s4_create
)

# After wrk stops, the logins and registrations it left in flight still hash: actix-web does
# not cancel a handler whose client has gone (actix/actix-web#3462), and neither does the
# course's server. Waiting out one hash (at most 0.5 s at cost 12) per connection and core
# keeps them out of the next measurement.
CORES=$(nproc)
drain() {
  case "$1" in s7|s8) sleep $(( ($2 + CORES - 1) / CORES / 2 + 1 )) ;; esac
}

# run_scenario NAME CONNECTIONS -> appends one JSON line to $OUT/results.jsonl
run_scenario() {
  run_against "$BASE" "$OUT/data.lua" "" "$@"
}

# run_against URL DATA PREFIX NAME CONNECTIONS -> appends one JSON line to
# $OUT/${PREFIX}results.jsonl. The server's CPU and RSS are ours only (compare: none).
run_against() {
  local base=$1 data=$2 prefix=$3 name=$4 conns=$5 script="$ROOT/bench/wrk/${SCRIPT[$4]}.lua"
  local out="$OUT/$prefix$name-$conns" measure=
  [ -z "$prefix" ] && measure=1
  # S6's toggles must start from the seeded votes, so it gets no warm-up of its own (the
  # scenarios before it have warmed the server).
  if [ "$name" != s6 ]; then
    BENCH_DATA=$data BENCH_OUT=/dev/null wrk -t "$THREADS" -c "$conns" -d "${WARMUP}s" \
      -s "$script" "$base" >/dev/null
    drain "$name" "$conns"
  fi
  if [ -n "$measure" ]; then echo 5 > "/proc/$SERVER_PID/clear_refs" 2>/dev/null || true; fi
  local before=${measure:+$(cpu_ticks)}
  BENCH_DATA=$data BENCH_OUT="$out.json" BENCH_CONNS=$conns \
    wrk -t "$THREADS" -c "$conns" -d "${DURATION}s" --timeout 10s -s "$script" "$base" > "$out.txt"
  local after=${measure:+$(cpu_ticks)} hwm=${measure:+$(hwm_kb)}
  drain "$name" "$conns"
  python3 - "$out.json" "$name" "$conns" "$before" "$after" "$TICK" "$hwm" \
    >> "$OUT/${prefix}results.jsonl" <<'PY'
import json, sys
path, name, conns, before, after, tick, hwm = sys.argv[1:]
r = json.load(open(path))
secs = r["duration_us"] / 1e6
r.update(scenario=name, connections=int(conns), rps=r["requests"] / secs)
if before:
    cpu_ms = (int(after) - int(before)) * 1000 / int(tick)
    r.update(cpu_ms_per_req=cpu_ms / max(r["requests"], 1), peak_rss_mb=int(hwm) / 1024)
print(json.dumps(r))
PY
  echo "  $prefix$name @ $conns connections done" >&2
}

# The same scenario against the server to compare with, right after ours (the machine's
# speed drifts, so the two runs of a scenario are kept close together).
run_compared() {
  if [ -n "$COMPARE" ]; then
    run_against "$COMPARE" "$OUT/compare-data.lua" compare- "$1" "$CONNS"
  fi
}

: > "$OUT/results.jsonl" "$OUT/ceiling.jsonl"

# The database's ceiling: the statements the server sends, with nothing else to do, prepared,
# on the same data: pgbench on PostgreSQL (bench/pgbench/, the same client count as wrk's
# connections), bench/sqlite-ceiling on SQLite (bench/sqlite/, as many connections as the
# server's pool). Half of it runs right before the API's run of the same scenario and half
# right after, and the two are averaged: this machine's speed drifts by tens of percent over a
# minute, and a ceiling measured at another moment than the API would turn that drift into
# the ratio. A scenario's own ceiling is <scenario>.sql; <scenario>_<name>.sql are further
# ones (s1_post_only: the post alone, without the token's check), measured the same way.
TOOL_DIR=pgbench
if [ "$DB" = sqlite ]; then TOOL_DIR=sqlite; fi
ceilings() {
  [ "$PGBENCH" = 1 ] || return 0
  local f
  for f in "$ROOT/bench/$TOOL_DIR/$1.sql" "$ROOT/bench/$TOOL_DIR/$1"_*.sql; do
    if [ -f "$f" ]; then basename "$f" .sql; fi
  done
}
sql_value() {
  if [ "$DB" = postgres ]; then
    "${PSQL[@]}" -d "$DBNAME" -Atc "$1"
  else
    python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' \
      "$OUT/bench.db" "$1"
  fi
}
# pgbench's arguments for statement file $1: the file itself; or, for one with a search
# pattern (`:pattern`), one copy per search word, each with its own variable set to that
# word's pattern and drawn with equal weight (pgbench's variables cannot pick among strings,
# and the pattern must stay a parameter, as the server's is, for PostgreSQL to plan it alike).
pgbench_scripts() {
  local f=$1 w copy
  if ! grep -q ':pattern' "$f"; then
    printf '%s\n' -f "$f"
    return 0
  fi
  for w in $(python3 -c 'import json, sys; print(" ".join(json.load(open(sys.argv[1]))["words"]))' "$OUT/data.json"); do
    copy="$OUT/$(basename "$f" .sql)_$w.sql"
    sed "s/:pattern/:pattern_$w/g" "$f" > "$copy"
    printf '%s\n' -f "$copy@1" -D "pattern_$w=%$w%"
  done
}
ceiling_tps() {
  local c=$1 secs=$2 max_post max_user
  max_post=$(sql_value "SELECT max(id) FROM posts")
  max_user=$(sql_value "SELECT max(id) FROM users")
  # S6's ceilings vote on posts made after seeding: none without S4 before it.
  if grep -q seeded_max_post "$ROOT/bench/$TOOL_DIR/$c.sql" && [ "$max_post" -le "$SEEDED_MAX_POST" ]; then
    echo "$c: no post made after seeding (run s4 before it), no ceiling" >> "$OUT/ceiling.log"
    return 0
  fi
  if [ "$DB" = postgres ]; then
    local scripts
    mapfile -t scripts < <(pgbench_scripts "$ROOT/bench/pgbench/$c.sql")
    PGSSLMODE=disable pgbench -n -M prepared -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -c "$CONNS" \
      -j "$THREADS" -T "$secs" -D max_post="$max_post" -D max_user="$max_user" -D posts="$POSTS" \
      -D seeded_max_post="$SEEDED_MAX_POST" -D phase=0 -D clients="$CONNS" -D t=true -D one=1 \
      "${scripts[@]}" "$DBNAME" 2>&1 | tee -a "$OUT/ceiling.log" | awk '/^tps/ && !seen {print $3; seen = 1}'
    # A vote left by a client stopped between a vote and its withdrawal would be a duplicate
    # for the next run's client that draws its pair: the ceiling's votes go after each run.
    if grep -q seeded_max_post "$ROOT/bench/pgbench/$c.sql"; then
      "${PSQL[@]}" -d "$DBNAME" -c "DELETE FROM votes WHERE post_id > $SEEDED_MAX_POST" >/dev/null
    fi
  else
    "$SQLITE_CEILING" --db "$OUT/bench.db" --file "$ROOT/bench/sqlite/$c.sql" \
      --connections "${DATABASE_MAX_CONNECTIONS:-10}" --duration "$secs" -D max_post="$max_post" \
      -D max_user="$max_user" -D posts="$POSTS" -D seeded_max_post="$SEEDED_MAX_POST" 2>&1 | tee -a "$OUT/ceiling.log" | awk '/^tps/ && !seen {print $3; seen = 1}'
  fi
}

# The bound S7 and S8 are measured against: cores ÷ the time of one hash. One login at a time
# on the otherwise idle machine takes one bcrypt check plus a lookup well under 1 ms, so its
# median is the hash's time. Like the ceiling, half of it runs right before the first of S7
# and S8 and half right after the scenarios, as the machine's speed drifts.
one_login() {
  BENCH_DATA="$OUT/data.lua" BENCH_OUT="$OUT/one-login-$1.json" BENCH_CONNS=1 \
    wrk -t 1 -c 1 -d "${HALF}s" --timeout 10s -s "$ROOT/bench/wrk/s7_login.lua" "$BASE" >/dev/null
  echo "  one login at a time ($1) done" >&2
}
BOUND=

HALF=$(( (DURATION + 1) / 2 ))
for s in $SCENARIOS; do
  case "$s" in s7|s8) if [ -z "$BOUND" ]; then one_login before; BOUND=1; fi ;; esac
  mapfile -t CEIL < <(ceilings "$s")
  if [ "${#CEIL[@]}" -gt 0 ]; then
    # Before: the own ceiling first; after: in the reverse order, so that each ceiling's two
    # halves are as far from the API's run as each other.
    declare -A BEFORE=()
    for c in "${CEIL[@]}"; do BEFORE[$c]=$(ceiling_tps "$c" "$HALF"); done
    run_scenario "$s" "$CONNS"
    for (( i = ${#CEIL[@]} - 1; i >= 0; i-- )); do
      c=${CEIL[$i]}
      after=$(ceiling_tps "$c" "$HALF")
      python3 -c "import json, sys; b, a = float(sys.argv[3] or 0), float(sys.argv[4] or 0); \
print(json.dumps({'scenario': sys.argv[1], 'ceiling': sys.argv[2], 'tps': (b + a) / 2, 'before': b, 'after': a}))" \
        "$s" "$c" "${BEFORE[$c]}" "$after" >> "$OUT/ceiling.jsonl"
    done
    echo "  $s ceilings (${CEIL[*]}, before and after) done" >&2
  else
    run_scenario "$s" "$CONNS"
  fi
  run_compared "$s"
done
if [ -n "$BOUND" ]; then one_login after; fi
# S1 again while S7 floods the server with logins (bcrypt at full concurrency) on as many
# connections of their own: reads must not starve behind the hashing.
case " $SCENARIOS " in *" s1 "*)
  BENCH_DATA="$OUT/data.lua" BENCH_OUT="$OUT/flood.json" BENCH_CONNS="$CONNS" \
    wrk -t 1 -c "$CONNS" -d "$((WARMUP + DURATION + 2))s" --timeout 30s \
    -s "$ROOT/bench/wrk/s7_login.lua" "$BASE" >/dev/null &
  FLOOD_PID=$!
  sleep 1
  run_scenario s1flood "$CONNS"
  wait "$FLOOD_PID" || true
  drain s7 "$CONNS"
  ;;
esac

# The connection sweep: each run at more connections comes right after a run of the same
# scenario at the usual count (s1ref, s4ref), which it is compared with, as the machine's
# speed drifts over the minutes between the first runs and these.
if [ "$SWEEP" = 1 ]; then
  for c in $SWEEP_CONNS; do
    for s in s1 s4; do
      case " $SCENARIOS " in *" $s "*) run_scenario "${s}ref" "$CONNS"; run_scenario "$s" "$c" ;; esac
    done
  done
fi

python3 "$ROOT/bench/report.py" --dir "$OUT" --db "$DB" --startup-ms "$STARTUP_MS" \
  --idle-rss-kb "$IDLE_RSS_KB" --connections "$CONNS" --duration "$DURATION" \
  --ceiling-connections "${DATABASE_MAX_CONNECTIONS:-10}" --sizes "$USERS users, $POSTS posts, $VOTES votes" ${COMPARE:+--compare "$COMPARE"} | tee "$OUT/results.md"
echo "results: $OUT/results.md" >&2
