#!/usr/bin/env bash
# bench/run.sh --deep: how deep paging costs at a million posts (issue 16). Builds the server
# in release mode, starts it on a fresh PostgreSQL database, registers one user through the
# API, then inserts --posts posts (default 1,000,000) straight into the database with
# generate_series (through HTTP that would take hours) and ANALYZEs. Then wrk measures, one
# after another at the same connection count, the first page (`GET /posts/?limit=10`), the
# page --depth posts deep (default 500,000) by `skip`, and the same page by `cursor` (taken
# from the `Link` header of the page just before it). Writes a Markdown table to
# bench/results/<stamp>-deep/ and stops everything it started. PostgreSQL only.
#
#   bench/run.sh --deep [--posts N] [--depth N] [--duration S] [--warmup S] [--connections C]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

POSTS=1000000 DEPTH=500000 DURATION=10 WARMUP=3 CONNS=16 THREADS=2
PG_HOST=127.0.0.1 PG_PORT=5432 PG_USER=postgres
while [ $# -gt 0 ]; do
  case "$1" in
    --deep) ;;
    --posts) POSTS=$2; shift ;;
    --depth) DEPTH=$2; shift ;;
    --duration) DURATION=$2; shift ;;
    --warmup) WARMUP=$2; shift ;;
    --connections) CONNS=$2; shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "unknown option for --deep: $1" >&2; exit 2 ;;
  esac
  shift
done
# shellcheck disable=SC2015 # the message is for either test failing
[ "$DEPTH" -ge 10 ] && [ "$DEPTH" -lt "$POSTS" ] || { echo "--depth must be 10..posts-1" >&2; exit 2; }

source "$ROOT/bench/lib.sh"
ensure_wrk
build_server

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT="$ROOT/bench/results/$STAMP-deep"
mkdir -p "$OUT"
PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
PSQL=(psql -q -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER")
DBNAME="posts_deep_${STAMP,,}"
SERVER_PID=
cleanup() {
  stop_server
  "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS \"$DBNAME\" WITH (FORCE)" || true
}
trap cleanup EXIT

"${PSQL[@]}" -d postgres -c "CREATE DATABASE \"$DBNAME\""
DATABASE_URL="postgres://$PG_USER@$PG_HOST:$PG_PORT/$DBNAME?sslmode=disable"
start_server

email=deep@example.com password='correct horse'
USER_ID=$(curl -sf "$BASE/users/" -H 'Content-Type: application/json' \
  -d "{\"email\": \"$email\", \"password\": \"$password\"}" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
TOKEN=$(curl -sf "$BASE/login" --data-urlencode "username=$email" \
  --data-urlencode "password=$password" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')

echo "inserting $POSTS posts with generate_series" >&2
seeded=$(date +%s)
"${PSQL[@]}" -d "$DBNAME" -c "INSERT INTO posts (title, content, published, created_at, owner_id)
  SELECT 'post ' || g, 'content of post ' || g, true, now(), $USER_ID
  FROM generate_series(1, $POSTS) AS g" -c "VACUUM ANALYZE posts"
SEED_S=$(( $(date +%s) - seeded ))

# The page DEPTH posts deep by cursor: the `next` link of the page just before it.
NEXT=$(curl -sf -D - -o /dev/null -H "Authorization: Bearer $TOKEN" \
  "$BASE/posts/?limit=10&skip=$((DEPTH - 10))" |
  python3 -c 'import re, sys
for line in sys.stdin:
    if line.lower().startswith("link:"):
        print(re.search(r"<([^>]*)>; rel=\"next\"", line).group(1))')
[ -n "$NEXT" ] || { echo "no next link at skip $((DEPTH - 10))" >&2; exit 1; }
# The same page both ways.
a=$(curl -sf -H "Authorization: Bearer $TOKEN" "$BASE/posts/?limit=10&skip=$DEPTH")
b=$(curl -sf -H "Authorization: Bearer $TOKEN" "$BASE$NEXT")
[ "$a" = "$b" ] || { echo "the skip and cursor pages differ" >&2; exit 1; }

measure() { # name path
  local out="$OUT/$1.txt"
  wrk -t "$THREADS" -c "$CONNS" -d "${WARMUP}s" -H "Authorization: Bearer $TOKEN" "$BASE$2" >/dev/null
  wrk -t "$THREADS" -c "$CONNS" -d "${DURATION}s" --timeout 30s --latency \
    -H "Authorization: Bearer $TOKEN" "$BASE$2" > "$out"
  python3 - "$1" "$out" <<'PY'
import re, sys
name, text = sys.argv[1], open(sys.argv[2]).read()
def ms(v):
    n, unit = float(re.match(r"[\d.]+", v).group()), re.sub(r"[\d.]+", "", v)
    return n * {"us": 0.001, "ms": 1, "s": 1000}[unit]
p50 = ms(re.search(r"^\s*50%\s+(\S+)", text, re.M).group(1))
p99 = ms(re.search(r"^\s*99%\s+(\S+)", text, re.M).group(1))
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
print(f"{name}\t{rps:.0f}\t{p50:.2f}\t{p99:.2f}\t{non2xx.group(1) if non2xx else 0}")
PY
}

{
  measure first "/posts/?limit=10"
  measure skip "/posts/?limit=10&skip=$DEPTH"
  measure cursor "$NEXT"
} > "$OUT/rows.tsv"

python3 - "$OUT/rows.tsv" "$POSTS" "$DEPTH" "$CONNS" "$DURATION" "$SEED_S" <<'PY' | tee "$OUT/results.md"
import sys
rows = [line.split("\t") for line in open(sys.argv[1]).read().split("\n") if line]
posts, depth, conns, duration, seed = sys.argv[2:]
first = float(rows[0][2])
print(f"Deep paging: {int(posts):,} posts (inserted in {seed} s), a page {int(depth):,} posts deep; "
      f"wrk, {conns} connections, {duration} s each\n")
print("| page | requests/s | p50 ms | p99 ms | non-2xx | p50 ÷ first page's |")
print("|---|---|---|---|---|---|")
names = {"first": "first (`?limit=10`)", "skip": f"by skip (`&skip={depth}`)", "cursor": "by cursor (`Link` next)"}
for name, rps, p50, p99, bad in rows:
    print(f"| {names[name]} | {rps} | {p50} | {p99} | {bad.strip()} | {float(p50) / first:.2f} |")
PY
