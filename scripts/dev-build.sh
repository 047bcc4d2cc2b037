#!/usr/bin/env bash
# Builds every debug-profile artifact `make test` runs: the app, the sandbox, the e2e driver and
# all test binaries, in ONE cargo invocation. Every script calls this (a no-op once built) instead
# of its own `cargo build -p …`: a different package selection, or leaving out the test targets
# (whose dev-dependencies turn on features such as tauri/test), makes cargo resolve features
# differently and rebuild Tauri and half the graph from scratch. `cargo test --workspace` then
# finds everything fresh. All targets (benches too, in the test profile) so that `make test`,
# which lints while it builds, covers what `cargo clippy --all-targets` does. Extra arguments go
# to cargo (e.g. -q, -v).
set -euo pipefail
cd "$(dirname "$0")/.."
exec "${CARGO:-cargo}" build --workspace --all-targets "$@"
