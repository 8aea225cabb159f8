#!/usr/bin/env bash
# Full-disk check: the database's storage on a 2 MiB tmpfs that the test's own writes fill,
# on SQLite (the file on the tmpfs) and on PostgreSQL (the test database's tables in a
# tablespace on it); api/tests/full_disk/main.rs says what it proves. Mounting needs root, as
# CI runs; needs PostgreSQL on 127.0.0.1:5432 with trust auth for user postgres, on this
# machine (.ci/run starts it before calling this).
set -euo pipefail
cd "$(dirname "$0")/.."

export TEST_DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

if [ "$(id -u)" -ne 0 ]; then
  echo "FATAL: .ci/full-disk.sh mounts tmpfs file systems: run it as root" >&2
  exit 1
fi

printf '\n==> full disk: SQLite and PostgreSQL on a 2 MiB tmpfs\n'
cargo test -p api --test full_disk -- --ignored --nocapture
