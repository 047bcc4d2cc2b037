//! The run: the environment every flow shares, the app wrapper that keeps its output for the leak
//! check, and the flows in order.

use std::path::PathBuf;
use std::sync::atomic::AtomicU32;
use std::sync::Arc;
use std::time::Instant;

use crate::driver::{Ctx, Res, Shots};
use crate::{flows, notifications, updates};

/// Where the workspace lives (e2e/..).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default()
}

/// Everything a flow needs.
#[derive(Debug)]
pub struct Env {
    /// What tauri-driver launches: a wrapper around the app binary that keeps its stdout and
    /// stderr under HOME (`app-output/`), where the leak check reads them.
    pub app: PathBuf,
    /// The app binary the wrapper runs (`exec`s): what its process is, for memory figures.
    pub binary: PathBuf,
    /// When the run began: files under /tmp and `$XDG_RUNTIME_DIR` written since are checked.
    pub started: std::time::SystemTime,
    /// The keychain service the app under test uses (the release build's differs).
    pub keychain_service: String,
    pub shots: Shots,
    pub home: PathBuf,
    /// What the app showed as desktop notifications (a server on the test's session bus).
    pub notifications: notifications::Notifications,
}

impl Env {
    /// A fresh data folder for one app session, inside HOME so the leak check sees it.
    pub fn data_dir(&self, name: &str) -> Res<PathBuf> {
        let d = self.home.join("invite-desk-e2e").join(name);
        if d.exists() {
            std::fs::remove_dir_all(&d).ctx("clearing an old data folder")?;
        }
        std::fs::create_dir_all(&d).ctx("creating the data folder")?;
        Ok(d)
    }
}

/// Runs the flows named on the command line and exits non-zero when one fails.
pub async fn main() {
    let started = Instant::now();
    match run().await {
        Ok(n) => println!(
            "e2e: {n} flows passed in {:.1} s",
            started.elapsed().as_secs_f64()
        ),
        Err(e) => {
            eprintln!("e2e FAILED: {e}");
            app_log_tail();
            std::process::exit(1);
        }
    }
}

/// Prints the end of the newest app log of the run: what the app did around a failure, for a
/// CI run whose files are gone afterwards. (The leak check holds these logs free of secrets.)
fn app_log_tail() {
    let Ok(home) = std::env::var("HOME") else {
        return;
    };
    let newest = std::fs::read_dir(PathBuf::from(home).join("invite-desk-e2e"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|d| std::fs::read_dir(d.path().join("logs")).ok())
        .flatten()
        .flatten()
        .filter_map(|f| Some((f.metadata().ok()?.modified().ok()?, f.path())))
        .max();
    if let Some((_, path)) = newest {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        eprintln!("the end of {}:", path.display());
        for l in &lines[lines.len().saturating_sub(30)..] {
            eprintln!("  {l}");
        }
    }
}

/// Writes a wrapper that runs `app` with its stdout and stderr appended to files under
/// `home/app-output/` (stderr is also passed on, for failures), and returns the wrapper's path.
fn capture_output(app: &std::path::Path, home: &std::path::Path) -> Res<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let dir = home.join("app-output");
    std::fs::create_dir_all(&dir).ctx("creating app-output")?;
    let quote =
        |p: &std::path::Path| format!("'{}'", p.display().to_string().replace('\'', "'\\''"));
    let script = format!(
        "#!/bin/bash\n# The app under test, its output kept for the leak check.\n\
         exec {app} \"$@\" > >(tee -a {out} >/dev/null) 2> >(tee -a {err} >&2)\n",
        app = quote(app),
        out = quote(&dir.join("stdout.log")),
        err = quote(&dir.join("stderr.log")),
    );
    let wrapper = dir.join("invite-desk");
    std::fs::write(&wrapper, script).ctx("writing the app wrapper")?;
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755))
        .ctx("making the app wrapper executable")?;
    Ok(wrapper)
}

async fn run() -> Res<usize> {
    let app = std::env::var("APP")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root().join("target/debug/invite-desk"));
    let app = app.canonicalize().ctx(&format!(
        "the app binary {} (build it first)",
        app.display()
    ))?;
    let shots_dir = std::env::var("E2E_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root().join("target/e2e-screenshots"));
    std::fs::create_dir_all(&shots_dir).ctx("creating the screenshot folder")?;
    for entry in std::fs::read_dir(&shots_dir)
        .ctx("listing screenshots")?
        .flatten()
    {
        if entry.path().extension().is_some_and(|e| e == "png") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    let home = PathBuf::from(std::env::var("HOME").ctx("HOME")?);
    let started = std::time::SystemTime::now();
    let binary = app.clone();
    let app = capture_output(&app, &home)?;
    // A native Save dialog can't be driven through WebDriver: the debug build answers it with
    // this folder (src-tauri/desktop.rs, SAVE_DIALOG_SEAM). The apps inherit it via tauri-driver.
    let saved = home.join("Saved");
    std::fs::create_dir_all(&saved).ctx("creating the Save dialog's folder")?;
    std::env::set_var("INVITE_DESK_TEST_SAVE_DIR", &saved);
    let env = Env {
        app,
        binary,
        started,
        keychain_service: std::env::var("E2E_KEYCHAIN_SERVICE")
            .unwrap_or_else(|_| "io.invitedesk.desktop.dev".into()),
        shots: Shots {
            dir: shots_dir,
            counter: Arc::new(AtomicU32::new(0)),
        },
        home,
        notifications: notifications::serve()?,
    };

    let wanted: Vec<String> = std::env::args().skip(1).collect();
    let all = [
        "first-screen",
        "dark",
        "no-keychain",
        "demo",
        "netlify",
        "royalti",
        "desktop",
        "updates",
    ];
    // Benchmarks run only when named.
    let benches = ["bench-links"];
    let flows: Vec<&str> = if wanted.is_empty() {
        all.to_vec()
    } else {
        all.iter()
            .chain(benches.iter())
            .copied()
            .filter(|f| wanted.iter().any(|w| w == f))
            .collect()
    };
    if flows.is_empty() {
        return Err(format!("no such flow; choose from {all:?}"));
    }
    for f in &flows {
        let t = Instant::now();
        println!("flow {f}");
        // A flow that hangs fails alone, in bounded time, and names itself; its drivers are
        // dropped (killed) with it. The longest takes about a minute on a quiet machine.
        let limit = if f.starts_with("bench") { 1800 } else { 600 };
        let flow = async {
            match *f {
                "first-screen" => flows::first_screen(&env).await,
                "dark" => flows::dark(&env).await,
                "no-keychain" => flows::no_keychain(&env).await,
                "demo" => flows::demo(&env).await,
                "netlify" => flows::netlify(&env).await,
                "royalti" => flows::royalti(&env).await,
                "desktop" => flows::desktop(&env).await,
                "updates" => updates::updates(&env).await,
                "bench-links" => flows::bench_links(&env).await,
                _ => Ok(()),
            }
        };
        tokio::time::timeout(std::time::Duration::from_secs(limit), flow)
            .await
            .unwrap_or_else(|_| Err(format!("did not finish in {limit} s")))
            .map_err(|e| format!("flow {f}: {e}"))?;
        println!("  ok ({:.1} s)", t.elapsed().as_secs_f64());
    }
    Ok(flows.len())
}
