#!/usr/bin/env bash
# Builds the shipped binaries exactly as `tauri build` builds them (tauri.conf.json's
# beforeBundleCommand): the release profile, the front end embedded. `make test` builds them in
# its release lane; then scripts/e2e-release.sh drives this very binary and `make bundle` finds
# it built. Built by rustc itself, as the release workflow builds them (`make test` otherwise
# lints while it builds, through clippy's driver).
set -euo pipefail
cd "$(dirname "$0")/.."
export RUSTC_WORKSPACE_WRAPPER=
cmd=$(node -p "require('./tauri.conf.json').build.beforeBundleCommand")
[[ "$cmd" == "cargo build "* ]] || { echo "release-build: unexpected beforeBundleCommand: $cmd" >&2; exit 1; }
exec "${CARGO:-cargo}" ${cmd#cargo }
