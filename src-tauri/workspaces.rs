//! Adding, testing and removing workspaces: the steps between the form and the core.
//!
//! A secret typed in the form arrives here once ([`SecretsIn`]), is held in a
//! [`MemoryStore`] while the connection is tested, and is copied to the app's store (the
//! keychain) only when the workspace is saved. It is never sent back to the web view.

use std::sync::Arc;

use invite_core::model::{ConnectionReport, WorkspaceKind};
use invite_core::providers::netlify::netlify_sign_in;
use invite_core::providers::royalti::{royalti_connect_workspace, royalti_sign_in};
use invite_core::secret::{names, MemoryStore, SecretStore, Sensitive};
use invite_core::workspace::{normalize_url, validate_name, AuthMode, Workspace, WorkspaceOptions};
use serde::{Deserialize, Serialize};

use crate::error::{CmdError, CmdResult};
use crate::state::{lock, AppState};

/// What the add-workspace form sends (no secrets).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WorkspaceDraft {
    /// Name the owner chose.
    pub name: String,
    /// Which service.
    pub kind: WorkspaceKind,
    /// The address as typed (normalised here).
    #[serde(default)]
    pub base_url: String,
    /// Back-end options.
    #[serde(default)]
    pub options: WorkspaceOptions,
}

/// Secrets typed in a form, wrapped in [`Sensitive`] the moment they are read from the IPC
/// message. Unknown names are refused.
#[derive(Default)]
pub struct SecretsIn(Vec<(String, Sensitive<String>)>);

impl std::fmt::Debug for SecretsIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.0.iter().map(|(n, _)| n.as_str()).collect();
        write!(f, "SecretsIn({names:?}, values redacted)")
    }
}

impl<'de> Deserialize<'de> for SecretsIn {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = std::collections::BTreeMap::<String, String>::deserialize(d)?;
        Ok(SecretsIn(
            map.into_iter()
                .map(|(k, v)| (k, Sensitive::new(v)))
                .collect(),
        ))
    }
}

impl SecretsIn {
    /// The secret named `name`, trimmed, when given and not blank.
    pub fn get(&self, name: &str) -> Option<Sensitive<String>> {
        let v = self
            .0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| Sensitive::new(v.expose().trim().to_string()))
            .filter(|v| !v.expose().is_empty())?;
        crate::logging::forget_in_logs(&v);
        Some(v)
    }

    fn require(&self, name: &str, label: &str) -> CmdResult<Sensitive<String>> {
        self.get(name)
            .ok_or_else(|| CmdError::invalid(label, "is required"))
    }

    /// True when the form sent no secret at all (Save after a passed test).
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|(_, v)| v.expose().trim().is_empty())
    }

    fn check_names(&self) -> CmdResult<()> {
        for (n, _) in &self.0 {
            if !names::ALL.contains(&n.as_str()) {
                return Err(CmdError::invalid("Secret", format!("unknown secret {n:?}")));
            }
        }
        Ok(())
    }
}

/// Turns a draft into a workspace with a fresh id, validated like a saved one.
pub fn workspace_from_draft(draft: &WorkspaceDraft) -> CmdResult<Workspace> {
    let name = validate_name(&draft.name)?;
    let base_url = normalize_url(draft.kind, &draft.base_url)?;
    let mut options = draft.options.clone();
    // Blank optional fields from the form mean "not set".
    options.default_redirect_url = options
        .default_redirect_url
        .filter(|s| !s.trim().is_empty());
    options.function_path = options.function_path.filter(|s| !s.trim().is_empty());
    options.admin_role = options.admin_role.filter(|s| !s.trim().is_empty());
    options.account_email = options
        .account_email
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    let ws = Workspace {
        id: uuid::Uuid::new_v4().to_string(),
        name,
        kind: draft.kind,
        base_url,
        options,
        demo: false,
    };
    ws.validate()?;
    Ok(ws)
}

/// Puts the secrets `ws` needs into `store` (signing in where the service needs it).
async fn stage_secrets(
    state: &AppState,
    ws: &Workspace,
    secrets: &SecretsIn,
    store: &dyn SecretStore,
) -> CmdResult<()> {
    secrets.check_names()?;
    match (ws.kind, ws.options.auth_mode) {
        (WorkspaceKind::Supabase, _) => {
            let key = secrets.require(names::SECRET_KEY, "Secret key")?;
            invite_core::providers::supabase::classify_supabase_key(key.expose())?;
            store.set(&ws.id, names::SECRET_KEY, &key)?;
        }
        (WorkspaceKind::Gotrue, AuthMode::OperatorToken) => {
            store.set(
                &ws.id,
                names::OPERATOR_TOKEN,
                &secrets.require(names::OPERATOR_TOKEN, "Operator token")?,
            )?;
        }
        (WorkspaceKind::Gotrue, _) => {
            store.set(
                &ws.id,
                names::JWT_SECRET,
                &secrets.require(names::JWT_SECRET, "JWT secret")?,
            )?;
        }
        (WorkspaceKind::Netlify, _) => {
            let email = ws
                .options
                .account_email
                .clone()
                .ok_or_else(|| CmdError::invalid("Your Identity email", "is required"))?;
            let password = secrets.require(names::PASSWORD, "Password")?;
            netlify_sign_in(&state.http, &ws.base_url, &email, &password, store, &ws.id).await?;
            if ws.options.keep_signed_in {
                store.set(&ws.id, names::PASSWORD, &password)?;
            }
        }
        (WorkspaceKind::Royalti, AuthMode::ApiKey) => {
            store.set(
                &ws.id,
                names::API_KEY,
                &secrets.require(names::API_KEY, "API key")?,
            )?;
        }
        // Signing in again to a Royalti workspace already added (adding goes through
        // `royalti_add`, where the owner picks the workspaces).
        (WorkspaceKind::Royalti, _) => {
            let (Some(email), Some(remote)) = (
                ws.options.account_email.as_deref(),
                ws.options.remote_workspace_id.as_deref(),
            ) else {
                return Err(CmdError::invalid(
                    "Royalti",
                    "sign in with your Royalti account to add its workspaces",
                ));
            };
            let password = secrets.require(names::PASSWORD, "Password")?;
            let (_, session) = royalti_sign_in(&state.http, &ws.base_url, email, &password).await?;
            royalti_connect_workspace(&state.http, &ws.base_url, &session, remote, store, &ws.id)
                .await?;
            if ws.options.keep_signed_in {
                store.set(&ws.id, names::PASSWORD, &password)?;
            }
        }
    }
    Ok(())
}

/// Stages the secrets in memory and runs the provider's connection check.
async fn check(
    state: &AppState,
    ws: &Workspace,
    secrets: &SecretsIn,
) -> CmdResult<(ConnectionReport, MemoryStore)> {
    let staged = MemoryStore::new();
    stage_secrets(state, ws, secrets, &staged).await?;
    let provider =
        invite_core::connect::provider_for(state.http.clone(), ws, Arc::new(staged.clone()))?;
    let report = provider.check_connection().await?;
    Ok((report, staged))
}

/// A connection test that passed: the draft it checked and the secrets it used, in memory only,
/// so that Save does not need the form to send them a second time.
#[derive(Debug)]
pub struct Checked {
    draft: WorkspaceDraft,
    /// The workspace id the secrets are staged under.
    workspace_id: String,
    staged: MemoryStore,
    at: std::time::Instant,
}

/// How long a passed test waits for Save.
const CHECK_KEPT: std::time::Duration = std::time::Duration::from_secs(600);

/// What "Test connection" answers: the report, and the id Save passes instead of the secrets.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Tested {
    #[serde(flatten)]
    report: ConnectionReport,
    check_id: String,
}

/// "Test connection": nothing is saved; the checked secrets wait in memory for Save.
pub async fn test_connection(
    state: &AppState,
    draft: &WorkspaceDraft,
    secrets: &SecretsIn,
) -> CmdResult<Tested> {
    let ws = workspace_from_draft(draft)?;
    let (report, staged) = check(state, &ws, secrets).await?;
    let check_id = uuid::Uuid::new_v4().to_string();
    let mut checked = lock(&state.checked)?;
    checked.retain(|_, c| c.at.elapsed() < CHECK_KEPT);
    checked.insert(
        check_id.clone(),
        Checked {
            draft: draft.clone(),
            workspace_id: ws.id,
            staged,
            at: std::time::Instant::now(),
        },
    );
    Ok(Tested { report, check_id })
}

/// "Save": tests again (a workspace that cannot invite is never saved), then keeps the secrets
/// in the app's store and the workspace in the list, and makes it current. After a passed test
/// of the same draft the form sends no secret, only `check_id`.
pub async fn add(
    state: &AppState,
    draft: &WorkspaceDraft,
    secrets: &SecretsIn,
    check_id: Option<&str>,
) -> CmdResult<Workspace> {
    let mut ws = workspace_from_draft(draft)?;
    let passed = match check_id {
        Some(id) => lock(&state.checked)?.remove(id),
        None => None,
    };
    let staged = match passed {
        Some(c) if secrets.is_empty() && c.draft == *draft && c.at.elapsed() < CHECK_KEPT => {
            ws.id = c.workspace_id;
            let staged = Arc::new(c.staged);
            invite_core::connect::provider_for(state.http.clone(), &ws, staged.clone())?
                .check_connection()
                .await?;
            Arc::unwrap_or_clone(staged)
        }
        _ => check(state, &ws, secrets).await?.1,
    };
    save_with_secrets(state, ws, &staged)
}

/// A saved workspace's new address or connection options, checked with its kept keys first.
pub async fn edit_connection(
    state: &AppState,
    id: &str,
    settings: &invite_core::workspace::ConnectionSettings,
) -> CmdResult<Workspace> {
    let mut ws = state.workspace(id)?;
    if ws.demo {
        return Err(CmdError::invalid(
            "Demo workspace",
            "its address is the app's own sandbox",
        ));
    }
    ws.apply_connection(settings)?;
    invite_core::connect::provider_for(state.http.clone(), &ws, state.secret_store())?
        .check_connection()
        .await?;
    let saved = ws.clone();
    state.edit_workspaces(|list| list.update(ws))?;
    state.forget(id)?;
    tracing::info!(workspace = %id, "workspace connection changed");
    Ok(saved)
}

/// "Sign in again" / "Replace key" for a saved workspace: the new secret is checked against the
/// server first, and replaces the old one only when it can invite.
pub async fn renew(state: &AppState, id: &str, secrets: &SecretsIn) -> CmdResult<()> {
    let ws = state.workspace(id)?;
    let (_, staged) = check(state, &ws, secrets).await?;
    staged.copy_to(&ws.id, &*state.secret_store(), &ws.id)?;
    state.forget(&ws.id)?;
    tracing::info!(workspace = %ws.id, "workspace credentials renewed");
    Ok(())
}

/// Copies the staged secrets to the app's store and adds `ws` (undoing the secrets on failure).
pub fn save_with_secrets(
    state: &AppState,
    ws: Workspace,
    staged: &MemoryStore,
) -> CmdResult<Workspace> {
    let store = state.secret_store();
    if let Err(e) = staged.copy_to(&ws.id, &*store, &ws.id) {
        let _ = store.delete_all(&ws.id);
        return Err(e.into());
    }
    let id = ws.id.clone();
    let saved = ws.clone();
    if let Err(e) = state.edit_workspaces(|list| {
        list.add(ws)?;
        list.set_current(&id)
    }) {
        let _ = store.delete_all(&id);
        return Err(e);
    }
    tracing::info!(workspace = %id, kind = ?saved.kind, "workspace added");
    Ok(saved)
}

/// Removes a workspace and every secret it had. The secrets go first: if the keychain refuses,
/// the workspace stays listed, so the owner is never told its keys were deleted when they were not.
pub fn remove(state: &AppState, id: &str) -> CmdResult<Workspace> {
    let ws = state.workspace(id)?;
    let store = state.secret_store();
    // Session-only, the keychain is out of reach: a workspace whose keys are not in this
    // session's memory has them in the keychain (saved in an earlier run), and removing it now
    // would leave them there, unseen.
    if state.session_only()? && !ws.demo && !holds_any(&*store, id)? {
        return Err(invite_core::Error::KeychainUnavailable {
            hint: "This workspace's keys are in the keychain, which this session can't open. \
                   Unlock or start the keychain, restart Invite Desk, then remove it."
                .into(),
            detail: None,
        }
        .into());
    }
    store.delete_all(id)?;
    let removed = state.edit_workspaces(|list| list.remove(id))?;
    state.forget(id)?;
    tracing::info!(workspace = %id, "workspace removed with its secrets");
    Ok(removed)
}

fn holds_any(store: &dyn SecretStore, id: &str) -> CmdResult<bool> {
    for name in invite_core::secret::names::ALL {
        if store.get(id, name)?.is_some() {
            return Ok(true);
        }
    }
    Ok(false)
}
