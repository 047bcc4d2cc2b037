//! What the commands share: how the app was started, and the [`Desk`] (the core's application
//! service, which holds everything else).

use std::path::PathBuf;
use std::sync::Arc;

use invite_core::desk::Desk;
use invite_core::secret::SecretStore;

pub use invite_core::desk::{KeychainView, NoKeychain};

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
    /// Settings, history database.
    pub data_dir: PathBuf,
    /// Rotating log files.
    pub log_dir: PathBuf,
}

/// The shared state behind every command.
#[derive(Debug)]
pub struct AppState {
    /// How the app was started.
    pub config: AppConfig,
    /// Where files go.
    pub paths: Paths,
    /// The application service.
    pub desk: Desk,
}
