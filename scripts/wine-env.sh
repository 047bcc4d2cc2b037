# Sourced by the Windows scripts: a private Wine prefix under target/ (never the owner's ~/.wine),
# quiet, without the Mono/Gecko install prompts, and cargo's runner for the Windows target.
wine_bin=$(command -v wine64 || command -v wine || echo /usr/lib/wine/wine64)
wineserver_bin=$(command -v wineserver || command -v wineserver64 || echo /usr/lib/wine/wineserver64)
export WINEPREFIX="${WINEPREFIX:-$PWD/target/wine}"
export WINEDEBUG="${WINEDEBUG:--all}"
export WINEDLLOVERRIDES="${WINEDLLOVERRIDES:-mscoree,mshtml=}"
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER="$wine_bin"
if [ ! -f "$WINEPREFIX/system.reg" ]; then
  mkdir -p "$WINEPREFIX"
  echo "==> Creating the Wine prefix $WINEPREFIX" >&2
  "$wine_bin" wineboot --init >/dev/null 2>&1 || true
  # wineboot returns before the registry is written: wait for the prefix's wineserver to finish.
  "$wineserver_bin" -w || true
fi
# Wine 8 (Debian 12's) has no bcryptprimitives.dll, where Rust's standard library (1.78+) takes
# its random bytes (ProcessPrng): every Rust program would stop before main(). Wine 9+ and
# Windows 8+ have it; for older Wine, a 20-line stand-in built with MinGW goes into this prefix.
sys32="$WINEPREFIX/drive_c/windows/system32"
if [ ! -f "$sys32/bcryptprimitives.dll" ]; then
  echo "==> This Wine lacks bcryptprimitives.dll (ProcessPrng): adding a stand-in to $WINEPREFIX" >&2
  x86_64-w64-mingw32-gcc -shared -O2 -s -o "$sys32/bcryptprimitives.dll" scripts/wine/bcryptprimitives.c -lbcrypt
fi
