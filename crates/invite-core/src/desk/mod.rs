//! [`Desk`]: the application service. The window and the command-line tool are thin front
//! ends over it: they parse what the owner gave, call one method, and show the answer or the
//! error. Everything between (staging secrets, checking a connection before saving, caching
//! the invitation list, the outbox and its worker, the demo server, the settings file and its
//! repair) happens here, with no UI types.
//!
//! ```no_run
//! # async fn f() -> invite_core::Result<()> {
//! use std::sync::Arc;
//! use invite_core::desk::{Desk, DeskConfig};
//! use invite_core::secret::KeyringStore;
//!
//! let desk = Desk::open(DeskConfig::new("/path/to/data", Arc::new(KeyringStore::new())))?;
//! for w in desk.workspaces()?.workspaces {
//!     println!("{} ({:?})", w.name, w.kind());
//! }
//! # Ok(()) }
//! ```
//!
//! Files in the data folder (private to the user: see [`files`]): `settings.json` (the
//! workspace list, see [`settings`]), its last good copy `settings.json.bak`, and
//! `outbox.sqlite3` (the queue and the history). Both front ends may run at once on one folder.

pub mod demo;
pub mod files;
pub mod invitations;
pub mod paste;
pub mod secrets;
pub mod send;
pub mod settings;
pub mod updates;
pub mod workspaces;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use serde::Serialize;

use crate::diagnostics::KnownSecrets;
use crate::error::{Error, Result};
use crate::http::Http;
use crate::outbox::{Outbox, OutboxNotice, WorkerHandle};
use crate::provider::Provider;
use crate::secret::{KeychainStatus, SecretStore, SessionStore};
use crate::workspace::{Workspace, WorkspaceList};

pub use demo::{DemoLauncher, DemoMail, DemoMailbox, DemoServer};
pub use invitations::{InvitationQuery, InvitationView, ParsedView};
pub use paste::{InviteOptions, ParsedPage};
pub use secrets::{KeychainState, KeychainView, NoKeychain, SecretsIn, SwitchableSecrets};
pub use send::{
    BatchChangesView, BatchCounts, BatchStatus, DeskEvent, DeskEvents, HistoryFilter,
    HistoryPageView, HistoryRowView, JobErrorView, JobResult, JobView,
};
pub use settings::{NoticeKind, SettingsFile, SettingsNotice};
pub use updates::{ReadyUpdate, UpdateSource};
pub use workspaces::{
    Renewed, RoyaltiSignInView, Tested, WorkspaceDetails, WorkspaceDraft, WorkspaceListView,
};

/// The settings file's name in the data folder.
pub const SETTINGS_FILE: &str = "settings.json";
/// The outbox database's name in the data folder.
pub const OUTBOX_FILE: &str = "outbox.sqlite3";

/// How to open a [`Desk`].
#[derive(Debug, Clone)]
pub struct DeskConfig {
    /// The data folder (settings, outbox). Created private if missing.
    pub data_dir: PathBuf,
    /// Where the log files are, for the diagnostics text (`None`: no log).
    pub log_dir: Option<PathBuf>,
    /// Where secrets are kept (the OS keychain, or what the probe found instead).
    pub secrets: Arc<dyn SecretStore>,
    /// What the keychain probe found.
    pub keychain: KeychainStatus,
    /// Secrets this process has seen, removed from logs and diagnostics; share it with the log
    /// writer.
    pub known: KnownSecrets,
    /// Starts demo servers (the window); `None` where there are none (the command-line tool).
    pub demo: Option<Arc<dyn DemoLauncher>>,
    /// The front end's version, for the diagnostics.
    pub app_version: String,
}

impl DeskConfig {
    /// A desk on `data_dir` keeping secrets in `secrets` (keychain assumed available).
    pub fn new(data_dir: impl Into<PathBuf>, secrets: Arc<dyn SecretStore>) -> Self {
        Self {
            data_dir: data_dir.into(),
            log_dir: None,
            secrets,
            keychain: KeychainStatus::Available,
            known: KnownSecrets::new(),
            demo: None,
            app_version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

/// An error as front ends show it: the stable kind, the plain sentence, the server's words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorView {
    /// [`Error::kind`].
    pub kind: String,
    /// The plain sentence.
    pub message: String,
    /// The server's (or library's) own words.
    pub detail: Option<String>,
}

impl From<&Error> for ErrorView {
    fn from(e: &Error) -> Self {
        Self {
            kind: e.kind().to_string(),
            message: e.to_string(),
            detail: e.detail().map(str::to_string),
        }
    }
}

/// The application service. Cheap to clone (one shared state).
#[derive(Clone)]
pub struct Desk {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Desk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Desk")
            .field("data_dir", &self.inner.data_dir)
            .finish_non_exhaustive()
    }
}

struct Inner {
    data_dir: PathBuf,
    log_dir: Option<PathBuf>,
    app_version: String,
    http: Http,
    settings: SettingsFile,
    /// The list as last read or written (the settings file is the truth: see `reload`).
    list: Mutex<WorkspaceList>,
    /// Why the list could not be read at start (it is then never overwritten).
    load_error: Option<ErrorView>,
    secrets: Arc<SwitchableSecrets>,
    keychain: Mutex<KeychainView>,
    known: KnownSecrets,
    providers: Mutex<HashMap<String, Arc<dyn Provider>>>,
    invites: Mutex<HashMap<String, invitations::CachedInvites>>,
    checked: Mutex<HashMap<String, workspaces::Checked>>,
    royalti: Mutex<HashMap<String, workspaces::PendingSignIn>>,
    outbox: Outbox,
    /// What opening the outbox had to do (a damaged file set aside), or why it could not be
    /// used at all (then the outbox is an empty one in memory and nothing is sent).
    outbox_notice: Option<OutboxNotice>,
    /// Set when the outbox file could not be used: enqueueing is refused with this error.
    outbox_blocked: Option<OutboxBlocked>,
    /// Parse results kept for the window (see [`paste`]).
    parses: paste::Parses,
    worker: Mutex<Option<(WorkerHandle, tokio::task::JoinHandle<()>)>>,
    events: Mutex<Option<DeskEvents>>,
    demo: Option<Arc<dyn DemoLauncher>>,
    demos: tokio::sync::Mutex<HashMap<String, Box<dyn DemoServer>>>,
    /// The newer version the last update check found and verified (see [`updates`]).
    update: Mutex<Option<ReadyUpdate>>,
    /// Finished batches already announced on the desktop, by their final counts.
    notified: Mutex<std::collections::HashSet<String>>,
}

/// Locks a mutex, turning a poisoned lock into an error instead of a panic.
pub(crate) fn lock<T>(m: &Mutex<T>) -> Result<MutexGuard<'_, T>> {
    m.lock()
        .map_err(|e| Error::storage(format!("lock poisoned: {e}")))
}

impl Desk {
    /// Opens the desk on a data folder: makes the folder private, reads (and if need be
    /// repairs) the settings file, opens the outbox. Sending starts with [`Self::start_worker`].
    pub fn open(config: DeskConfig) -> Result<Desk> {
        files::private_dir(&config.data_dir)?;
        let settings = SettingsFile::new(config.data_dir.join(SETTINGS_FILE));
        let (list, load_error) = match settings.load() {
            Ok(list) => (list, None),
            Err(e) => {
                tracing::error!(error = %e, "the saved workspace list can't be read");
                (WorkspaceList::default(), Some(ErrorView::from(&e)))
            }
        };
        let outbox_path = config.data_dir.join(OUTBOX_FILE);
        // A damaged file is set aside (and the owner told); one the desk cannot use at all (a
        // newer version's) is left alone and the desk opens without sending, rather than not
        // at all, so the owner can read why.
        let (outbox, outbox_notice, outbox_blocked) = match Outbox::open_with_report(&outbox_path) {
            Ok(r) => {
                for suffix in ["", "-wal", "-shm", "-journal"] {
                    let mut p = outbox_path.clone().into_os_string();
                    p.push(suffix);
                    files::private_file(Path::new(&p))?;
                }
                // The outbox's folder of owner lock files (one per process working it).
                let mut owners = outbox_path.clone().into_os_string();
                owners.push("-owners");
                if Path::new(&owners).is_dir() {
                    files::private_dir(Path::new(&owners))?;
                }
                (r.outbox, r.notice, None)
            }
            Err(e) => {
                tracing::error!(error = %e, "the outbox could not be opened");
                let notice = OutboxNotice::unusable(&e, &outbox_path);
                (
                    Outbox::open_in_memory()?,
                    Some(notice),
                    Some(OutboxBlocked::from(&e)),
                )
            }
        };
        Ok(Desk {
            inner: Arc::new(Inner {
                data_dir: config.data_dir,
                log_dir: config.log_dir,
                app_version: config.app_version,
                http: Http::new()?,
                settings,
                list: Mutex::new(list),
                load_error,
                secrets: Arc::new(SwitchableSecrets::new(config.secrets)),
                keychain: Mutex::new(config.keychain.into()),
                known: config.known,
                providers: Mutex::default(),
                invites: Mutex::default(),
                checked: Mutex::default(),
                royalti: Mutex::default(),
                outbox,
                outbox_notice,
                outbox_blocked,
                parses: paste::Parses::default(),
                worker: Mutex::default(),
                events: Mutex::default(),
                demo: config.demo,
                demos: Default::default(),
                update: Mutex::default(),
                notified: Mutex::default(),
            }),
        })
    }

    /// The data folder.
    pub fn data_dir(&self) -> &Path {
        &self.inner.data_dir
    }

    /// The one HTTP client.
    pub fn http(&self) -> &Http {
        &self.inner.http
    }

    /// Why the saved workspace list could not be read at start, if it could not (it is then
    /// never written over).
    pub fn load_error(&self) -> Option<ErrorView> {
        self.inner.load_error.clone()
    }

    /// What the owner should hear about the settings file (repaired, from a newer version,
    /// workspaces that fail validation): one banner each.
    pub fn notices(&self) -> Vec<SettingsNotice> {
        self.inner.settings.notices()
    }

    /// What opening the outbox had to do at start (a damaged file set aside, or a file this
    /// version cannot use, which stops sending), for a banner; `None` when all was well.
    pub fn outbox_notice(&self) -> Option<OutboxNotice> {
        self.inner.outbox_notice.clone()
    }

    /// The error enqueueing answers while the outbox file cannot be used.
    pub(crate) fn outbox_blocked(&self) -> Option<Error> {
        self.inner.outbox_blocked.as_ref().map(OutboxBlocked::error)
    }

    /// The settings file (its paths, for support).
    pub fn settings_file(&self) -> &SettingsFile {
        &self.inner.settings
    }

    /// Reads the settings file again (the other front end may have changed it) and forgets
    /// cached providers of workspaces that changed.
    pub(crate) fn reload(&self) -> Result<WorkspaceList> {
        if self.inner.load_error.is_some() {
            return Ok(lock(&self.inner.list)?.clone());
        }
        let fresh = self.inner.settings.load()?;
        self.replace_list(fresh.clone())?;
        Ok(fresh)
    }

    fn replace_list(&self, fresh: WorkspaceList) -> Result<()> {
        let mut list = lock(&self.inner.list)?;
        let changed: Vec<String> = list
            .workspaces
            .iter()
            .filter(|old| fresh.get(&old.id) != Some(old))
            .map(|w| w.id.clone())
            .collect();
        *list = fresh;
        drop(list);
        let mut providers = lock(&self.inner.providers)?;
        for id in changed {
            providers.remove(&id);
        }
        Ok(())
    }

    /// Changes the workspace list and saves it (re-read first, written atomically); on any
    /// error nothing is saved. Refused when the saved list could not be read at start.
    pub fn edit_workspaces<T>(&self, f: impl FnOnce(&mut WorkspaceList) -> Result<T>) -> Result<T> {
        if let Some(e) = &self.inner.load_error {
            return Err(Error::storage(
                e.detail.clone().unwrap_or_else(|| e.message.clone()),
            ));
        }
        let (list, out) = self.inner.settings.modify(f)?;
        self.replace_list(list)?;
        Ok(out)
    }

    /// The workspace with this id (read again from the file when this process does not know
    /// it: the other front end may have just added it).
    pub fn workspace(&self, id: &str) -> Result<Workspace> {
        check_id(id)?;
        if let Some(w) = lock(&self.inner.list)?.get(id).cloned() {
            return Ok(w);
        }
        self.reload()?
            .get(id)
            .cloned()
            .ok_or_else(|| Error::UnknownWorkspace { id: id.to_string() })
    }

    /// The store providers read secrets from (the keychain, or this session's memory).
    pub fn secret_store(&self) -> Arc<dyn SecretStore> {
        self.inner.secrets.clone()
    }

    /// The provider for a workspace (built once, then reused).
    pub fn provider(&self, id: &str) -> Result<Arc<dyn Provider>> {
        if let Some(p) = lock(&self.inner.providers)?.get(id) {
            return Ok(p.clone());
        }
        let ws = self.workspace(id)?;
        let p = crate::connect::provider_for(self.inner.http.clone(), &ws, self.secret_store())?;
        lock(&self.inner.providers)?.insert(id.to_string(), p.clone());
        Ok(p)
    }

    /// Forgets the cached provider and list of a workspace (after an edit or removal).
    pub(crate) fn forget(&self, id: &str) -> Result<()> {
        lock(&self.inner.providers)?.remove(id);
        self.forget_invitations(id)
    }

    /// Where secrets are kept now.
    pub fn keychain(&self) -> Result<KeychainView> {
        Ok(lock(&self.inner.keychain)?.clone())
    }

    /// True once the owner chose to keep secrets for this session only.
    pub fn session_only(&self) -> Result<bool> {
        Ok(lock(&self.inner.keychain)?.status == KeychainState::Session)
    }

    /// The front end probes the keychain after its window is up (the probe can take seconds
    /// over D-Bus): until [`Self::keychain_probed`] the keychain is assumed and shown as
    /// being checked.
    pub fn keychain_probe_started(&self) -> Result<()> {
        let mut k = lock(&self.inner.keychain)?;
        if k.status == KeychainState::Available {
            k.status = KeychainState::Checking;
        }
        Ok(())
    }

    /// The probe's answer: an unusable keychain is switched for one that explains why on every
    /// use (and cached providers forgotten). Returns the new view, or `None` when the owner
    /// already chose "this session only" meanwhile (that choice stands).
    pub fn keychain_probed(&self, status: KeychainStatus) -> Result<Option<KeychainView>> {
        let mut k = lock(&self.inner.keychain)?;
        if k.status != KeychainState::Checking {
            return Ok(None);
        }
        if let KeychainStatus::Unavailable { hint, detail } = &status {
            tracing::warn!(%detail, "no usable keychain");
            self.inner
                .secrets
                .replace(Arc::new(NoKeychain::new(hint.clone(), detail.clone())))?;
            lock(&self.inner.providers)?.clear();
        }
        *k = status.into();
        Ok(Some(k.clone()))
    }

    /// "Use for this session only" (the owner's explicit choice when there is no keychain):
    /// secrets are kept in memory until the process ends.
    pub fn use_session_store(&self) -> Result<KeychainView> {
        self.inner.secrets.replace(Arc::new(SessionStore::new()))?;
        let mut k = lock(&self.inner.keychain)?;
        k.status = KeychainState::Session;
        lock(&self.inner.providers)?.clear();
        Ok(k.clone())
    }

    /// The support text for "Copy diagnostics": version, platform, keychain, workspaces (kind
    /// and host only) and the end of the newest log, with every known secret removed.
    pub fn diagnostics(&self) -> Result<String> {
        let k = self.keychain()?;
        let keychain = match k.status {
            KeychainState::Available | KeychainState::Checking => KeychainStatus::Available,
            KeychainState::Session => KeychainStatus::Unavailable {
                hint: "The owner chose to keep keys for this session only".into(),
                detail: k.detail.unwrap_or_default(),
            },
            KeychainState::Unavailable => KeychainStatus::Unavailable {
                hint: k.hint.unwrap_or_default(),
                detail: k.detail.unwrap_or_default(),
            },
        };
        let workspaces = lock(&self.inner.list)?.workspaces.clone();
        let os = format!("{} {}", std::env::consts::OS, std::env::consts::ARCH);
        let tail = self
            .inner
            .known
            .redact(&recent_log(self.inner.log_dir.as_deref()));
        Ok(crate::diagnostics::support_bundle(
            &self.inner.app_version,
            &os,
            &workspaces,
            &tail,
            &keychain,
        ))
    }
}

/// Why the outbox file could not be used, kept to refuse every enqueue with the same error.
#[derive(Debug, Clone)]
enum OutboxBlocked {
    TooNew { found: i64, known: i64 },
    Other(String),
}

impl From<&Error> for OutboxBlocked {
    fn from(e: &Error) -> Self {
        match e {
            Error::OutboxTooNew { found, known } => OutboxBlocked::TooNew {
                found: *found,
                known: *known,
            },
            other => OutboxBlocked::Other(other.detail().unwrap_or(&other.to_string()).to_string()),
        }
    }
}

impl OutboxBlocked {
    fn error(&self) -> Error {
        match self {
            OutboxBlocked::TooNew { found, known } => Error::OutboxTooNew {
                found: *found,
                known: *known,
            },
            OutboxBlocked::Other(detail) => Error::storage(detail.clone()),
        }
    }
}

/// Refuses what cannot be a workspace id before any lookup.
fn check_id(id: &str) -> Result<()> {
    if id.trim().is_empty() {
        return Err(Error::invalid_input("Workspace", "no workspace was chosen"));
    }
    if id.len() > 100 || id.chars().any(|c| c.is_control() || c == '/') {
        return Err(Error::invalid_input(
            "Workspace",
            "this is not a workspace id",
        ));
    }
    Ok(())
}

/// The last 200 lines of the newest log file.
fn recent_log(dir: Option<&Path>) -> String {
    let Some(dir) = dir else {
        return "(no log)\n".into();
    };
    let newest = std::fs::read_dir(dir)
        .ok()
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("invite-desk"))
        .max_by_key(|e| e.metadata().and_then(|m| m.modified()).ok());
    let Some(entry) = newest else {
        return "(no log yet)\n".into();
    };
    let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let tail = &lines[lines.len().saturating_sub(200)..];
    tail.join("\n") + "\n"
}
