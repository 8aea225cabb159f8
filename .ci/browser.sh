#!/usr/bin/env bash
# The real-browser test of the server's documentation pages: Debian's Chromium, driven by
# playwright-core (pinned in e2e/package-lock.json), registers a user, logs in with
# Authorize and lists posts in Swagger UI at /docs, then checks that ReDoc at /redoc lists
# the operations, and that neither page asked anything of a host other than this machine, nor
# ran without the server's Content-Security-Policy or broke it.
# Needs the debug server already built (`cargo build -p api`). Screenshots go to
# $ARTIFACTS_DIR (default target/e2e-artifacts). The server stops however this ends.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

root=$PWD
export ARTIFACTS_DIR="${ARTIFACTS_DIR:-$root/target/e2e-artifacts}"

if [ ! -x target/debug/api ]; then
  echo "FATAL: target/debug/api is missing: run 'cargo build -p api' first" >&2
  exit 1
fi

# Debian's Chromium: never a browser downloaded by a test tool.
if [ ! -x /usr/bin/chromium ]; then
  step "installing Chromium from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium chromium-driver >/dev/null
fi

# playwright-core, as e2e/package-lock.json pins it: `npm ci` when node_modules is missing or
# was installed from another lock file (a copy of the one it came from is kept beside it).
if ! cmp -s e2e/package-lock.json e2e/node_modules/.ci-package-lock.json 2>/dev/null; then
  step "npm ci in e2e/"
  (cd e2e && npm ci --no-audit --no-fund && cp package-lock.json node_modules/.ci-package-lock.json)
fi

step "the server, on a fresh SQLite database"
source .ci/debug-server.sh
debug_server_up sqlite posts_ci_browser

step "Swagger UI and ReDoc in headless Chromium (screenshots in $ARTIFACTS_DIR)"
BASE_URL="$base" node e2e/docs.test.mjs
