#!/usr/bin/env bash
# The secret store against the real Linux Secret Service, and without one.
#
# 1. A private session bus (dbus-run-session) with gnome-keyring unlocked, in a throwaway HOME
#    and XDG_RUNTIME_DIR: secrets written by Invite Desk are found by `secret-tool` (a second
#    process) and are gone after the workspace is removed.
# 2. The same daemon never unlocked: the owner is told to unlock the keychain.
# 3. No session bus at all, then a dead one: the owner is told no keychain service is running,
#    and the session-only store works.
# Needs gnome-keyring, libsecret-tools and dbus (scripts/install-deps.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO="${CARGO:-cargo}"
for tool in dbus-run-session gnome-keyring-daemon secret-tool dbus-send; do
  command -v "$tool" >/dev/null || { echo "keychain-test: $tool is missing; run scripts/install-deps.sh" >&2; exit 1; }
done

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

# Build once, outside the throwaway HOME, with the same package selection and features as
# `cargo test --workspace` (scripts/dev-build.sh): nothing but this test binary links here.
# (Even `cargo test --workspace --test keychain` resolves some proc-macro features differently
# and recompiles clap and criterion, so the binary's path comes from the build's own report.)
# Two packages have a `keychain` test (the core's and the command-line tool's): each is picked
# by its package.
built="$(scripts/dev-build.sh --message-format=json)"
test_bin() {
  printf '%s\n' "$built" | python3 -c '
import json, sys
pkg = sys.argv[1]
for line in sys.stdin:
    m = json.loads(line)
    t = m.get("target") or {}
    if (m.get("reason") == "compiler-artifact" and t.get("name") == "keychain"
            and "test" in t.get("kind", []) and m.get("executable")
            and ("/" + pkg + "#") in m.get("package_id", "")):
        print(m["executable"])
' "$1"
}
KEYCHAIN_TEST_BIN="$(test_bin invite-core)"
CLI_KEYCHAIN_TEST_BIN="$(test_bin invite-cli)"
for bin in "$KEYCHAIN_TEST_BIN" "$CLI_KEYCHAIN_TEST_BIN"; do
  [ -x "$bin" ] || { echo "keychain-test: a keychain test binary was not built ($bin)" >&2; exit 1; }
done
export KEYCHAIN_TEST_BIN CLI_KEYCHAIN_TEST_BIN
# Runs the ignored tests whose names contain $1 and fails unless exactly ${2:-1} of them ran and
# passed: a renamed test must not leave a filter that matches nothing and passes.
run_tests() {
  set -o pipefail
  local filter="$1" want="${2:-1}" bin="${3:-$KEYCHAIN_TEST_BIN}" log passed
  log="$(mktemp)"
  "$bin" --ignored --test-threads=1 --show-output "$filter" 2>&1 | tee "$log"
  passed="$(sed -n 's/^test result: ok\. \([0-9]*\) passed.*/\1/p' "$log")"
  rm -f "$log"
  if [ "${passed:-0}" != "$want" ]; then
    echo "keychain-test: filter '$filter' ran ${passed:-0} test(s), expected $want (renamed or removed?)" >&2
    return 1
  fi
}
export CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}" RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
export INVITE_DESK_KEYCHAIN_SCRIPT=1

# Runs "$@" on a private bus with gnome-keyring; KEYRING_UNLOCK=1 unlocks it with a password.
with_keyring() {
  local home="$scratch/home-$1" runtime="$scratch/run-$1"
  shift
  mkdir -p "$home" "$runtime"
  chmod 700 "$runtime"
  HOME="$home" XDG_RUNTIME_DIR="$runtime" dbus-run-session -- bash -c '
    set -euo pipefail
    if [ "${KEYRING_UNLOCK:-0}" = 1 ]; then
      printf "%s" "throwaway-test-password" | gnome-keyring-daemon --foreground --unlock --components=secrets >/dev/null 2>&1 &
    else
      gnome-keyring-daemon --foreground --components=secrets </dev/null >/dev/null 2>&1 &
    fi
    daemon=$!
    trap "kill $daemon 2>/dev/null || true; wait $daemon 2>/dev/null || true" EXIT
    for _ in $(seq 100); do
      dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
        org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q "boolean true" && break
      sleep 0.1
    done
    "$@"
  ' keyring "$@" 2> >(grep -v "Failed to set fd limit" >&2)
}

say "keychain: unlocked gnome-keyring on a private bus"
KEYRING_UNLOCK=1 INVITE_DESK_REAL_KEYCHAIN=1 with_keyring unlocked bash -c "$(declare -f run_tests); run_tests real_keychain"

say "keychain: the command-line tool on the same unlocked keychain"
KEYRING_UNLOCK=1 INVITE_DESK_REAL_KEYCHAIN=1 with_keyring cli bash -c "$(declare -f run_tests); run_tests real_keychain 1 \"\$CLI_KEYCHAIN_TEST_BIN\""

say "keychain: gnome-keyring running but locked"
KEYRING_UNLOCK=0 INVITE_DESK_EXPECT_LOCKED_KEYCHAIN=1 with_keyring locked bash -c "$(declare -f run_tests); run_tests locked_keychain"

say "keychain: no session bus"
mkdir -p "$scratch/run-nobus" && chmod 700 "$scratch/run-nobus"
env -u DBUS_SESSION_BUS_ADDRESS -u DISPLAY -u WAYLAND_DISPLAY HOME="$scratch/home-nobus" XDG_RUNTIME_DIR="$scratch/run-nobus" \
  INVITE_DESK_EXPECT_NO_KEYCHAIN=1 bash -c "$(declare -f run_tests); run_tests without_a_keychain"

say "keychain: a session bus address that nobody answers"
env -u DISPLAY -u WAYLAND_DISPLAY DBUS_SESSION_BUS_ADDRESS="unix:path=$scratch/no-such-bus" HOME="$scratch/home-deadbus" \
  XDG_RUNTIME_DIR="$scratch/run-nobus" INVITE_DESK_EXPECT_NO_KEYCHAIN=1 \
  bash -c "$(declare -f run_tests); run_tests without_a_keychain"

say "keychain tests passed"
