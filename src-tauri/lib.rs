//! The Tauri shell: thin commands over `invite-core`.
//!
//! - [`commands`]: what the web view calls; [`error`]: how failures reach it.
//! - [`state`]: what the commands share; [`settings`]: the settings file.
//! - [`workspaces`], [`invitations`]: the steps between a form and the core.
//! - [`logging`]: the log file and the diagnostics text; [`notice`]: desktop notifications.

pub mod commands;
pub mod desktop;
pub mod error;
pub mod files;
pub mod invitations;
pub mod logging;
pub mod notice;
pub mod paste;
pub mod royalti;
pub mod send;
pub mod settings;
pub mod state;
pub mod workspaces;

use std::sync::Arc;

use invite_core::secret::{probe_keychain, KeychainStatus, KeyringStore, SecretStore};
use tauri::{Emitter, Manager, Runtime};
use tauri_plugin_store::StoreExt;

use crate::state::{AppConfig, AppState, NoKeychain, Paths};

/// Registers the plugins, the commands and the state set-up on `builder`. The app and the unit
/// tests (with `tauri::test::mock_builder()`) share it.
pub fn build<R: Runtime>(builder: tauri::Builder<R>, config: AppConfig) -> tauri::Builder<R> {
    builder
        .plugin(tauri_plugin_store::Builder::new().build())
        .manage(desktop::SavedFiles::default())
        .manage(paste::Parses::default())
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
            commands::netlify_function,
            commands::save_netlify_function,
            commands::parse_recipients,
            commands::parse_csv,
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
            paste::parsed_entries,
            paste::enqueue_parsed,
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
    std::fs::create_dir_all(&paths.data_dir)?;
    logging::init(&paths.log_dir);
    tracing::info!(version = env!("CARGO_PKG_VERSION"), "Invite Desk starting");
    // The keychain probe (a write, a read and a delete over D-Bus or the OS API) runs after the
    // window is up: see `probe_keychain_later`. Until it answers, the keychain is assumed.
    let (secrets, keychain): (Arc<dyn SecretStore>, KeychainStatus) = match &config.secrets {
        Some(s) => (s.clone(), KeychainStatus::Available),
        None => (Arc::new(KeyringStore::new()), KeychainStatus::Available),
    };
    let store = app.store(paths.data_dir.join("settings.json"))?;
    let state = AppState::new(
        config.clone(),
        paths,
        Box::new(StoreHandle(store)),
        secrets,
        keychain,
    )
    .map_err(|e| format!("{}: {}", e.message, e.detail.unwrap_or_default()))?;
    if config.secrets.is_none() {
        if let Ok(mut k) = state::lock(&state.keychain) {
            k.status = "checking";
        }
    }
    app.manage(state);
    app.manage(royalti::RoyaltiSignIns::default());
    send::init(app)?;
    if config.secrets.is_none() {
        probe_keychain_later(app.clone());
    }
    Ok(())
}

/// Probes the keychain on its own thread, so the page paints without waiting for it, then
/// settles the state and tells the page (`keychain` event, the same view as `app_info`'s).
fn probe_keychain_later<R: Runtime>(app: tauri::AppHandle<R>) {
    std::thread::spawn(move || {
        let status = probe_keychain();
        let state = app.state::<AppState>();
        let Ok(mut k) = state::lock(&state.keychain) else {
            return;
        };
        // The owner may already have chosen "this session only": that choice stands.
        if k.status != "checking" {
            return;
        }
        *k = match status {
            KeychainStatus::Available => state::KeychainView {
                status: "available",
                hint: None,
                detail: None,
            },
            KeychainStatus::Unavailable { hint, detail } => {
                tracing::warn!(%detail, "no usable keychain");
                if let Err(e) = state
                    .secrets
                    .replace(Arc::new(NoKeychain::new(hint.clone(), detail.clone())))
                {
                    tracing::error!(error = %e, "could not switch away from the keychain");
                }
                if let Ok(mut p) = state::lock(&state.providers) {
                    p.clear();
                }
                state::KeychainView {
                    status: "unavailable",
                    hint: Some(hint),
                    detail: Some(detail),
                }
            }
        };
        let view = k.clone();
        drop(k);
        let _ = app.emit("keychain", view);
    });
}

/// The store plugin hands out an `Arc<Store>`; the settings trait is implemented on the store.
struct StoreHandle<R: Runtime>(Arc<tauri_plugin_store::Store<R>>);

impl<R: Runtime> settings::SettingsFile for StoreHandle<R> {
    fn get(&self, key: &str) -> Option<serde_json::Value> {
        settings::SettingsFile::get(&*self.0, key)
    }
    fn set(&self, key: &str, value: serde_json::Value) -> Result<(), String> {
        settings::SettingsFile::set(&*self.0, key, value)
    }
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
    let config = AppConfig::from_env();
    let builder = build(desktop::plugins(tauri::Builder::default(), &config), config);
    #[cfg(all(feature = "e2e-automation", target_os = "linux"))]
    let builder = builder.on_page_load(|webview, _| e2e_automation(webview));
    builder
        .run(tauri::generate_context!())
        .expect("error while running Invite Desk");
}

/// Test builds only (`e2e-automation`): turns on the web view's developer extras, which wry sets
/// only in debug builds or with Tauri's `devtools` feature, so that WebDriver can drive a
/// release build (scripts/e2e-release.sh).
#[cfg(all(feature = "e2e-automation", target_os = "linux"))]
fn e2e_automation<R: Runtime>(webview: &tauri::Webview<R>) {
    let _ = webview.with_webview(|w| {
        use webkit2gtk::{SettingsExt, WebViewExt};
        if let Some(settings) = WebViewExt::settings(&w.inner()) {
            settings.set_enable_developer_extras(true);
        }
    });
}

#[cfg(test)]
mod tests;
