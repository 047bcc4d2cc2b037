#!/usr/bin/env bash
# The shipped build is the tested build: the end-to-end flows (first screen, demo, a real
# Royalti workspace; each with the leak check) against the shipped release binary itself: the
# release profile, the bundled front end (custom-protocol), the release keychain service name,
# built as `tauri build` builds it (scripts/release-build.sh). Under WebDriver (tauri-driver sets
# TAURI_WEBVIEW_AUTOMATION=true, the variable Tauri itself allows automation by) the app turns on
# the web view's developer extras, which WebKitWebDriver needs to start a session, and answers
# the Save dialog from the test's folder (src-tauri/lib.rs, under_automation).
# Usage: scripts/e2e-release.sh [flow…]   (default: first-screen demo royalti)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/release-build.sh
scripts/dev-build.sh -q # the e2e driver itself (debug, already built by make check)
[ $# -gt 0 ] || set -- first-screen demo royalti
E2E_HOME=$(mktemp -d)
trap 'rm -rf "$E2E_HOME"' EXIT
HOME=$E2E_HOME APP="$PWD/target/release/invite-desk" E2E_KEYCHAIN_SERVICE=io.invitedesk.desktop \
  E2E_SCREENSHOTS="$PWD/target/e2e-release-screenshots" \
  xvfb-run -a -s "-screen 0 1400x1000x24" dbus-run-session -- bash -c \
  'echo -n pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null; exec target/debug/e2e "$@"' e2e "$@"
