//! Logs: `tracing` to a daily-rotated file in the app's log folder (7 files kept), and the
//! known secrets it removes (the "Copy diagnostics" text is the desk's). Secrets never reach a log: they are `Sensitive` everywhere, and
//! the file writer redacts anything that looks like a key or token on the way out.

use std::path::Path;
use std::sync::OnceLock;

use invite_core::diagnostics::{KnownSecrets, RedactingWriter};
use invite_core::secret::Sensitive;
use tracing_subscriber::EnvFilter;

/// Secrets seen by this process (typed in a form, made by the demo): the log writer removes
/// them even if some library were to print one.
static KNOWN: OnceLock<KnownSecrets> = OnceLock::new();

/// The secrets the log writer removes (the desk adds what it sees).
pub fn known() -> &'static KnownSecrets {
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
