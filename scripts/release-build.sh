#!/usr/bin/env bash
# Builds the release profile that `make test` needs, over ONE set of release dependencies:
#   e2e      the release-profile app with the test-only `e2e-automation` feature, kept aside as
#            target/release-e2e/invite-desk (scripts/e2e-release.sh drives it);
#   shipped  the shipped binaries, exactly as `tauri build` builds them (tauri.conf.json's
#            beforeBundleCommand), so that `make bundle` finds them built.
# The two differ only in the app crate's features; cargo keeps both variants, so building one
# after the other never rebuilds a dependency. No argument: both.
# Built by rustc itself, as the release workflow builds them (`make test` otherwise lints while
# it builds, through clippy's driver).
set -euo pipefail
cd "$(dirname "$0")/.."
export RUSTC_WORKSPACE_WRAPPER=
CARGO="${CARGO:-cargo}"
[ $# -gt 0 ] || set -- e2e shipped
for variant in "$@"; do
  case "$variant" in
    e2e)
      $CARGO build --release --bins --features tauri/custom-protocol,invite-desk/e2e-automation
      # Kept aside: the shipped variant is written to the same path.
      mkdir -p target/release-e2e
      cp target/release/invite-desk target/release-e2e/invite-desk
      ;;
    shipped)
      cmd=$(node -p "require('./tauri.conf.json').build.beforeBundleCommand")
      [[ "$cmd" == "cargo build "* ]] || { echo "release-build: unexpected beforeBundleCommand: $cmd" >&2; exit 1; }
      $CARGO ${cmd#cargo }
      ;;
    *) echo "usage: scripts/release-build.sh [e2e|shipped]…" >&2; exit 2 ;;
  esac
done
