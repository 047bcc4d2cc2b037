//! The CLI's one error type: the core's errors with their plain words and stable kinds, plus
//! what only a command line can get wrong.

use std::path::PathBuf;

/// Everything that stops a command.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// From the core: its sentence, its kind and the server's words, unchanged.
    #[error(transparent)]
    Core(#[from] invite_core::Error),

    /// The command line asks for something that can't be done as given.
    #[error("{0}")]
    Usage(String),

    /// A file given on the command line can't be read or written.
    #[error("Can't use {}: {reason}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What the system said.
        reason: String,
    },

    /// Several workspaces have the name given with -w.
    #[error(
        "{count} workspaces are named {name:?}; use the id `invite-desk-cli workspaces` shows"
    )]
    AmbiguousWorkspace {
        /// The name given.
        name: String,
        /// How many match.
        count: usize,
    },

    /// No workspace has the name given with -w.
    #[error("There is no workspace named {0:?}. `invite-desk-cli workspaces` lists them.")]
    NoSuchWorkspace(String),
}

impl CliError {
    /// A stable, machine-readable name (the core's kinds, plus `usage`, `file`,
    /// `unknown_workspace`).
    pub fn kind(&self) -> &'static str {
        match self {
            CliError::Core(e) => e.kind(),
            CliError::Usage(_) => "usage",
            CliError::File { .. } => "file",
            CliError::AmbiguousWorkspace { .. } | CliError::NoSuchWorkspace(_) => {
                "unknown_workspace"
            }
        }
    }

    /// The server's (or library's) own words, shown with --verbose.
    pub fn detail(&self) -> Option<&str> {
        match self {
            CliError::Core(e) => e.detail(),
            _ => None,
        }
    }

    /// Shorthand for [`CliError::Usage`].
    pub fn usage(msg: impl Into<String>) -> Self {
        CliError::Usage(msg.into())
    }

    /// Shorthand for [`CliError::File`].
    pub fn file(path: impl Into<PathBuf>, e: impl std::fmt::Display) -> Self {
        CliError::File {
            path: path.into(),
            reason: e.to_string(),
        }
    }
}

/// Result of every command.
pub type CliResult<T> = Result<T, CliError>;

/// An error as JSON output shows it: `{kind, message, detail?}`.
pub fn to_json(e: &CliError, verbose: bool) -> serde_json::Value {
    serde_json::json!({
        "kind": e.kind(),
        "message": e.to_string(),
        "detail": if verbose { e.detail() } else { None },
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn core_errors_keep_their_words_and_kind_and_hide_details_unless_verbose() {
        let e = CliError::from(invite_core::Error::NotAdmin {
            hint: "Use the secret key.".into(),
            detail: Some("User not allowed".into()),
        });
        assert_eq!(e.kind(), "not_admin");
        assert_eq!(
            e.to_string(),
            "These credentials can't invite people. Use the secret key."
        );
        assert_eq!(to_json(&e, false)["detail"], serde_json::Value::Null);
        assert_eq!(to_json(&e, true)["detail"], "User not allowed");
    }
}
