#!/usr/bin/env bash
# Runs the core's and the sandbox's tests as Windows programs: cross-compiled for
# x86_64-pc-windows-gnu and run under Wine (the outbox on SQLite, the paste parser, every provider
# against the sandbox over real HTTP on 127.0.0.1, file names, and the secret store against
# Wine's Credential Manager). `cargo test` arguments pass through, e.g. `-- outbox`.
# `--core` runs the core's tests only (what `make test` runs: the sandbox's own tests add about
# three minutes under Wine).
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=x86_64-pc-windows-gnu
packages=(-p invite-core -p invite-sandbox)
if [ "${1:-}" = "--core" ]; then
  shift
  packages=(-p invite-core)
fi

scripts/install-windows-deps.sh
. scripts/wine-env.sh

# Built first, then run, so the two times are told apart (the build is the slow part on a
# first run; the run is Wine's).
started=$SECONDS
cargo test --target "$TARGET" "${packages[@]}" --no-run
built=$((SECONDS - started))
started=$SECONDS
env -u DISPLAY -u DBUS_SESSION_BUS_ADDRESS \
  cargo test --target "$TARGET" "${packages[@]}" "$@"
echo "Windows tests: built in ${built} s, ran under Wine in $((SECONDS - started)) s"
