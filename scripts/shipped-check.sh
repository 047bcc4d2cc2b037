#!/usr/bin/env bash
# The shipped binary itself, as the .deb installs it (from `make bundle`), started under Xvfb
# with a private D-Bus session and an unlocked gnome-keyring in a throwaway HOME: it must paint
# its first screen (a screenshot that is not blank) and write its start-up log line, with no
# error in the log and no panic on stderr. No WebDriver: this is the start an owner sees.
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
if [ -n "${SHIPPED_BIN:-}" ]; then
  # Another binary to check the same way (e.g. a debug build, when trying this script out).
  deb="$SHIPPED_BIN"; app="$(realpath "$SHIPPED_BIN")"
else
  deb=$(ls -t target/release/bundle/deb/*.deb 2>/dev/null | head -n1 || true)
  [ -n "$deb" ] || { echo "shipped-check: no .deb under target/release/bundle/deb (run make bundle)" >&2; exit 1; }
  dpkg-deb -x "$deb" "$scratch/root"
  app="$scratch/root/usr/bin/invite-desk"
  [ -x "$app" ] || { echo "shipped-check: $deb has no usr/bin/invite-desk" >&2; exit 1; }
fi
mkdir -p "$scratch/home" "$scratch/data"
shot="${SHIPPED_SCREENSHOT:-target/e2e-screenshots/shipped-first-screen.png}"
mkdir -p "$(dirname "$shot")"
export SHIPPED_APP="$app" SHIPPED_DATA="$scratch/data" SHIPPED_SHOT="$(realpath -m "$shot")"
HOME="$scratch/home" xvfb-run -a -s "-screen 0 1400x1000x24" dbus-run-session -- bash -c '
  set -euo pipefail
  echo -n pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  INVITE_DESK_DATA_DIR="$SHIPPED_DATA" "$SHIPPED_APP" >"$HOME/stdout.log" 2>"$HOME/stderr.log" &
  pid=$!
  logged=0
  for _ in $(seq 150); do
    if grep -qs "Invite Desk starting" "$SHIPPED_DATA"/logs/*; then logged=1; break; fi
    sleep 0.2
  done
  # The first paint follows the start-up line by well under a second (WebKit process start).
  painted=0
  for _ in $(seq 40); do
    sleep 0.5
    import -window root "$SHIPPED_SHOT" 2>/dev/null || continue
    # Not blank, and more than the header: the window is centred (1100x760 on 1400x1000) and
    # the first screen'"'"'s content sits below its header, so that part must show something too.
    colors=$(convert "$SHIPPED_SHOT" -format "%k" info:)
    sd=$(convert "$SHIPPED_SHOT" -crop 1000x520+200+260 +repage -colorspace Gray -format "%[fx:standard_deviation]" info:)
    if [ "$colors" -gt 16 ] && awk -v s="$sd" "BEGIN{exit !(s > 0.02)}"; then painted=1; break; fi
  done
  alive=0; kill -0 "$pid" 2>/dev/null && alive=1
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  echo "shipped-check: log line=$logged painted=$painted (colors=${colors:-?}, sd=${sd:-?}) still running=$alive"
  if grep -hE "^\S+\s+ERROR|panicked" "$SHIPPED_DATA"/logs/* "$HOME/stderr.log" 2>/dev/null; then
    echo "shipped-check: FAIL: an error in the log or a panic on stderr (above)" >&2; exit 1
  fi
  [ "$logged" = 1 ] || { echo "shipped-check: FAIL: no start-up line in the log" >&2; cat "$HOME/stderr.log" >&2; exit 1; }
  [ "$painted" = 1 ] || { echo "shipped-check: FAIL: the first screen was not painted (see $SHIPPED_SHOT)" >&2; exit 1; }
  [ "$alive" = 1 ] || { echo "shipped-check: FAIL: the app exited on its own" >&2; cat "$HOME/stderr.log" >&2; exit 1; }
'
echo "shipped-check: $deb paints its first screen ($shot) and logs its start with no error"
