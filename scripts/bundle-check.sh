#!/usr/bin/env bash
# Checks the installers `make bundle` made, without installing them.
set -euo pipefail
cd "$(dirname "$0")/.."
deb=$(ls -t target/release/bundle/deb/*.deb 2>/dev/null | head -n1 || true)
rpm=$(ls -t target/release/bundle/rpm/*.rpm 2>/dev/null | head -n1 || true)
[ -n "$deb" ] || { echo "FAIL: no .deb under target/release/bundle/deb" >&2; exit 1; }
[ -n "$rpm" ] || { echo "FAIL: no .rpm under target/release/bundle/rpm" >&2; exit 1; }
contents=$(dpkg-deb -c "$deb")
# dpkg-deb lists paths with or without a leading "./" depending on the tool that built the archive.
grep -Eq '(^| )(\./)?usr/bin/invite-desk$' <<<"$contents" || { echo "FAIL: $deb has no /usr/bin/invite-desk" >&2; exit 1; }
grep -Eq '(^| )(\./)?usr/bin/invite-desk-cli$' <<<"$contents" || { echo "FAIL: $deb has no /usr/bin/invite-desk-cli (the command-line tool)" >&2; exit 1; }
grep -Eq '(^| )(\./)?usr/share/applications/.*\.desktop$' <<<"$contents" || { echo "FAIL: $deb has no .desktop file" >&2; exit 1; }
desktop=$(dpkg-deb --fsys-tarfile "$deb" | tar -xO --wildcards '*usr/share/applications/*.desktop')
grep -q '^Name=Invite Desk$' <<<"$desktop" || { echo "FAIL: .desktop file does not name Invite Desk" >&2; exit 1; }
grep -q '^Exec=invite-desk' <<<"$desktop" || { echo "FAIL: .desktop file does not run invite-desk" >&2; exit 1; }
printf 'deb: %s (%s bytes)\nrpm: %s (%s bytes)\nrelease binary: %s bytes\n' \
  "$deb" "$(stat -c %s "$deb")" "$rpm" "$(stat -c %s "$rpm")" "$(stat -c %s target/release/invite-desk)"
