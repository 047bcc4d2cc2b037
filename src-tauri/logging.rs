//! Logs: `tracing` to a daily-rotated file in the app's log folder (7 files kept), and the
//! "Copy diagnostics" text. Secrets never reach a log: they are `Sensitive` everywhere, and
//! the file writer redacts anything that looks like a key or token on the way out.

use std::path::Path;
use std::sync::OnceLock;

use invite_core::diagnostics::{KnownSecrets, RedactingWriter};
use invite_core::secret::{KeychainStatus, Sensitive};
use tracing_subscriber::EnvFilter;

use crate::error::CmdResult;
use crate::state::{lock, AppState};

/// Secrets seen by this process (typed in a form, made by the demo): the log writer removes
/// them even if some library were to print one.
static KNOWN: OnceLock<KnownSecrets> = OnceLock::new();

fn known() -> &'static KnownSecrets {
    KNOWN.get_or_init(KnownSecrets::new)
}

/// Tells the log writer about a secret so it never reaches the file.
pub fn forget_in_logs(secret: &Sensitive<String>) {
    known().add(secret);
}

/// Starts logging to `dir`. A second call (tests build several apps) leaves the first in place.
pub fn init(dir: &Path) {
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let Ok(appender) = tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix("invite-desk")
        .filename_suffix("log")
        .max_log_files(7)
        .build(dir)
    else {
        return;
    };
    let filter =
        EnvFilter::try_from_env("INVITE_DESK_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::sync::Mutex::new(RedactingWriter::new(
            appender,
            known().clone(),
        )))
        .try_init();
}

/// The support text (`invite_core::diagnostics::support_bundle`): version, platform, keychain,
/// workspaces (kind and host only) and the end of the newest log, redacted once more.
pub fn support_text(state: &AppState) -> CmdResult<String> {
    let k = lock(&state.keychain)?.clone();
    let keychain = match k.status {
        "available" => KeychainStatus::Available,
        "session" => KeychainStatus::Unavailable {
            hint: "The owner chose to keep keys for this session only".into(),
            detail: k.detail.unwrap_or_default(),
        },
        _ => KeychainStatus::Unavailable {
            hint: k.hint.unwrap_or_default(),
            detail: k.detail.unwrap_or_default(),
        },
    };
    let workspaces = lock(&state.workspaces)?.workspaces.clone();
    let os = format!("{} {}", std::env::consts::OS, std::env::consts::ARCH);
    let tail = known().redact(&recent_log(&state.paths.log_dir));
    Ok(invite_core::diagnostics::support_bundle(
        env!("CARGO_PKG_VERSION"),
        &os,
        &workspaces,
        &tail,
        &keychain,
    ))
}

fn recent_log(dir: &Path) -> String {
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
