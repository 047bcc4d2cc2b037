//! A local server that answers as the real invitation APIs do (GoTrue for Supabase and Netlify,
//! and Royalti), with a mailbox, call counters and fault injection.
//!
//! Wire facts follow `docs/wire/gotrue.md` and `docs/wire/royalti.md`; where a fact is
//! unverified the chosen behaviour is commented with the doc section it comes from.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use chrono::{DateTime, Utc};
use hyper::body::Incoming;
use hyper::header::HeaderMap;
use hyper::{Request, Response};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify};

mod faults;
mod gotrue;
mod royalti;
mod server;

use faults::*;
pub use faults::{Fault, FaultAction, FaultError, SpreadFault};
use server::*;

/// Which service the sandbox impersonates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Flavor {
    /// Supabase Auth (GoTrue), at `/auth/v1` (hosted, gateway) and at the root (self-hosted).
    Supabase,
    /// Netlify Identity (netlify/gotrue) at `/.netlify/identity`, plus the Invite Desk function.
    Netlify,
    /// Royalti workspace API at the root.
    Royalti,
}

impl std::str::FromStr for Flavor {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "supabase" => Ok(Flavor::Supabase),
            "netlify" => Ok(Flavor::Netlify),
            "royalti" => Ok(Flavor::Royalti),
            other => Err(format!(
                "unknown flavor {other:?} (supabase, netlify, royalti)"
            )),
        }
    }
}

impl std::fmt::Display for Flavor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Flavor::Supabase => "supabase",
            Flavor::Netlify => "netlify",
            Flavor::Royalti => "royalti",
        })
    }
}

/// How a sandbox is set up.
#[derive(Clone, Debug)]
pub struct Config {
    /// The service to impersonate.
    pub flavor: Flavor,
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Seed for credentials and ids (random by default).
    pub seed: u64,
    /// Emails per window (GoTrue default 30); 0 refuses every send.
    pub email_limit: u32,
    /// Length of the email window (1 h).
    pub email_window: Duration,
    /// Added to every API request.
    pub latency: Duration,
    /// Royalti access token lifetime (6 h); GoTrue user token lifetime (1 h).
    pub access_ttl: Duration,
    /// Royalti refresh token lifetime (1 day).
    pub refresh_ttl: Duration,
    /// Invite link lifetime (GoTrue `MAILER_OTP_EXP`, 24 h).
    pub otp_ttl: Duration,
    /// Send `Retry-After` with GoTrue's 429 `over_email_send_rate_limit`. docs/wire/gotrue.md §1a does not
    /// say the real server sends one, so it is off by default.
    pub retry_after_header: bool,
    /// Extra redirect globs (`GOTRUE_URI_ALLOW_LIST`); the site URL and loopback always pass.
    pub uri_allow_list: Vec<String>,
    /// Faults armed at start (and again after every reset).
    pub faults: Vec<SpreadFault>,
    /// Every invite email fails to send: Supabase 500 `unexpected_failure`
    /// `Error sending invite email`, Netlify 500 `Error inviting user` (docs/wire/gotrue.md §1a, §1b).
    pub smtp_failure: bool,
    /// Supabase: JWT `role` values that are admin (`GOTRUE_JWT_ADMIN_ROLES`, docs/wire/gotrue.md §2;
    /// default `service_role`, `supabase_admin`).
    pub admin_roles: Vec<String>,
    /// Supabase: `GOTRUE_EXTERNAL_EMAIL_AUTHORIZED_ADDRESSES`. When not empty, mail goes only to
    /// these addresses (case-insensitive, `+label` ignored) and any other invitee gets 400
    /// `email_address_not_authorized` (docs/wire/gotrue.md §1a table) — how the hosted built-in mailer
    /// limits itself to the team's addresses.
    pub email_authorized_addresses: Vec<String>,
    /// Supabase: `GOTRUE_MAILER_EMAIL_VALIDATION_EXTENDED`. The mailer then refuses reserved or
    /// well-known fake addresses (`*.test`, `*.invalid`, `example.com`, `test@gmail.com`, …)
    /// with 400 `email_address_invalid` (docs/wire/gotrue.md §1a table). The DNS/MX half of the real check
    /// is left out so the sandbox never needs the network. Off by default, as in stock GoTrue.
    pub email_validation_extended: bool,
    /// Supabase: `GOTRUE_SESSIONS_TIMEBOX`. A token whose `session_id` session is older than this
    /// gets 403 `session_expired` on admin routes (docs/wire/gotrue.md §1a table). `None` = sessions
    /// never expire, the stock setting.
    pub session_timebox: Option<Duration>,
    /// Netlify: roles the Invite Desk function lets in, as its `INVITE_DESK_ROLES` (default
    /// `admin`; see [`parse_roles`] for the exact reading).
    pub invite_desk_roles: Vec<String>,
    /// When set, the control routes (`/__sandbox/*`: mailbox, credentials, faults, reset,
    /// accept) answer only requests that carry this value in [`CONTROL_TOKEN_HEADER`]; anything
    /// else gets 401. The app's own demo sets a random one ([`random_control_token`]) so that no
    /// other local program or web page can read its keys or steer it. `None` (the default, and
    /// the standalone binary's) leaves them open, as tests and scripts use them.
    pub control_token: Option<String>,
    /// Answer 429 `over_request_rate_limit` (no `Retry-After`, at once) to an API request that
    /// arrives while this many are already being answered: a server or proxy that caps requests
    /// in flight per client. `None`: no cap.
    pub max_in_flight: Option<usize>,
    /// Loopback ports of fronts that pass requests through unchanged (a TLS terminator in the
    /// core's certificate tests): `Host` may name them as well as the sandbox's own port.
    pub front_ports: Vec<u16>,
}

/// The request header that carries [`Config::control_token`].
pub const CONTROL_TOKEN_HEADER: &str = "x-sandbox-token";

/// A fresh control token: 43 alphanumeric characters (about 256 bits) from the OS's random
/// source.
pub fn random_control_token() -> String {
    (0..43)
        .map(|_| char::from(rand::rngs::OsRng.sample(rand::distributions::Alphanumeric)))
        .collect()
}

impl Config {
    /// Defaults as the real services ship them.
    pub fn new(flavor: Flavor) -> Self {
        Config {
            flavor,
            port: 0,
            seed: rand::thread_rng().gen(),
            email_limit: 30,
            email_window: Duration::from_secs(3600),
            latency: Duration::ZERO,
            access_ttl: match flavor {
                Flavor::Royalti => Duration::from_secs(6 * 3600),
                _ => Duration::from_secs(3600),
            },
            refresh_ttl: Duration::from_secs(86400),
            otp_ttl: Duration::from_secs(86400),
            retry_after_header: false,
            uri_allow_list: Vec::new(),
            faults: Vec::new(),
            smtp_failure: false,
            admin_roles: vec!["service_role".into(), "supabase_admin".into()],
            email_authorized_addresses: Vec::new(),
            email_validation_extended: false,
            session_timebox: None,
            invite_desk_roles: vec!["admin".into()],
            control_token: None,
            front_ports: Vec::new(),
            max_in_flight: None,
        }
    }
}

/// Reads a comma-separated role list the way `netlify/functions/invite-desk.mjs` reads
/// `INVITE_DESK_ROLES`: an empty value means `admin`; items are trimmed; empty items dropped
/// (so `" , "` allows nobody, exactly as the function does).
pub fn parse_roles(value: &str) -> Vec<String> {
    let value = if value.is_empty() { "admin" } else { value };
    value
        .split(',')
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_string)
        .collect()
}

/// What a user of the sandbox pastes into the app.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Credentials {
    /// Supabase: HS256 JWT `role=service_role`.
    pub service_role_key: String,
    /// Supabase: HS256 JWT `role=anon`.
    pub anon_key: String,
    /// Supabase: opaque `sb_secret_…` key (gateway maps it to service_role).
    pub secret_key: String,
    /// Supabase: opaque `sb_publishable_…` key (gateway maps it to anon).
    pub publishable_key: String,
    /// Supabase + Netlify: HS256 signing secret.
    pub jwt_secret: String,
    /// Netlify: `GOTRUE_OPERATOR_TOKEN`.
    pub operator_token: String,
    /// Supabase: a confirmed email+password user (the project owner's own login; not an admin
    /// for GoTrue, whose admin is the service_role key); Netlify: Identity user with
    /// `app_metadata.roles ["admin"]`; Royalti: owner login.
    pub owner_email: String,
    /// Password of the owner.
    pub owner_password: String,
    /// Netlify: user without the admin role; Royalti: a plain `user`-role login.
    pub member_email: String,
    /// Password of the member.
    pub member_password: String,
    /// Royalti: `RWAK…` workspace API key for the first workspace.
    pub api_key: String,
}

/// One email the sandbox "sent".
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Mail {
    /// Recipient.
    pub to: String,
    /// Always `"invite"` today.
    pub kind: String,
    /// Subject line.
    pub subject: String,
    /// The link the invitee clicks.
    pub link: String,
    /// When it was sent.
    pub sent_at: DateTime<Utc>,
}

// ---------------------------------------------------------------------------------------------
// State

#[derive(Clone, Debug)]
pub(crate) struct GUser {
    pub id: uuid::Uuid,
    pub seq: u64,
    pub email: String,
    pub aud: String,
    pub role: String,
    pub password: Option<String>,
    pub email_confirmed_at: Option<DateTime<Utc>>,
    pub invited_at: Option<DateTime<Utc>>,
    pub confirmation_sent_at: Option<DateTime<Utc>>,
    pub last_sign_in_at: Option<DateTime<Utc>>,
    pub app_metadata: Value,
    pub user_metadata: Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub token_hash: Option<String>,
    pub otp: Option<String>,
    pub token_sent_at: Option<DateTime<Utc>>,
    pub token_type: String,
    /// netlify/gotrue `is_super_admin` (never in JSON): admin whatever the aud and role.
    pub is_super_admin: bool,
}

#[derive(Debug)]
pub(crate) struct State {
    pub rng: StdRng,
    pub seq: u64,
    pub users: Vec<GUser>,
    /// Session id → when it began (Supabase `session_id` claims, `GOTRUE_SESSIONS_TIMEBOX`).
    pub sessions: HashMap<String, DateTime<Utc>>,
    /// Refresh token → user id (GoTrue `grant_type=refresh_token`).
    pub refresh_tokens: std::collections::HashMap<String, uuid::Uuid>,
    pub mail: Vec<Mail>,
    pub calls: HashMap<String, u64>,
    pub faults: Vec<Armed>,
    pub email_window_start: Instant,
    pub email_count: u32,
    pub royalti: royalti::RState,
}

impl State {
    pub fn token(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(self.rng.sample(rand::distributions::Alphanumeric)))
            .collect()
    }
    pub fn hex(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b"0123456789abcdef"[self.rng.gen_range(0..16)]))
            .collect()
    }
    pub fn uuid(&mut self) -> uuid::Uuid {
        let b: [u8; 16] = self.rng.gen();
        uuid::Builder::from_random_bytes(b).into_uuid()
    }
    pub fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }
}

pub(crate) struct Shared {
    pub config: Config,
    pub creds: Credentials,
    pub url: String,
    /// The port it listens on (for the `Host` check).
    pub port: u16,
    pub state: Mutex<State>,
    /// Secret the Royalti flavor signs its tokens with.
    pub royalti_secret: String,
    /// API requests being answered now ([`Config::max_in_flight`]).
    pub in_flight: std::sync::atomic::AtomicUsize,
    /// The most API requests that were ever being answered at once.
    pub most_in_flight: std::sync::atomic::AtomicUsize,
}

/// Counts one API request as in flight until dropped.
struct InFlight<'a>(&'a Shared);

impl<'a> InFlight<'a> {
    /// Counts the request; `None` when it would go over [`Config::max_in_flight`].
    fn enter(shared: &'a Shared) -> Option<Self> {
        use std::sync::atomic::Ordering::SeqCst;
        let now = shared.in_flight.fetch_add(1, SeqCst) + 1;
        let guard = InFlight(shared);
        if shared.config.max_in_flight.is_some_and(|max| now > max) {
            return None;
        }
        shared.most_in_flight.fetch_max(now, SeqCst);
        Some(guard)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0
            .in_flight
            .fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Shared {
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running sandbox. Dropping it (or `shutdown`) stops the server and closes its connections,
/// so keep it alive as long as its URL is in use.
///
/// Route names for [`Sandbox::calls`] and [`Fault::route`] are METHOD + the route pattern
/// without the flavor prefix: `"POST /invite"`, `"GET /admin/users"`,
/// `"DELETE /admin/users/{id}"`, `"POST /auth/invite"`, `"POST /user/invites/{id}/resend"`,
/// `"GET /.netlify/functions/invite-desk/users/{id}"`.
pub struct Sandbox {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox").field("url", &self.url()).finish()
    }
}

fn fresh_state(config: &Config, creds: &Credentials, rng: StdRng, url: &str) -> State {
    let mut st = State {
        rng,
        seq: 0,
        users: Vec::new(),
        sessions: Default::default(),
        refresh_tokens: Default::default(),
        mail: Vec::new(),
        calls: HashMap::new(),
        faults: config.faults.iter().cloned().map(Armed::from).collect(),
        email_window_start: Instant::now(),
        email_count: 0,
        royalti: royalti::RState::default(),
    };
    match config.flavor {
        Flavor::Supabase => gotrue::seed_supabase(&mut st, creds),
        Flavor::Netlify => gotrue::seed_netlify(&mut st, creds),
        Flavor::Royalti => royalti::seed(&mut st, creds, url),
    }
    st
}

impl Sandbox {
    /// Starts the server on 127.0.0.1 and returns once it accepts connections.
    pub async fn start(config: Config) -> std::io::Result<Sandbox> {
        let listener = TcpListener::bind(("127.0.0.1", config.port)).await?;
        let addr = listener.local_addr()?;
        let url = format!("http://127.0.0.1:{}", addr.port());
        let mut rng = StdRng::seed_from_u64(config.seed);
        let creds = make_credentials(&config, &mut rng);
        let royalti_secret: String = (0..40)
            .map(|_| char::from(rng.sample(rand::distributions::Alphanumeric)))
            .collect();
        let state = fresh_state(&config, &creds, rng, &url);
        let shared = Arc::new(Shared {
            config,
            creds,
            url,
            port: addr.port(),
            state: Mutex::new(state),
            royalti_secret,
            in_flight: Default::default(),
            most_in_flight: Default::default(),
        });
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(serve(listener, shared.clone(), stop_rx));
        Ok(Sandbox {
            shared,
            addr,
            stop,
            task,
        })
    }

    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.addr.port())
    }

    /// The token its control routes require ([`Config::control_token`]), if any.
    pub fn control_token(&self) -> Option<&str> {
        self.shared.config.control_token.as_deref()
    }

    /// The credentials made at start.
    pub fn credentials(&self) -> &Credentials {
        &self.shared.creds
    }

    /// The flavor.
    pub fn flavor(&self) -> Flavor {
        self.shared.config.flavor
    }

    /// The mailbox (same as `GET /__sandbox/mail`).
    pub fn mail(&self) -> Vec<Mail> {
        self.shared.lock().mail.clone()
    }

    /// The most API requests that were ever being answered at once.
    pub fn most_in_flight(&self) -> usize {
        self.shared
            .most_in_flight
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Requests seen on `route` (e.g. `"POST /invite"`).
    pub fn calls(&self, route: &str) -> u64 {
        self.shared.lock().calls.get(route).copied().unwrap_or(0)
    }

    /// Arms a fault (same as `POST /__sandbox/faults`): a [`Fault`], or a [`SpreadFault`] made
    /// with [`Fault::every`].
    pub fn inject(&self, fault: impl Into<SpreadFault>) {
        self.shared.lock().faults.push(Armed::from(fault.into()));
    }

    /// Royalti: the owner's workspaces as (workspaceId, name, role).
    pub fn royalti_workspaces(&self) -> Vec<(String, String, String)> {
        let st = self.shared.lock();
        st.royalti
            .workspaces
            .iter()
            .filter_map(|w| {
                let role = st
                    .royalti
                    .members
                    .iter()
                    .find(|m| m.workspace == w.id && m.email == self.shared.creds.owner_email)?
                    .role
                    .clone();
                Some((w.id.clone(), w.name.clone(), role))
            })
            .collect()
    }

    /// Clears users, mail, calls and faults back to the state at start.
    pub fn reset(&self) {
        reset(&self.shared);
    }

    /// Stops the server and waits for it.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

fn reset(shared: &Shared) {
    let mut st = shared.lock();
    let seed = st.rng.gen();
    *st = fresh_state(
        &shared.config,
        &shared.creds,
        StdRng::seed_from_u64(seed),
        &shared.url,
    );
}

fn rand_str(rng: &mut StdRng, n: usize) -> String {
    (0..n)
        .map(|_| char::from(rng.sample(rand::distributions::Alphanumeric)))
        .collect()
}

fn make_credentials(config: &Config, rng: &mut StdRng) -> Credentials {
    let mut c = Credentials::default();
    match config.flavor {
        Flavor::Supabase => {
            c.jwt_secret = rand_str(rng, 40);
            let now = Utc::now().timestamp();
            let ten_years = now + 10 * 365 * 86400;
            c.anon_key = sign_hs256(
                &c.jwt_secret,
                &json!({"iss":"supabase-sandbox","role":"anon","iat":now,"exp":ten_years}),
                None,
            );
            c.service_role_key = sign_hs256(
                &c.jwt_secret,
                &json!({"iss":"supabase-sandbox","role":"service_role","iat":now,"exp":ten_years}),
                None,
            );
            c.secret_key = format!("sb_secret_{}", rand_str(rng, 32));
            c.publishable_key = format!("sb_publishable_{}", rand_str(rng, 32));
            // Drawn after the keys so a seed still yields the keys it yielded before.
            c.owner_email = "owner@example.com".into();
            c.owner_password = rand_str(rng, 16);
        }
        Flavor::Netlify => {
            c.jwt_secret = rand_str(rng, 40);
            c.operator_token = rand_str(rng, 40);
            c.owner_email = "owner@example.com".into();
            c.owner_password = rand_str(rng, 16);
            c.member_email = "member@example.com".into();
            c.member_password = rand_str(rng, 16);
        }
        Flavor::Royalti => {
            c.owner_email = "owner@example.com".into();
            c.owner_password = rand_str(rng, 16);
            c.member_email = "member@example.com".into();
            c.member_password = rand_str(rng, 16);
            c.api_key = format!("RWAK{}", rand_str(rng, 40));
        }
    }
    c
}

pub(crate) fn sign_hs256(secret: &str, claims: &Value, kid: Option<&str>) -> String {
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = kid.map(str::to_string);
    jsonwebtoken::encode(
        &header,
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap_or_default()
}

/// Verifies an HS256 token; the error text reads as golang-jwt v5 writes it (docs/wire/gotrue.md §1a,
/// inferred there).
pub(crate) fn verify_hs256(secret: &str, token: &str) -> Result<Value, String> {
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    v.validate_aud = false;
    v.leeway = 0;
    v.required_spec_claims = Default::default();
    match jsonwebtoken::decode::<Value>(
        token,
        &jsonwebtoken::DecodingKey::from_secret(secret.as_bytes()),
        &v,
    ) {
        Ok(d) => Ok(d.claims),
        Err(e) => Err(match e.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                "token has invalid claims: token is expired".to_string()
            }
            jsonwebtoken::errors::ErrorKind::InvalidSignature => {
                "token signature is invalid: signature is invalid".to_string()
            }
            jsonwebtoken::errors::ErrorKind::InvalidAlgorithm => {
                "token is unverifiable: error while executing keyfunc: signing method is invalid"
                    .to_string()
            }
            _ => "token is malformed: could not parse token".to_string(),
        }),
    }
}

// ---------------------------------------------------------------------------------------------
// Request / reply

/// A request after the body has been read.
#[derive(Debug)]
pub(crate) struct Req {
    pub method: String,
    /// Path without the flavor prefix.
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// Came through `/auth/v1` (Supabase gateway).
    pub hosted: bool,
    pub peer: IpAddr,
}

impl Req {
    pub fn q(&self, k: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(a, _)| a == k)
            .map(|(_, v)| v.as_str())
    }
    pub fn header(&self, k: &str) -> Option<&str> {
        self.headers.get(k).and_then(|v| v.to_str().ok())
    }
    pub fn bearer(&self) -> Option<String> {
        let h = self.header("authorization")?;
        let (scheme, rest) = h.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return None;
        }
        let t = rest.trim_start_matches(' ');
        if t.is_empty() || t.contains(char::is_whitespace) {
            return None;
        }
        Some(t.to_string())
    }
}

/// A reply before it becomes a hyper response (so faults can mangle it).
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(status: u16, v: Value) -> Reply {
        Reply {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: serde_json::to_vec(&v).unwrap_or_default(),
        }
    }
    pub fn with(mut self, k: &str, v: impl Into<String>) -> Reply {
        self.headers.push((k.to_string(), v.into()));
        self
    }
    fn into_response(self) -> Response<Body> {
        let mut b = Response::builder().status(self.status);
        for (k, v) in &self.headers {
            b = b.header(k.as_str(), v.as_str());
        }
        b.body(Body::from(self.body))
            .unwrap_or_else(|_| Response::new(Body::from("{}")))
    }
}

pub(crate) fn now() -> DateTime<Utc> {
    Utc::now()
}

/// Email shape check shared by all flavors: one `@`, non-empty local part, a dotted domain.
pub(crate) fn email_problem(email: &str) -> Option<&'static str> {
    let Some((local, domain)) = email.rsplit_once('@') else {
        return Some("missing '@' or angle-addr");
    };
    if local.is_empty() || local.contains(char::is_whitespace) || local.contains('@') {
        return Some("no angle-addr");
    }
    if domain.is_empty()
        || !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
        || domain.contains(|c: char| c.is_whitespace() || c == '@' || c == '>' || c == '<')
    {
        return Some("invalid domain");
    }
    None
}
