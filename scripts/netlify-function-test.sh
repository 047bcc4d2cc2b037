#!/usr/bin/env bash
# Runs the real Netlify Function (netlify/functions/invite-desk.mjs) under Node against the
# sandbox's Netlify Identity routes (tests/netlify-function/function.test.mjs).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
# The same build as `cargo test --workspace` (see dev-build.sh): no second feature set.
"$ROOT/scripts/dev-build.sh" -q
out="$(mktemp)"
"$TARGET/debug/invite-sandbox" --flavor netlify --port 0 >"$out" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -f "$out"' EXIT
for _ in $(seq 1 100); do
  grep -q '^member_password: ' "$out" && break
  sleep 0.05
done
val() { sed -n "s/^$1: //p" "$out"; }
export SANDBOX_URL SANDBOX_JWT_SECRET SANDBOX_OPERATOR_TOKEN SANDBOX_OWNER_EMAIL SANDBOX_OWNER_PASSWORD \
  SANDBOX_MEMBER_EMAIL SANDBOX_MEMBER_PASSWORD
SANDBOX_URL="$(val url)"
SANDBOX_JWT_SECRET="$(val jwt_secret)"
SANDBOX_OPERATOR_TOKEN="$(val operator_token)"
SANDBOX_OWNER_EMAIL="$(val owner_email)"
SANDBOX_OWNER_PASSWORD="$(val owner_password)"
SANDBOX_MEMBER_EMAIL="$(val member_email)"
SANDBOX_MEMBER_PASSWORD="$(val member_password)"
[[ -n "$SANDBOX_URL" ]] || { echo "invite-sandbox did not start:"; cat "$out"; exit 1; }
cd "$ROOT" && node --test tests/netlify-function/
