#!/usr/bin/env bash
# Installs what building and testing the Windows version on Linux needs — only what is missing:
# the Rust target x86_64-pc-windows-gnu, the MinGW-w64 linker, NSIS (makensis) for the installer,
# and Wine to run the Windows test programs. Debian/Ubuntu with apt; idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

if ! command -v apt-get >/dev/null 2>&1; then
  echo "The Windows cross-build needs Debian/Ubuntu (apt). On Windows, build natively: npx tauri build." >&2
  exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# wine64 alone runs 64-bit programs; the 32-bit half (wine32, multiarch) is not needed for our tests.
APT_PACKAGES=(gcc-mingw-w64-x86-64 nsis wine64)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "Installing system packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! rustup target list --installed | grep -qx x86_64-pc-windows-gnu; then
  say "Adding the Rust target x86_64-pc-windows-gnu"
  rustup target add x86_64-pc-windows-gnu
fi
