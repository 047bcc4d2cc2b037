#!/usr/bin/env bash
# Installs everything Invite Desk needs to build, run, test and bundle — only what is missing.
# Debian/Ubuntu with apt. Idempotent and quiet when everything is present.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  # build (Tauri 2 / WebKitGTK 4.1)
  libwebkit2gtk-4.1-dev libsoup-3.0-dev libjavascriptcoregtk-4.1-dev libgtk-3-dev librsvg2-dev
  libayatana-appindicator3-dev build-essential pkg-config file curl ca-certificates
  # the keychain (Secret Service) and desktop notifications talk D-Bus through libdbus
  libdbus-1-dev
  # tests: real window, real keychain
  xvfb xauth webkit2gtk-driver gnome-keyring libsecret-tools dbus dbus-x11 imagemagick
  # tests: another program reads what the app put on the clipboard
  xclip
  # official-client contract tests
  nodejs npm python3 python3-venv
)

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

os="$(uname -s)"
if [ "$os" = "Darwin" ]; then
  echo "macOS: install Xcode command line tools (xcode-select --install), Rust (https://rustup.rs) and Node 20+; then run make again." >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  cat >&2 <<'MSG'
This script installs packages with apt (Debian/Ubuntu).
- Fedora: sudo dnf install webkit2gtk4.1-devel openssl-devel curl wget file libappindicator-gtk3-devel librsvg2-devel \
    gcc gcc-c++ make xorg-x11-server-Xvfb webkit2gtk4.1-devel gnome-keyring libsecret dbus-x11 ImageMagick nodejs npm python3
- Windows: install the Visual Studio C++ Build Tools, WebView2 (preinstalled on Windows 11), Rust and Node 20+.
Then run make again.
MSG
  exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  # node/npm may come from NodeSource or nvm rather than Debian: accept any working command.
  case "$p" in
    nodejs) command -v node >/dev/null 2>&1 && continue ;;
    npm) command -v npm >/dev/null 2>&1 && continue ;;
    python3) command -v python3 >/dev/null 2>&1 && continue ;;
    python3-venv) python3 -c 'import venv, ensurepip' >/dev/null 2>&1 && continue ;;
  esac
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "Installing system packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "Rust is missing: install it from https://rustup.rs, then run make again." >&2
  exit 1
fi

# The Tauri CLI (pinned to major 2 in package.json / package-lock.json).
if [ ! -x node_modules/.bin/tauri ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "Installing the Tauri CLI"
  # The lock lists every platform's optional binary of @tauri-apps/cli, which npm 11's `npm ci`
  # requires; it installs exactly what the lock says.
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
fi

# tauri-driver drives the real window in the end-to-end tests. Pinned to major 2: 3.x alphas exist.
if ! command -v tauri-driver >/dev/null 2>&1; then
  say "Installing tauri-driver 2"
  cargo install tauri-driver --version '^2' --locked --quiet
fi
