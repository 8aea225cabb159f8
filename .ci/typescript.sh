#!/usr/bin/env bash
# typescript.sh [sqlite|postgres]: the TypeScript client (clients/typescript/) stays true to
# the server: `npm ci` (the committed lock file, pinned versions), regenerating its types from
# the committed openapi.json must change nothing, `tsc --noEmit` type-checks it, and its
# scenario (register, log in, create, list by cursor to the end, a 304, a 412, a vote) runs
# against the already-built debug server (target/debug/api) on a fresh database. Needs node 20
# and npm (and psql for postgres).
set -euo pipefail
cd "$(dirname "$0")/.."

PG_HOST=${PG_HOST:-127.0.0.1}
PG_PORT=${PG_PORT:-5432}
kind=${1:-sqlite}

step() { printf '\n==> %s\n' "$*"; }

if [ ! -x target/debug/api ]; then
  echo "FATAL: target/debug/api is missing; build it first with: cargo build -p api" >&2
  exit 1
fi

client=clients/typescript
step "npm ci in $client"
(cd "$client" && npm ci --no-audit --no-fund --prefer-offline --fetch-retries=5 --loglevel=error)

step "regenerating $client/src/schema.d.ts from openapi.json changes nothing"
(cd "$client" && npm run -s generate >/dev/null)
if ! git diff --exit-code -- "$client/src/schema.d.ts"; then
  echo "FATAL: $client/src/schema.d.ts is out of date: run 'npm run generate' in $client and commit it" >&2
  exit 1
fi

step "tsc --noEmit"
(cd "$client" && npx tsc --noEmit)

step "the client's scenario against the debug server on $kind"
(cd "$client" && rm -rf dist && npx tsc)
# shellcheck source=.ci/debug-server.sh
source .ci/debug-server.sh
debug_server_up "$kind" typescript
(cd "$client" && BASE_URL="$base" node dist/scenario.js)
