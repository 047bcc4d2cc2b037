//! What the web view receives when a command fails: `{kind, message, detail}`.
//!
//! `kind` is the core's stable [`invite_core::Error::kind`] (ui/js/errors.js keys its help text on
//! it), `message` the core's plain sentence, `detail` the server's own words for the "Details"
//! disclosure. None of them ever holds a secret: the core builds them from response bodies only.

use serde::Serialize;

/// A command error as the UI sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CmdError {
    /// Stable machine name (`not_admin`, `network`, …).
    pub kind: String,
    /// One plain sentence for the owner.
    pub message: String,
    /// The server's (or library's) own words, when there are any.
    pub detail: Option<String>,
}

/// Result of every command.
pub type CmdResult<T> = Result<T, CmdError>;

impl CmdError {
    /// An argument the UI sent is unusable: say which and why.
    pub fn invalid(field: &str, reason: impl Into<String>) -> Self {
        invite_core::Error::invalid_input(field, reason).into()
    }

    /// A failure inside the shell itself (a lock, a missing window).
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        Self {
            kind: "internal".into(),
            message: "Something went wrong inside Invite Desk.".into(),
            detail: Some(detail.to_string()),
        }
    }
}

impl From<invite_core::Error> for CmdError {
    fn from(e: invite_core::Error) -> Self {
        Self {
            kind: e.kind().to_string(),
            message: e.to_string(),
            detail: e.detail().map(str::to_string),
        }
    }
}

impl std::fmt::Display for CmdError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn core_errors_keep_kind_message_and_detail() {
        let e: CmdError = invite_core::Error::Server {
            status: 503,
            detail: Some("upstream down".into()),
        }
        .into();
        assert_eq!(e.kind, "server");
        assert!(e.message.contains("503"));
        assert_eq!(e.detail.as_deref(), Some("upstream down"));
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["kind"], "server");
    }

    #[test]
    fn invalid_names_the_field() {
        let e = CmdError::invalid("Name", "can't be empty");
        assert_eq!(e.kind, "invalid_input");
        assert_eq!(e.message, "Name: can't be empty");
    }
}
