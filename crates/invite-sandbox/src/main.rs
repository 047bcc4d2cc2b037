//! `invite-sandbox`: runs the sandbox server on 127.0.0.1 and prints its URL and credentials.

use std::time::Duration;

use clap::Parser;
use invite_sandbox::{parse_roles, Config, Flavor, Sandbox, SpreadFault};

/// A local server that answers as Supabase Auth, Netlify Identity (GoTrue) or Royalti do.
///
/// Binds 127.0.0.1 only, prints `url: ...` and the credentials it made (one `key: value` per
/// line), and stops on Ctrl-C (SIGINT). Control routes on every flavor: GET /__sandbox/mail,
/// GET /__sandbox/calls, POST /__sandbox/faults (a fault or a list), POST /__sandbox/reset,
/// POST /__sandbox/accept {"link","password"}, GET /__sandbox/health.
#[derive(Parser, Debug)]
#[command(name = "invite-sandbox", version)]
struct Args {
    /// Which service to impersonate.
    #[arg(long, value_enum, default_value = "supabase")]
    flavor: Flavor,
    /// Port on 127.0.0.1 (0 = pick a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Seed for credentials and ids (same seed, same credentials). Random when absent.
    #[arg(long)]
    seed: Option<u64>,
    /// Emails allowed per window (GoTrue default 30; 0 refuses every send).
    #[arg(long, default_value_t = 30)]
    email_limit: u32,
    /// Length of the email window in seconds.
    #[arg(long, default_value_t = 3600)]
    email_window_secs: u64,
    /// Latency added to every API request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Answer 429 to a request that arrives while this many are already being answered.
    #[arg(long)]
    max_in_flight: Option<usize>,
    /// Send Retry-After with GoTrue's email rate-limit 429 (the real server does not document one).
    #[arg(long)]
    retry_after_header: bool,
    /// Make every invite email fail to send (500 as the real servers answer an SMTP failure).
    #[arg(long)]
    smtp_failure: bool,
    /// Invite link lifetime in seconds (GoTrue MAILER_OTP_EXP; default 86400). Netlify invite
    /// links never expire, as in netlify/gotrue.
    #[arg(long)]
    otp_ttl_secs: Option<u64>,
    /// Access token lifetime in seconds (default: 3600 for GoTrue user tokens, 21600 for
    /// Royalti access tokens).
    #[arg(long)]
    access_ttl_secs: Option<u64>,
    /// Royalti refresh token lifetime in seconds (default 86400).
    #[arg(long)]
    refresh_ttl_secs: Option<u64>,
    /// Supabase redirect allow list (GOTRUE_URI_ALLOW_LIST): comma-separated globs, repeatable.
    /// The site URL and any loopback address always pass.
    #[arg(long, value_delimiter = ',')]
    uri_allow_list: Vec<String>,
    /// Supabase admin JWT roles (GOTRUE_JWT_ADMIN_ROLES), comma-separated
    /// [default: service_role,supabase_admin].
    #[arg(long, value_delimiter = ',')]
    admin_roles: Vec<String>,
    /// Supabase: only these invitees may be mailed (GOTRUE_EXTERNAL_EMAIL_AUTHORIZED_ADDRESSES,
    /// as the hosted built-in mailer allows only the team); comma-separated, repeatable. Others
    /// get 400 email_address_not_authorized.
    #[arg(long, value_delimiter = ',')]
    email_authorized_addresses: Vec<String>,
    /// Supabase: refuse fake or reserved invitee addresses (*.test, *.invalid, example.com, ...)
    /// with 400 email_address_invalid (GOTRUE_MAILER_EMAIL_VALIDATION_EXTENDED, without DNS).
    #[arg(long)]
    email_validation_extended: bool,
    /// Supabase: sessions end this many seconds after they begin (GOTRUE_SESSIONS_TIMEBOX);
    /// a token of an ended session gets 403 session_expired on admin routes.
    #[arg(long)]
    session_timebox_secs: Option<u64>,
    /// Netlify: roles the Invite Desk function lets in, read as its INVITE_DESK_ROLES
    /// (comma-separated; empty = admin) [default: admin].
    #[arg(long)]
    invite_desk_roles: Option<String>,
    /// A fault to arm at start, as JSON (repeatable), e.g.
    /// '{"route":"POST /invite","count":1,"action":{"type":"status","status":503,"retry_after":5}}'.
    /// route: METHOD + route pattern without the flavor prefix, or absent for any API route.
    /// count: hits (default 1). every: hit only the Nth, 2Nth, ... matching request.
    /// action.type: status (status, retry_after?, carried_out? = carry the request out first,
    /// then answer the status, as a gateway that lost the reply), delay (ms), drop, drop_after,
    /// malformed, truncated, expired_token, raw_retry_after (status, value: the exact
    /// Retry-After text), endless_body (a 200 whose body never ends).
    #[arg(long = "fault")]
    faults: Vec<String>,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let mut config = Config::new(args.flavor);
    config.port = args.port;
    if let Some(s) = args.seed {
        config.seed = s;
    }
    config.email_limit = args.email_limit;
    config.email_window = Duration::from_secs(args.email_window_secs);
    config.latency = Duration::from_millis(args.latency_ms);
    config.max_in_flight = args.max_in_flight;
    config.retry_after_header = args.retry_after_header;
    config.smtp_failure = args.smtp_failure;
    if let Some(s) = args.otp_ttl_secs {
        config.otp_ttl = Duration::from_secs(s);
    }
    if let Some(s) = args.access_ttl_secs {
        config.access_ttl = Duration::from_secs(s);
    }
    if let Some(s) = args.refresh_ttl_secs {
        config.refresh_ttl = Duration::from_secs(s);
    }
    config.uri_allow_list = trimmed(args.uri_allow_list);
    let admin_roles = trimmed(args.admin_roles);
    if !admin_roles.is_empty() {
        config.admin_roles = admin_roles;
    }
    config.email_authorized_addresses = trimmed(args.email_authorized_addresses);
    config.email_validation_extended = args.email_validation_extended;
    config.session_timebox = args.session_timebox_secs.map(Duration::from_secs);
    if let Some(r) = &args.invite_desk_roles {
        config.invite_desk_roles = parse_roles(r);
    }
    for f in &args.faults {
        match SpreadFault::from_json(f) {
            Ok(f) => config.faults.push(f),
            Err(e) => {
                eprintln!("invite-sandbox: --fault {f:?}: {e}");
                std::process::exit(2);
            }
        }
    }
    let sandbox = match Sandbox::start(config).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("invite-sandbox: cannot start: {e}");
            std::process::exit(1);
        }
    };
    println!("url: {}", sandbox.url());
    println!("flavor: {}", sandbox.flavor());
    let c = sandbox.credentials();
    let fields = [
        ("service_role_key", &c.service_role_key),
        ("anon_key", &c.anon_key),
        ("secret_key", &c.secret_key),
        ("publishable_key", &c.publishable_key),
        ("jwt_secret", &c.jwt_secret),
        ("operator_token", &c.operator_token),
        ("owner_email", &c.owner_email),
        ("owner_password", &c.owner_password),
        ("member_email", &c.member_email),
        ("member_password", &c.member_password),
        ("api_key", &c.api_key),
    ];
    for (k, v) in fields {
        if !v.is_empty() {
            println!("{k}: {v}");
        }
    }
    if sandbox.flavor() == Flavor::Royalti {
        for (id, name, role) in sandbox.royalti_workspaces() {
            println!("workspace: {id} {role} {name}");
        }
    }
    if let Err(e) = tokio::signal::ctrl_c().await {
        // Without a SIGINT handler the process could only be killed; say why and stop now.
        eprintln!("invite-sandbox: cannot listen for Ctrl-C: {e}");
    }
    sandbox.shutdown().await;
}

/// List flags split on commas: blanks around items and empty items are dropped.
fn trimmed(items: Vec<String>) -> Vec<String> {
    items
        .into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}
