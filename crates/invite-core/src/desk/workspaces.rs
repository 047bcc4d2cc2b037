//! Workspaces: add (test first, secrets staged in memory), edit, rename, remove, sign in again.
//!
//! A secret typed by the owner arrives once ([`SecretsIn`]), is held in a [`MemoryStore`] while
//! the connection is tested, and is copied to the keychain only when the workspace is saved.
//! It is never returned.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::{lock, Desk, SecretsIn};
use crate::error::{Error, Result};
use crate::model::{Capabilities, ConnectionReport, WorkspaceKind};
use crate::providers::netlify::netlify_sign_in;
use crate::providers::royalti::{
    royalti_connect_workspace, royalti_sign_in, RoyaltiAccount, RoyaltiSession, RoyaltiWorkspace,
};
use crate::secret::{names, MemoryStore, SecretStore, Sensitive};
use crate::workspace::{
    normalize_url, validate_name, ConnectionSettings, GotrueSignIn, RoyaltiOptions, RoyaltiSignIn,
    Workspace, WorkspaceConfig, WorkspaceSettings,
};

/// What the add-workspace form sends (no secrets).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WorkspaceDraft {
    /// Name the owner chose.
    pub name: String,
    /// The address as typed (normalised here).
    #[serde(default)]
    pub base_url: String,
    /// Which service, and its options as the form filled them (sent as `kind` and `options`;
    /// another kind's option is refused).
    #[serde(flatten)]
    pub config: WorkspaceConfig,
}

impl WorkspaceDraft {
    /// True when `other` reaches the same server in the same way: the same service, address
    /// and sign-in (account, auth mode, fork, admin role, function path, kept password…). Only
    /// these need the secret again after a passed "Test connection"; the name and the sending
    /// settings (default redirect, link lifetime, requests at once, emails per hour) do not.
    pub fn same_connection(&self, other: &WorkspaceDraft) -> bool {
        self.connection() == other.connection()
    }

    /// Which service.
    pub fn kind(&self) -> WorkspaceKind {
        self.config.kind()
    }

    /// The part of the draft a connection test depends on, normalised as Save normalises it
    /// (each back end says which of its options count: `BackendOptions::connection`).
    fn connection(&self) -> (String, WorkspaceConfig) {
        let url = normalize_url(self.kind(), &self.base_url)
            .unwrap_or_else(|_| self.base_url.trim().to_string());
        (url, self.config.connection())
    }
}

/// The workspace list as the front ends show it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceListView {
    /// Every workspace (no secrets: [`Workspace`] has none).
    pub workspaces: Vec<Workspace>,
    /// The current one.
    pub current_id: Option<String>,
    /// What each workspace's back end can do, by id, so a screen can draw its options with the
    /// list (a workspace whose saved settings fail the checks has none: its details say why).
    pub capabilities: BTreeMap<String, Capabilities>,
}

/// A workspace and what its back end can do.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceDetails {
    /// The workspace.
    pub workspace: Workspace,
    /// What its back end can do (options not offered are not shown).
    pub capabilities: Capabilities,
}

/// What "Test connection" answers: the report, and the id Save passes instead of the secrets.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Tested {
    /// What the check found.
    #[serde(flatten)]
    pub report: ConnectionReport,
    /// Pass it to [`Desk::add_workspace`] to save without sending the secrets again.
    pub check_id: String,
}

/// What "Sign in again" / "Replace key" did.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Renewed {
    /// Invitations that were waiting for it and now go out.
    pub resumed: u32,
}

/// A connection test that passed: the draft it checked and the secrets it used, in memory only.
#[derive(Debug)]
pub(crate) struct Checked {
    draft: WorkspaceDraft,
    workspace_id: String,
    staged: MemoryStore,
    at: Instant,
}

/// How long a passed test waits for Save.
const CHECK_KEPT: Duration = Duration::from_secs(600);

/// A Royalti sign-in is kept this long for the owner to pick workspaces.
const SIGN_IN_TTL: Duration = Duration::from_secs(15 * 60);

/// A Royalti sign-in waiting for the owner's pick (tokens and password stay here, in memory).
pub(crate) struct PendingSignIn {
    at: Instant,
    base_url: String,
    account: RoyaltiAccount,
    session: RoyaltiSession,
    password: Sensitive<String>,
}

/// What the pick screen shows after a Royalti sign-in: no token, no password.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoyaltiSignInView {
    /// Pass it to [`Desk::royalti_add`].
    pub sign_in_id: String,
    /// The account signed in.
    pub email: String,
    /// Its workspaces, with the owner's role in each.
    pub workspaces: Vec<RoyaltiWorkspace>,
}

/// Turns a draft into a workspace with a fresh id, validated like a saved one.
pub fn workspace_from_draft(draft: &WorkspaceDraft) -> Result<Workspace> {
    let name = validate_name(&draft.name)?;
    let base_url = normalize_url(draft.kind(), &draft.base_url)?;
    let mut config = draft.config.clone();
    // Blank optional fields from the form mean "not set".
    config.tidy();
    let ws = Workspace {
        id: uuid::Uuid::new_v4().to_string(),
        name,
        base_url,
        config,
        demo: false,
    };
    ws.validate()?;
    Ok(ws)
}

/// Scheme, host and port of an address: what decides where a credential goes.
fn origin(url: &str) -> Option<url::Origin> {
    url::Url::parse(url).ok().map(|u| u.origin())
}

impl Desk {
    /// Every workspace, read from the settings file again (the other front end may have
    /// changed it).
    pub fn workspaces(&self) -> Result<WorkspaceListView> {
        let list = self.reload()?;
        let capabilities = list
            .workspaces
            .iter()
            .filter_map(|w| Some((w.id.clone(), self.provider(&w.id).ok()?.capabilities())))
            .collect();
        Ok(WorkspaceListView {
            workspaces: list.workspaces,
            current_id: list.current,
            capabilities,
        })
    }

    /// A workspace and its back end's capabilities.
    pub fn workspace_details(&self, id: &str) -> Result<WorkspaceDetails> {
        let workspace = self.workspace(id)?;
        let capabilities = self.provider(id)?.capabilities();
        Ok(WorkspaceDetails {
            workspace,
            capabilities,
        })
    }

    /// Makes `id` the current workspace.
    pub fn set_current_workspace(&self, id: &str) -> Result<()> {
        super::check_id(id)?;
        self.edit_workspaces(|list| list.set_current(id))
    }

    /// Renames a workspace.
    pub fn rename_workspace(&self, id: &str, name: &str) -> Result<Workspace> {
        super::check_id(id)?;
        self.edit_workspaces(|list| list.rename(id, name))?;
        self.workspace(id)
    }

    /// Changes a workspace's settings (default redirect, link lifetime, requests at once,
    /// emails per hour); nothing about where it connects.
    pub fn edit_workspace(&self, id: &str, settings: &WorkspaceSettings) -> Result<Workspace> {
        super::check_id(id)?;
        self.edit_workspaces(|list| {
            let mut ws = list
                .get(id)
                .cloned()
                .ok_or_else(|| Error::UnknownWorkspace { id: id.to_string() })?;
            ws.apply_settings(settings)?;
            list.update(ws)
        })?;
        self.forget(id)?;
        self.workspace(id)
    }

    /// Puts the secrets `ws` needs into `store` (signing in where the service needs it).
    async fn stage_secrets(
        &self,
        ws: &Workspace,
        secrets: &SecretsIn,
        store: &dyn SecretStore,
    ) -> Result<()> {
        secrets.check_names()?;
        for v in secrets.values() {
            self.inner.known.add(&v);
        }
        let http = &self.inner.http;
        match &ws.config {
            WorkspaceConfig::Supabase(_) => {
                let key = secrets.require(names::SECRET_KEY, "Secret key")?;
                crate::providers::supabase::classify_supabase_key(key.expose())?;
                store.set(&ws.id, names::SECRET_KEY, &key)?;
            }
            WorkspaceConfig::Gotrue(o) => match o.auth_mode {
                GotrueSignIn::OperatorToken => {
                    let t = secrets.require(names::OPERATOR_TOKEN, "Operator token")?;
                    store.set(&ws.id, names::OPERATOR_TOKEN, &t)?;
                }
                GotrueSignIn::JwtSecret => {
                    let s = secrets.require(names::JWT_SECRET, "JWT secret")?;
                    store.set(&ws.id, names::JWT_SECRET, &s)?;
                }
            },
            WorkspaceConfig::Netlify(o) => {
                let email = o
                    .account_email
                    .clone()
                    .ok_or_else(|| Error::invalid_input("Your Identity email", "is required"))?;
                let password = secrets.require(names::PASSWORD, "Password")?;
                netlify_sign_in(http, &ws.base_url, &email, &password, store, &ws.id).await?;
                if o.keep_signed_in {
                    store.set(&ws.id, names::PASSWORD, &password)?;
                }
            }
            WorkspaceConfig::Royalti(o) if o.auth_mode == RoyaltiSignIn::ApiKey => {
                let k = secrets.require(names::API_KEY, "API key")?;
                store.set(&ws.id, names::API_KEY, &k)?;
            }
            // Signing in again to a Royalti workspace already added (adding goes through
            // `royalti_add`, where the owner picks the workspaces).
            WorkspaceConfig::Royalti(o) => {
                let (Some(email), Some(remote)) =
                    (o.account_email.as_deref(), o.remote_workspace_id.as_deref())
                else {
                    return Err(Error::invalid_input(
                        "Royalti",
                        "sign in with your Royalti account to add its workspaces",
                    ));
                };
                let password = secrets.require(names::PASSWORD, "Password")?;
                let (_, session) = royalti_sign_in(http, &ws.base_url, email, &password).await?;
                royalti_connect_workspace(http, &ws.base_url, &session, remote, store, &ws.id)
                    .await?;
                if o.keep_signed_in {
                    store.set(&ws.id, names::PASSWORD, &password)?;
                }
            }
        }
        Ok(())
    }

    /// Stages the secrets in memory and runs the provider's connection check with them only.
    async fn check_staged(
        &self,
        ws: &Workspace,
        secrets: &SecretsIn,
    ) -> Result<(ConnectionReport, MemoryStore)> {
        let staged = MemoryStore::new();
        self.stage_secrets(ws, secrets, &staged).await?;
        let provider =
            crate::connect::provider_for(self.inner.http.clone(), ws, Arc::new(staged.clone()))?;
        let report = provider.check_connection().await?;
        Ok((report, staged))
    }

    /// "Test connection": nothing is saved; the checked secrets wait in memory (for ten
    /// minutes) for [`Self::add_workspace`] with the returned `check_id`.
    pub async fn test_workspace(
        &self,
        draft: &WorkspaceDraft,
        secrets: &SecretsIn,
    ) -> Result<Tested> {
        let ws = workspace_from_draft(draft)?;
        let (report, staged) = self.check_staged(&ws, secrets).await?;
        let check_id = uuid::Uuid::new_v4().to_string();
        let mut checked = lock(&self.inner.checked)?;
        checked.retain(|_, c| c.at.elapsed() < CHECK_KEPT);
        checked.insert(
            check_id.clone(),
            Checked {
                draft: draft.clone(),
                workspace_id: ws.id,
                staged,
                at: Instant::now(),
            },
        );
        Ok(Tested { report, check_id })
    }

    /// Whether the passed test `check_id` still stands for `draft`, so Save needs no secret:
    /// it has not expired and only the name or sending settings changed since
    /// ([`WorkspaceDraft::same_connection`]). The add form asks as the owner edits.
    pub fn check_covers(&self, check_id: &str, draft: &WorkspaceDraft) -> Result<bool> {
        Ok(lock(&self.inner.checked)?
            .get(check_id)
            .is_some_and(|c| c.at.elapsed() < CHECK_KEPT && c.draft.same_connection(draft)))
    }

    /// "Save": tests again (a workspace that cannot invite is never saved), then keeps the
    /// secrets in the keychain and the workspace in the list, and makes it current. After a
    /// passed test of a draft with the same connection (the name and sending settings may have
    /// changed since), `secrets` may be empty and `check_id` stands in for them.
    pub async fn add_workspace(
        &self,
        draft: &WorkspaceDraft,
        secrets: &SecretsIn,
        check_id: Option<&str>,
    ) -> Result<Workspace> {
        let mut ws = workspace_from_draft(draft)?;
        let passed = match check_id {
            Some(id) => lock(&self.inner.checked)?.remove(id),
            None => None,
        };
        let staged = match passed {
            Some(c)
                if secrets.is_empty()
                    && c.draft.same_connection(draft)
                    && c.at.elapsed() < CHECK_KEPT =>
            {
                ws.id = c.workspace_id;
                let staged = Arc::new(c.staged);
                crate::connect::provider_for(self.inner.http.clone(), &ws, staged.clone())?
                    .check_connection()
                    .await?;
                Arc::unwrap_or_clone(staged)
            }
            _ => self.check_staged(&ws, secrets).await?.1,
        };
        self.save_with_secrets(ws, &staged)
    }

    /// Corrects where and how a saved workspace reaches its server.
    ///
    /// Same origin (scheme, host and port): checked with the keys already kept. A new origin:
    /// the kept keys, passwords and refresh tokens are never sent there; `secrets` must hold the
    /// secret again ([`Error::SecretNeeded`] otherwise), it is staged in memory and checked
    /// against the new address, and only then replaces the kept ones. A refused edit changes
    /// nothing, in the list or in the keychain.
    pub async fn edit_connection(
        &self,
        id: &str,
        settings: &ConnectionSettings,
        secrets: &SecretsIn,
    ) -> Result<Workspace> {
        let old = self.workspace(id)?;
        if old.demo {
            return Err(Error::invalid_input(
                "Demo workspace",
                "its address is the app's own sandbox",
            ));
        }
        let mut ws = old.clone();
        ws.apply_connection(settings)?;
        let moved = origin(&old.base_url) != origin(&ws.base_url);
        if moved {
            if secrets.is_empty() {
                return Err(Error::SecretNeeded { host: ws.host() });
            }
            let (_, staged) = self.check_staged(&ws, secrets).await?;
            self.replace_secrets(&ws.id, &staged)?;
        } else {
            crate::connect::provider_for(self.inner.http.clone(), &ws, self.secret_store())?
                .check_connection()
                .await?;
        }
        let saved = ws.clone();
        self.edit_workspaces(|list| list.update(ws))?;
        self.forget(id)?;
        tracing::info!(workspace = %id, moved, "workspace connection changed");
        Ok(saved)
    }

    /// Makes `staged` the workspace's only secrets: new ones written, the others (a refresh
    /// token of the old address, say) deleted.
    fn replace_secrets(&self, id: &str, staged: &MemoryStore) -> Result<()> {
        let store = self.secret_store();
        staged.copy_to(id, &*store, id)?;
        let keep = staged.names(id);
        for name in names::ALL {
            if !keep.iter().any(|k| k == name) {
                store.delete(id, name)?;
            }
        }
        Ok(())
    }

    /// "Sign in again" / "Replace key": the new secret is checked against the server first and
    /// replaces the old one only when it can invite; then the workspace's paused invitations go.
    pub async fn renew_secrets(&self, id: &str, secrets: &SecretsIn) -> Result<Renewed> {
        let ws = self.workspace(id)?;
        let (_, staged) = self.check_staged(&ws, secrets).await?;
        staged.copy_to(&ws.id, &*self.secret_store(), &ws.id)?;
        self.forget(&ws.id)?;
        tracing::info!(workspace = %ws.id, "workspace credentials renewed");
        let resumed = self.resume_workspace(id)?;
        Ok(Renewed { resumed })
    }

    /// Copies the staged secrets to the keychain and adds `ws` (undoing the secrets on failure).
    pub(crate) fn save_with_secrets(
        &self,
        ws: Workspace,
        staged: &MemoryStore,
    ) -> Result<Workspace> {
        let store = self.secret_store();
        if let Err(e) = staged.copy_to(&ws.id, &*store, &ws.id) {
            let _ = store.delete_all(&ws.id);
            return Err(e);
        }
        let id = ws.id.clone();
        let saved = ws.clone();
        if let Err(e) = self.edit_workspaces(|list| {
            list.add(ws)?;
            list.set_current(&id)
        }) {
            let _ = store.delete_all(&id);
            return Err(e);
        }
        tracing::info!(workspace = %id, kind = ?saved.kind(), "workspace added");
        Ok(saved)
    }

    /// Removes a workspace and every secret it had. The secrets go first: if the keychain
    /// refuses, the workspace stays listed, so the owner is never told its keys were deleted
    /// when they were not. A demo workspace's server stops.
    pub async fn remove_workspace(&self, id: &str) -> Result<Workspace> {
        let ws = self.workspace(id)?;
        let store = self.secret_store();
        // Session-only, the keychain is out of reach: a workspace whose keys are not in this
        // session's memory has them in the keychain (saved in an earlier run), and removing it
        // now would leave them there, unseen.
        if self.session_only()? && !ws.demo && !holds_any(&*store, id)? {
            return Err(Error::KeychainUnavailable {
                hint: "This workspace's keys are in the keychain, which this session can't open. \
                       Unlock or start the keychain, restart Invite Desk, then remove it."
                    .into(),
                detail: None,
            });
        }
        store.delete_all(id)?;
        let removed = self.edit_workspaces(|list| list.remove(id))?;
        self.forget(id)?;
        // A removed demo's server must not keep listening.
        self.stop_demo(id).await;
        tracing::info!(workspace = %id, "workspace removed with its secrets");
        Ok(removed)
    }

    /// Signs in to Royalti and lists the account's workspaces with the owner's role in each.
    /// The session waits in memory (15 minutes) for [`Self::royalti_add`].
    pub async fn royalti_sign_in(
        &self,
        base_url: &str,
        email: &str,
        password: Sensitive<String>,
    ) -> Result<RoyaltiSignInView> {
        self.inner.known.add(&password);
        let email = email.trim().to_string();
        if email.is_empty() || password.expose().is_empty() {
            return Err(Error::invalid_input(
                "Royalti sign-in",
                "enter your email and password",
            ));
        }
        let base_url = normalize_url(WorkspaceKind::Royalti, base_url)?;
        let (account, session) =
            royalti_sign_in(&self.inner.http, &base_url, &email, &password).await?;
        let id = uuid::Uuid::new_v4().to_string();
        let view = RoyaltiSignInView {
            sign_in_id: id.clone(),
            email: account.email.clone(),
            workspaces: account.workspaces.clone(),
        };
        let mut pending = lock(&self.inner.royalti)?;
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

    /// Adds the picked workspaces of a Royalti sign-in: each gets its own token, is checked,
    /// then saved. Workspaces already added are skipped.
    pub async fn royalti_add(
        &self,
        sign_in_id: &str,
        picks: &[String],
        keep_signed_in: bool,
    ) -> Result<Vec<Workspace>> {
        let pending = lock(&self.inner.royalti)?
            .remove(sign_in_id)
            .filter(|p| p.at.elapsed() < SIGN_IN_TTL)
            .ok_or_else(|| {
                Error::invalid_input("Royalti sign-in", "this sign-in has expired; sign in again")
            })?;
        if picks.is_empty() {
            return Err(Error::invalid_input("Workspaces", "tick at least one"));
        }
        let http = &self.inner.http;
        let mut added = Vec::new();
        for pick in picks {
            let Some(remote) = pending.account.workspaces.iter().find(|w| &w.id == pick) else {
                return Err(Error::invalid_input(
                    "Workspaces",
                    "this workspace is not in the account",
                ));
            };
            if !remote.can_invite {
                return Err(Error::invalid_input(
                    &remote.name,
                    format!(
                        "your role is {}; only owners and admins can invite",
                        remote.role
                    ),
                ));
            }
            let exists = self.reload()?.workspaces.iter().any(|w| {
                w.base_url == pending.base_url
                    && matches!(&w.config, WorkspaceConfig::Royalti(o)
                        if o.remote_workspace_id.as_deref() == Some(remote.id.as_str()))
            });
            if exists {
                continue;
            }
            let ws = Workspace {
                id: uuid::Uuid::new_v4().to_string(),
                name: validate_name(&remote.name).unwrap_or_else(|_| "Royalti workspace".into()),
                base_url: pending.base_url.clone(),
                config: WorkspaceConfig::Royalti(RoyaltiOptions {
                    remote_workspace_id: Some(remote.id.clone()),
                    account_email: Some(pending.account.email.clone()),
                    role: Some(remote.role.clone()),
                    keep_signed_in,
                    ..Default::default()
                }),
                demo: false,
            };
            let staged = MemoryStore::new();
            royalti_connect_workspace(
                http,
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
            crate::connect::provider_for(http.clone(), &ws, Arc::new(staged.clone()))?
                .check_connection()
                .await?;
            added.push(self.save_with_secrets(ws, &staged)?);
        }
        Ok(added)
    }
}

fn holds_any(store: &dyn SecretStore, id: &str) -> Result<bool> {
    for name in names::ALL {
        if store.get(id, name)?.is_some() {
            return Ok(true);
        }
    }
    Ok(false)
}
