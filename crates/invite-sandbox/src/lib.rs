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

mod gotrue;
mod royalti;

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

/// A fault for the next `count` matching requests.
///
/// To spread a fault over a run (every Nth matching request) use [`Fault::every`], which
/// makes a [`SpreadFault`]; the JSON API and `--fault` take both in one object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fault {
    /// `None` = any API route; else e.g. `"POST /invite"`.
    #[serde(default)]
    pub route: Option<String>,
    /// How many requests it hits.
    #[serde(default = "one")]
    pub count: u32,
    /// What happens.
    pub action: FaultAction,
}

fn one() -> u32 {
    1
}

impl Fault {
    /// A fault on `route` (`None` = any API route) for the next `count` matching requests.
    pub fn new(route: Option<&str>, count: u32, action: FaultAction) -> Fault {
        Fault {
            route: route.map(str::to_string),
            count,
            action,
        }
    }

    /// The same fault, but hitting only the Nth, 2Nth, 3Nth … matching request until `count`
    /// hits are used ("a tenth of the invite calls" = `every(10)`). `0` is read as `1`.
    pub fn every(self, n: u32) -> SpreadFault {
        SpreadFault {
            fault: self,
            every: Some(n),
        }
    }
}

/// A [`Fault`] with an optional spacing: what [`Sandbox::inject`], [`Config::faults`],
/// `POST /__sandbox/faults` and `--fault` take.
///
/// JSON: the fault's own keys plus `every`, e.g.
/// `{"route":"POST /invite","count":3,"every":10,"action":{"type":"status","status":502}}`.
///
/// Each armed fault counts the matching requests it sees, whether or not an earlier-armed
/// fault took them; on a request that two faults want, the earlier-armed one acts and the other
/// keeps its hit for its next turn.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpreadFault {
    /// The fault.
    #[serde(flatten)]
    pub fault: Fault,
    /// Hit only every Nth matching request (the Nth, 2Nth, …); `None` = every one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every: Option<u32>,
}

impl From<Fault> for SpreadFault {
    fn from(fault: Fault) -> Self {
        SpreadFault { fault, every: None }
    }
}

/// Why a fault given as JSON (control route, `--fault`) was refused.
#[derive(Debug, thiserror::Error)]
pub enum FaultError {
    /// Not a fault object (or list of them) as [`SpreadFault`] describes.
    #[error("bad fault: {0}")]
    Json(#[from] serde_json::Error),
    /// `every: 0` names no request at all.
    #[error("bad fault: \"every\" must be 1 or more (it hits the Nth, 2Nth, … matching request)")]
    ZeroEvery,
}

impl SpreadFault {
    /// Parses one fault object (the `--fault` flag's value).
    pub fn from_json(text: &str) -> Result<SpreadFault, FaultError> {
        let f: SpreadFault = serde_json::from_str(text)?;
        f.check()?;
        Ok(f)
    }

    /// Parses a fault object or a list of them (the `POST /__sandbox/faults` body).
    pub fn list_from_json(body: &[u8]) -> Result<Vec<SpreadFault>, FaultError> {
        // Shape decides which parse runs, so the error shown is the one about what was sent.
        let fs = if body.trim_ascii_start().starts_with(b"[") {
            serde_json::from_slice::<Vec<SpreadFault>>(body)?
        } else {
            vec![serde_json::from_slice::<SpreadFault>(body)?]
        };
        fs.iter().try_for_each(SpreadFault::check)?;
        Ok(fs)
    }

    fn check(&self) -> Result<(), FaultError> {
        if self.every == Some(0) {
            return Err(FaultError::ZeroEvery);
        }
        Ok(())
    }
}

/// What an injected fault does.
///
/// JSON: `{"type":"<snake_case variant>", …fields}`; [`FaultAction::StatusAfter`] is written
/// `{"type":"status","status":502,"carried_out":true}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "WireAction", into = "WireAction")]
pub enum FaultAction {
    /// Answer with this status (flavor-shaped JSON error) without carrying the request out,
    /// optional `Retry-After` seconds.
    Status {
        /// HTTP status.
        status: u16,
        /// `Retry-After` seconds.
        retry_after: Option<u64>,
    },
    /// Carry the request out, then answer with this status instead of the real answer — as a
    /// gateway does that lost the upstream's reply (JSON: `status` with `carried_out: true`).
    StatusAfter {
        /// HTTP status.
        status: u16,
        /// `Retry-After` seconds.
        retry_after: Option<u64>,
    },
    /// Wait, then answer normally.
    Delay {
        /// Milliseconds.
        ms: u64,
    },
    /// Close the connection without doing anything.
    Drop,
    /// Carry out the request, then close the connection without answering.
    DropAfter,
    /// Carry out the request, answer 200 with a body that is not JSON.
    Malformed,
    /// Carry out the request, answer with the first half of the real body.
    Truncated,
    /// Answer as the service does for an expired token.
    ExpiredToken,
    /// Answer with this status (as [`FaultAction::Status`], not carried out) and this exact
    /// `Retry-After` text, to try clients on hostile values: `10000000000000`, `-5`, a date in
    /// year 9999, garbage. JSON: `{"type":"raw_retry_after","status":429,"value":"-5"}`.
    RawRetryAfter {
        /// HTTP status.
        status: u16,
        /// The header's value, sent as is.
        value: String,
    },
    /// Answer 200 with a body that never ends (streamed until the client hangs up), not carried
    /// out: a client must stop reading at its own limit.
    EndlessBody,
}

/// [`FaultAction`] as written in JSON. `carried_out` lives on `status` (rather than being its
/// own `type`) so that old `{"type":"status",…}` faults read exactly as before, while the Rust
/// enum keeps `Status`'s two fields so existing struct literals still compile.
#[derive(Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum WireAction {
    Status {
        status: u16,
        #[serde(default)]
        retry_after: Option<u64>,
        #[serde(default, skip_serializing_if = "is_false")]
        carried_out: bool,
    },
    Delay {
        ms: u64,
    },
    Drop,
    DropAfter,
    Malformed,
    Truncated,
    ExpiredToken,
    RawRetryAfter {
        status: u16,
        value: String,
    },
    EndlessBody,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl From<WireAction> for FaultAction {
    fn from(w: WireAction) -> Self {
        match w {
            WireAction::Status {
                status,
                retry_after,
                carried_out: false,
            } => FaultAction::Status {
                status,
                retry_after,
            },
            WireAction::Status {
                status,
                retry_after,
                carried_out: true,
            } => FaultAction::StatusAfter {
                status,
                retry_after,
            },
            WireAction::Delay { ms } => FaultAction::Delay { ms },
            WireAction::Drop => FaultAction::Drop,
            WireAction::DropAfter => FaultAction::DropAfter,
            WireAction::Malformed => FaultAction::Malformed,
            WireAction::Truncated => FaultAction::Truncated,
            WireAction::ExpiredToken => FaultAction::ExpiredToken,
            WireAction::RawRetryAfter { status, value } => {
                FaultAction::RawRetryAfter { status, value }
            }
            WireAction::EndlessBody => FaultAction::EndlessBody,
        }
    }
}

impl From<FaultAction> for WireAction {
    fn from(a: FaultAction) -> Self {
        match a {
            FaultAction::Status {
                status,
                retry_after,
            } => WireAction::Status {
                status,
                retry_after,
                carried_out: false,
            },
            FaultAction::StatusAfter {
                status,
                retry_after,
            } => WireAction::Status {
                status,
                retry_after,
                carried_out: true,
            },
            FaultAction::Delay { ms } => WireAction::Delay { ms },
            FaultAction::Drop => WireAction::Drop,
            FaultAction::DropAfter => WireAction::DropAfter,
            FaultAction::Malformed => WireAction::Malformed,
            FaultAction::Truncated => WireAction::Truncated,
            FaultAction::ExpiredToken => WireAction::ExpiredToken,
            FaultAction::RawRetryAfter { status, value } => {
                WireAction::RawRetryAfter { status, value }
            }
            FaultAction::EndlessBody => WireAction::EndlessBody,
        }
    }
}

/// An armed fault and how many matching requests it has seen (for `every`).
#[derive(Clone, Debug)]
pub(crate) struct Armed {
    pub spec: SpreadFault,
    pub seen: u32,
}

impl From<SpreadFault> for Armed {
    fn from(spec: SpreadFault) -> Self {
        Armed { spec, seen: 0 }
    }
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

// ---------------------------------------------------------------------------------------------
// Serving

async fn serve(listener: TcpListener, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stop.changed() => return,
        };
        let Ok((stream, peer)) = accepted else {
            continue;
        };
        let shared = shared.clone();
        let mut stop = stop.clone();
        tokio::spawn(async move {
            let kill = Arc::new(Notify::new());
            let kill2 = kill.clone();
            let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
                let shared = shared.clone();
                let kill = kill2.clone();
                async move { Ok::<_, std::convert::Infallible>(handle(shared, kill, peer, req).await) }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(hyper_util::rt::TokioIo::new(stream), svc);
            // Dropping `conn` closes the socket with no answer: that is how Drop faults work.
            tokio::select! {
                _ = conn => {}
                _ = kill.notified() => {}
                _ = stop.changed() => {}
            }
        });
    }
}

async fn handle(
    shared: Arc<Shared>,
    kill: Arc<Notify>,
    peer: SocketAddr,
    req: Request<Incoming>,
) -> Response<Body> {
    let (parts, body) = req.into_parts();
    // DNS rebinding: a web page whose host name now points at 127.0.0.1 reaches this port with
    // its own name in `Host`. Only requests addressed to this very loopback address are served.
    let mut ports = std::iter::once(shared.port).chain(shared.config.front_ports.iter().copied());
    if !ports.any(|p| host_allowed(&parts.headers, &parts.uri, p)) {
        return Reply::json(
            403,
            json!({"error":"host_not_allowed","message":format!(
                "This sandbox answers only requests addressed to 127.0.0.1:{0} or localhost:{0}.",
                shared.port
            )}),
        )
        .into_response();
    }
    let body = match axum::body::to_bytes(Body::new(body), 8 * 1024 * 1024).await {
        Ok(b) => b,
        Err(_) => {
            return Reply::json(413, json!({"code":413,"msg":"Request body too large"}))
                .into_response()
        }
    };
    let raw_path = parts.uri.path().to_string();
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let method = parts.method.as_str().to_string();

    // No CORS headers, on purpose: a web page in a browser must not read the sandbox's
    // answers (its control routes hand out keys), and a preflight gets no approval.
    if let Some(ctl) = raw_path.strip_prefix("/__sandbox/") {
        if !control_allowed(&shared.config, &parts.headers) {
            return Reply::json(
                401,
                json!({"ok":false,"error":format!(
                    "this sandbox's control routes need its token in the {CONTROL_TOKEN_HEADER} header"
                )}),
            )
            .into_response();
        }
        return control(&shared, &method, ctl, &body).await.into_response();
    }

    let flavor = shared.config.flavor;
    let in_flight = InFlight::enter(&shared);
    let (path, hosted) = match flavor {
        Flavor::Supabase => match raw_path.strip_prefix("/auth/v1") {
            Some(p) if p.is_empty() || p.starts_with('/') => (p.to_string(), true),
            _ => (raw_path.clone(), false),
        },
        Flavor::Netlify => match raw_path.strip_prefix("/.netlify/identity") {
            Some(p) if p.is_empty() || p.starts_with('/') => (p.to_string(), true),
            _ => (raw_path.clone(), false),
        },
        Flavor::Royalti => (raw_path.clone(), false),
    };
    let req = Req {
        method,
        path,
        query,
        headers: parts.headers,
        body,
        hosted,
        peer: peer.ip(),
    };
    let route = route_of(flavor, &req);
    let route_key = format!(
        "{} {}",
        req.method,
        route.clone().unwrap_or_else(|| req.path.clone())
    );

    let fault = {
        let mut st = shared.lock();
        *st.calls.entry(route_key.clone()).or_insert(0) += 1;
        take_fault(&mut st.faults, &route_key)
    };
    if in_flight.is_none() {
        return fault_status(flavor, &req, 429, None).into_response();
    }
    if !shared.config.latency.is_zero() {
        tokio::time::sleep(shared.config.latency).await;
    }
    let mut after: Option<FaultAction> = None;
    if let Some(action) = fault {
        match action {
            FaultAction::Status {
                status,
                retry_after,
            } => return fault_status(flavor, &req, status, retry_after).into_response(),
            FaultAction::Delay { ms } => tokio::time::sleep(Duration::from_millis(ms)).await,
            FaultAction::Drop => {
                kill.notify_one();
                std::future::pending::<()>().await;
            }
            FaultAction::ExpiredToken => return expired_token(flavor, &req).into_response(),
            FaultAction::RawRetryAfter { status, value } => {
                return fault_body(flavor, &req, status)
                    .with("retry-after", value)
                    .into_response()
            }
            FaultAction::EndlessBody => return endless_body(),
            a @ (FaultAction::StatusAfter { .. }
            | FaultAction::DropAfter
            | FaultAction::Malformed
            | FaultAction::Truncated) => after = Some(a),
        }
    }

    let reply = match route {
        None => not_found(flavor, &req),
        Some(r) => match flavor {
            Flavor::Supabase | Flavor::Netlify => gotrue::dispatch(&shared, &req, &r),
            Flavor::Royalti => royalti::dispatch(&shared, &req, &r),
        },
    };
    let reply = if gotrue::api_versioned(&req) && flavor == Flavor::Supabase {
        reply.with("x-supabase-api-version", "2024-01-01")
    } else {
        reply
    };
    match after {
        Some(FaultAction::StatusAfter {
            status,
            retry_after,
        }) => {
            // The work is done (users made, mail sent); only the answer is replaced.
            drop(reply);
            fault_status(flavor, &req, status, retry_after).into_response()
        }
        Some(FaultAction::DropAfter) => {
            kill.notify_one();
            std::future::pending::<()>().await;
            reply.into_response()
        }
        Some(FaultAction::Malformed) => {
            let mut r = reply;
            r.status = 200;
            r.body = b"{\"users\": [{\"id\": <html>oops".to_vec();
            r.into_response()
        }
        Some(FaultAction::Truncated) => {
            let mut r = reply;
            let n = r.body.len() / 2;
            r.body.truncate(n.max(1).min(r.body.len()));
            r.into_response()
        }
        _ => reply.into_response(),
    }
}

/// True when the request is addressed to the loopback address this sandbox serves:
/// `127.0.0.1:PORT` or `localhost:PORT` (a missing port means 80), in `Host` and in an
/// absolute-form target if there is one.
fn host_allowed(headers: &HeaderMap, uri: &hyper::Uri, port: u16) -> bool {
    let ok = |host: &str| {
        let host = host.trim();
        let (name, p) = match host.rsplit_once(':') {
            Some((n, p)) => (n, p.parse::<u16>().ok()),
            None => (host, Some(80)),
        };
        p == Some(port) && (name == "127.0.0.1" || name.eq_ignore_ascii_case("localhost"))
    };
    let header = headers
        .get(hyper::header::HOST)
        .map(|h| h.to_str().is_ok_and(ok));
    let target = uri.authority().map(|a| ok(a.as_str()));
    match (header, target) {
        (None, None) => false,
        (h, t) => h.unwrap_or(true) && t.unwrap_or(true),
    }
}

/// True when the control routes are open, or the request carries their token. Compared in
/// constant time, so the answer's timing says nothing about how much of a guess was right.
fn control_allowed(config: &Config, headers: &HeaderMap) -> bool {
    let Some(want) = config.control_token.as_deref() else {
        return true;
    };
    let Some(got) = headers.get(CONTROL_TOKEN_HEADER).map(|v| v.as_bytes()) else {
        return false;
    };
    if want.is_empty() {
        return false; // an empty token would let an empty header in
    }
    // The length is not secret (every token has the same); the bytes are.
    got.len() == want.len()
        && got
            .iter()
            .zip(want.as_bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// The action of the first armed fault that hits this request, if any. Every matching fault
/// counts the request (so `every` keeps its rhythm), but only one acts on it.
fn take_fault(faults: &mut Vec<Armed>, route_key: &str) -> Option<FaultAction> {
    let mut hit = None;
    for (i, a) in faults.iter_mut().enumerate() {
        let f = &a.spec.fault;
        let matches = f.route.as_deref().is_none_or(|r| r == route_key);
        if f.count == 0 || !matches {
            continue;
        }
        a.seen = a.seen.saturating_add(1);
        let every = a.spec.every.unwrap_or(1).max(1);
        if hit.is_none() && a.seen % every == 0 {
            hit = Some(i);
        }
    }
    let i = hit?;
    let f = &mut faults[i].spec.fault;
    let action = f.action.clone();
    f.count -= 1;
    if f.count == 0 {
        faults.remove(i);
    }
    Some(action)
}

fn route_of(flavor: Flavor, req: &Req) -> Option<String> {
    let segs: Vec<&str> = req.path.trim_end_matches('/').split('/').skip(1).collect();
    match flavor {
        Flavor::Supabase | Flavor::Netlify => {
            if flavor == Flavor::Netlify {
                if let Some(rest) = gotrue::invite_desk_rest(&req.path) {
                    let s: Vec<&str> = rest.trim_end_matches('/').split('/').skip(1).collect();
                    let base = gotrue::FUNCTION_BASE;
                    return Some(match s.as_slice() {
                        ["users", _] => format!("{base}/users/{{id}}"),
                        _ => req.path.trim_end_matches('/').to_string(),
                    });
                }
                if req.path.starts_with("/.netlify/functions/") {
                    return Some(req.path.clone());
                }
            }
            Some(match segs.as_slice() {
                ["invite"] => "/invite".into(),
                ["admin", "users"] => "/admin/users".into(),
                ["admin", "users", _] => "/admin/users/{id}".into(),
                ["admin", "generate_link"] => "/admin/generate_link".into(),
                ["token"] => "/token".into(),
                ["settings"] => "/settings".into(),
                ["health"] => "/health".into(),
                ["verify"] => "/verify".into(),
                ["user"] => "/user".into(),
                ["logout"] => "/logout".into(),
                _ => return None,
            })
        }
        Flavor::Royalti => Some(match segs.as_slice() {
            ["auth", "login"] => "/auth/login".into(),
            ["auth", "authtoken"] => "/auth/authtoken".into(),
            ["auth", "invite"] => "/auth/invite".into(),
            ["user", "invites"] => "/user/invites".into(),
            ["user", "invites", _, "resend"] => "/user/invites/{id}/resend".into(),
            ["user", "invites", _, "cancel"] => "/user/invites/{id}/cancel".into(),
            _ => return None,
        }),
    }
}

fn not_found(flavor: Flavor, req: &Req) -> Reply {
    match flavor {
        Flavor::Supabase => gotrue::sb_err(req, 404, "not_found", "Not Found"),
        Flavor::Netlify => gotrue::ng_err(404, "Not Found"),
        Flavor::Royalti => royalti::err(404, "NOT_FOUND", "Route not found"),
    }
}

fn fault_status(flavor: Flavor, req: &Req, status: u16, retry_after: Option<u64>) -> Reply {
    let r = fault_body(flavor, req, status);
    match retry_after {
        Some(s) => r.with("retry-after", s.to_string()),
        None => r,
    }
}

fn fault_body(flavor: Flavor, req: &Req, status: u16) -> Reply {
    let (code, msg) = match status {
        429 => ("over_request_rate_limit", "Request rate limit reached"),
        s if s >= 500 => ("unexpected_failure", "Unexpected failure (injected)"),
        _ => ("unexpected_failure", "Injected failure"),
    };
    if flavor == Flavor::Netlify && req.path.starts_with("/.netlify/functions/") {
        return Reply::json(status, json!({"error":{"code":"internal","message":msg}}));
    }
    match flavor {
        Flavor::Supabase => gotrue::sb_err(req, status, code, msg),
        Flavor::Netlify => gotrue::ng_err(status, msg),
        Flavor::Royalti => royalti::err(status, "INJECTED", msg),
    }
}

/// A 200 whose body never ends: 64 KiB chunks of JSON-looking text, for as long as the client
/// reads (hyper only asks for the next chunk once the last one is written).
fn endless_body() -> Response<Body> {
    struct Endless(Bytes);
    impl hyper::body::Body for Endless {
        type Data = Bytes;
        type Error = std::convert::Infallible;
        fn poll_frame(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
            std::task::Poll::Ready(Some(Ok(hyper::body::Frame::data(self.0.clone()))))
        }
    }
    let chunk: Vec<u8> =
        br#"{"email":"endless@example.com"},"#.iter().copied().cycle().take(64 * 1024).collect();
    let mut r = Response::new(Body::new(Endless(Bytes::from(chunk))));
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    r
}

fn expired_token(flavor: Flavor, req: &Req) -> Reply {
    if flavor == Flavor::Netlify && req.path.starts_with("/.netlify/functions/") {
        // Netlify drops a token it cannot verify, so the function sees no user at all.
        return Reply::json(
            401,
            json!({"error":{"code":"unauthorized","message":gotrue::FN_NO_USER}}),
        );
    }
    match flavor {
        Flavor::Supabase => gotrue::sb_err(
            req,
            403,
            "bad_jwt",
            "invalid JWT: unable to parse or verify signature, token has invalid claims: token is expired",
        ),
        Flavor::Netlify => gotrue::ng_err(401, "Invalid token: token is expired"),
        Flavor::Royalti => royalti::err(401, "UNAUTHORIZED", "Token expired"),
    }
}

// ---------------------------------------------------------------------------------------------
// Control routes

async fn control(shared: &Arc<Shared>, method: &str, path: &str, body: &Bytes) -> Reply {
    match (method, path.trim_end_matches('/')) {
        ("GET", "health") => Reply::json(
            200,
            json!({"ok":true,"flavor":shared.config.flavor.to_string(),"url":shared.url}),
        ),
        ("GET", "mail") => Reply::json(200, json!(shared.lock().mail)),
        ("GET", "calls") => Reply::json(200, json!(shared.lock().calls)),
        ("GET", "credentials") => Reply::json(200, json!(shared.creds)),
        ("POST", "reset") => {
            reset(shared);
            Reply::json(200, json!({"ok":true}))
        }
        ("POST", "faults") => match SpreadFault::list_from_json(body) {
            Ok(fs) => {
                let n = fs.len();
                shared.lock().faults.extend(fs.into_iter().map(Armed::from));
                Reply::json(200, json!({"ok":true,"armed":n}))
            }
            Err(e) => Reply::json(400, json!({"ok":false,"error":e.to_string()})),
        },
        // Test aid, not an API of the real services: makes a GoTrue invitation look `seconds`
        // older (its `invited_at` and `confirmation_sent_at`), so expiry can be seen without
        // waiting a day. The link itself keeps working as before.
        ("POST", "age") => {
            #[derive(Deserialize)]
            struct Age {
                email: String,
                seconds: i64,
            }
            let a: Age = match serde_json::from_slice(body) {
                Ok(a) => a,
                Err(e) => {
                    return Reply::json(400, json!({"ok":false,"error":format!("bad body: {e}")}))
                }
            };
            let by = chrono::Duration::seconds(a.seconds.clamp(0, 10 * 365 * 86400));
            let mut st = shared.lock();
            let mut aged = 0;
            for u in st
                .users
                .iter_mut()
                .filter(|u| u.email.eq_ignore_ascii_case(&a.email))
            {
                u.invited_at = u.invited_at.map(|t| t - by);
                u.confirmation_sent_at = u.confirmation_sent_at.map(|t| t - by);
                aged += 1;
            }
            Reply::json(200, json!({"ok":true,"aged":aged}))
        }
        ("POST", "accept") => {
            #[derive(Deserialize)]
            struct A {
                link: String,
                #[serde(default)]
                password: Option<String>,
            }
            let a: A = match serde_json::from_slice(body) {
                Ok(a) => a,
                Err(e) => {
                    return Reply::json(400, json!({"ok":false,"error":format!("bad body: {e}")}))
                }
            };
            let pw = a.password.unwrap_or_else(|| "sandbox-password-1".into());
            let r = match shared.config.flavor {
                Flavor::Supabase | Flavor::Netlify => gotrue::accept(shared, &a.link, &pw),
                Flavor::Royalti => royalti::accept(shared, &a.link),
            };
            match r {
                Ok(email) => Reply::json(200, json!({"ok":true,"email":email})),
                Err(e) => Reply::json(400, json!({"ok":false,"error":e})),
            }
        }
        _ => Reply::json(404, json!({"ok":false,"error":"unknown sandbox route"})),
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
