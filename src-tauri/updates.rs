//! Updates in the window: the updater plugin (which installs), the owner's "Check for updates"
//! and "Install and restart", and one quiet check shortly after start in release builds.
//!
//! The core decides ([`invite_core::desk::Desk::check_for_update`] finds the newer version and
//! verifies its package with the release key; [`invite_core::desk::Desk::update_to_install`]
//! refuses while invitations are being sent). The plugin only installs the verified bytes, and
//! checks their signature once more with its own copy of the key. The web view needs none of
//! the plugin's permissions: everything goes through these two commands.

use std::time::Duration;

use invite_core::desk::{Desk, UpdateSource};
use invite_core::update::Available;
use tauri::plugin::TauriPlugin;
use tauri::{AppHandle, Emitter, Runtime, State};
use tauri_plugin_updater::UpdaterExt;

use crate::error::{CmdError, CmdResult};
use crate::state::AppState;

/// Debug builds only: the update manifest's address, used instead of the release server's. With
/// [`UPDATE_KEY_SEAM`] it lets the end-to-end test serve a release signed with a key it made;
/// the check at start then runs in the debug build too. Release builds never read either.
pub const UPDATE_URL_SEAM: &str = "INVITE_DESK_TEST_UPDATE_URL";
/// Debug builds only: the public key that goes with [`UPDATE_URL_SEAM`] (base64, as in
/// tauri.conf.json), for the check and for the plugin.
pub const UPDATE_KEY_SEAM: &str = "INVITE_DESK_TEST_UPDATE_KEY";

/// How long after start the automatic check waits: the window, the keychain probe and a resuming
/// batch go first.
const START_DELAY: Duration = Duration::from_secs(4);

/// The event that tells the window a newer version was found (payload: [`Available`]).
pub const UPDATE_AVAILABLE: &str = "update-available";

/// The updater plugin, with the key from `plugins.updater` (or, in a debug build, the seam's).
pub fn plugin<R: Runtime>() -> TauriPlugin<R, tauri_plugin_updater::Config> {
    let builder = tauri_plugin_updater::Builder::new();
    match seam() {
        Some((_, key)) => builder.pubkey(key),
        None => builder,
    }
    .build()
}

#[cfg(debug_assertions)]
fn seam() -> Option<(String, String)> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    Some((var(UPDATE_URL_SEAM)?, var(UPDATE_KEY_SEAM)?))
}

#[cfg(not(debug_assertions))]
fn seam() -> Option<(String, String)> {
    None
}

/// What this copy was installed from, with the updater plugin's names, so the core picks the
/// same package in the manifest as the plugin will install (`linux-x86_64-deb` for a .deb…).
fn installer() -> Option<&'static str> {
    use tauri::utils::config::BundleType;
    match tauri::utils::platform::bundle_type()? {
        BundleType::Deb => Some("deb"),
        BundleType::Rpm => Some("rpm"),
        BundleType::AppImage => Some("appimage"),
        BundleType::App => Some("app"),
        BundleType::Msi => Some("msi"),
        BundleType::Nsis => Some("nsis"),
        _ => None,
    }
}

/// The release server and key (`plugins.updater` in tauri.conf.json, or the debug seam).
fn source<R: Runtime>(app: &AppHandle<R>) -> CmdResult<UpdateSource> {
    let targets = invite_core::update::current_targets_for(installer());
    if let Some((url, pubkey)) = seam() {
        return Ok(UpdateSource {
            endpoints: vec![url],
            pubkey,
            targets,
        });
    }
    let config = app
        .config()
        .plugins
        .0
        .get("updater")
        .ok_or_else(|| CmdError::internal("no plugins.updater in the configuration"))?;
    Ok(UpdateSource::from_plugin_config(config, targets)?)
}

/// "Check for updates": the newer version (its package already downloaded and verified), or
/// `None` when this one is the newest.
#[tauri::command]
pub async fn check_update<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> CmdResult<Option<Available>> {
    let source = source(&app)?;
    Ok(state.desk.check_for_update(&source).await?)
}

/// "Install and restart": installs the update the last check verified, then restarts into it.
/// Refused while invitations are being sent (`update_waits`).
#[tauri::command]
pub async fn install_update<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> CmdResult<()> {
    let ready = state.desk.update_to_install()?;
    let update = app
        .updater()
        .and_then(|u| u.restore_update(ready.available.manifest.clone()))
        .map_err(install_error)?
        .ok_or_else(|| CmdError::invalid("Update", "this version is already installed"))?;
    // The plugin picks the package by the same rule as the core; if they ever disagree, install
    // nothing rather than bytes the core did not verify for this package.
    if update.download_url.as_str() != ready.available.package.url {
        return Err(CmdError::internal(format!(
            "the updater chose {} where the check verified {}",
            update.download_url, ready.available.package.url
        )));
    }
    let desk = state.desk.clone();
    // Installing runs the system's installer (and may wait for a password prompt on Linux):
    // off the async runtime.
    tauri::async_runtime::spawn_blocking(move || -> CmdResult<()> {
        // A batch may have started since the click.
        desk.update_to_install()?;
        tracing::info!(version = %update.version, "installing the update");
        update
            .install(ready.package.as_slice())
            .map_err(install_error)
    })
    .await
    .map_err(CmdError::internal)??;
    // Windows' installer has closed the app already; macOS and Linux restart into the new one,
    // and the outbox resumes there.
    app.restart()
}

fn install_error(e: tauri_plugin_updater::Error) -> CmdError {
    CmdError {
        kind: "internal".into(),
        message: "Invite Desk could not install the update; the version you have keeps working."
            .into(),
        detail: Some(e.to_string()),
    }
}

/// Checks once, a few seconds after start, and tells the window when there is a newer version.
/// Release builds only (and debug builds given the test seam), never while WebDriver drives the
/// app (the end-to-end tests) nor in a start-up benchmark run (`INVITE_DESK_BENCH=1`, which
/// measures the app at rest); a failure (offline…) is only logged: the owner did not ask.
pub fn check_at_start<R: Runtime>(app: &AppHandle<R>, desk: &Desk) {
    let wanted = if cfg!(debug_assertions) {
        seam().is_some()
    } else {
        !crate::under_automation() && std::env::var_os("INVITE_DESK_BENCH").is_none_or(|v| v != "1")
    };
    if !wanted {
        return;
    }
    let app = app.clone();
    let desk = desk.clone();
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(START_DELAY).await;
        let found = match source(&app) {
            Ok(source) => desk.check_for_update(&source).await.map_err(CmdError::from),
            Err(e) => Err(e),
        };
        match found {
            Ok(Some(update)) => {
                if let Err(e) = app.emit(UPDATE_AVAILABLE, &update) {
                    tracing::warn!(%e, "could not tell the window about the update");
                }
            }
            Ok(None) => {}
            Err(e) => {
                tracing::info!(kind = %e.kind, detail = ?e.detail, "no update check at start")
            }
        }
    });
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// The shipped configuration: the release server over https, a key the core can read.
    #[test]
    fn the_configured_source_is_the_projects_release_over_https() {
        let conf: serde_json::Value =
            serde_json::from_str(include_str!("../tauri.conf.json")).unwrap();
        let source = UpdateSource::from_plugin_config(
            &conf["plugins"]["updater"],
            invite_core::update::current_targets(),
        )
        .unwrap();
        assert_eq!(
            source.endpoints,
            ["https://github.com/invitedesk/invite-desk/releases/latest/download/latest.json"]
        );
        let repo = conf["bundle"]["homepage"].as_str().unwrap();
        assert!(source.endpoints[0].starts_with(repo), "{repo}");
        assert!(!source.pubkey.is_empty());
    }
}
