#!/usr/bin/env bash
# Builds the Windows installer on Linux: the app cross-compiled for x86_64-pc-windows-gnu (MinGW-w64),
# then a per-user NSIS setup.exe made by the system's makensis from installer/windows/installer.nsi.
# (The Tauri bundler's own NSIS step downloads a plugin and the WebView2 bootstrapper at build time;
# release installers are built by it on CI, see .github/workflows/release.yml.)
#
# WEBVIEW2_BOOTSTRAPPER=/path/MicrosoftEdgeWebview2Setup.exe embeds Microsoft's bootstrapper, so the
# setup installs WebView2 on a machine that never had it; without it, the setup offers the download page.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=x86_64-pc-windows-gnu

scripts/install-windows-deps.sh
# --no-bundle: the CLI builds the release binary with the web assets embedded (custom-protocol).
npx --no-install tauri build --target "$TARGET" --no-bundle

exe="${CARGO_TARGET_DIR:-target}/$TARGET/release/invite-desk.exe"
[ -f "$exe" ] || { echo "FAIL: $exe was not built" >&2; exit 1; }
version=$(node -p "require('./tauri.conf.json').version")
outdir="${CARGO_TARGET_DIR:-target}/$TARGET/release/bundle/nsis"
mkdir -p "$outdir"
out="$outdir/Invite Desk_${version}_x64-setup.exe"
args=(-V2 -WX "-DVERSION=$version" "-DAPP_EXE=$(realpath "$exe")" "-DOUTFILE=$(realpath "$outdir")/$(basename "$out")" "-DICON=$PWD/icons/icon.ico")
# A GNU build loads WebView2 through WebView2Loader.dll (an MSVC build links it statically): ship
# it beside the app, as the Tauri bundler does.
# (Read into a variable first: `objdump | grep -q` fails under pipefail when grep stops early.)
headers=$(x86_64-w64-mingw32-objdump -p "$exe")
if grep -qi 'DLL Name: WebView2Loader.dll' <<<"$headers"; then
  loader=$(ls -t "${CARGO_TARGET_DIR:-target}/$TARGET"/release/build/webview2-com-sys-*/out/x64/WebView2Loader.dll 2>/dev/null | head -n1 || true)
  [ -n "$loader" ] || { echo "FAIL: the app needs WebView2Loader.dll and the build has none" >&2; exit 1; }
  args+=("-DWEBVIEW2_LOADER=$(realpath "$loader")")
fi
if [ -n "${WEBVIEW2_BOOTSTRAPPER:-}" ]; then
  args+=("-DWEBVIEW2_BOOTSTRAPPER=$(realpath "$WEBVIEW2_BOOTSTRAPPER")")
fi
makensis "${args[@]}" installer/windows/installer.nsi
printf 'setup: %s (%s bytes)\napp: %s (%s bytes)\n' "$out" "$(stat -c %s "$out")" "$exe" "$(stat -c %s "$exe")"
