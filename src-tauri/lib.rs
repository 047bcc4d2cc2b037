//! The Tauri shell: thin commands over `invite-core`.
//!
//! - [`commands`]: what the web view calls; [`error`]: how failures reach it.
//! - [`state`]: what the commands share; [`settings`]: the settings file.
//! - [`workspaces`], [`invitations`]: the steps between a form and the core.
//! - [`logging`]: the log file and the diagnostics text; [`notice`]: desktop notifications.

pub mod commands;
pub mod error;
pub mod files;
pub mod invitations;
pub mod logging;
pub mod notice;
pub mod royalti;
pub mod send;
pub mod settings;
pub mod state;
pub mod workspaces;

use std::sync::Arc;

use invite_core::secret::{probe_keychain, KeychainStatus, KeyringStore, SecretStore};
use tauri::{Manager, Runtime};
use tauri_plugin_store::StoreExt;

use crate::state::{AppConfig, AppState, NoKeychain, Paths};

/// Registers the plugins, the commands and the state set-up on `builder`. The app and the unit
/// tests (with `tauri::test::mock_builder()`) share it.
pub fn build<R: Runtime>(builder: tauri::Builder<R>, config: AppConfig) -> tauri::Builder<R> {
    builder
        .plugin(tauri_plugin_store::Builder::new().build())
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
            royalti::royalti_sign_in,
            royalti::royalti_add,
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
    let (secrets, keychain): (Arc<dyn SecretStore>, KeychainStatus) = match &config.secrets {
        Some(s) => (s.clone(), KeychainStatus::Available),
        None => match probe_keychain() {
            KeychainStatus::Available => (Arc::new(KeyringStore::new()), KeychainStatus::Available),
            KeychainStatus::Unavailable { hint, detail } => {
                tracing::warn!(%detail, "no usable keychain");
                (
                    Arc::new(NoKeychain::new(hint.clone(), detail.clone())),
                    KeychainStatus::Unavailable { hint, detail },
                )
            }
        },
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
    app.manage(state);
    app.manage(royalti::RoyaltiSignIns::default());
    send::init(app)?;
    Ok(())
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
    let builder = build(tauri::Builder::default(), AppConfig::from_env());
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
