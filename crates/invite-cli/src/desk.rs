//! Where the CLI finds the window's data: the data folder and the keychain. Everything else
//! (settings file, workspaces, outbox, invitations) is the core's [`Desk`], the same service
//! the window drives.
//!
//! The window (Tauri) keeps its files in `app_data_dir()`, which is `dirs::data_dir()` joined
//! with the bundle identifier; its keychain entries are under [`invite_core::secret::SERVICE`].
//! This module finds the same folder and the same service, so both front ends see one set of
//! workspaces, secrets and batches.

use std::path::PathBuf;
use std::sync::Arc;

use invite_core::desk::{Desk, DeskConfig};
use invite_core::secret::{KeyringStore, SecretStore};
use invite_core::workspace::Workspace;

use crate::error::{CliError, CliResult};

/// The app's bundle identifier (`identifier` in tauri.conf.json): the name of its data folder.
/// A test checks the two agree.
pub const APP_IDENTIFIER: &str = "io.invitedesk.desktop";

/// The window's data folder on this OS, as Tauri's `app_data_dir` finds it.
pub fn default_data_dir() -> CliResult<PathBuf> {
    dirs::data_dir()
        .map(|d| d.join(APP_IDENTIFIER))
        .ok_or_else(|| {
            CliError::usage(
                "This system has no data folder for Invite Desk; give one with --data-dir",
            )
        })
}

/// The secret store: the OS keychain under the app's service name.
///
/// Tests only: in debug builds (and with the `test-secrets` feature, which the benchmark turns
/// on), `INVITE_DESK_CLI_TEST_SECRETS` (a JSON object `{"<workspace id>/<name>": "<value>"}`)
/// replaces the keychain with memory seeded from it, so tests can run the binary where no
/// keychain exists. The shipped (release) build does not contain this code.
pub fn secret_store() -> CliResult<Arc<dyn SecretStore>> {
    #[cfg(any(debug_assertions, feature = "test-secrets"))]
    if let Ok(seed) = std::env::var("INVITE_DESK_CLI_TEST_SECRETS") {
        return test_secrets(&seed);
    }
    Ok(Arc::new(KeyringStore::new()))
}

#[cfg(any(debug_assertions, feature = "test-secrets"))]
fn test_secrets(seed: &str) -> CliResult<Arc<dyn SecretStore>> {
    use invite_core::secret::{MemoryStore, Sensitive};
    let map: std::collections::HashMap<String, String> = serde_json::from_str(seed)
        .map_err(|e| CliError::usage(format!("INVITE_DESK_CLI_TEST_SECRETS: {e}")))?;
    let store = MemoryStore::new();
    for (key, value) in map {
        let Some((ws, name)) = key.split_once('/') else {
            return Err(CliError::usage(
                "INVITE_DESK_CLI_TEST_SECRETS: keys are <workspace id>/<name>",
            ));
        };
        store.set(ws, name, &Sensitive::new(value))?;
    }
    Ok(Arc::new(store))
}

/// Opens the core's [`Desk`] on `data_dir` (or the window's own folder) with the keychain.
pub fn open(data_dir: Option<PathBuf>) -> CliResult<Desk> {
    let data_dir = match data_dir {
        Some(d) => d,
        None => default_data_dir()?,
    };
    let mut config = DeskConfig::new(data_dir, secret_store()?);
    config.app_version = env!("CARGO_PKG_VERSION").to_string();
    Ok(Desk::open(config)?)
}

/// The workspace named `name` (case-insensitive), or with that id.
pub fn workspace(desk: &Desk, name: &str) -> CliResult<Workspace> {
    find_workspace(&desk.workspaces()?.workspaces, name)
}

/// Looks a workspace up by id, then by name (any case).
pub fn find_workspace(list: &[Workspace], name: &str) -> CliResult<Workspace> {
    if let Some(ws) = list.iter().find(|w| w.id == name) {
        return Ok(ws.clone());
    }
    let wanted = name.trim().to_lowercase();
    let hits: Vec<&Workspace> = list
        .iter()
        .filter(|w| w.name.to_lowercase() == wanted)
        .collect();
    match hits.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(CliError::NoSuchWorkspace(name.to_string())),
        many => Err(CliError::AmbiguousWorkspace {
            name: name.to_string(),
            count: many.len(),
        }),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use invite_core::model::WorkspaceKind;
    use invite_core::workspace::WorkspaceConfig;
    use serde_json::Value;

    fn ws(id: &str, name: &str) -> Workspace {
        Workspace {
            id: id.into(),
            name: name.into(),
            base_url: "https://abcdefghijklmnopqrst.supabase.co".into(),
            config: WorkspaceConfig::default_for(WorkspaceKind::Supabase),
            demo: false,
        }
    }

    #[test]
    fn the_data_folder_is_named_after_the_apps_identifier() {
        let conf: Value = serde_json::from_str(include_str!("../../../tauri.conf.json")).unwrap();
        assert_eq!(conf["identifier"], APP_IDENTIFIER);
        if let Some(d) = dirs::data_dir() {
            assert_eq!(default_data_dir().unwrap(), d.join(APP_IDENTIFIER));
        }
    }

    #[test]
    fn the_keychain_service_is_the_windows() {
        let conf: Value = serde_json::from_str(include_str!("../../../tauri.conf.json")).unwrap();
        let id = conf["identifier"].as_str().unwrap();
        let want = if cfg!(debug_assertions) {
            format!("{id}.dev")
        } else {
            id.to_string()
        };
        assert_eq!(KeyringStore::new().service(), want);
    }

    #[test]
    fn workspaces_are_found_by_id_or_name_in_any_case() {
        let list = [ws("a1", "Acme"), ws("b2", "Beta"), ws("b3", "beta")];
        assert_eq!(find_workspace(&list, "ACME").unwrap().id, "a1");
        assert_eq!(find_workspace(&list, "b3").unwrap().id, "b3");
        assert!(matches!(
            find_workspace(&list, "Beta"),
            Err(CliError::AmbiguousWorkspace { count: 2, .. })
        ));
        assert!(matches!(
            find_workspace(&list, "Gamma"),
            Err(CliError::NoSuchWorkspace(_))
        ));
    }
}
