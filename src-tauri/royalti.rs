//! Royalti: one sign-in, then the owner ticks the workspaces to add.
//!
//! The sign-in's tokens (and the password, when "keep me signed in" is ticked) stay in Rust,
//! in memory, between the two steps; the web view only gets an id for the sign-in. Picked
//! workspaces get their own tokens, are checked, and only then reach the keychain.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use invite_core::model::WorkspaceKind;
use invite_core::providers::royalti::{
    self as core, royalti_connect_workspace, RoyaltiAccount, RoyaltiSession, RoyaltiWorkspace,
};
use invite_core::secret::{names, MemoryStore, SecretStore, Sensitive};
use invite_core::workspace::{normalize_url, validate_name, Workspace, WorkspaceOptions};
use serde::Serialize;
use tauri::State;

use crate::error::{CmdError, CmdResult};
use crate::state::{lock, AppState};

/// A sign-in is kept this long for the owner to pick workspaces; after that, sign in again.
const SIGN_IN_TTL: Duration = Duration::from_secs(15 * 60);

struct PendingSignIn {
    at: Instant,
    base_url: String,
    account: RoyaltiAccount,
    session: RoyaltiSession,
    password: Sensitive<String>,
}

/// Sign-ins waiting for the owner's pick, by id.
#[derive(Default)]
pub struct RoyaltiSignIns(Mutex<HashMap<String, PendingSignIn>>);

impl std::fmt::Debug for RoyaltiSignIns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoyaltiSignIns").finish_non_exhaustive()
    }
}

/// What the pick screen shows: no token, no password.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SignInView {
    sign_in_id: String,
    email: String,
    workspaces: Vec<RoyaltiWorkspace>,
}

/// Signs in to Royalti and lists the account's workspaces with the owner's role in each.
#[tauri::command]
pub async fn royalti_sign_in(
    state: State<'_, AppState>,
    sign_ins: State<'_, RoyaltiSignIns>,
    base_url: String,
    email: String,
    password: String,
) -> CmdResult<SignInView> {
    let password = Sensitive::new(password);
    crate::logging::forget_in_logs(&password);
    let email = email.trim().to_string();
    if email.is_empty() || password.expose().is_empty() {
        return Err(CmdError::invalid(
            "Royalti sign-in",
            "enter your email and password",
        ));
    }
    let base_url = normalize_url(WorkspaceKind::Royalti, &base_url)?;
    let (account, session) =
        core::royalti_sign_in(&state.http, &base_url, &email, &password).await?;
    let id = uuid::Uuid::new_v4().to_string();
    let view = SignInView {
        sign_in_id: id.clone(),
        email: account.email.clone(),
        workspaces: account.workspaces.clone(),
    };
    let mut pending = lock(&sign_ins.0)?;
    pending.retain(|_, p| p.at.elapsed() < SIGN_IN_TTL);
    pending.insert(
        id,
        PendingSignIn {
            at: Instant::now(),
            base_url,
            account,
            session,
            password,
        },
    );
    Ok(view)
}

/// Adds the picked workspaces of a sign-in: each gets its own token, is checked, then saved.
#[tauri::command]
pub async fn royalti_add(
    state: State<'_, AppState>,
    sign_ins: State<'_, RoyaltiSignIns>,
    sign_in_id: String,
    picks: Vec<String>,
    keep_signed_in: bool,
) -> CmdResult<Vec<Workspace>> {
    let pending = lock(&sign_ins.0)?
        .remove(&sign_in_id)
        .filter(|p| p.at.elapsed() < SIGN_IN_TTL)
        .ok_or_else(|| {
            CmdError::invalid("Royalti sign-in", "this sign-in has expired; sign in again")
        })?;
    if picks.is_empty() {
        return Err(CmdError::invalid("Workspaces", "tick at least one"));
    }
    let mut added = Vec::new();
    for pick in &picks {
        let Some(remote) = pending.account.workspaces.iter().find(|w| &w.id == pick) else {
            return Err(CmdError::invalid(
                "Workspaces",
                "this workspace is not in the account",
            ));
        };
        if !remote.can_invite {
            return Err(CmdError::invalid(
                &remote.name,
                format!(
                    "your role is {}; only owners and admins can invite",
                    remote.role
                ),
            ));
        }
        // Already added from an earlier sign-in: don't add it twice.
        let exists = lock(&state.workspaces)?.workspaces.iter().any(|w| {
            w.kind == WorkspaceKind::Royalti
                && w.base_url == pending.base_url
                && w.options.remote_workspace_id.as_deref() == Some(remote.id.as_str())
        });
        if exists {
            continue;
        }
        let ws = Workspace {
            id: uuid::Uuid::new_v4().to_string(),
            name: validate_name(&remote.name).unwrap_or_else(|_| "Royalti workspace".into()),
            kind: WorkspaceKind::Royalti,
            base_url: pending.base_url.clone(),
            options: WorkspaceOptions {
                remote_workspace_id: Some(remote.id.clone()),
                account_email: Some(pending.account.email.clone()),
                role: Some(remote.role.clone()),
                keep_signed_in,
                ..Default::default()
            },
            demo: false,
        };
        let staged = MemoryStore::new();
        royalti_connect_workspace(
            &state.http,
            &pending.base_url,
            &pending.session,
            &remote.id,
            &staged,
            &ws.id,
        )
        .await?;
        if keep_signed_in {
            staged.set(&ws.id, names::PASSWORD, &pending.password)?;
        }
        let provider =
            invite_core::connect::provider_for(state.http.clone(), &ws, Arc::new(staged.clone()))?;
        provider.check_connection().await?;
        added.push(crate::workspaces::save_with_secrets(&state, ws, &staged)?);
    }
    Ok(added)
}
