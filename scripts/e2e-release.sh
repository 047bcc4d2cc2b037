#!/usr/bin/env bash
# The shipped build is the tested build: the end-to-end flows (first screen, demo, a real
# Royalti workspace; each with the leak check) against a RELEASE-profile app with the bundled
# front end (custom-protocol) and the release keychain service name. The shipped release binary
# does not accept a WebDriver session (the session start hangs). Automation itself is allowed
# in every build (tauri-runtime-wry: TAURI_WEBVIEW_AUTOMATION=true); what wry leaves out of a
# release build without Tauri's `devtools` feature is the web view's developer extras. The
# test-only `e2e-automation` feature of the app crate turns those on, so the dependencies stay
# the ones `tauri build` compiles (same package selection, same features): only the app crate
# is compiled a second time (scripts/release-build.sh). With the extras on, the release build
# accepts a session.
# Usage: scripts/e2e-release.sh [flow…]   (default: first-screen demo royalti)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/release-build.sh e2e
scripts/dev-build.sh -q # the e2e driver itself (debug, already built by make check)
[ $# -gt 0 ] || set -- first-screen demo royalti
E2E_HOME=$(mktemp -d)
trap 'rm -rf "$E2E_HOME"' EXIT
HOME=$E2E_HOME APP="$PWD/target/release-e2e/invite-desk" E2E_KEYCHAIN_SERVICE=io.invitedesk.desktop \
  E2E_SCREENSHOTS="$PWD/target/e2e-release-screenshots" \
  xvfb-run -a -s "-screen 0 1400x1000x24" dbus-run-session -- bash -c \
  'echo -n pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null; exec target/debug/e2e "$@"' e2e "$@"
