#!/usr/bin/env bash
# Checks the Windows installer `make bundle-windows` made by running it under Wine, silently, as
# a user without administrator rights would: the app lands in %LOCALAPPDATA%\Invite Desk, the
# Start menu has it, the per-user uninstall entry is written; the uninstaller removes them again.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=x86_64-pc-windows-gnu
build="${CARGO_TARGET_DIR:-target}/$TARGET/release"
setup=$(ls -t "$build"/bundle/nsis/*-setup.exe 2>/dev/null | head -n1 || true)
[ -n "$setup" ] || { echo "FAIL: no setup.exe under target/$TARGET/release/bundle/nsis (make bundle-windows)" >&2; exit 1; }

# A fresh prefix: nothing from an earlier install can make this pass.
export WINEPREFIX="$PWD/target/wine-installer"
rm -rf "$WINEPREFIX"
. scripts/wine-env.sh

fail() { echo "FAIL: $*" >&2; exit 1; }
key='HKCU\Software\Microsoft\Windows\CurrentVersion\Uninstall\Invite Desk'
localappdata=$("$wine_bin" cmd /c 'echo %LOCALAPPDATA%' 2>/dev/null | tr -d '\r')
dir=$("$wine_bin" winepath -u "$localappdata\\Invite Desk" 2>/dev/null | tr -d '\r')
[ -n "$dir" ] || fail "could not find %LOCALAPPDATA% in the Wine prefix"

"$wine_bin" "$setup" /S
"$wineserver_bin" -w || true
[ -f "$dir/invite-desk.exe" ] || fail "the app is not in $dir after a silent install"
[ -f "$dir/uninstall.exe" ] || fail "no uninstaller in $dir"
cmp -s "$dir/invite-desk.exe" "$build/invite-desk.exe" || fail "the installed app is not the one just built"
# Read once into a variable: `objdump | grep -q` fails under pipefail when grep stops early.
headers=$(x86_64-w64-mingw32-objdump -p "$dir/invite-desk.exe")
# A release build is a windowed program: no console window opens beside it.
grep -q 'Subsystem.*Windows GUI' <<<"$headers" \
  || fail "the app is a console program (windows_subsystem is missing from a release build)"
if grep -qi 'DLL Name: WebView2Loader.dll' <<<"$headers"; then
  [ -f "$dir/WebView2Loader.dll" ] || fail "the app loads WebView2Loader.dll but the installer did not put it beside the app"
fi
"$wine_bin" reg query "$key" /v DisplayVersion 2>/dev/null | grep -q "$(node -p "require('./tauri.conf.json').version")" \
  || fail "no per-user uninstall entry ($key) with this version"
if "$wine_bin" reg query "HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\Invite Desk" >/dev/null 2>&1; then
  fail "the installer wrote a per-machine (HKLM) entry: it must install for the current user only"
fi
startmenu=$("$wine_bin" winepath -u "$("$wine_bin" cmd /c 'echo %APPDATA%' 2>/dev/null | tr -d '\r')\\Microsoft\\Windows\\Start Menu\\Programs\\Invite Desk\\Invite Desk.lnk" 2>/dev/null | tr -d '\r')
[ -f "$startmenu" ] || fail "no Start menu shortcut at $startmenu"

"$wine_bin" "$dir/uninstall.exe" /S
# The NSIS uninstaller copies itself to %TEMP% and returns at once; wait for it to finish.
"$wineserver_bin" -w || true
for _ in $(seq 1 30); do [ -f "$dir/invite-desk.exe" ] || break; sleep 1; done
[ ! -f "$dir/invite-desk.exe" ] || fail "the uninstaller left the app in $dir"
[ ! -e "$dir" ] || fail "the uninstaller left $dir: $(ls -A "$dir" | tr '\n' ' ')"
if "$wine_bin" reg query "$key" >/dev/null 2>&1; then fail "the uninstaller left $key"; fi
[ ! -f "$startmenu" ] || fail "the uninstaller left the Start menu shortcut"
[ ! -e "$(dirname "$startmenu")" ] || fail "the uninstaller left the Start menu folder $(dirname "$startmenu")"
printf 'Windows installer: %s (%s bytes): per-user install and uninstall under Wine OK\n' "$setup" "$(stat -c %s "$setup")"
# What Wine cannot check: the window itself. Wine has no Microsoft Edge WebView2 runtime (and
# Microsoft's installer for it does not run under Wine), so the app is not started here: that
# needs a real Windows machine.
echo "Not checked under Wine: opening the window (Wine has no WebView2 runtime)."
