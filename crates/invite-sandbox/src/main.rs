//! `invite-sandbox`: runs the sandbox server on 127.0.0.1 and prints its URL and credentials.

use std::time::Duration;

use clap::Parser;
use invite_sandbox::{Config, Fault, Flavor, Sandbox};

/// A local server that answers as Supabase Auth, Netlify Identity (GoTrue) or Royalti do.
///
/// Binds 127.0.0.1 only, prints `url: ...` and the credentials it made (one `key: value` per
/// line), and stops on Ctrl-C. Control routes on every flavor: GET /__sandbox/mail,
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
    /// Send Retry-After with GoTrue's email rate-limit 429 (the real server does not document one).
    #[arg(long)]
    retry_after_header: bool,
    /// Make every invite email fail to send (500 as the real servers answer an SMTP failure).
    #[arg(long)]
    smtp_failure: bool,
    /// A fault to arm at start, as JSON (repeatable), e.g.
    /// '{"route":"POST /invite","count":1,"action":{"type":"status","status":503,"retry_after":5}}'.
    /// route: METHOD + route pattern without the flavor prefix, or absent for any API route.
    /// action.type: status (status, retry_after?), delay (ms), drop, drop_after, malformed,
    /// truncated, expired_token.
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
    config.retry_after_header = args.retry_after_header;
    config.smtp_failure = args.smtp_failure;
    for f in &args.faults {
        match serde_json::from_str::<Fault>(f) {
            Ok(f) => config.faults.push(f),
            Err(e) => {
                eprintln!("invite-sandbox: bad --fault {f:?}: {e}");
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
    let _ = tokio::signal::ctrl_c().await;
    sandbox.shutdown().await;
}
