#!/usr/bin/env bash
# Scale-out check: two replicas of the server binary on one fresh PostgreSQL database, nginx
# load-balancing in front of them (api/tests/scale_out/main.rs says what it proves). Installs
# nginx from Debian's packages when it is missing, without letting the package start a system
# nginx (Debian's postinst would otherwise start one on port 80). Needs PostgreSQL on
# 127.0.0.1:5432 with trust auth for user postgres (.ci/run starts it before calling this).
set -euo pipefail
cd "$(dirname "$0")/.."

export TEST_DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
  printf '\n==> installing nginx from Debian'"'"'s packages (no service started)\n'
  export DEBIAN_FRONTEND=noninteractive
  # invoke-rc.d asks policy-rc.d before starting a service: 101 means "not allowed". Only put
  # one in place when there is none, and remove only the one this script created.
  policy=/usr/sbin/policy-rc.d
  created_policy=''
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    created_policy=1
  fi
  remove_policy() { if [ -n "$created_policy" ]; then rm -f "$policy"; fi; }
  trap remove_policy EXIT
  # Another apt-get may hold the dpkg lock (a parallel install): wait for it, bounded.
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends nginx >/dev/null
  remove_policy
  trap - EXIT
  # Belt and braces: if a system nginx came up anyway (a service manager that ignores
  # policy-rc.d), stop it and keep it from starting at boot. It is the one this install
  # started, found through its own pid file.
  if [ -s /run/nginx.pid ] && kill -0 "$(cat /run/nginx.pid)" 2>/dev/null; then
    /usr/sbin/nginx -s quit || true
  fi
  if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    systemctl disable --now nginx >/dev/null 2>&1 || true
  elif command -v update-rc.d >/dev/null; then
    update-rc.d nginx disable >/dev/null 2>&1 || true
  fi
fi
# The test finds nginx on PATH; Debian puts it in /usr/sbin, which a non-login PATH may lack.
case ":$PATH:" in *:/usr/sbin:*) ;; *) export PATH="$PATH:/usr/sbin" ;; esac
nginx -v

printf '\n==> scale-out: two replicas behind nginx on PostgreSQL\n'
cargo test -p api --test scale_out -- --ignored --nocapture
