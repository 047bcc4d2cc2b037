//! Shared helpers for the GoTrue-family integration tests: an in-memory keychain, workspaces
//! pointed at an in-process sandbox, and providers built exactly as the app builds them.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use invite_core::model::WorkspaceKind;
use invite_core::secret::{SecretStore, Sensitive};
use invite_core::workspace::{
    GotrueOptions, NetlifyOptions, SupabaseOptions, Workspace, WorkspaceConfig,
};
use invite_core::Result;

/// A keychain in memory, shared by clones, so tests can read what providers stored.
#[derive(Debug, Default, Clone)]
pub struct MemStore(Arc<Mutex<HashMap<(String, String), String>>>);

impl MemStore {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    pub fn put(&self, ws: &str, name: &str, value: &str) {
        self.0
            .lock()
            .unwrap()
            .insert((ws.into(), name.into()), value.into());
    }

    pub fn peek(&self, ws: &str, name: &str) -> Option<String> {
        self.0
            .lock()
            .unwrap()
            .get(&(ws.to_string(), name.to_string()))
            .cloned()
    }

    pub fn remove(&self, ws: &str, name: &str) {
        self.0
            .lock()
            .unwrap()
            .remove(&(ws.to_string(), name.to_string()));
    }
}

impl SecretStore for MemStore {
    fn get(&self, workspace: &str, name: &str) -> Result<Option<Sensitive<String>>> {
        Ok(self.peek(workspace, name).map(Sensitive::new))
    }

    fn set(&self, workspace: &str, name: &str, value: &Sensitive<String>) -> Result<()> {
        self.put(workspace, name, value.expose());
        Ok(())
    }

    fn delete(&self, workspace: &str, name: &str) -> Result<()> {
        self.remove(workspace, name);
        Ok(())
    }
}

/// A workspace at `url`, of the kind `config` is.
pub fn workspace(url: &str, config: WorkspaceConfig) -> Workspace {
    Workspace {
        id: format!("ws-{}", uuid::Uuid::new_v4()),
        name: "Test".into(),
        base_url: url.trim_end_matches('/').to_string(),
        config,
        demo: false,
    }
}

// ---------------------------------------------------------------------------------------------
// The sandbox, started in-process on port 0, and providers pointed at it.

use invite_core::http::Http;
use invite_core::providers::gotrue::GotrueProvider;
use invite_core::providers::netlify::{netlify_sign_in, NetlifyProvider};
use invite_core::providers::supabase::SupabaseProvider;
use invite_core::secret::names;
use invite_core::workspace::{GotrueFork, GotrueSignIn};
use invite_sandbox::{Config, Fault, FaultAction, Flavor, Sandbox};

/// Short timeouts: a dropped connection must not stall a test.
/// An address nothing listens on: port 1 on the loopback. Not a port freed by dropping a listener:
/// the tests run in parallel, and another test's server could be given that port at once (it
/// happened: a Royalti sandbox answered where "nothing" was expected). Servers started by tests
/// bind port 0, which the OS picks from its ephemeral range; port 1 is never one of them.
pub const NOTHING_LISTENS: &str = "127.0.0.1:1";

pub fn http() -> Http {
    Http::with_timeout(std::time::Duration::from_secs(10)).unwrap()
}

/// What every sandbox-backed fixture shares.
pub struct Base {
    pub sb: Sandbox,
    pub url: String,
    pub creds: invite_sandbox::Credentials,
    pub store: Arc<MemStore>,
}

impl Base {
    async fn start(flavor: Flavor) -> Self {
        Self::start_with(Config::new(flavor)).await
    }

    async fn start_with(config: Config) -> Self {
        let sb = Sandbox::start(config).await.unwrap();
        let url = sb.url().trim_end_matches('/').to_string();
        let creds = sb.credentials().clone();
        Self {
            sb,
            url,
            creds,
            store: MemStore::new(),
        }
    }

    /// How many requests reached `route` ("POST /invite").
    pub fn calls(&self, route: &str) -> usize {
        usize::try_from(self.sb.calls(route)).unwrap()
    }

    /// The next request to `route` is carried out, then its connection is dropped unanswered.
    pub fn drop_after(&self, route: &str) {
        self.sb.inject(Fault {
            route: Some(route.into()),
            count: 1,
            action: FaultAction::DropAfter,
        });
    }

    /// The next request to `route` gets `status` without being carried out.
    pub fn fail_with(&self, route: &str, status: u16) {
        self.sb.inject(Fault {
            route: Some(route.into()),
            count: 1,
            action: FaultAction::Status {
                status,
                retry_after: None,
            },
        });
    }

    /// The next request to `route` gets a bare 429 with `Retry-After` (no GoTrue error code, as
    /// a gateway in front of the server answers).
    pub fn rate_limit(&self, route: &str, retry_after_secs: u64) {
        self.sb.inject(Fault {
            route: Some(route.into()),
            count: 1,
            action: FaultAction::Status {
                status: 429,
                retry_after: Some(retry_after_secs),
            },
        });
    }

    /// The links of every invitation email sent to `email`, oldest first.
    pub fn mail_to(&self, email: &str) -> Vec<String> {
        self.sb
            .mail()
            .into_iter()
            .filter(|m| m.to.eq_ignore_ascii_case(email))
            .map(|m| m.link)
            .collect()
    }

    /// True when an invitation link still works (its token is alive).
    pub async fn link_works(&self, link: &str) -> bool {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let resp = client.get(link).send().await.unwrap();
        let location = resp
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .unwrap_or_default()
            .to_string();
        resp.status().is_redirection() && location.contains("access_token=")
    }
}

impl std::ops::Deref for Supa {
    type Target = Base;
    fn deref(&self) -> &Base {
        &self.base
    }
}

/// A Supabase-flavor sandbox with a workspace using the project's secret key.
pub struct Supa {
    pub base: Base,
    pub ws: Workspace,
    pub provider: SupabaseProvider,
}

impl Supa {
    pub async fn start() -> Self {
        Self::start_with(Config::new(Flavor::Supabase)).await
    }

    /// With a sandbox set up as `config` says.
    pub async fn start_with(config: Config) -> Self {
        let base = Base::start_with(config).await;
        let ws = workspace(
            &base.url,
            WorkspaceConfig::Supabase(SupabaseOptions::default()),
        );
        base.store
            .put(&ws.id, names::SECRET_KEY, &base.creds.secret_key);
        let provider = SupabaseProvider::new(http(), &ws, base.store.clone()).unwrap();
        Self { base, ws, provider }
    }

    /// The same keychain, another address.
    pub fn provider_at(&self, url: &str) -> SupabaseProvider {
        let mut ws = self.ws.clone();
        ws.base_url = url.to_string();
        SupabaseProvider::new(http(), &ws, self.store.clone()).unwrap()
    }

    /// The same workspace through a client that gives up after `timeout`.
    pub fn provider_with_timeout(&self, timeout: std::time::Duration) -> SupabaseProvider {
        let http = Http::with_timeout(timeout).unwrap();
        SupabaseProvider::new(http, &self.ws, self.store.clone()).unwrap()
    }

    /// Accepts the last invitation sent to `email` by following its link, as the invitee would.
    pub async fn accept(&self, email: &str) {
        let link = self.mail_to(email).pop().expect("an invitation email");
        assert!(self.link_works(&link).await, "the invitation link works");
    }

    /// Creates `n` pending invitations `bulk-<tag>-NNN@example.com` (links, no email: no rate limit).
    pub async fn seed_invited(&self, n: usize, tag: &str) {
        use invite_core::provider::Provider;
        for i in 0..n {
            let r = invite_core::model::InviteRequest {
                email: format!("bulk-{tag}-{i:03}@example.com"),
                message: None,
                redirect_url: None,
                send_email: false,
            };
            self.provider.invite(&r).await.unwrap();
        }
    }
}

/// Which fork a self-hosted sandbox runs.
#[derive(Debug, Clone, Copy)]
pub enum Fork {
    Supabase,
    Netlify,
}

/// A self-hosted GoTrue sandbox (root URL) with a workspace using the JWT secret or operator token.
pub struct Hosted {
    pub base: Base,
    pub fork: Fork,
    pub ws: Workspace,
    pub provider: GotrueProvider,
}

impl std::ops::Deref for Hosted {
    type Target = Base;
    fn deref(&self) -> &Base {
        &self.base
    }
}

impl Hosted {
    pub async fn start(fork: Fork, auth_mode: GotrueSignIn, choice: GotrueFork) -> Self {
        let opts = GotrueOptions {
            auth_mode,
            gotrue_fork: choice,
            ..Default::default()
        };
        Self::start_opts(fork, opts).await
    }

    pub async fn start_with_role(fork: Fork, role: &str) -> Self {
        let opts = GotrueOptions {
            admin_role: Some(role.into()),
            ..Default::default()
        };
        Self::start_opts(fork, opts).await
    }

    async fn start_opts(fork: Fork, opts: GotrueOptions) -> Self {
        let flavor = match fork {
            Fork::Supabase => Flavor::Supabase,
            Fork::Netlify => Flavor::Netlify,
        };
        let base = Base::start(flavor).await;
        let ws = workspace(&base.url, WorkspaceConfig::Gotrue(opts));
        base.store
            .put(&ws.id, names::JWT_SECRET, &base.creds.jwt_secret);
        base.store
            .put(&ws.id, names::OPERATOR_TOKEN, &base.creds.operator_token);
        let provider = GotrueProvider::new(http(), &ws, base.store.clone()).unwrap();
        Self {
            base,
            fork,
            ws,
            provider,
        }
    }

    pub fn provider_at(&self, url: &str) -> GotrueProvider {
        let mut ws = self.ws.clone();
        ws.base_url = url.to_string();
        GotrueProvider::new(http(), &ws, self.store.clone()).unwrap()
    }

    pub async fn accept(&self, email: &str) {
        match self.fork {
            Fork::Supabase => {
                let link = self.mail_to(email).pop().expect("an invitation email");
                assert!(self.link_works(&link).await);
            }
            Fork::Netlify => accept_netlify(&self.base, &self.url, email).await,
        }
    }

    pub async fn seed_invited(&self, n: usize, tag: &str) {
        seed_by_email(&self.provider, n, tag).await;
    }
}

/// Invites `n` addresses `bulk-<tag>-NNN@example.com` by email.
pub async fn seed_by_email(p: &dyn invite_core::provider::Provider, n: usize, tag: &str) {
    for i in 0..n {
        let r = invite_core::model::InviteRequest {
            email: format!("bulk-{tag}-{i:03}@example.com"),
            message: None,
            redirect_url: None,
            send_email: true,
        };
        p.invite(&r).await.unwrap();
    }
}

/// Accepts a Netlify invitation as gotrue-js does: `POST <identity>/verify {type:"signup",token,password}`.
pub async fn accept_netlify(base: &Base, identity_root: &str, email: &str) {
    let link = base.mail_to(email).pop().expect("an invitation email");
    let token = link
        .split("invite_token=")
        .nth(1)
        .expect("an invite_token in the link")
        .to_string();
    let resp = reqwest::Client::new()
        .post(format!("{identity_root}/verify"))
        .json(&serde_json::json!({ "type": "signup", "token": token, "password": "accepted-password-1" }))
        .send()
        .await
        .unwrap();
    assert!(
        resp.status().is_success(),
        "verify: {}",
        resp.text().await.unwrap()
    );
}

/// A Netlify-flavor sandbox (site + Identity + the Invite Desk function routes), signed in.
pub struct Nf {
    pub base: Base,
    pub ws: Workspace,
    pub provider: NetlifyProvider,
}

impl std::ops::Deref for Nf {
    type Target = Base;
    fn deref(&self) -> &Base {
        &self.base
    }
}

impl Nf {
    pub async fn start() -> Self {
        Self::start_opts(None, false).await
    }

    pub async fn start_as_member() -> Self {
        Self::start_opts(None, true).await
    }

    pub async fn start_with_function_path(path: &str) -> Self {
        Self::start_opts(Some(path), false).await
    }

    async fn start_opts(function_path: Option<&str>, member: bool) -> Self {
        let base = Base::start(Flavor::Netlify).await;
        let (email, password) = if member {
            (
                base.creds.member_email.clone(),
                base.creds.member_password.clone(),
            )
        } else {
            (
                base.creds.owner_email.clone(),
                base.creds.owner_password.clone(),
            )
        };
        let opts = NetlifyOptions {
            function_path: function_path.map(str::to_string),
            account_email: Some(email.clone()),
            ..Default::default()
        };
        let ws = workspace(&base.url, WorkspaceConfig::Netlify(opts));
        netlify_sign_in(
            &http(),
            &base.url,
            &email,
            &invite_core::secret::Sensitive::new(password),
            base.store.as_ref(),
            &ws.id,
        )
        .await
        .unwrap();
        let provider = NetlifyProvider::new(http(), &ws, base.store.clone()).unwrap();
        Self { base, ws, provider }
    }

    /// Another provider on the same workspace and keychain with "keep me signed in" and the password kept.
    pub fn keep_signed_in(&self) -> KeptNf<'_> {
        let mut ws = self.ws.clone();
        if let WorkspaceConfig::Netlify(o) = &mut ws.config {
            o.keep_signed_in = true;
        }
        self.store
            .put(&ws.id, names::PASSWORD, &self.creds.owner_password);
        let provider = NetlifyProvider::new(http(), &ws, self.store.clone()).unwrap();
        KeptNf {
            store: &self.store,
            ws,
            provider,
        }
    }

    pub async fn accept(&self, email: &str) {
        accept_netlify(
            &self.base,
            &format!("{}/.netlify/identity", self.url),
            email,
        )
        .await;
    }

    pub async fn seed_invited(&self, n: usize, tag: &str) {
        seed_by_email(&self.provider, n, tag).await;
    }
}

/// See [`Nf::keep_signed_in`].
pub struct KeptNf<'a> {
    pub store: &'a Arc<MemStore>,
    pub ws: Workspace,
    pub provider: NetlifyProvider,
}

/// A JWT whose `exp` has passed (its signature is never checked before the server sees it).
pub fn expired_jwt() -> String {
    use base64::Engine as _;
    let b = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    format!(
        "{}.{}.c2ln",
        b(r#"{"alg":"HS256","typ":"JWT"}"#),
        b(r#"{"sub":"x","exp":1000}"#)
    )
}

/// A Supabase workspace `ws` ("Acme") on `sandbox`, with its service-role key kept in a fresh
/// in-memory keychain: what the outbox tests build a provider from.
pub fn supabase_workspace(sandbox: &Sandbox) -> (Workspace, invite_core::secret::MemoryStore) {
    let secrets = invite_core::secret::MemoryStore::new();
    secrets
        .set(
            "ws",
            names::SECRET_KEY,
            &Sensitive::new(sandbox.credentials().service_role_key.clone()),
        )
        .unwrap();
    let ws = Workspace {
        id: "ws".into(),
        name: "Acme".into(),
        base_url: sandbox.url(),
        config: invite_core::workspace::WorkspaceConfig::default_for(WorkspaceKind::Supabase),
        demo: false,
    };
    (ws, secrets)
}

/// Waits up to `secs` for `done` to hold on the batch, and returns its jobs then.
pub async fn wait_for(
    outbox: &invite_core::outbox::Outbox,
    batch: &str,
    secs: u64,
    done: impl Fn(&invite_core::outbox::BatchSummary, &[invite_core::outbox::Job]) -> bool,
) -> Vec<invite_core::outbox::Job> {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        let s = outbox.batch(batch).unwrap();
        let jobs = outbox.jobs(batch).unwrap();
        if done(&s, &jobs) {
            return jobs;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "gave up waiting: {s:?} {jobs:#?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
