//! Everything the commands share, managed by Tauri as one [`AppState`].

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use invite_core::http::Http;
use invite_core::model::Invite;
use invite_core::provider::Provider;
use invite_core::secret::{KeychainStatus, SecretStore, Sensitive, SessionStore};
use invite_core::workspace::{Workspace, WorkspaceList};

use crate::error::{CmdError, CmdResult};
use crate::settings::{SettingsFile, WORKSPACES_KEY};

/// How the app was started (from the environment in the app, explicit in tests).
#[derive(Debug, Clone, Default)]
pub struct AppConfig {
    /// Where the history database, settings and logs go; `None`: the OS's app folders.
    pub data_dir: Option<PathBuf>,
    /// `"dark"` or `"light"` forces a theme (`INVITE_DESK_THEME`), for screenshots and owners who want one.
    pub theme: Option<String>,
    /// Keep every IPC answer in the web view for the leak test (`INVITE_DESK_RECORD_IPC=1`).
    pub record_ipc: bool,
    /// Secrets go here instead of the OS keychain (tests).
    pub secrets: Option<Arc<dyn SecretStore>>,
}

impl AppConfig {
    /// Reads `INVITE_DESK_DATA_DIR`, `INVITE_DESK_THEME` and `INVITE_DESK_RECORD_IPC`.
    pub fn from_env() -> Self {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        Self {
            data_dir: var("INVITE_DESK_DATA_DIR").map(PathBuf::from),
            theme: var("INVITE_DESK_THEME").filter(|t| t == "dark" || t == "light"),
            record_ipc: var("INVITE_DESK_RECORD_IPC").is_some_and(|v| v == "1" || v == "true"),
            secrets: None,
        }
    }
}

/// Folders the app writes to.
#[derive(Debug, Clone)]
pub struct Paths {
    /// Settings store, history database.
    pub data_dir: PathBuf,
    /// Rotating log files.
    pub log_dir: PathBuf,
}

/// The secret store the app uses now: the OS keychain, or, after the owner chose "use for this
/// session only", memory. Providers hold this one handle, so the switch reaches them at once.
#[derive(Debug)]
pub struct AppSecrets {
    inner: RwLock<Arc<dyn SecretStore>>,
}

impl AppSecrets {
    /// Starts with `store`.
    pub fn new(store: Arc<dyn SecretStore>) -> Self {
        Self {
            inner: RwLock::new(store),
        }
    }

    fn current(&self) -> invite_core::Result<Arc<dyn SecretStore>> {
        self.inner
            .read()
            .map(|g| g.clone())
            .map_err(|e| invite_core::Error::storage(format!("lock poisoned: {e}")))
    }

    /// Switches to `store` (no secret is copied: the old store could not hold any).
    pub fn replace(&self, store: Arc<dyn SecretStore>) -> CmdResult<()> {
        *self
            .inner
            .write()
            .map_err(|e| CmdError::internal(format!("lock poisoned: {e}")))? = store;
        Ok(())
    }
}

impl SecretStore for AppSecrets {
    fn get(&self, workspace: &str, name: &str) -> invite_core::Result<Option<Sensitive<String>>> {
        self.current()?.get(workspace, name)
    }
    fn set(
        &self,
        workspace: &str,
        name: &str,
        value: &Sensitive<String>,
    ) -> invite_core::Result<()> {
        self.current()?.set(workspace, name, value)
    }
    fn delete(&self, workspace: &str, name: &str) -> invite_core::Result<()> {
        self.current()?.delete(workspace, name)
    }
}

/// Stands in for the keychain when there is none: every read, write and delete explains what
/// is missing. Never a silent fallback to a file, and never "deleted" when nothing was.
#[derive(Debug)]
pub struct NoKeychain {
    hint: String,
    detail: String,
}

impl NoKeychain {
    /// From the probe's answer.
    pub fn new(hint: String, detail: String) -> Self {
        Self { hint, detail }
    }

    fn refuse<T>(&self) -> invite_core::Result<T> {
        Err(invite_core::Error::KeychainUnavailable {
            hint: self.hint.clone(),
            detail: Some(self.detail.clone()),
        })
    }
}

impl SecretStore for NoKeychain {
    fn get(&self, _: &str, _: &str) -> invite_core::Result<Option<Sensitive<String>>> {
        self.refuse()
    }
    fn set(&self, _: &str, _: &str, _: &Sensitive<String>) -> invite_core::Result<()> {
        self.refuse()
    }
    fn delete(&self, _: &str, _: &str) -> invite_core::Result<()> {
        self.refuse()
    }
}

/// Where the secrets are kept, for the UI's banner.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeychainView {
    /// `available`, `unavailable` or `session` (the owner chose "this session only").
    pub status: &'static str,
    /// The plain fix when unavailable.
    pub hint: Option<String>,
    /// What the keychain said.
    pub detail: Option<String>,
}

/// The invitation list last fetched for a workspace: the Invitations screen pages through it
/// with `filter_invites`, and the Invite screen marks pasted addresses with it.
#[derive(Debug, Clone, Default)]
pub struct CachedInvites {
    /// Every invitation, as the server listed them.
    pub invites: Vec<Invite>,
    /// When they were fetched.
    pub fetched_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// The shared state behind every command.
pub struct AppState {
    /// How the app was started.
    pub config: AppConfig,
    /// Where files go.
    pub paths: Paths,
    /// The one HTTP client.
    pub http: Http,
    /// The settings file.
    pub settings: Box<dyn SettingsFile>,
    /// The workspace list (mirrors the settings file).
    pub workspaces: Mutex<WorkspaceList>,
    /// The secret store every provider reads from.
    pub secrets: Arc<AppSecrets>,
    /// What the keychain probe found at start, or `session` after the owner's choice.
    pub keychain: Mutex<KeychainView>,
    /// One provider per workspace, built on first use.
    pub providers: Mutex<HashMap<String, Arc<dyn Provider>>>,
    /// Invitation lists by workspace id.
    pub invites: Mutex<HashMap<String, CachedInvites>>,
    /// Why the workspace list could not be read at start (it is then not overwritten).
    pub load_error: Option<CmdError>,
    /// Connection tests that passed, by check id, until Save takes them (see
    /// [`crate::workspaces::Checked`]).
    pub checked: Mutex<HashMap<String, crate::workspaces::Checked>>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("paths", &self.paths)
            .finish_non_exhaustive()
    }
}

/// Locks a mutex, turning a poisoned lock into an error instead of a panic.
pub fn lock<T>(m: &Mutex<T>) -> CmdResult<MutexGuard<'_, T>> {
    m.lock()
        .map_err(|e| CmdError::internal(format!("lock poisoned: {e}")))
}

impl AppState {
    /// Builds the state: reads the workspace list from `settings`, and uses `secrets` (the
    /// keychain, or what the probe found instead).
    pub fn new(
        config: AppConfig,
        paths: Paths,
        settings: Box<dyn SettingsFile>,
        secrets: Arc<dyn SecretStore>,
        keychain: KeychainStatus,
    ) -> CmdResult<Self> {
        let http = Http::new()?;
        let (list, load_error) =
            match WorkspaceList::from_json(settings.get(WORKSPACES_KEY).unwrap_or_default()) {
                Ok(list) => (list, None),
                Err(e) => {
                    tracing::error!(error = %e, "the saved workspace list can't be read");
                    (WorkspaceList::default(), Some(CmdError::from(e)))
                }
            };
        let keychain = match keychain {
            KeychainStatus::Available => KeychainView {
                status: "available",
                hint: None,
                detail: None,
            },
            KeychainStatus::Unavailable { hint, detail } => KeychainView {
                status: "unavailable",
                hint: Some(hint),
                detail: Some(detail),
            },
        };
        Ok(Self {
            config,
            paths,
            http,
            settings,
            workspaces: Mutex::new(list),
            secrets: Arc::new(AppSecrets::new(secrets)),
            keychain: Mutex::new(keychain),
            providers: Mutex::new(HashMap::new()),
            invites: Mutex::new(HashMap::new()),
            load_error,
            checked: Mutex::new(HashMap::new()),
        })
    }

    /// Writes the workspace list to the settings file. Refused when the stored list could not
    /// be read at start, so a newer or damaged file is never overwritten by an empty list.
    pub fn save_workspaces(&self, list: &WorkspaceList) -> CmdResult<()> {
        if let Some(e) = &self.load_error {
            return Err(e.clone());
        }
        self.settings
            .set(WORKSPACES_KEY, list.to_json())
            .map_err(|e| invite_core::Error::storage(e).into())
    }

    /// Changes the workspace list and saves it; on a failed save the change is undone.
    pub fn edit_workspaces<T>(
        &self,
        f: impl FnOnce(&mut WorkspaceList) -> invite_core::Result<T>,
    ) -> CmdResult<T> {
        let mut list = lock(&self.workspaces)?;
        let mut draft = list.clone();
        let out = f(&mut draft)?;
        self.save_workspaces(&draft)?;
        *list = draft;
        Ok(out)
    }

    /// The workspace with this id.
    pub fn workspace(&self, id: &str) -> CmdResult<Workspace> {
        lock(&self.workspaces)?
            .get(id)
            .cloned()
            .ok_or_else(|| invite_core::Error::UnknownWorkspace { id: id.to_string() }.into())
    }

    /// The store providers read secrets from.
    pub fn secret_store(&self) -> Arc<dyn SecretStore> {
        self.secrets.clone()
    }

    /// The provider for a workspace (built once, then reused).
    pub fn provider(&self, id: &str) -> CmdResult<Arc<dyn Provider>> {
        if let Some(p) = lock(&self.providers)?.get(id) {
            return Ok(p.clone());
        }
        let ws = self.workspace(id)?;
        let p = invite_core::connect::provider_for(self.http.clone(), &ws, self.secret_store())?;
        lock(&self.providers)?.insert(id.to_string(), p.clone());
        Ok(p)
    }

    /// Forgets cached providers and lists of a workspace (after an edit or removal).
    pub fn forget(&self, id: &str) -> CmdResult<()> {
        lock(&self.providers)?.remove(id);
        lock(&self.invites)?.remove(id);
        Ok(())
    }

    /// True once the owner chose to keep secrets for this session only.
    pub fn session_only(&self) -> CmdResult<bool> {
        Ok(lock(&self.keychain)?.status == "session")
    }

    /// Switches to keeping secrets in memory for this session (the owner's explicit choice).
    pub fn use_session_store(&self) -> CmdResult<()> {
        self.secrets.replace(Arc::new(SessionStore::new()))?;
        let mut k = lock(&self.keychain)?;
        k.status = "session";
        lock(&self.providers)?.clear();
        Ok(())
    }
}
