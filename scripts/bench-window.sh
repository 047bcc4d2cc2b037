#!/usr/bin/env bash
# A 2,000-address links batch on the demo workspace driven through the real window of the
# shipped release binary (WebDriver drives it, as in scripts/e2e-release.sh), then the same batch
# headless through the core (release profile too): the two are compared like for like.
# Window: wall time, page lag (median/p95 of a trivial script round trip during the batch),
# memory (PSS of the app and WebKit) idle and at the end. Usage: scripts/bench-window.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
export BENCH_INVITES=${1:-2000}
scripts/release-build.sh
APP="$PWD/target/release/invite-desk" E2E_KEYCHAIN_SERVICE=io.invitedesk.desktop scripts/e2e.sh bench-links
cargo bench -p invite-core --bench links_batch
