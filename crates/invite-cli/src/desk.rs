//! What every command shares with the window: the data folder, its settings file, the keychain
//! and the outbox.
//!
//! The window (Tauri) keeps its files in `app_data_dir()`, which is `dirs::data_dir()` joined
//! with the bundle identifier; its keychain entries are under [`invite_core::secret::SERVICE`].
//! This module finds the same folder and the same service, so both front ends see one set of
//! workspaces, secrets and batches.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use invite_core::http::Http;
use invite_core::outbox::{EmailBudget, Outbox, ProviderSource};
use invite_core::provider::Provider;
use invite_core::secret::{KeyringStore, SecretStore};
use invite_core::workspace::{Workspace, WorkspaceList};
use serde_json::{Map, Value};

use crate::error::{CliError, CliResult};

/// The app's bundle identifier (`identifier` in tauri.conf.json): the name of its data folder.
/// A test checks the two agree.
pub const APP_IDENTIFIER: &str = "io.invitedesk.desktop";

/// The key of the workspace list in the settings file (the window's settings store key).
pub const WORKSPACES_KEY: &str = "workspaces";

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

/// `settings.json`, in the format of the window's settings store (a JSON object of keys).
///
/// Read fresh before each change and replaced in one rename, so a half-written file is never
/// seen; a file that can't be read is refused, never overwritten with an empty list.
#[derive(Debug, Clone)]
pub struct SettingsFile {
    path: PathBuf,
}

impl SettingsFile {
    /// The settings file in `data_dir`.
    pub fn new(data_dir: &Path) -> Self {
        Self {
            path: data_dir.join("settings.json"),
        }
    }

    fn read_map(&self) -> CliResult<Map<String, Value>> {
        let bytes = match std::fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Map::new()),
            Err(e) => return Err(invite_core::Error::storage(e).into()),
        };
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(_) => Err(invite_core::Error::storage(format!(
                "{} is not a settings file",
                self.path.display()
            ))
            .into()),
            Err(e) => Err(invite_core::Error::storage(format!(
                "{} can't be read: {e}",
                self.path.display()
            ))
            .into()),
        }
    }

    /// The workspace list.
    pub fn workspaces(&self) -> CliResult<WorkspaceList> {
        let map = self.read_map()?;
        Ok(WorkspaceList::from_json(
            map.get(WORKSPACES_KEY).cloned().unwrap_or(Value::Null),
        )?)
    }

    /// Changes the workspace list and saves it (other keys are kept as they are).
    pub fn edit_workspaces<T>(
        &self,
        f: impl FnOnce(&mut WorkspaceList) -> CliResult<T>,
    ) -> CliResult<T> {
        let mut map = self.read_map()?;
        let mut list =
            WorkspaceList::from_json(map.get(WORKSPACES_KEY).cloned().unwrap_or(Value::Null))?;
        let out = f(&mut list)?;
        map.insert(WORKSPACES_KEY.into(), list.to_json());
        self.write(&Value::Object(map))?;
        Ok(out)
    }

    /// Writes to a temporary file beside it, syncs, then renames over the old one.
    fn write(&self, value: &Value) -> CliResult<()> {
        let storage = |e: std::io::Error| CliError::from(invite_core::Error::storage(e));
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(storage)?;
        let bytes = serde_json::to_vec_pretty(value).map_err(invite_core::Error::storage)?;
        let tmp = dir.join(format!(
            ".settings.json.{}.tmp",
            uuid::Uuid::new_v4().simple()
        ));
        let written = (|| {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
            std::fs::rename(&tmp, &self.path)
        })();
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        written.map_err(storage)
    }
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
    let map: HashMap<String, String> = serde_json::from_str(seed)
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

/// The data folder, settings, keychain and HTTP client of one run.
#[derive(Debug, Clone)]
pub struct Desk {
    /// The data folder.
    pub data_dir: PathBuf,
    /// Its settings file.
    pub settings: SettingsFile,
    /// The keychain (or the test store).
    pub secrets: Arc<dyn SecretStore>,
    /// The one HTTP client.
    pub http: Http,
}

impl Desk {
    /// Opens the data folder (`data_dir`, or the window's own).
    pub fn open(data_dir: Option<PathBuf>) -> CliResult<Desk> {
        let data_dir = match data_dir {
            Some(d) => d,
            None => default_data_dir()?,
        };
        Ok(Desk {
            settings: SettingsFile::new(&data_dir),
            data_dir,
            secrets: secret_store()?,
            http: Http::new()?,
        })
    }

    /// The outbox the window uses.
    pub fn outbox(&self) -> CliResult<Outbox> {
        Ok(Outbox::open(&self.data_dir.join("outbox.sqlite3"))?)
    }

    /// The workspace named `name` (case-insensitive), or with that id.
    pub fn workspace(&self, name: &str) -> CliResult<Workspace> {
        find_workspace(&self.settings.workspaces()?, name)
    }

    /// The provider of `ws`, reading its secrets from the keychain when it calls.
    pub fn provider(&self, ws: &Workspace) -> CliResult<Arc<dyn Provider>> {
        Ok(invite_core::connect::provider_for(
            self.http.clone(),
            ws,
            self.secrets.clone(),
        )?)
    }
}

/// Looks a workspace up by id, then by name (any case).
pub fn find_workspace(list: &WorkspaceList, name: &str) -> CliResult<Workspace> {
    if let Some(ws) = list.get(name) {
        return Ok(ws.clone());
    }
    let wanted = name.trim().to_lowercase();
    let hits: Vec<&Workspace> = list
        .workspaces
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

/// A workspace and its provider, built once per run.
type Cached = (Workspace, Arc<dyn Provider>);

/// Gives the outbox's worker the provider of each workspace, from the settings file as it is
/// now (a workspace added in the window while this runs is found too).
#[derive(Debug)]
pub struct Source {
    desk: Desk,
    cache: Mutex<HashMap<String, Cached>>,
}

impl Source {
    /// Over `desk`.
    pub fn new(desk: Desk) -> Self {
        Self {
            desk,
            cache: Mutex::default(),
        }
    }

    fn workspace(&self, id: &str) -> Option<Workspace> {
        if let Some((ws, _)) = self.cache.lock().ok()?.get(id) {
            return Some(ws.clone());
        }
        self.desk.settings.workspaces().ok()?.get(id).cloned()
    }
}

impl ProviderSource for Source {
    fn provider(&self, workspace_id: &str) -> invite_core::Result<Arc<dyn Provider>> {
        if let Some((_, p)) = self
            .cache
            .lock()
            .map_err(|_| invite_core::Error::storage("lock poisoned"))?
            .get(workspace_id)
        {
            return Ok(p.clone());
        }
        let list = self
            .desk
            .settings
            .workspaces()
            .map_err(invite_core::Error::storage)?;
        let ws = list.get(workspace_id).cloned().ok_or_else(|| {
            invite_core::Error::UnknownWorkspace {
                id: workspace_id.to_string(),
            }
        })?;
        let p = invite_core::connect::provider_for(
            self.desk.http.clone(),
            &ws,
            self.desk.secrets.clone(),
        )?;
        if let Ok(mut c) = self.cache.lock() {
            c.insert(workspace_id.to_string(), (ws, p.clone()));
        }
        Ok(p)
    }

    fn concurrency(&self, workspace_id: &str) -> usize {
        self.workspace(workspace_id)
            .and_then(|w| w.options.concurrency)
            .map_or(4, |c| c as usize)
    }

    fn email_budget(&self, workspace_id: &str) -> Option<EmailBudget> {
        self.workspace(workspace_id)
            .and_then(|w| w.options.emails_per_hour)
            .map(EmailBudget::per_hour)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use invite_core::model::WorkspaceKind;
    use invite_core::workspace::WorkspaceOptions;

    fn ws(id: &str, name: &str) -> Workspace {
        Workspace {
            id: id.into(),
            name: name.into(),
            kind: WorkspaceKind::Supabase,
            base_url: "https://abcdefghijklmnopqrst.supabase.co".into(),
            options: WorkspaceOptions::default(),
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
        let mut list = WorkspaceList::default();
        list.add(ws("a1", "Acme")).unwrap();
        list.add(ws("b2", "Beta")).unwrap();
        list.add(ws("b3", "beta")).unwrap();
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

    #[test]
    fn settings_keep_other_keys_and_refuse_a_damaged_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        std::fs::write(&path, r#"{"theme":"dark"}"#).unwrap();
        let s = SettingsFile::new(dir.path());
        s.edit_workspaces(|l| Ok(l.add(ws("a1", "Acme"))?)).unwrap();
        let v: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(v["theme"], "dark");
        assert_eq!(v["workspaces"]["workspaces"][0]["name"], "Acme");
        assert_eq!(s.workspaces().unwrap().workspaces.len(), 1);

        std::fs::write(&path, b"{\"workspaces\": {\"vers").unwrap();
        assert!(s.workspaces().is_err());
        assert!(s.edit_workspaces(|_| Ok(())).is_err());
        assert_eq!(
            std::fs::read(&path).unwrap(),
            b"{\"workspaces\": {\"vers",
            "a damaged file is left as it was"
        );
    }
}
