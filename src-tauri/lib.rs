//! The Tauri shell: thin commands over `invite-core`.
//!
//! - [`commands`]: what the web view calls; [`error`]: how failures reach it.
//! - [`state`]: what the commands share: the core's `Desk`, which does the work.
//! - [`send`]: the outbox commands, the desk's events to the web view, the demo sandbox.
//! - [`logging`]: the log file; [`notice`]: desktop notifications.
//! - [`desktop`]: single instance, window state, clipboard, Save dialogs, "Show in folder".
//! - [`updates`]: "Check for updates", "Install and restart", the quiet check at start.
//!
//! The workspace list lives in `settings.json`, read and written by the core
//! (`invite_core::desk::settings`), not by the store plugin: the plugin would read a damaged
//! file as empty and write that back, and could not share the file with the command-line tool.

pub mod commands;
pub mod desktop;
pub mod error;
pub mod files;
pub mod logging;
pub mod notice;
#[cfg(target_os = "linux")]
pub mod rendering;
pub mod royalti;
pub mod send;
pub mod state;
pub mod updates;

use std::sync::Arc;

use invite_core::desk::{Desk, DeskConfig};
use invite_core::secret::{probe_keychain, KeychainStatus, KeyringStore, SecretStore};
use tauri::{Emitter, Manager, Runtime};

use crate::state::{AppConfig, AppState, Paths};

/// Registers the plugins, the commands and the state set-up on `builder`. The app and the unit
/// tests (with `tauri::test::mock_builder()`) share it.
pub fn build<R: Runtime>(builder: tauri::Builder<R>, config: AppConfig) -> tauri::Builder<R> {
    builder
        .plugin(tauri_plugin_store::Builder::new().build())
        .manage(desktop::SavedFiles::default())
        .manage(desktop::FirstPaint::default())
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::use_session_store,
            commands::diagnostics,
            commands::list_workspaces,
            commands::workspace_details,
            commands::set_current_workspace,
            commands::rename_workspace,
            commands::remove_workspace,
            commands::edit_workspace,
            commands::edit_connection,
            commands::test_connection,
            commands::add_workspace,
            commands::check_covers,
            commands::workspace_forms,
            commands::netlify_function,
            commands::save_netlify_function,
            commands::parse_recipients,
            commands::parse_csv,
            commands::parsed_entries,
            commands::enqueue_parsed,
            commands::refresh_invitations,
            commands::query_invitations,
            commands::resend_invite,
            commands::cancel_invite,
            commands::invite_link,
            send::enqueue_invites,
            send::batch_status,
            send::batch_changes,
            send::stop_batch,
            send::retry_job,
            send::unfinished,
            send::history,
            send::export_history,
            send::start_demo,
            send::demo_mailbox,
            send::demo_accept,
            send::pause_workspace,
            send::resume_workspace,
            send::switch_to_links,
            send::update_secrets,
            send::outbox_notice,
            royalti::royalti_sign_in,
            royalti::royalti_add,
            desktop::copy_text,
            desktop::copy_invite_link,
            desktop::export_history_as,
            desktop::save_netlify_function_as,
            desktop::show_in_folder,
            desktop::page_painted,
            updates::check_update,
            updates::install_update,
        ])
        .setup(move |app| init_state(app.handle(), &config))
}

/// Builds the [`AppState`] (folders, log file, keychain probe, settings) and manages it. Runs in
/// the app's `setup`; tests call it directly on a mock app.
pub fn init_state<R: Runtime>(
    app: &tauri::AppHandle<R>,
    config: &AppConfig,
) -> Result<(), Box<dyn std::error::Error>> {
    let paths = resolve_paths(app, config)?;
    invite_core::desk::files::private_dir(&paths.data_dir)?;
    invite_core::desk::files::private_dir(&paths.log_dir)?;
    logging::init(&paths.log_dir);
    tracing::info!(version = env!("CARGO_PKG_VERSION"), "Invite Desk starting");
    #[cfg(target_os = "linux")]
    rendering::log_switches();
    // The keychain probe (a write, a read and a delete over D-Bus or the OS API) runs after the
    // page's first paint: see `probe_keychain_later`. Until it answers, the keychain is assumed.
    let secrets: Arc<dyn SecretStore> = match &config.secrets {
        Some(s) => s.clone(),
        None => Arc::new(KeyringStore::new()),
    };
    let desk = Desk::open(DeskConfig {
        data_dir: paths.data_dir.clone(),
        log_dir: Some(paths.log_dir.clone()),
        secrets,
        keychain: KeychainStatus::Available,
        known: logging::known().clone(),
        demo: Some(Arc::new(send::SandboxLauncher)),
        app_version: env!("CARGO_PKG_VERSION").to_string(),
    })?;
    for n in desk.notices() {
        tracing::warn!(kind = ?n.kind, "{}", n.message);
    }
    app.manage(AppState {
        config: config.clone(),
        paths,
        desk: desk.clone(),
    });
    send::init(app, &desk)?;
    updates::check_at_start(app, &desk);
    if config.secrets.is_none() {
        desk.keychain_probe_started()?;
        probe_keychain_later(app.clone(), desk);
    }
    Ok(())
}

/// The longest the keychain probe waits for the page's first paint (a page that failed to load
/// never reports one).
const PROBE_AFTER_PAINT_AT_MOST: std::time::Duration = std::time::Duration::from_secs(3);

/// Probes the keychain on its own thread once the page has painted its first screen
/// ([`desktop::FirstPaint`]), then settles the desk and tells the page (`keychain` event, the
/// same view as `app_info`'s).
fn probe_keychain_later<R: Runtime>(app: tauri::AppHandle<R>, desk: Desk) {
    let painted = app
        .try_state::<desktop::FirstPaint>()
        .map(|first| first.waiter());
    std::thread::spawn(move || {
        if let Some(painted) = painted {
            let _ = painted.recv_timeout(PROBE_AFTER_PAINT_AT_MOST);
        }
        match desk.keychain_probed(probe_keychain()) {
            Ok(Some(view)) => {
                let _ = app.emit("keychain", view);
            }
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, "could not settle the keychain's state"),
        }
    });
}

fn resolve_paths<R: Runtime>(
    app: &tauri::AppHandle<R>,
    config: &AppConfig,
) -> tauri::Result<Paths> {
    Ok(match &config.data_dir {
        Some(dir) => Paths {
            data_dir: dir.clone(),
            log_dir: dir.join("logs"),
        },
        None => Paths {
            data_dir: app.path().app_data_dir()?,
            log_dir: app.path().app_log_dir()?,
        },
    })
}

#[allow(clippy::expect_used)] // start-up: without a context there is no app to show an error in
pub fn run() {
    // First, while this is the only thread: the web process inherits the environment.
    #[cfg(target_os = "linux")]
    rendering::prefer_cpu_drawing_without_gpu();
    let config = AppConfig::from_env();
    let builder = build(desktop::plugins(tauri::Builder::default(), &config), config);
    #[cfg(target_os = "linux")]
    let builder = if under_automation() {
        builder.on_page_load(|webview, _| developer_extras(webview))
    } else {
        builder
    };
    let ran = builder.run(tauri::generate_context!());
    if ran.as_ref().is_err_and(desktop::handover_failed) {
        desktop::relaunch_after_failed_handover();
    }
    ran.expect("error while running Invite Desk");
}

/// Whether a WebDriver client drives this copy: `tauri-driver` starts the app with
/// `TAURI_WEBVIEW_AUTOMATION=true`, and only then does Tauri let the web view be automated
/// (tauri-runtime-wry reads the same variable). The end-to-end tests run the shipped release
/// binary this way (scripts/e2e-release.sh); the few test answers it enables (the Save dialog's,
/// no update check) add nothing to what a client that can drive the whole window already can do.
pub fn under_automation() -> bool {
    std::env::var("TAURI_WEBVIEW_AUTOMATION").as_deref() == Ok("true")
}

/// Under automation only: turns on the web view's developer extras, which wry sets only in debug
/// builds or with Tauri's `devtools` feature. WebKitWebDriver can't start a session on a release
/// build without them (the session start hangs).
#[cfg(target_os = "linux")]
fn developer_extras<R: Runtime>(webview: &tauri::Webview<R>) {
    let _ = webview.with_webview(|w| {
        use webkit2gtk::{SettingsExt, WebViewExt};
        if let Some(settings) = WebViewExt::settings(&w.inner()) {
            settings.set_enable_developer_extras(true);
        }
    });
}

#[cfg(test)]
mod tests;
