//! The one error type of the core.
//!
//! Every variant carries a sentence a workspace owner understands (its `Display`), a stable
//! [`Error::kind`] string the UI keys its help text on, and, where a server said something, the
//! server's own words as [`Error::detail`]. Secrets never appear in any of these: callers build
//! details from response bodies and status lines, never from request headers.

use std::time::Duration;

/// Result alias used throughout the core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in Invite Desk's core.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A value the owner typed is not usable (empty name, unknown option…).
    #[error("{field}: {reason}")]
    InvalidInput {
        /// The field, as the form labels it.
        field: String,
        /// Why it is not usable, in plain words.
        reason: String,
    },

    /// An email address is not valid.
    #[error("{email} is not a valid email address: {reason}")]
    InvalidEmail {
        /// The address as given.
        email: String,
        /// Why it was rejected.
        reason: String,
    },

    /// A URL is not valid or not allowed (plain http to a non-loopback host, for example).
    #[error("This address can't be used: {reason}")]
    InvalidUrl {
        /// Why it was rejected.
        reason: String,
    },

    /// The key, token or account can't invite people (not an admin key, not owner/admin role).
    #[error("These credentials can't invite people. {hint}")]
    NotAdmin {
        /// What to use instead, in plain words.
        hint: String,
        /// The server's words.
        detail: Option<String>,
    },

    /// A key of the wrong kind was given (an anon/publishable key where a secret key is needed).
    #[error("{hint}")]
    WrongKey {
        /// What was recognised and what to use instead.
        hint: String,
    },

    /// The session or token is no longer valid: the owner must sign in again or update the key.
    #[error("You were signed out of this workspace. Sign in again to continue.")]
    SignedOut {
        /// The server's words.
        detail: Option<String>,
    },

    /// The address already belongs to a member who accepted.
    #[error("{email} is already a member.")]
    AlreadyMember {
        /// The address.
        email: String,
        /// The server's words.
        detail: Option<String>,
    },

    /// The action only applies to pending invitations (cancel or resend of an accepted one).
    #[error("{reason}")]
    NotPending {
        /// Why, naming the address.
        reason: String,
    },

    /// The invitation or user does not exist (any more) on the server.
    #[error("That invitation no longer exists on the server. Refresh the list.")]
    NotFound {
        /// The server's words.
        detail: Option<String>,
    },

    /// The server refused because of a rate limit.
    #[error("The server is limiting how many requests it accepts right now. Invite Desk will try again{}.", retry_after.map(|d| format!(" in {}", human_duration(d))).unwrap_or_default())]
    RateLimited {
        /// How long the server asked us to wait, when it said.
        retry_after: Option<Duration>,
        /// True when the limit is on emails sent (GoTrue's `over_email_send_rate_limit`).
        email_limit: bool,
        /// The server's words.
        detail: Option<String>,
    },

    /// The server failed (5xx) in a way that says the request was not carried out.
    #[error("The server had a problem ({status}). Try again in a moment.")]
    Server {
        /// HTTP status.
        status: u16,
        /// The server's words.
        detail: Option<String>,
    },

    /// The request may or may not have reached the server (timeout, dropped connection, 502/504).
    /// Never re-send a write after this without looking the result up first.
    #[error("The server did not answer in time, so it is not known whether this went through. Invite Desk checks before trying again.")]
    Uncertain {
        /// What happened on the wire.
        detail: Option<String>,
    },

    /// The server could not be reached at all; nothing was sent.
    #[error("Can't reach the server. Check the internet connection and the workspace address.")]
    Network {
        /// What the network layer said.
        detail: Option<String>,
    },

    /// The URL answers, but not as the expected service.
    #[error("{hint}")]
    WrongServer {
        /// What was expected and what to check.
        hint: String,
        /// What the server answered.
        detail: Option<String>,
    },

    /// The server answered with something the app could not read.
    #[error("The server sent an answer Invite Desk could not read.")]
    BadResponse {
        /// What could not be read.
        detail: Option<String>,
    },

    /// The back end cannot do this (for example, copy a link on Netlify Identity).
    #[error("{what} is not available for this kind of workspace.")]
    Unsupported {
        /// The feature, in plain words.
        what: String,
    },

    /// The server rejected the request for another reason.
    #[error("The server refused the request: {message}")]
    Rejected {
        /// HTTP status.
        status: u16,
        /// The server's message.
        message: String,
    },

    /// No usable keychain (Secret Service missing or locked).
    #[error("Invite Desk can't use the system keychain. {hint}")]
    KeychainUnavailable {
        /// How to fix it.
        hint: String,
        /// What the keychain said.
        detail: Option<String>,
    },

    /// A secret that should be in the keychain is not there.
    #[error(
        "The key for this workspace is missing from the keychain. Enter it again in Workspaces."
    )]
    SecretMissing {
        /// Which secret (its name, never its value).
        name: String,
    },

    /// A saved workspace now points to another server (scheme, host or port): its kept secret
    /// is never sent there, so the owner must enter it again.
    #[error("The new address {host} is another server, so Invite Desk does not send it the key it keeps for the old one. Enter the key (or sign in) again for the new address.")]
    SecretNeeded {
        /// The new server.
        host: String,
    },

    /// The workspace is not known.
    #[error("That workspace no longer exists.")]
    UnknownWorkspace {
        /// The id asked for.
        id: String,
    },

    /// Local storage (the history database or settings) failed.
    #[error("Invite Desk could not save its data on this computer.")]
    Storage {
        /// What the storage layer said.
        detail: String,
    },

    /// The owner stopped the operation.
    #[error("Stopped.")]
    Cancelled,

    /// The outbox file was written by a newer Invite Desk: it is left exactly as it is.
    #[error("Invite Desk's record of invitations was written by a newer version of Invite Desk (format {found}; this version reads up to {known}). Install the newer version again to use it; the file was left as it is.")]
    OutboxTooNew {
        /// The file's format version.
        found: i64,
        /// The newest format this build reads.
        known: i64,
    },

    /// The server's answer was larger than Invite Desk reads (or never ended); reading stopped
    /// at the limit. A write's result is then unknown: Retry looks the address up first.
    #[error("The server at {host} sent an answer far larger than expected, so Invite Desk stopped reading it. Check the workspace address, or try again later.")]
    ResponseTooLarge {
        /// The server's host name.
        host: String,
        /// Where reading stopped, in bytes.
        limit_bytes: u64,
    },

    /// The server's TLS certificate is not trusted by this computer (self-signed, a company's
    /// own authority that is not installed, expired, or made for another name).
    #[error("This server's certificate is not trusted: {host}. If it uses your organization's own certificate authority, install that authority in the system's certificate store, then try again.")]
    UntrustedCertificate {
        /// The server's host name.
        host: String,
        /// What the TLS layer said.
        detail: Option<String>,
    },

    /// The server answered with a redirect (3xx): the workspace address is not the API's own
    /// (often `http://` for `https://`, or a missing path). Redirects are never followed.
    #[error("The server at {from} redirects to {}. Use that address in the workspace's settings (check https:// and the path).", location.as_deref().unwrap_or("another address it did not name"))]
    Redirected {
        /// HTTP status (301, 302, 307, 308…).
        status: u16,
        /// The address asked (scheme, host and port).
        from: String,
        /// Where the server sends clients, as an absolute address without its query.
        location: Option<String>,
    },

    /// A downloaded update is not signed with Invite Desk's release key (or not for the version
    /// it claims to be): it is never installed.
    #[error(
        "The update could not be verified as coming from Invite Desk, so it was not installed."
    )]
    UpdateNotTrusted {
        /// What the verification found.
        detail: String,
    },

    /// An update can't be installed now because invitations are being sent.
    #[error("Invitations are being sent ({in_flight} in progress). Install the update when the batch is done; nothing is lost by waiting.")]
    UpdateWaits {
        /// How many outbox jobs are in flight.
        in_flight: usize,
    },

    /// The update check could not be completed (offline, the release server down, a manifest
    /// that can't be read); nothing was downloaded or changed.
    #[error("Invite Desk could not check for a new version right now.")]
    UpdateCheckFailed {
        /// What went wrong, in the network's or the server's words.
        detail: Option<String>,
    },
}

impl Error {
    /// A stable, machine-readable name for the UI. Never changes once shipped.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::InvalidInput { .. } => "invalid_input",
            Error::InvalidEmail { .. } => "invalid_email",
            Error::InvalidUrl { .. } => "invalid_url",
            Error::NotAdmin { .. } => "not_admin",
            Error::WrongKey { .. } => "wrong_key",
            Error::SignedOut { .. } => "signed_out",
            Error::AlreadyMember { .. } => "already_member",
            Error::NotPending { .. } => "not_pending",
            Error::NotFound { .. } => "not_found",
            Error::RateLimited { .. } => "rate_limited",
            Error::Server { .. } => "server",
            Error::Uncertain { .. } => "uncertain",
            Error::Network { .. } => "network",
            Error::WrongServer { .. } => "wrong_server",
            Error::BadResponse { .. } => "bad_response",
            Error::Unsupported { .. } => "unsupported",
            Error::Rejected { .. } => "rejected",
            Error::KeychainUnavailable { .. } => "keychain_unavailable",
            Error::SecretMissing { .. } => "secret_missing",
            Error::SecretNeeded { .. } => "secret_needed",
            Error::UnknownWorkspace { .. } => "unknown_workspace",
            Error::Storage { .. } => "storage",
            Error::Cancelled => "cancelled",
            Error::OutboxTooNew { .. } => "outbox_too_new",
            Error::ResponseTooLarge { .. } => "response_too_large",
            Error::UntrustedCertificate { .. } => "untrusted_certificate",
            Error::Redirected { .. } => "redirected",
            Error::UpdateNotTrusted { .. } => "update_not_trusted",
            Error::UpdateWaits { .. } => "update_waits",
            Error::UpdateCheckFailed { .. } => "update_check_failed",
        }
    }

    /// The server's (or library's) own words, for the UI's "Details" disclosure.
    pub fn detail(&self) -> Option<&str> {
        match self {
            Error::NotAdmin { detail, .. }
            | Error::SignedOut { detail }
            | Error::AlreadyMember { detail, .. }
            | Error::NotFound { detail }
            | Error::RateLimited { detail, .. }
            | Error::Server { detail, .. }
            | Error::Uncertain { detail }
            | Error::Network { detail }
            | Error::WrongServer { detail, .. }
            | Error::BadResponse { detail }
            | Error::UpdateCheckFailed { detail }
            | Error::KeychainUnavailable { detail, .. }
            | Error::UntrustedCertificate { detail, .. } => detail.as_deref(),
            Error::Rejected { message, .. } => Some(message),
            Error::Storage { detail } | Error::UpdateNotTrusted { detail } => Some(detail),
            _ => None,
        }
    }

    /// True when a write may have reached the server: look it up before sending it again.
    pub fn is_uncertain(&self) -> bool {
        matches!(self, Error::Uncertain { .. })
    }

    /// True when trying the same request later may succeed without the owner doing anything.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Error::RateLimited { .. }
                | Error::Server { .. }
                | Error::Network { .. }
                | Error::Uncertain { .. }
        )
    }

    /// How long the server asked us to wait, if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The same error with every text that may hold a server's words (details, messages,
    /// reasons) passed through [`crate::redact::clean`]: `secrets` (the workspace's own key,
    /// token or password) and anything secret-shaped become `[redacted]`, and long text is
    /// clipped. Providers apply it where a server's answer becomes an error.
    pub fn redact(self, secrets: &[&str]) -> Self {
        let c = |t: String| crate::redact::clean(&t, secrets);
        let o = |t: Option<String>| t.map(c);
        match self {
            Error::InvalidEmail { email, reason } => Error::InvalidEmail {
                email,
                reason: c(reason),
            },
            Error::NotAdmin { hint, detail } => Error::NotAdmin {
                hint,
                detail: o(detail),
            },
            Error::SignedOut { detail } => Error::SignedOut { detail: o(detail) },
            Error::AlreadyMember { email, detail } => Error::AlreadyMember {
                email,
                detail: o(detail),
            },
            Error::NotPending { reason } => Error::NotPending { reason: c(reason) },
            Error::NotFound { detail } => Error::NotFound { detail: o(detail) },
            Error::RateLimited {
                retry_after,
                email_limit,
                detail,
            } => Error::RateLimited {
                retry_after,
                email_limit,
                detail: o(detail),
            },
            Error::Server { status, detail } => Error::Server {
                status,
                detail: o(detail),
            },
            Error::Uncertain { detail } => Error::Uncertain { detail: o(detail) },
            Error::Network { detail } => Error::Network { detail: o(detail) },
            Error::WrongServer { hint, detail } => Error::WrongServer {
                hint,
                detail: o(detail),
            },
            Error::BadResponse { detail } => Error::BadResponse { detail: o(detail) },
            Error::Rejected { status, message } => Error::Rejected {
                status,
                message: c(message),
            },
            Error::UntrustedCertificate { host, detail } => Error::UntrustedCertificate {
                host,
                detail: o(detail),
            },
            other => other,
        }
    }

    /// Shorthand for [`Error::InvalidInput`].
    pub fn invalid_input(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidInput {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// Shorthand for [`Error::Storage`].
    pub fn storage(detail: impl std::fmt::Display) -> Self {
        Error::Storage {
            detail: detail.to_string(),
        }
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::storage(e)
    }
}

/// "3 minutes", "1 hour", "40 seconds": for messages owners read.
pub fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    let (n, unit) = if s >= 3600 {
        (s.div_ceil(3600), "hour")
    } else if s >= 60 {
        (s.div_ceil(60), "minute")
    } else {
        (s.max(1), "second")
    };
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_stable_and_messages_plain() {
        let e = Error::RateLimited {
            retry_after: Some(Duration::from_secs(120)),
            email_limit: true,
            detail: None,
        };
        assert_eq!(e.kind(), "rate_limited");
        assert!(e.to_string().contains("in 2 minutes"), "{e}");
        assert!(e.is_transient());
        let e = Error::Uncertain {
            detail: Some("timeout".into()),
        };
        assert!(e.is_uncertain());
        assert_eq!(e.detail(), Some("timeout"));
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(Duration::from_secs(1)), "1 second");
        assert_eq!(human_duration(Duration::from_secs(61)), "2 minutes");
        assert_eq!(human_duration(Duration::from_secs(3600)), "1 hour");
    }
}
