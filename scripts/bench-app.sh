#!/usr/bin/env bash
# Start-up benchmark: Invite Desk's release build against a minimal Tauri 2 app built in the same
# run (generated under target/bench-app/, not committed), each started RUNS times under Xvfb.
#
#   time to first paint  launch → the page's first frame with its content, as the page reports it
#                        (two animation frames after the first screen is built; both apps post
#                        Date.now() to a `page_painted` command that prints it when INVITE_DESK_BENCH=1)
#   the page's marks     from launch: the web view starts loading the page (navigation), its first
#                        frame with any content (first contentful paint, the Paint Timing API),
#                        its script starts, its first screen is built; as each page reports them
#   idle memory          PSS summed over the app and every process it started (WebKit's web and
#                        network processes), /proc/PID/smaps_rollup, 3 s after the paint
#
# Prints both, the medians and the ratios. Targets: first paint within 1.15x, memory within 1.1x.
# These are a first start (no workspace: the empty screen). A returning owner's start (a Supabase
# workspace saved, against the sandbox: the first screen is Invite) is timed beside them.
# A third app, the minimal one serving Invite Desk's own page, splits the gap between what the
# page costs in WebKit and what the app's Rust side adds.
# Usage: scripts/bench-app.sh [RUNS]   (default 7)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-7}
ROOT=$PWD
MIN=$ROOT/target/bench-app/minimal

echo "==> building Invite Desk (release, front end embedded)"
scripts/release-build.sh

echo "==> generating and building the minimal Tauri 2 app in $MIN"
mkdir -p "$MIN/src" "$MIN/ui" "$MIN/icons"
cp icons/32x32.png icons/128x128.png icons/icon.png "$MIN/icons/"
# Same lock file: the same versions of Tauri and WebKit bindings, and most artifacts are reused.
cp Cargo.lock "$MIN/Cargo.lock"
RELEASE_OPT=$(awk '/^\[profile.release\]/{f=1; next} /^\[/{f=0} f && $1 == "opt-level" {print $3}' Cargo.toml)
TAURI_VERSION=$(awk '/^name = "tauri"$/{getline; gsub(/"/,"",$3); print $3; exit}' Cargo.lock)
cat > "$MIN/Cargo.toml" <<EOF
[package]
name = "minimal-tauri"
version = "0.1.0"
edition = "2021"

[workspace]

[build-dependencies]
tauri-build = { version = "2", features = [] }

[dependencies]
tauri = { version = "=$TAURI_VERSION", features = [] }
serde = { version = "1", features = ["derive"] }

[features]
custom-protocol = ["tauri/custom-protocol"]

# The app's own release profile (Cargo.toml): the comparison is of the code, not of the
# compiler settings, and the dependencies' artifacts are shared.
[profile.release]
strip = "symbols"
opt-level = ${RELEASE_OPT:-3}
EOF
cat > "$MIN/build.rs" <<'EOF'
fn main() {
    tauri_build::build()
}
EOF
cat > "$MIN/src/main.rs" <<'EOF'
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct PageMarks {
    navigation: Option<f64>,
    first_contentful_paint: Option<f64>,
    script: Option<f64>,
    built: Option<f64>,
}

#[tauri::command]
fn page_painted(at: f64, marks: Option<PageMarks>) {
    println!("PAINTED {at:.0}");
    if let Some(m) = marks {
        let ms = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| format!("{v:.0}"));
        println!(
            "MARKS navigation={} first_contentful_paint={} script={} built={}",
            ms(m.navigation),
            ms(m.first_contentful_paint),
            ms(m.script),
            ms(m.built)
        );
    }
}

fn main() {
    tauri::Builder::default()
        .invoke_handler(tauri::generate_handler![page_painted])
        .run(tauri::generate_context!())
        .unwrap_or_else(|e| eprintln!("{e}"));
}
EOF
cat > "$MIN/ui/index.html" <<'EOF'
<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Minimal</title></head>
<body>
  <h1>Hello</h1>
  <p>A minimal Tauri 2 page.</p>
  <script>
    // The same report and marks as Invite Desk's main.js.
    const script = performance.timeOrigin + performance.now();
    const built = script;
    requestAnimationFrame(() => requestAnimationFrame(() => {
      const fcp = performance.getEntriesByName('first-contentful-paint')[0];
      window.__TAURI__.core.invoke('page_painted', { at: Date.now(), marks: {
        navigation: performance.timeOrigin,
        firstContentfulPaint: fcp ? performance.timeOrigin + fcp.startTime : null,
        script, built,
      } });
    }));
  </script>
</body>
</html>
EOF
cat > "$MIN/tauri.conf.json" <<'EOF'
{
  "$schema": "https://schema.tauri.app/config/2",
  "productName": "Minimal",
  "version": "0.1.0",
  "identifier": "io.invitedesk.bench.minimal",
  "build": { "frontendDist": "ui" },
  "app": {
    "withGlobalTauri": true,
    "windows": [{ "label": "main", "title": "Minimal", "width": 1100, "height": 760, "center": true }],
    "security": {
      "csp": null,
      "capabilities": [{ "identifier": "main", "windows": ["main"], "permissions": ["core:default"] }]
    }
  },
  "bundle": { "active": false, "icon": ["icons/32x32.png", "icons/128x128.png", "icons/icon.png"] }
}
EOF
(cd "$MIN" && CARGO_TARGET_DIR="$ROOT/target" cargo build --release --features custom-protocol)

# The third app tells the page's share from the shell's: the minimal app serving Invite Desk's
# own page (ui/, unchanged). Its commands are missing there, so the page shows its error banners,
# but it loads, builds and paints the same modules, styles and first screen.
SHELL_DIR=$ROOT/target/bench-app/shell
rm -rf "$SHELL_DIR"
mkdir -p "$SHELL_DIR"
cp -r "$MIN/src" "$MIN/icons" "$MIN/build.rs" "$MIN/Cargo.lock" "$SHELL_DIR/"
sed 's/^name = "minimal-tauri"/name = "minimal-shell"/' "$MIN/Cargo.toml" >"$SHELL_DIR/Cargo.toml"
sed 's/"identifier": "io.invitedesk.bench.minimal"/"identifier": "io.invitedesk.bench.shell"/' "$MIN/tauri.conf.json" >"$SHELL_DIR/tauri.conf.json"
cp -r "$ROOT/ui" "$SHELL_DIR/ui"
(cd "$SHELL_DIR" && CARGO_TARGET_DIR="$ROOT/target" cargo build --release --features custom-protocol)

APP_BIN=$ROOT/target/release/invite-desk
CLI_BIN=$ROOT/target/release/invite-desk-cli
SANDBOX_BIN=$ROOT/target/release/invite-sandbox
MIN_BIN=$ROOT/target/release/minimal-tauri
SHELL_BIN=$ROOT/target/release/minimal-shell
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

# One run: start the app under the current X display, wait for PAINTED, wait 3 s, read PSS of
# the whole process tree, stop it. Prints "paint_ms pss_kib navigation fcp script built" (ms
# from launch; "-" for a mark the page did not give).
cat > "$OUT/one.sh" <<'EOF'
#!/usr/bin/env bash
set -euo pipefail
bin=$1; log=$2
tree() { # the pid and every descendant
  local p=$1; echo "$p"
  for c in $(cat /proc/"$p"/task/*/children 2>/dev/null); do tree "$c"; done
}
start=$(date +%s%3N)
INVITE_DESK_BENCH=1 "$bin" >"$log" 2>&1 &
pid=$!
for _ in $(seq 1 400); do
  grep -q '^PAINTED ' "$log" 2>/dev/null && break
  sleep 0.025
done
painted=$(grep -m1 '^PAINTED ' "$log" | awk '{print $2}')
if [ -z "$painted" ]; then echo "no paint reported; log:" >&2; cat "$log" >&2; kill "$pid"; exit 1; fi
sleep 3
pss=0
for p in $(tree "$pid"); do
  k=$(awk '/^Pss:/{print $2}' /proc/"$p"/smaps_rollup 2>/dev/null || echo 0)
  pss=$((pss + ${k:-0}))
done
kill "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
marks=""
for m in navigation first_contentful_paint script built; do
  v=$(grep -m1 '^MARKS ' "$log" | tr ' ' '\n' | awk -F= -v m="$m" '$1 == m {print $2}')
  case "$v" in ''|-) marks="$marks -" ;; *) marks="$marks $((v - start))" ;; esac
done
echo "$((painted - start)) $pss$marks"
EOF
chmod +x "$OUT/one.sh"

# The app's own test for a usable GPU render node (src-tauri/rendering.rs), unless the
# variable is set already.
gpu_usable() {
  local n
  for n in /dev/dri/renderD*; do [ -r "$n" ] && [ -w "$n" ] && return 0; done
  return 1
}
CPU_PAINT=0
if [ -z "${WEBKIT_SKIA_ENABLE_CPU_RENDERING:-}" ] && ! gpu_usable; then CPU_PAINT=1; fi

# Both apps get a fresh HOME (no settings, no window state) and a private session bus with an
# unlocked keyring, as a first start on a desktop; runs alternate so drift hits both alike.
cat > "$OUT/all.sh" <<EOF
#!/usr/bin/env bash
set -euo pipefail
echo -n pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null
# The returning owner: a workspace on the sandbox, added as an owner would from the command line
# (its key in the keychain). The sandbox keeps answering: the app lists invitations after its paint.
"$SANDBOX_BIN" --flavor supabase --port 0 >"$OUT/sandbox.log" 2>&1 &
sandbox=\$!
trap 'kill \$sandbox 2>/dev/null || true' EXIT
for _ in \$(seq 1 100); do grep -q '^secret_key: ' "$OUT/sandbox.log" && break; sleep 0.05; done
url=\$(awk '\$1 == "url:" {print \$2}' "$OUT/sandbox.log")
awk '\$1 == "secret_key:" {print \$2}' "$OUT/sandbox.log" |
  HOME="$OUT/home-returning" "$CLI_BIN" workspaces add --kind supabase --name Bench --url "\$url" --secret-stdin >/dev/null
# A warm-up of each (disk cache, fontconfig cache), not counted.
"$OUT/one.sh" "$APP_BIN" "$OUT/warm-app.log" >/dev/null
"$OUT/one.sh" "$MIN_BIN" "$OUT/warm-min.log" >/dev/null
"$OUT/one.sh" "$SHELL_BIN" "$OUT/warm-shell.log" >/dev/null
HOME="$OUT/home-returning" "$OUT/one.sh" "$APP_BIN" "$OUT/warm-ret.log" >/dev/null
for i in \$(seq 1 $RUNS); do
  echo "app \$("$OUT/one.sh" "$APP_BIN" "$OUT/app-\$i.log")"
  echo "min \$("$OUT/one.sh" "$MIN_BIN" "$OUT/min-\$i.log")"
  echo "shell \$("$OUT/one.sh" "$SHELL_BIN" "$OUT/shell-\$i.log")"
  echo "ret \$(HOME="$OUT/home-returning" "$OUT/one.sh" "$APP_BIN" "$OUT/ret-\$i.log")"
  # Without a usable GPU, Invite Desk has Skia paint on the CPU (src-tauri/rendering.rs); the
  # minimal app run with the same switch shows how much of the gap that switch alone closes.
  if [ "$CPU_PAINT" = 1 ]; then
    echo "mincpu \$(WEBKIT_SKIA_ENABLE_CPU_RENDERING=1 "$OUT/one.sh" "$MIN_BIN" "$OUT/mincpu-\$i.log")"
  fi
done
EOF
chmod +x "$OUT/all.sh"
echo "==> $RUNS runs of each under Xvfb"
HOME=$OUT/home
mkdir -p "$HOME" "$OUT/home-returning"
HOME=$HOME xvfb-run -a -s "-screen 0 1400x1000x24" dbus-run-session -- "$OUT/all.sh" | tee "$OUT/results"

python3 - "$OUT/results" <<'EOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
def col(who, i): return [int(r[i]) for r in rows if r[0] == who and len(r) > i and r[i] != "-"]
pa, pm = col("app", 1), col("min", 1)
ma, mm = col("app", 2), col("min", 2)
med = statistics.median
print()
print(f"first paint (ms)   Invite Desk {med(pa):7.0f}  minimal {med(pm):7.0f}  ratio {med(pa)/med(pm):.2f}  (target <= 1.15)")
print(f"idle PSS (MiB)     Invite Desk {med(ma)/1024:7.1f}  minimal {med(mm)/1024:7.1f}  ratio {med(ma)/med(mm):.2f}  (target <= 1.10)")
ps, ms = col("shell", 1), col("shell", 2)
print(f"the page's share: the minimal app serving Invite Desk's own page paints at {med(ps):.0f} ms "
      f"({med(ps)/med(pm):.2f}x the minimal) with {med(ms)/1024:.1f} MiB ({med(ms)/med(mm):.2f}x); "
      f"Invite Desk against it: {med(pa)/med(ps):.2f}x, {med(ma)/med(ms):.2f}x")
pr = col("ret", 1)
if pr:
    print(f"a returning owner (a workspace saved; the first screen is Invite): first paint {med(pr):.0f} ms, "
          f"ratio {med(pr)/med(pm):.2f} to the minimal app")
pc, mc = col("mincpu", 1), col("mincpu", 2)
if pc:
    print(f"without a GPU, Invite Desk has Skia paint on the CPU; the minimal app with the same switch paints at "
          f"{med(pc):.0f} ms with {med(mc)/1024:.1f} MiB; Invite Desk against it: {med(pa)/med(pc):.2f}x, {med(ma)/med(mc):.2f}x")
print()
print("the page's marks, ms from launch (medians):")
print(f"{'':12s}{'navigation':>12s}{'first paint':>13s}{'script':>9s}{'built':>8s}{'painted':>9s}   (first contentful paint; the page's script runs; its first screen is built; that screen painted)")
for who, name in (("app", "Invite Desk"), ("ret", "returning"), ("min", "minimal"), ("shell", "min+our page"), ("mincpu", "minimal+cpu")):
    cells = []
    for i in (3, 4, 5, 6, 1):
        c = col(who, i)
        cells.append(f"{med(c):.0f}" if c else "-")
    print(f"{name:12s}{cells[0]:>12s}{cells[1]:>13s}{cells[2]:>9s}{cells[3]:>8s}{cells[4]:>9s}")
fa, fm = col("app", 4), col("min", 4)
if fa and fm:
    print(f"first contentful paint: Invite Desk {med(fa):.0f} ms, minimal {med(fm):.0f} ms, ratio {med(fa)/med(fm):.2f}")
print(f"runs: {len(pa)} each; all paint ms app={pa} min={pm} shell={ps}")
EOF
