//! Format 1 of the saved list (and the bare array of format 0): every workspace carried one
//! flat bag of every back end's options. Read here once, converted to the kind's typed options;
//! the list is written in the current format on the next save.
//!
//! The conversion keeps what the old code used: a kind takes its own keys and drops the others
//! (they did nothing for it), and a sign-in mode its kind does not have (possible only by hand)
//! becomes the kind's natural one, which is how the old code treated it. The id is unchanged,
//! so every keychain entry is still found.

use serde::Deserialize;

use super::{Workspace, WorkspaceConfig};
use crate::model::WorkspaceKind;
use crate::providers::gotrue_form::{GotrueFork, GotrueOptions, GotrueSignIn};
use crate::providers::netlify_form::NetlifyOptions;
use crate::providers::royalti_form::{RoyaltiOptions, RoyaltiSignIn};
use crate::providers::supabase_form::SupabaseOptions;
use crate::workspace::{AuthMode, SendingOptions};

/// A workspace as format 1 stored it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WorkspaceV1 {
    id: String,
    name: String,
    kind: WorkspaceKind,
    base_url: String,
    #[serde(default)]
    options: OptionsV1,
    #[serde(default)]
    demo: bool,
}

/// Format 1's flat options (unknown keys were ignored then, and still are).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct OptionsV1 {
    auth_mode: AuthMode,
    gotrue_fork: GotrueFork,
    admin_role: Option<String>,
    link_lifetime_hours: Option<u32>,
    default_redirect_url: Option<String>,
    function_path: Option<String>,
    remote_workspace_id: Option<String>,
    account_email: Option<String>,
    role: Option<String>,
    keep_signed_in: bool,
    concurrency: Option<u32>,
    emails_per_hour: Option<u32>,
}

/// Reads one workspace of format 0 or 1.
pub(super) fn read(value: serde_json::Value) -> serde_json::Result<Workspace> {
    let old: WorkspaceV1 = serde_json::from_value(value)?;
    let o = old.options;
    let sending = SendingOptions {
        default_redirect_url: o.default_redirect_url,
        concurrency: o.concurrency,
        emails_per_hour: o.emails_per_hour,
    };
    let config = match old.kind {
        WorkspaceKind::Supabase => WorkspaceConfig::Supabase(SupabaseOptions {
            link_lifetime_hours: o.link_lifetime_hours,
            sending,
        }),
        WorkspaceKind::Gotrue => WorkspaceConfig::Gotrue(GotrueOptions {
            auth_mode: match o.auth_mode {
                AuthMode::OperatorToken => GotrueSignIn::OperatorToken,
                AuthMode::Default | AuthMode::ApiKey => GotrueSignIn::JwtSecret,
            },
            gotrue_fork: o.gotrue_fork,
            admin_role: o.admin_role,
            link_lifetime_hours: o.link_lifetime_hours,
            sending,
        }),
        WorkspaceKind::Netlify => WorkspaceConfig::Netlify(NetlifyOptions {
            account_email: o.account_email,
            keep_signed_in: o.keep_signed_in,
            function_path: o.function_path,
            sending,
        }),
        WorkspaceKind::Royalti => WorkspaceConfig::Royalti(RoyaltiOptions {
            auth_mode: match o.auth_mode {
                AuthMode::ApiKey => RoyaltiSignIn::ApiKey,
                AuthMode::Default | AuthMode::OperatorToken => RoyaltiSignIn::Password,
            },
            remote_workspace_id: o.remote_workspace_id,
            account_email: o.account_email,
            role: o.role,
            keep_signed_in: o.keep_signed_in,
            sending,
        }),
    };
    Ok(Workspace {
        id: old.id,
        name: old.name,
        base_url: old.base_url,
        config,
        demo: old.demo,
    })
}
