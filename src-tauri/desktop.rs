//! Desktop manners: one running copy, the window where the owner left it, the clipboard written
//! from Rust, native Save dialogs, "Show in folder", and the updater (see [`crate::updates`]).
//!
//! Everything here goes through Rust APIs of the plugins, so the web view needs no plugin
//! permission at all (the capability keeps only the event listener).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use invite_core::desk::HistoryFilter;
use invite_core::model::InviteRef;
use tauri::{AppHandle, Manager, Runtime, State, WindowEvent};
use tauri_plugin_clipboard_manager::ClipboardExt;
use tauri_plugin_dialog::DialogExt;
use tauri_plugin_opener::OpenerExt;
use tauri_plugin_window_state::{AppHandleExt, StateFlags};

use crate::error::{CmdError, CmdResult};
use crate::state::{AppConfig, AppState};

/// The main window's label (tauri.conf.json).
const MAIN: &str = "main";

/// Byte-order mark written in front of every CSV export: without it Excel reads UTF-8 as the
/// local code page and "José" becomes "JosÃ©".
pub const UTF8_BOM: &str = "\u{FEFF}";

/// Test runs only: a folder that answers every Save dialog with `<folder>/<suggested name>`.
/// A native dialog can't be driven through WebDriver, so the end-to-end test uses this seam. Read
/// by debug builds, and by a release build only while WebDriver drives it
/// ([`crate::under_automation`]).
pub const SAVE_DIALOG_SEAM: &str = "INVITE_DESK_TEST_SAVE_DIR";

/// Adds the desktop plugins. Single instance comes first, as its documentation asks, so a second
/// copy hands over and exits before anything else starts (no second writer on the outbox).
pub fn plugins<R: Runtime>(builder: tauri::Builder<R>, config: &AppConfig) -> tauri::Builder<R> {
    // With a data folder of its own (tests, portable use) the window state lives beside the
    // settings, so one test's window size never leaks into another's.
    let window_state = match &config.data_dir {
        Some(dir) => tauri_plugin_window_state::Builder::new()
            .with_filename(dir.join("window-state.json").to_string_lossy()),
        None => tauri_plugin_window_state::Builder::new(),
    };
    let mut single = tauri_plugin_single_instance::Builder::new().callback(|app, _argv, _cwd| {
        tracing::info!("second launch: bringing the window to the front");
        focus_main(app);
    });
    // What must not run twice is one outbox: with a data folder of its own (tests, portable
    // use) a copy is single per folder. The D-Bus name is Linux's lock; other systems use the
    // identifier, and there the folder override is a test-only setting anyway.
    if let Some(dir) = &config.data_dir {
        single = single.dbus_id(format!(
            "io.invitedesk.desktop.d{:016x}",
            folder_hash(&dir.to_string_lossy())
        ));
    }
    builder
        .plugin(single.build())
        .plugin(window_state.with_state_flags(remembered()).build())
        .plugin(save_window_state_when_idle())
        .plugin(tauri_plugin_clipboard_manager::init())
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_opener::init())
        .plugin(crate::updates::plugin())
}

/// Set on a copy started again by [`relaunch_after_failed_handover`], so it tries only once.
const RELAUNCHED: &str = "INVITE_DESK_RELAUNCHED";

/// Whether the app failed to start because the single-instance plugin could not hand this launch
/// over to the copy holding the lock. That copy was closing: it still held the lock (on Linux, its
/// D-Bus name) when this one asked, and left without answering. Seen when the app is opened again
/// the moment it was quit.
pub fn handover_failed(error: &tauri::Error) -> bool {
    matches!(error, tauri::Error::PluginInitialization(plugin, _) if plugin == "single-instance")
}

/// Starts this program again, once, half a second after a failed hand-over
/// ([`handover_failed`]): by then the closing copy is gone and the new one runs, or a live copy
/// holds the lock and the new one hands over to it and exits, as a second launch should. On Unix
/// the process replaces itself (`exec`), so whoever started it (a launcher, a test driver) keeps
/// the same process. Returns only when it did not relaunch: already tried, or the start failed.
pub fn relaunch_after_failed_handover() {
    if std::env::var_os(RELAUNCHED).is_some() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    eprintln!("Invite Desk: the copy that was open was closing; starting again");
    std::thread::sleep(Duration::from_millis(500));
    let mut cmd = std::process::Command::new(exe);
    cmd.args(std::env::args_os().skip(1)).env(RELAUNCHED, "1");
    #[cfg(unix)]
    {
        let e = std::os::unix::process::CommandExt::exec(&mut cmd);
        eprintln!("Invite Desk: could not start again: {e}");
    }
    #[cfg(not(unix))]
    match cmd.spawn() {
        Ok(_) => std::process::exit(0),
        Err(e) => eprintln!("Invite Desk: could not start again: {e}"),
    }
}

/// What is remembered of the window: where it was, how big, and whether maximised.
fn remembered() -> StateFlags {
    StateFlags::SIZE | StateFlags::POSITION | StateFlags::MAXIMIZED
}

/// FNV-1a: stable across runs and Rust versions (std's hasher is not), so two copies started on
/// one folder agree on the name.
fn folder_hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Un-minimises, shows and focuses the main window.
pub fn focus_main<R: Runtime>(app: &AppHandle<R>) {
    if let Some(w) = app.get_webview_window(MAIN) {
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
    }
}

/// Saves the window's size and position half a second after it last moved or changed size, not
/// only at a clean exit: a killed process or a logout would otherwise forget it.
fn save_window_state_when_idle<R: Runtime>() -> tauri::plugin::TauriPlugin<R> {
    tauri::plugin::Builder::new("window-state-when-idle")
        .on_window_ready(|window| {
            let generation = Arc::new(AtomicU64::new(0));
            let handle = window.app_handle().clone();
            window.on_window_event(move |event| {
                if !matches!(event, WindowEvent::Moved(_) | WindowEvent::Resized(_)) {
                    return;
                }
                let mine = generation.fetch_add(1, Ordering::SeqCst) + 1;
                let generation = generation.clone();
                let handle = handle.clone();
                tauri::async_runtime::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    if generation.load(Ordering::SeqCst) == mine {
                        if let Err(e) = handle.save_window_state(remembered()) {
                            tracing::warn!(%e, "could not save the window's size and position");
                        }
                    }
                });
            });
        })
        .build()
}

/// The page's first frame with its content was drawn at `at` (ms since the epoch, the page's
/// clock). Logged; with `INVITE_DESK_BENCH=1` also printed, with the page's own milestones, for
/// the start-up benchmark (scripts/bench-app.sh), which compares them with the launch time.
#[tauri::command]
pub fn page_painted(at: f64, marks: Option<PageMarks>, first: State<'_, FirstPaint>) {
    first.painted();
    tracing::info!(at, ?marks, "page painted");
    if std::env::var_os("INVITE_DESK_BENCH").is_some_and(|v| v == "1") {
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
}

/// Milestones of the page's start, in ms since the epoch (the page's clock), as the web view
/// reports them: where the time to the first screen goes.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageMarks {
    /// The web view started loading the page.
    navigation: Option<f64>,
    /// The first frame with any text or image (the Paint Timing API).
    first_contentful_paint: Option<f64>,
    /// The page's script began to run.
    script: Option<f64>,
    /// The first screen was built, two frames before `at`.
    built: Option<f64>,
}

/// Told when the page has painted its first screen. Start-up work that the page doesn't need
/// first waits for it: the keychain probe, run beside the page's loading, delayed the first paint
/// by about 150 ms (a write, a read and a delete over D-Bus; on a fresh session it also starts the
/// Secret Service), and made the page's first calls wait.
#[derive(Debug, Default)]
pub struct FirstPaint(Mutex<Vec<std::sync::mpsc::Sender<()>>>);

impl FirstPaint {
    /// Gets a message at the first paint (none if the page never reports one: wait with a
    /// timeout).
    pub fn waiter(&self) -> std::sync::mpsc::Receiver<()> {
        let (tx, rx) = std::sync::mpsc::channel();
        if let Ok(mut v) = self.0.lock() {
            v.push(tx);
        }
        rx
    }

    /// Tells every waiter; later paints tell nobody.
    pub fn painted(&self) {
        if let Ok(mut v) = self.0.lock() {
            for tx in v.drain(..) {
                let _ = tx.send(());
            }
        }
    }
}

/// Files this run saved for the owner: "Show in folder" opens only these, so the page can't ask
/// the file manager to open anything else.
#[derive(Debug, Default)]
pub struct SavedFiles(Mutex<Vec<PathBuf>>);

impl SavedFiles {
    fn add(&self, path: &Path) {
        if let Ok(mut v) = self.0.lock() {
            v.push(path.to_path_buf());
        }
    }
    fn contains(&self, path: &Path) -> bool {
        self.0
            .lock()
            .map(|v| v.iter().any(|p| p == path))
            .unwrap_or(false)
    }
}

/// Longest text the page may put on the clipboard (a diagnostics text is a few KiB).
const MAX_CLIPBOARD: usize = 1 << 20;

/// Puts `text` on the system clipboard.
#[tauri::command(async)]
pub fn copy_text<R: Runtime>(app: AppHandle<R>, text: String) -> CmdResult<()> {
    if text.len() > MAX_CLIPBOARD {
        return Err(CmdError::invalid("Text", "too long to copy"));
    }
    write_clipboard(&app, &text)
}

/// Asks the service for an invitation's link and puts it on the clipboard. The copy happens here,
/// after the network answer: WebKit on macOS refuses a clipboard write that is not directly in
/// the click, and the link never has to pass through the page.
#[tauri::command]
pub async fn copy_invite_link<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    workspace_id: String,
    invite: InviteRef,
) -> CmdResult<()> {
    let link = crate::commands::invite_link(state, workspace_id, invite).await?;
    write_clipboard(&app, &link)
}

fn write_clipboard<R: Runtime>(app: &AppHandle<R>, text: &str) -> CmdResult<()> {
    app.clipboard().write_text(text).map_err(|e| CmdError {
        kind: "internal".into(),
        message: "Invite Desk could not reach the clipboard.".into(),
        detail: Some(e.to_string()),
    })
}

/// A file chosen in the Save dialog and written.
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Saved {
    /// Full path, for the toast.
    pub path: String,
    /// File name alone.
    pub name: String,
}

/// Exports the history matching `filter` as CSV (UTF-8 with a BOM) to a file the owner picks in
/// the native Save dialog, opened on the Downloads folder with a dated name. `None` when the
/// owner cancelled.
#[tauri::command]
pub async fn export_history_as<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    filter: Option<HistoryFilter>,
) -> CmdResult<Option<Saved>> {
    let name = format!(
        "invite-desk-history-{}.csv",
        chrono::Local::now().format("%Y-%m-%d")
    );
    let Some(path) = ask_save_path(&app, &name, "CSV", "csv").await? else {
        return Ok(None);
    };
    let csv = state.desk.history_csv(&filter.unwrap_or_default())?;
    let bytes = [UTF8_BOM.as_bytes(), csv.as_bytes()].concat();
    write_saved(&app, &path, &bytes).map(Some)
}

/// Saves the Invite Desk Netlify Function where the owner picks (Downloads by default).
#[tauri::command]
pub async fn save_netlify_function_as<R: Runtime>(app: AppHandle<R>) -> CmdResult<Option<Saved>> {
    let Some(path) = ask_save_path(&app, "invite-desk.mjs", "JavaScript module", "mjs").await?
    else {
        return Ok(None);
    };
    write_saved(&app, &path, crate::files::NETLIFY_FUNCTION.as_bytes()).map(Some)
}

/// Opens the file manager on the folder of a file this run saved, with the file selected.
#[tauri::command]
pub async fn show_in_folder<R: Runtime>(
    app: AppHandle<R>,
    saved: State<'_, SavedFiles>,
    path: String,
) -> CmdResult<()> {
    let path = PathBuf::from(path);
    if !saved.contains(&path) {
        return Err(CmdError::invalid(
            "File",
            "only a file Invite Desk saved can be shown",
        ));
    }
    app.opener()
        .reveal_item_in_dir(&path)
        .map_err(|e| CmdError {
            kind: "internal".into(),
            message: "Invite Desk could not open the folder.".into(),
            detail: Some(e.to_string()),
        })
}

fn write_saved<R: Runtime>(app: &AppHandle<R>, path: &Path, bytes: &[u8]) -> CmdResult<Saved> {
    std::fs::write(path, bytes).map_err(|e| CmdError::from(invite_core::Error::storage(e)))?;
    app.state::<SavedFiles>().add(path);
    tracing::info!(file = %path.display(), "saved a file for the owner");
    Ok(Saved {
        path: path.display().to_string(),
        name: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
    })
}

/// The native Save dialog on the Downloads folder with `name` filled in; `None` when cancelled.
async fn ask_save_path<R: Runtime>(
    app: &AppHandle<R>,
    name: &str,
    filter_label: &str,
    ext: &str,
) -> CmdResult<Option<PathBuf>> {
    let dir = crate::files::downloads(app)?;
    if let Some(answer) = seam_answer(name) {
        tracing::info!(dir = %dir.display(), name, "save dialog answered by the test seam");
        return Ok(Some(answer));
    }
    let (tx, rx) = tokio::sync::oneshot::channel();
    let mut dialog = app
        .dialog()
        .file()
        .set_directory(&dir)
        .set_file_name(name)
        .add_filter(filter_label, &[ext]);
    if let Some(w) = app.get_webview_window(MAIN) {
        dialog = dialog.set_parent(&w);
    }
    dialog.save_file(move |picked| {
        let _ = tx.send(picked);
    });
    let picked = rx.await.map_err(CmdError::internal)?;
    match picked {
        None => Ok(None),
        Some(p) => p.into_path().map(Some).map_err(CmdError::internal),
    }
}

fn seam_answer(name: &str) -> Option<PathBuf> {
    if !cfg!(debug_assertions) && !crate::under_automation() {
        return None;
    }
    std::env::var_os(SAVE_DIALOG_SEAM)
        .filter(|v| !v.is_empty())
        .map(|dir| PathBuf::from(dir).join(name))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn only_saved_files_can_be_shown() {
        let saved = SavedFiles::default();
        saved.add(Path::new("/home/a/Downloads/x.csv"));
        assert!(saved.contains(Path::new("/home/a/Downloads/x.csv")));
        assert!(!saved.contains(Path::new("/etc/passwd")));
    }

    #[test]
    fn one_folder_one_name() {
        assert_eq!(folder_hash("/a/b"), folder_hash("/a/b"));
        assert_ne!(folder_hash("/a/b"), folder_hash("/a/c"));
        // The FNV-1a reference value: the name must not change between versions.
        assert_eq!(folder_hash("a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn work_waiting_for_the_first_paint_hears_of_it_once() {
        let first = FirstPaint::default();
        let early = first.waiter();
        let other = first.waiter();
        assert!(early.try_recv().is_err(), "told before any paint");
        first.painted();
        assert!(early.try_recv().is_ok());
        assert!(other.try_recv().is_ok());
        first.painted(); // a reload paints again: nobody is told twice
        assert!(early.try_recv().is_err());
        // A page that never paints: the waiter gives up at its timeout.
        let never = FirstPaint::default();
        let late = never.waiter();
        let t = std::time::Instant::now();
        assert!(late.recv_timeout(Duration::from_millis(50)).is_err());
        assert!(t.elapsed() >= Duration::from_millis(50));
    }

    #[test]
    fn the_bom_is_the_utf8_one() {
        assert_eq!(UTF8_BOM.as_bytes(), [0xEF, 0xBB, 0xBF]);
    }
}
