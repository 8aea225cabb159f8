#!/usr/bin/env bash
# The scale benchmark, on PostgreSQL: S1, S2 and S3 on the default data (seeded through the
# HTTP API, as bench/run.sh does), then again after bench/scale.sql has grown the same
# database to 10,000 users, 1,000,000 posts and 1,000,000 votes directly in SQL; S3 both for
# a common word (each in ~10% of titles) and a rare one ("zulu", in 0.01%). Writes a Markdown
# table to bench/results/ (not committed) and stops everything it started.
#
#   bench/scale.sh [--duration S] [--warmup S] [--connections C]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

DURATION=10 WARMUP=3 CONNS=16 THREADS=2
PG_HOST=127.0.0.1 PG_PORT=5432 PG_USER=postgres
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DURATION=$2; shift ;;
    --warmup) WARMUP=$2; shift ;;
    --connections) CONNS=$2; shift ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

source "$ROOT/bench/lib.sh"
ensure_wrk
build_server

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT="$ROOT/bench/results/$STAMP-scale"
mkdir -p "$OUT"
PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
PSQL=(psql -q -v ON_ERROR_STOP=1 -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER")
DBNAME="posts_scale_${STAMP,,}"
SERVER_PID=

cleanup() {
  stop_server
  "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS \"$DBNAME\" WITH (FORCE)" || true
}
trap cleanup EXIT

"${PSQL[@]}" -d postgres -c "CREATE DATABASE \"$DBNAME\""
# Plain TCP, as bench/run.sh (see there).
DATABASE_URL="postgres://$PG_USER@$PG_HOST:$PG_PORT/$DBNAME?sslmode=disable"
start_server

echo "seeding the default data through the API" >&2
python3 "$ROOT/bench/seed.py" --base "$BASE" --out "$OUT/data.lua"
# The same data with the rare word as the only search word.
sed 's/^  words = {.*},$/  words = {"zulu"},/' "$OUT/data.lua" >"$OUT/rare.lua"

export BENCH_DIR="$ROOT/bench" BENCH_THREADS="$THREADS"
: >"$OUT/results.jsonl"

# run LABEL SCRIPT DATA: one wrk run after a warm-up; appends a JSON line.
run() {
  local label=$1 script="$ROOT/bench/wrk/$2.lua" data=$3
  BENCH_DATA="$data" BENCH_OUT=/dev/null \
    wrk -t "$THREADS" -c "$CONNS" -d "${WARMUP}s" -s "$script" "$BASE" >/dev/null
  BENCH_DATA="$data" BENCH_OUT="$OUT/run.json" BENCH_CONNS="$CONNS" \
    wrk -t "$THREADS" -c "$CONNS" -d "${DURATION}s" -s "$script" "$BASE" >/dev/null
  python3 - "$label" "$OUT/run.json" >>"$OUT/results.jsonl" <<'PY'
import json, sys
r = json.load(open(sys.argv[2]))
r["label"] = sys.argv[1]
r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
print(json.dumps(r))
PY
  echo "  $label done" >&2
}

phase() {
  local size=$1
  run "$size S1 GET /posts/{id}" s1_get_post "$OUT/data.lua"
  run "$size S2 GET /posts/?skip<1000" s2_list "$OUT/data.lua"
  run "$size S3 search, common word" s3_search "$OUT/data.lua"
  run "$size S3 search, rare word" s3_search "$OUT/rare.lua"
}

phase "1k posts:"
echo "growing the database to 1,000,000 posts (bench/scale.sql)" >&2
started=$(date +%s)
"${PSQL[@]}" -d "$DBNAME" -f "$ROOT/bench/scale.sql" >/dev/null
echo "  grown in $(( $(date +%s) - started )) s" >&2
phase "1M posts:"

python3 - "$OUT/results.jsonl" "$ROOT/bench" <<'PY' | tee "$OUT/results.md"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
sys.path.insert(0, sys.argv[2])
from report import ms
print("| run | req/s | p50 ms | p99 ms | wrk's p99 ms | non-2xx | socket errors |")
print("|---|---:|---:|---:|---:|---:|---:|")
for r in rows:
    errors = r["errors_connect"] + r["errors_read"] + r["errors_write"] + r["errors_timeout"]
    print(f'| {r["label"]} | {r["rps"]:.0f} | {ms(r, 50):.2f} | {ms(r, 99):.2f} '
          f'| {r["p99_us"] / 1000:.2f} | {r["non2xx"]} | {errors} |')
small = {r["label"].split(": ", 1)[1]: r for r in rows if r["label"].startswith("1k")}
print()
for r in rows:
    if r["label"].startswith("1M"):
        name = r["label"].split(": ", 1)[1]
        print(f'- {name}: {r["rps"] / small[name]["rps"] * 100:.0f}% of the 1k-post figure')
PY
echo "results: $OUT/results.md" >&2
