#!/usr/bin/env bash
# End-to-end tests of the real app window: build, then run the e2e binary under Xvfb, a private
# D-Bus session and an unlocked gnome-keyring, with a throwaway HOME (the app's data, settings,
# logs and keyring all live there). Screenshots: target/e2e-screenshots/.
# Usage: scripts/e2e.sh [flow…]   (flows: first-screen dark no-keychain demo netlify royalti desktop updates; default all)
set -euo pipefail
cd "$(dirname "$0")/.."
# One build for the whole debug profile (dev-build.sh): the same features as `cargo test --workspace`.
scripts/dev-build.sh
E2E_HOME=$(mktemp -d)
trap 'rm -rf "$E2E_HOME"' EXIT
# A 24-bit screen large enough for the window (xvfb-run's default is 640x480x8).
HOME=$E2E_HOME xvfb-run -a -s "-screen 0 1400x1000x24" dbus-run-session -- bash -c \
  'echo -n pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null; exec target/debug/e2e "$@"' e2e "$@"
