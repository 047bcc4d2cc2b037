#!/usr/bin/env bash
# Contract tests: drive invite-sandbox with the OFFICIAL clients (@supabase/supabase-js from npm,
# supabase-auth from PyPI). Idempotent: npm ci only when package-lock.json changed, the venv is
# reused while the pinned version matches. Usage: scripts/contract-test.sh [path/to/invite-sandbox]
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
CONTRACT="$ROOT/tests/contract"
PY_PKG="supabase-auth==2.34.1"
VENV="$TARGET/contract-venv"

BIN="${1:-}"
if [[ -z "$BIN" ]]; then
  # The same build as `cargo test --workspace` (see dev-build.sh): no second feature set.
  "$ROOT/scripts/dev-build.sh" -q
  BIN="$TARGET/debug/invite-sandbox"
fi

# Node deps: npm ci when the lockfile differs from the one installed last time.
stamp="$CONTRACT/node_modules/.lock-stamp"
if [[ ! -f "$stamp" ]] || ! cmp -s "$stamp" "$CONTRACT/package-lock.json"; then
  (cd "$CONTRACT" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$CONTRACT/package-lock.json" "$stamp"
fi

# Python deps: a venv under target/, rebuilt only when the pin changes.
if [[ ! -f "$VENV/.pin" ]] || [[ "$(cat "$VENV/.pin")" != "$PY_PKG" ]]; then
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "$PY_PKG"
  echo "$PY_PKG" > "$VENV/.pin"
fi

out="$(mktemp)"
"$BIN" --flavor supabase --port 0 >"$out" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -f "$out"' EXIT
# Every value the clients need, each on its own line: wait for the last of them (the sandbox
# prints them one by one), and fail on any that is missing rather than let a client skip a step.
KEYS=(url service_role_key anon_key secret_key)
val() { sed -n "s/^$1: //p" "$out"; }
have_all() { for k in "${KEYS[@]}"; do [[ -n "$(val "$k")" ]] || return 1; done; }
for _ in $(seq 1 200); do
  have_all && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.05
done
for k in "${KEYS[@]}"; do
  [[ -n "$(val "$k")" ]] || { echo "contract-test: invite-sandbox printed no $k:"; cat "$out"; exit 1; }
done
export SANDBOX_URL SERVICE_ROLE_KEY ANON_KEY SECRET_KEY
SANDBOX_URL="$(val url)"
SERVICE_ROLE_KEY="$(val service_role_key)"
ANON_KEY="$(val anon_key)"
SECRET_KEY="$(val secret_key)"

echo "== supabase-js against $SANDBOX_URL"
(cd "$CONTRACT" && node supabase-js.test.mjs)
echo "== python supabase-auth against $SANDBOX_URL"
"$VENV/bin/python" "$CONTRACT/supabase_auth_test.py"
