//! What the owner may change on a saved workspace, and the ranges its numbers keep to. The
//! options themselves are typed per back end: see [`super::config`].

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::providers::gotrue_form::GotrueFork;

/// Concurrency the owner may choose.
pub const CONCURRENCY_RANGE: std::ops::RangeInclusive<u32> = 1..=16;
/// Emails per hour the owner may set.
pub const EMAILS_PER_HOUR_RANGE: std::ops::RangeInclusive<u32> = 1..=100_000;

/// Link lifetimes the owner may choose, in hours (up to 30 days).
pub const LINK_LIFETIME_RANGE: std::ops::RangeInclusive<u32> = 1..=720;

/// Refuses `n` outside `range`, naming `field`; `more` ends the advice (", or leave it empty").
pub(crate) fn check_range(
    n: u32,
    range: &std::ops::RangeInclusive<u32>,
    field: &str,
    more: &str,
) -> Result<()> {
    if range.contains(&n) {
        return Ok(());
    }
    Err(Error::invalid_input(
        field,
        format!(
            "choose a number from {} to {}{more}",
            range.start(),
            range.end()
        ),
    ))
}

/// What the owner may change on a saved workspace without touching its address or credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WorkspaceSettings {
    /// Redirect URL used when the owner gives none (blank: none).
    #[serde(default)]
    pub default_redirect_url: Option<String>,
    /// How long an invitation link lives, in hours (GoTrue), to show expiry. Only the back ends
    /// whose settings form shows it take a value.
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
/// change is checked against the server with the keys already kept before it is saved. Each
/// back end takes its own fields and refuses the others'.
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
