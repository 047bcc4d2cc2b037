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

# Build once, outside the throwaway HOME (cargo's cache lives in the real one).
$CARGO test -p invite-core --test keychain --no-run
run_tests() { $CARGO test -q -p invite-core --test keychain -- --ignored --test-threads=1 --show-output "$@"; }
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
KEYRING_UNLOCK=1 INVITE_DESK_REAL_KEYCHAIN=1 with_keyring unlocked bash -c "$(declare -f run_tests); CARGO='$CARGO' run_tests real_keychain"

say "keychain: gnome-keyring running but locked"
KEYRING_UNLOCK=0 INVITE_DESK_EXPECT_LOCKED_KEYCHAIN=1 with_keyring locked bash -c "$(declare -f run_tests); CARGO='$CARGO' run_tests locked_keychain"

say "keychain: no session bus"
mkdir -p "$scratch/run-nobus" && chmod 700 "$scratch/run-nobus"
env -u DBUS_SESSION_BUS_ADDRESS -u DISPLAY -u WAYLAND_DISPLAY HOME="$scratch/home-nobus" XDG_RUNTIME_DIR="$scratch/run-nobus" \
  INVITE_DESK_EXPECT_NO_KEYCHAIN=1 bash -c "$(declare -f run_tests); CARGO='$CARGO' run_tests without_a_keychain"

say "keychain: a session bus address that nobody answers"
env -u DISPLAY -u WAYLAND_DISPLAY DBUS_SESSION_BUS_ADDRESS="unix:path=$scratch/no-such-bus" HOME="$scratch/home-deadbus" \
  XDG_RUNTIME_DIR="$scratch/run-nobus" INVITE_DESK_EXPECT_NO_KEYCHAIN=1 \
  bash -c "$(declare -f run_tests); CARGO='$CARGO' run_tests without_a_keychain"

say "keychain tests passed"
