# Sourced by .ci/run and .ci/pgbouncer.sh: schemathesis, pinned, and one run of it against the
# debug server (which .ci/debug-server.sh starts; its DEBUG_SERVER_* variables apply).
# Needs `step` and PG_HOST/PG_PORT from the caller.

# Schemathesis, pinned, in a virtualenv under target/ (git ignores it), reused while it holds
# the pinned version. Its configuration and hooks are .ci/schemathesis.toml and
# .ci/schemathesis_hooks.py; the README says why each is there.
SCHEMATHESIS_VERSION=4.32.5
SCHEMATHESIS_VENV=target/schemathesis-venv
# Test cases per operation and phase: about 25 s a database on 2 cores.
SCHEMATHESIS_MAX_EXAMPLES=100

ensure_schemathesis() {
  if [ "$("$SCHEMATHESIS_VENV/bin/st" --version 2>/dev/null)" = "st, version $SCHEMATHESIS_VERSION" ]; then
    return 0
  fi
  step "installing schemathesis $SCHEMATHESIS_VERSION into $SCHEMATHESIS_VENV"
  if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
    step "installing Python's venv from Debian's packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq python3 python3-venv >/dev/null
  fi
  rm -rf "$SCHEMATHESIS_VENV"
  python3 -m venv "$SCHEMATHESIS_VENV"
  "$SCHEMATHESIS_VENV/bin/pip" install -q --disable-pip-version-check \
    "schemathesis==$SCHEMATHESIS_VERSION"
}

# schemathesis_against sqlite|postgres: the debug server on a free port with a fresh database,
# a registered user's token, and `st run --checks all` against its /openapi.json. The server
# stops (and a PostgreSQL database is dropped) however this ends.
schemathesis_against() (
  set -euo pipefail
  root=$PWD
  source .ci/debug-server.sh
  debug_server_up "$1" posts_ci_st LOGIN_MAX_FAILURES=0 LOGIN_MAX_FAILURES_PER_CLIENT=0
  email=schemathesis@example.com password=schemathesis-password
  curl -sf -X POST "$base/users/" -H 'Content-Type: application/json' \
    -d "{\"email\": \"$email\", \"password\": \"$password\"}" >/dev/null
  token=$(curl -sf -X POST "$base/login" --data-urlencode "username=$email" \
    --data-urlencode "password=$password" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')
  # st keeps its caches (.hypothesis, .schemathesis) in its working directory: under target/.
  # The seed is random and printed at the end (`--seed N` replays a run). One warning is
  # expected: POST /login "mostly rejected generated data", as generated credentials never
  # belong to a user (403) and the 422s it counts are the deliberately invalid forms.
  mkdir -p target/schemathesis
  cd target/schemathesis
  # The operations that end sessions are left out: the run's own token would be refused after
  # the first, and every later check would see only 401s. The suite proves them over HTTP
  # (tests/tests/api/sessions/).
  SCHEMATHESIS_HOOKS="$root/.ci/schemathesis_hooks.py" "$root/$SCHEMATHESIS_VENV/bin/st" \
    --config-file "$root/.ci/schemathesis.toml" run "$base/openapi.json" \
    --exclude-operation-id logout --exclude-operation-id logout_all \
    --exclude-operation-id end_all_sessions --exclude-operation-id end_session \
    --checks all -H "Authorization: Bearer $token" \
    --max-examples "$SCHEMATHESIS_MAX_EXAMPLES" --no-color
)
