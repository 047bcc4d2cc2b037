//! A workspace's options (none of them secret): how it signs in, which server it talks to,
//! and the sending settings the owner may change later.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

use super::validate_redirect_url;

/// Which GoTrue fork a self-hosted server runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum GotrueFork {
    /// Detect from `/settings` and `/health`.
    #[default]
    Auto,
    /// supabase/auth.
    Supabase,
    /// netlify/gotrue.
    Netlify,
}

/// How the app authenticates to the back end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AuthMode {
    /// The back end's natural mode: Supabase secret key, GoTrue JWT secret, Netlify/Royalti password sign-in.
    #[default]
    Default,
    /// GoTrue operator token instead of the JWT secret.
    OperatorToken,
    /// Royalti workspace API key (`RWAK…`).
    ApiKey,
}

/// Back-end options (none of them secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct WorkspaceOptions {
    /// How to authenticate.
    pub auth_mode: AuthMode,
    /// Self-hosted GoTrue: which fork (auto-detected unless set).
    pub gotrue_fork: GotrueFork,
    /// Self-hosted Supabase-fork GoTrue: the admin role put in minted tokens (default `service_role`).
    pub admin_role: Option<String>,
    /// How long an invitation link lives, in hours (GoTrue: the server's OTP lifetime; default 24).
    pub link_lifetime_hours: Option<u32>,
    /// Redirect URL used when the owner gives none.
    pub default_redirect_url: Option<String>,
    /// Netlify: path of the Invite Desk function (default `/.netlify/functions/invite-desk`).
    pub function_path: Option<String>,
    /// Royalti: the workspace id inside the account.
    pub remote_workspace_id: Option<String>,
    /// Netlify/Royalti: the address the owner signs in with (not secret, shown in the UI).
    pub account_email: Option<String>,
    /// The owner's role in the workspace as the server reported it (Royalti).
    pub role: Option<String>,
    /// Netlify/Royalti: the password is kept in the keychain for silent re-sign-in.
    pub keep_signed_in: bool,
    /// Most requests in flight at once for this workspace (default 4).
    pub concurrency: Option<u32>,
    /// Invitation emails the server sends per hour, when the owner knows it (Supabase's built-in
    /// mailer: 2; GoTrue's default: 30). The outbox never starts more; `None`: learn from 429s.
    #[serde(default)]
    pub emails_per_hour: Option<u32>,
}

/// Concurrency the owner may choose.
pub const CONCURRENCY_RANGE: std::ops::RangeInclusive<u32> = 1..=16;
/// Emails per hour the owner may set.
pub const EMAILS_PER_HOUR_RANGE: std::ops::RangeInclusive<u32> = 1..=100_000;

/// Link lifetimes the owner may choose, in hours (up to 30 days).
pub const LINK_LIFETIME_RANGE: std::ops::RangeInclusive<u32> = 1..=720;

impl WorkspaceOptions {
    /// Checks the values the owner can type (redirect URL, concurrency, link lifetime, function path).
    pub fn validate(&self) -> Result<()> {
        if let Some(url) = &self.default_redirect_url {
            validate_redirect_url(url)?;
        }
        if let Some(n) = self.concurrency {
            if !CONCURRENCY_RANGE.contains(&n) {
                return Err(Error::invalid_input(
                    "Invitations sent at once",
                    format!(
                        "choose a number from {} to {}",
                        CONCURRENCY_RANGE.start(),
                        CONCURRENCY_RANGE.end()
                    ),
                ));
            }
        }
        if let Some(n) = self.emails_per_hour {
            if !EMAILS_PER_HOUR_RANGE.contains(&n) {
                return Err(Error::invalid_input(
                    "Emails per hour",
                    format!(
                        "choose a number from {} to {}, or leave it empty",
                        EMAILS_PER_HOUR_RANGE.start(),
                        EMAILS_PER_HOUR_RANGE.end()
                    ),
                ));
            }
        }
        if let Some(h) = self.link_lifetime_hours {
            if !LINK_LIFETIME_RANGE.contains(&h) {
                return Err(Error::invalid_input(
                    "Link lifetime",
                    format!(
                        "choose from {} to {} hours (30 days)",
                        LINK_LIFETIME_RANGE.start(),
                        LINK_LIFETIME_RANGE.end()
                    ),
                ));
            }
        }
        if let Some(path) = &self.function_path {
            if !path.starts_with('/')
                || path
                    .chars()
                    .any(|c| c.is_whitespace() || c == '?' || c == '#')
            {
                return Err(Error::invalid_input(
                    "Function path",
                    "use a path starting with / (for example /.netlify/functions/invite-desk)",
                ));
            }
        }
        if let Some(role) = &self.admin_role {
            if role.trim().is_empty() {
                return Err(Error::invalid_input(
                    "Admin role",
                    "enter a role or leave the default",
                ));
            }
        }
        Ok(())
    }
}

/// What the owner may change on a saved workspace without touching its address or credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WorkspaceSettings {
    /// Redirect URL used when the owner gives none (blank: none).
    #[serde(default)]
    pub default_redirect_url: Option<String>,
    /// How long an invitation link lives, in hours (GoTrue), to show expiry.
    #[serde(default)]
    pub link_lifetime_hours: Option<u32>,
    /// Most requests in flight at once (default 4).
    #[serde(default)]
    pub concurrency: Option<u32>,
    /// Emails the server sends per hour (blank: not known).
    #[serde(default)]
    pub emails_per_hour: Option<u32>,
}

/// Where and how a saved workspace reaches its server: what the owner may correct after saving
/// (a moved address, a renamed function, another admin role) without entering the key again. A
/// change is checked against the server with the keys already kept before it is saved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConnectionSettings {
    /// The address, as typed (normalised like a new workspace's).
    pub base_url: String,
    /// Self-hosted GoTrue: the admin role put in minted tokens (blank: the default).
    #[serde(default)]
    pub admin_role: Option<String>,
    /// Self-hosted GoTrue: which fork (`auto` detects it).
    #[serde(default)]
    pub gotrue_fork: Option<GotrueFork>,
    /// Netlify: the path of the Invite Desk function (blank: the default).
    #[serde(default)]
    pub function_path: Option<String>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn options_are_validated() {
        let ok = WorkspaceOptions {
            default_redirect_url: Some("https://app.example.com/welcome".into()),
            concurrency: Some(16),
            link_lifetime_hours: Some(720),
            function_path: Some("/.netlify/functions/invite-desk".into()),
            ..Default::default()
        };
        ok.validate().unwrap();
        let bad = [
            WorkspaceOptions {
                default_redirect_url: Some("javascript:alert(1)".into()),
                ..Default::default()
            },
            WorkspaceOptions {
                default_redirect_url: Some("app.example.com".into()),
                ..Default::default()
            },
            WorkspaceOptions {
                concurrency: Some(0),
                ..Default::default()
            },
            WorkspaceOptions {
                concurrency: Some(17),
                ..Default::default()
            },
            WorkspaceOptions {
                link_lifetime_hours: Some(0),
                ..Default::default()
            },
            WorkspaceOptions {
                link_lifetime_hours: Some(721),
                ..Default::default()
            },
            WorkspaceOptions {
                function_path: Some("functions/x".into()),
                ..Default::default()
            },
            WorkspaceOptions {
                admin_role: Some(" ".into()),
                ..Default::default()
            },
        ];
        for o in bad {
            let e = o.validate().unwrap_err();
            assert_eq!(e.kind(), "invalid_input", "{o:?}");
        }
        WorkspaceOptions {
            concurrency: Some(1),
            link_lifetime_hours: Some(1),
            ..Default::default()
        }
        .validate()
        .unwrap();
    }
}
