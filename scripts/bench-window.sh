#!/usr/bin/env bash
# A 2,000-address links batch on the demo workspace driven through the real window of the
# shipped release binary (WebDriver drives it, as in scripts/e2e-release.sh), then the same batch
# headless through the core (release profile too): the two are compared like for like.
# Window: wall time, page lag (median/p95 of a trivial script round trip during the batch),
# memory (PSS of the app and WebKit) idle and at the end.
# The two alternate ROUNDS times (default 3), so the drift of a shared machine hits both alike;
# the ratio is of the medians. Usage: scripts/bench-window.sh [N] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
export BENCH_INVITES=${1:-2000}
ROUNDS=${2:-3}
scripts/release-build.sh
cargo bench -p invite-core --bench links_batch --no-run
LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT
for i in $(seq 1 "$ROUNDS"); do
  echo "==> round $i of $ROUNDS"
  APP="$PWD/target/release/invite-desk" E2E_KEYCHAIN_SERVICE=io.invitedesk.desktop \
    scripts/e2e.sh bench-links 2>&1 | grep -vE 'dbus-daemon|SpiRegistry' | tee -a "$LOG"
  cargo bench -q -p invite-core --bench links_batch 2>&1 | tee -a "$LOG"
done
python3 - "$LOG" <<'PY'
import re, statistics, sys
text = open(sys.argv[1]).read()
window = [float(x) for x in re.findall(r"links batch through the window: \d+ addresses in ([\d.]+) s", text)]
headless = [float(x) for x in re.findall(r"links batch, headless: .*?: ([\d.]+) s", text)]
p95 = [float(x) for x in re.findall(r"p95 ([\d.]+) ms", text)]
if not window or not headless:
    sys.exit("bench-window: a figure is missing from the runs above")
w, h = statistics.median(window), statistics.median(headless)
print()
print(f"window {w:.2f} s, headless {h:.2f} s (medians of {len(window)} and {len(headless)}): "
      f"ratio {w / h:.2f} (target <= 1.5); page lag p95 per round {p95} ms (target < 50)")
print(f"every round: window {window} s, headless {headless} s")
PY
