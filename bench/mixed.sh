#!/usr/bin/env bash
# A mixed workload at a fixed arrival rate (bench/run.sh --mixed): 80 % reads (S1, S2, S3 in
# equal parts), 15 % votes, 5 % creates. First the mix's maximum, closed loop (wrk,
# bench/wrk/mix.lua, --connections connections); then the same mix driven at a constant
# request rate, --rates percent of that maximum (50 and 90 by default), by oha processes at
# once (one per read kind and for creates, one per seeded user for votes, each at its share
# of the rate, --latency-correction) for --warmup + --duration seconds, the requests scheduled
# after the warm-up pooled for p50/p99/p99.9 corrected for coordinated omission
# (bench/mixed.py). Votes are real state changes: see bench/mixed.py.
#
#   bench/run.sh --mixed [--sqlite] [--users 20] [--posts 10000] [--votes 1000]
#                [--duration 10] [--warmup 3] [--connections 16] [--rates "50 90"]
#                [--mix "s1=26.67 s2=26.67 s3=26.66 vote=15 create=5"] [--in-flight 0.1]
#   --in-flight S: each oha process gets its rate × S connections (at least 2).
#
# oha (OHA_VERSION, 1.16.0) is installed from crates.io into bench/.tools/ (git-ignored) when
# missing. Writes bench/results/<stamp>-mixed-<db>/results.md. SERVER_BIN=path as for run.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DB=postgres
USERS=20 POSTS=10000 VOTES=1000
DURATION=10 WARMUP=3 CONNS=16 THREADS=2
RATES="50 90" IN_FLIGHT=0.1
MIX="s1=26.67 s2=26.67 s3=26.66 vote=15 create=5"
PG_HOST=127.0.0.1 PG_PORT=5432 PG_USER=postgres
OHA_VERSION=${OHA_VERSION:-1.16.0}
while [ $# -gt 0 ]; do
  case "$1" in
    --mixed) ;;
    --sqlite) DB=sqlite ;;
    --users) USERS=$2; shift ;;
    --posts) POSTS=$2; shift ;;
    --votes) VOTES=$2; shift ;;
    --duration) DURATION=$2; shift ;;
    --warmup) WARMUP=$2; shift ;;
    --connections) CONNS=$2; shift ;;
    --rates) RATES=$2; shift ;;
    --mix) MIX=$2; shift ;;
    --in-flight) IN_FLIGHT=$2; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
ensure_wrk
OHA="$ROOT/bench/.tools/bin/oha"
if ! [ -x "$OHA" ] || ! "$OHA" --version | grep -q " $OHA_VERSION\$"; then
  echo "installing oha $OHA_VERSION from crates.io into bench/.tools" >&2
  cargo install -q oha --locked --version "$OHA_VERSION" --root "$ROOT/bench/.tools"
fi
build_server

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT="$ROOT/bench/results/$STAMP-mixed-$DB"
mkdir -p "$OUT"
PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
PSQL=(psql -q -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER")
DBNAME="posts_mixed_${STAMP,,}"
SERVER_PID=''
OHA_PIDS=()

cleanup() {
  for p in "${OHA_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  stop_server
  drop_database
}
trap cleanup EXIT

create_database

start_server
cpu_ticks() { awk '{print $14 + $15}' "/proc/$SERVER_PID/stat"; }
TICK=$(getconf CLK_TCK)
echo "seeding: $USERS users, $POSTS posts, $VOTES votes" >&2
python3 "$ROOT/bench/seed.py" --base "$BASE" --users "$USERS" --posts "$POSTS" --votes "$VOTES" \
  --out "$OUT/data.lua" --json "$OUT/data.json"

export BENCH_DIR="$ROOT/bench" BENCH_THREADS="$THREADS" BENCH_DATA="$OUT/data.lua"
# The warm-up leaves the votes out: the closed-loop run's toggles start from the seeded votes.
BENCH_MIX=$(sed -E 's/vote=[0-9.]+/vote=0/' <<< "$MIX") BENCH_OUT=/dev/null wrk -t "$THREADS" -c "$CONNS" -d "${WARMUP}s" \
  -s "$ROOT/bench/wrk/mix.lua" "$BASE" >/dev/null
# The load generators' own CPU time, where GNU time is there to measure it (@: its output file).
TIMED=()
if [ -x /usr/bin/time ]; then TIMED=(/usr/bin/time -f "%U %S" -o @); fi
before=$(cpu_ticks)
BENCH_MIX="$MIX" BENCH_OUT="$OUT/closed-wrk.json" BENCH_CONNS="$CONNS" \
  "${TIMED[@]/@/$OUT/closed.time}" wrk -t "$THREADS" -c "$CONNS" -d "${DURATION}s" --timeout 10s -s "$ROOT/bench/wrk/mix.lua" "$BASE" \
  > "$OUT/closed.txt"
after=$(cpu_ticks)
python3 - "$OUT/closed-wrk.json" "$CONNS" "$before" "$after" "$TICK" > "$OUT/closed.json" <<'PY'
import json, sys
path, conns, before, after, tick = sys.argv[1:]
r = json.load(open(path))
rps = r["requests"] / (r["duration_us"] / 1e6)
ms = lambda q: (r[f"raw_p{q}_us"] if r.get(f"raw_p{q}_us") is not None else r[f"p{q}_us"]) / 1000
errors = r["errors_connect"] + r["errors_read"] + r["errors_write"] + r["errors_timeout"]
print(json.dumps({"rps": rps, "requests": r["requests"], "connections": int(conns), "p50_ms": ms(50), "p99_ms": ms(99),
                  "non2xx": r["non2xx"], "errors": errors,
                  "cpu_ms_per_req": (int(after) - int(before)) * 1000 / int(tick) / max(1, r["requests"])}))
PY
MAX=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["rps"])' "$OUT/closed.json")
echo "  maximum (closed loop): $MAX req/s" >&2

# The votes as they are now, "user_id post_id" per line.
current_votes() {
  if [ "$DB" = postgres ]; then
    "${PSQL[@]}" -d "$DBNAME" -F ' ' -Atc "SELECT user_id, post_id FROM votes"
  else
    python3 -c 'import sqlite3, sys
for u, p in sqlite3.connect(sys.argv[1]).execute("SELECT user_id, post_id FROM votes"): print(u, p)' \
      "$OUT/bench.db"
  fi
}

: > "$OUT/mixed.jsonl"
for pct in $RATES; do
  dir="$OUT/rate-$pct"
  mkdir -p "$dir"
  current_votes > "$dir/votes.txt"
  rate=$(python3 -c "print(float('$MAX') * $pct / 100)")
  mapfile -t PROCS < <(python3 "$ROOT/bench/mixed.py" plan --data "$OUT/data.json" \
    --votes "$dir/votes.txt" --base "$BASE" --dir "$dir" --rate "$rate" --mix "$MIX" --in-flight "$IN_FLIGHT" --seed "$pct")
  before=$(cpu_ticks)
  OHA_PIDS=()
  for line in "${PROCS[@]}"; do
    IFS=$'\t' read -r -a args <<< "$line"
    name=$(basename "${args[5]}" .json)
    "${TIMED[@]/@/$dir/$name.time}" "$OHA" --no-tui -z "$((WARMUP + DURATION))s" --latency-correction \
      --worker-threads 1 --output-format json "${args[@]}" >/dev/null 2>>"$dir/oha.log" &
    OHA_PIDS+=("$!")
  done
  for p in "${OHA_PIDS[@]}"; do wait "$p" || echo "an oha process failed; see $dir/oha.log" >&2; done
  OHA_PIDS=()
  after=$(cpu_ticks)
  python3 "$ROOT/bench/mixed.py" merge --dir "$dir" --duration "$DURATION" --skip "$WARMUP" --pct "$pct" \
    --cpu-ms "$(( (after - before) * 1000 / TICK ))" >> "$OUT/mixed.jsonl"
  echo "  $pct % of the maximum ($rate req/s) done" >&2
done

python3 "$ROOT/bench/mixed.py" report --dir "$OUT" --db "$DB" --mix "$MIX" --duration "$DURATION" \
  --sizes "$USERS users, $POSTS posts, $VOTES votes" | tee "$OUT/results.md"
echo "results: $OUT/results.md" >&2
