#!/usr/bin/env bash
# Instructions per request (bench/run.sh --instructions): a figure that, unlike req/s,
# repeats on a noisy shared machine. The release server is seeded as usual (outside
# valgrind, so no bcrypt runs under it), then restarted on the same database under
# `valgrind --tool=callgrind`; a warm-up of every scenario first (the pool's connections
# opened, the statements prepared), then for each: a warm-up, `callgrind_control -z` (zero the
# counters), exactly --requests requests (bench/drive.py, --connections keep-alive
# connections), `callgrind_control -d` (dump), and the dump's instruction total ÷ the
# requests. The scenarios run in --rounds rounds (2 by default) to show the figure repeats.
# Counts the server's process only, all its threads (workers, timers, the pool's tasks);
# not the load generator, nor PostgreSQL (on SQLite, the database's work is in the server's
# process, so it is counted).
#
#   bench/run.sh --instructions [--sqlite] [--requests 2000] [--warmup-requests 500]
#                [--connections 2] [--rounds 2] [--scenarios "s1 s2 s4 s6"] (s3, s5 too)
#                [--users N] [--posts N] [--votes N]
#
# Writes bench/results/<stamp>-instructions-<db>/results.md. SERVER_BIN=path measures that
# binary (e.g. the previous release's, to compare).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DB=postgres
USERS=20 POSTS=1000 VOTES=1000
REQUESTS=2000 WARMUP_REQUESTS=500 CONNS=2 ROUNDS=2
SCENARIOS="s1 s2 s4 s6"
PG_HOST=127.0.0.1 PG_PORT=5432 PG_USER=postgres
while [ $# -gt 0 ]; do
  case "$1" in
    --instructions) ;;
    --sqlite) DB=sqlite ;;
    --users) USERS=$2; shift ;;
    --posts) POSTS=$2; shift ;;
    --votes) VOTES=$2; shift ;;
    --requests) REQUESTS=$2; shift ;;
    --warmup-requests) WARMUP_REQUESTS=$2; shift ;;
    --connections) CONNS=$2; shift ;;
    --rounds) ROUNDS=$2; shift ;;
    --scenarios) SCENARIOS=$2; shift ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
if ! command -v valgrind >/dev/null || ! command -v callgrind_control >/dev/null; then
  echo "valgrind (with callgrind_control) is needed" >&2; exit 2
fi

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
build_server
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT="$ROOT/bench/results/$STAMP-instructions-$DB"
mkdir -p "$OUT"
PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
PSQL=(psql -q -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER")
DBNAME="posts_instr_${STAMP,,}"
SERVER_PID=''

cleanup() {
  stop_server
  drop_database
}
trap cleanup EXIT

create_database

start_server
echo "seeding: $USERS users, $POSTS posts, $VOTES votes" >&2
python3 "$ROOT/bench/seed.py" --base "$BASE" --users "$USERS" --posts "$POSTS" --votes "$VOTES" \
  --out "$OUT/data.lua" --json "$OUT/data.json"
stop_server

# The same server, environment and database, under callgrind. The tokens stay valid: the
# signing key is the same and the sessions are in the database.
echo "starting the server under callgrind" >&2
SERVER_UNDER=(valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind.out")
start_server

drive() {
  python3 "$ROOT/bench/drive.py" --base "$BASE" --data "$OUT/data.json" --scenario "$1" \
    --requests "$2" --connections "$CONNS" --state "$OUT/votes-state.json" --seed "$3"
}
# The instructions (Ir) of callgrind's dump number $1 (callgrind.out.N): its "totals:" line
# (or "summary:").
dumped_ir() {
  awk '/^(totals|summary):/ {print $2; exit}' "$OUT/callgrind.out.$1"
}

: > "$OUT/instructions.jsonl"
for s in $SCENARIOS; do drive "$s" "$WARMUP_REQUESTS" 1 >/dev/null; done
DUMPS=0
for round in $(seq 1 "$ROUNDS"); do
  for s in $SCENARIOS; do
    drive "$s" "$WARMUP_REQUESTS" "$((round * 100 + 1))" >/dev/null
    callgrind_control -z "$SERVER_PID" >/dev/null 2>&1 || { echo "callgrind_control -z failed" >&2; exit 1; }
    result=$(drive "$s" "$REQUESTS" "$((round * 100 + 2))")
    callgrind_control -d "$SERVER_PID" >/dev/null 2>&1 || { echo "callgrind_control -d failed" >&2; exit 1; }
    DUMPS=$((DUMPS + 1))
    ir=$(dumped_ir "$DUMPS")
    python3 -c 'import json, sys; r = json.loads(sys.argv[1]); ir = int(sys.argv[3]); \
r.update(round=int(sys.argv[2]), instructions=ir, per_request=ir / r["requests"]); print(json.dumps(r))' \
      "$result" "$round" "$ir" >> "$OUT/instructions.jsonl"
    echo "  round $round: $s done" >&2
  done
done
stop_server

python3 - "$OUT/instructions.jsonl" "$DB" "$REQUESTS" "$CONNS" "$WARMUP_REQUESTS" \
  "$USERS users, $POSTS posts, $VOTES votes" <<'PY' | tee "$OUT/results.md"
import json, os, subprocess, sys
from datetime import datetime, timezone
path, db, n, conns, warm, sizes = sys.argv[1:]
rows = [json.loads(l) for l in open(path) if l.strip()]
names = {"s1": "S1 GET /posts/{id}", "s2": "S2 GET /posts/?skip", "s3": "S3 GET /posts/?search",
         "s4": "S4 POST /posts/", "s5": "S5 PUT /posts/{id}", "s6": "S6 POST /vote/"}
rounds = sorted({r["round"] for r in rows})
version = subprocess.run(["valgrind", "--version"], capture_output=True, text=True).stdout.strip()
print(f"### Instructions per request {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {db}")
print()
print(f"The server's own instructions (callgrind's Ir, {version}, all the server's threads; not "
      f"the load generator{', nor PostgreSQL' if db == 'postgres' else '; SQLite runs inside the server, so its work is counted'}) "
      f"over {n} requests per scenario on {conns} keep-alive connections, after {warm} "
      f"warm-up requests, counters zeroed before and dumped after. Data: {sizes}.")
print()
print("| scenario | " + " | ".join(f"round {r} instructions/request" for r in rounds)
      + " | spread | non-2xx |")
print("|---|" + "---:|" * len(rounds) + "---:|---:|")
for s in dict.fromkeys(r["scenario"] for r in rows):
    mine = [r for r in rows if r["scenario"] == s]
    per = [next((r["per_request"] for r in mine if r["round"] == k), None) for k in rounds]
    vals = [p for p in per if p is not None]
    spread = (max(vals) - min(vals)) / min(vals) if len(vals) > 1 and min(vals) else 0
    print(f"| {names.get(s, s)} | " + " | ".join(f"{p:,.0f}" if p else "" for p in per)
          + f" | {spread:.1%} | {sum(r['non2xx'] for r in mine)} |")
PY
echo "results: $OUT/results.md" >&2
