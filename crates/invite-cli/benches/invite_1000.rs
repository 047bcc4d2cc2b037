//! The CLI inviting 1,000 addresses against the sandbox at 50 ms per request, against a
//! sequential cURL-style loop (one `curl` per address, each waiting for its answer), the way
//! people invite without Invite Desk.
//!
//! Run with `make bench-cli` (`cargo bench -p invite-cli --features test-secrets`): the
//! release binary then takes its secrets from INVITE_DESK_CLI_TEST_SECRETS, as the tests do.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use invite_core::workspace::{Workspace, WorkspaceConfig, WorkspaceList};
use invite_sandbox::{Config, Flavor, Sandbox};
use serde_json::json;

const N: usize = 1000;
const LATENCY: Duration = Duration::from_millis(50);

fn cli_run(sb: &Sandbox, concurrency: u32, prefix: &str) -> Duration {
    let dir = tempfile::tempdir().unwrap();
    let mut ws = Workspace {
        id: uuid::Uuid::new_v4().to_string(),
        name: "Bench".into(),
        base_url: sb.url(),
        config: WorkspaceConfig::default_for(invite_core::model::WorkspaceKind::Supabase),
        demo: false,
    };
    ws.sending_mut().concurrency = Some(concurrency);
    let mut list = WorkspaceList::default();
    list.add(ws.clone()).unwrap();
    std::fs::write(
        dir.path().join("settings.json"),
        serde_json::to_vec_pretty(&json!({ "workspaces": list.to_json() })).unwrap(),
    )
    .unwrap();
    let secrets = json!({ format!("{}/secret_key", ws.id): sb.credentials().service_role_key });
    let list: String = (0..N)
        .map(|i| format!("{prefix}{i}@example.com\n"))
        .collect();
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_invite-desk-cli"))
        .args(["invite", "-w", "Bench", "--json", "-"])
        .env("INVITE_DESK_DATA_DIR", dir.path())
        .env("INVITE_DESK_CLI_TEST_SECRETS", secrets.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(list.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let took = start.elapsed();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["batch"]["counts"]["invited"], N, "{v}");
    took
}

fn curl_loop(sb: &Sandbox, prefix: &str) -> Duration {
    let key = &sb.credentials().service_role_key;
    let url = format!("{}/auth/v1/invite", sb.url());
    let start = Instant::now();
    for i in 0..N {
        let status = Command::new("curl")
            .args([
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "-X",
                "POST",
                &url,
            ])
            .args(["-H", &format!("apikey: {key}")])
            .args(["-H", &format!("Authorization: Bearer {key}")])
            .args(["-H", "Content-Type: application/json"])
            .args([
                "-d",
                &json!({ "email": format!("{prefix}{i}@example.com") }).to_string(),
            ])
            .output()
            .expect("curl is installed (scripts/install-deps.sh)");
        assert_eq!(String::from_utf8_lossy(&status.stdout), "200");
    }
    start.elapsed()
}

fn main() {
    // `cargo test --benches` runs this with `--bench` absent: nothing to measure then.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sb = rt.block_on(async {
        let mut c = Config::new(Flavor::Supabase);
        c.email_limit = 1_000_000;
        c.latency = LATENCY;
        Sandbox::start(c).await.unwrap()
    });
    let curl = curl_loop(&sb, "curl");
    let cli4 = cli_run(&sb, 4, "cli4-");
    let cli16 = cli_run(&sb, 16, "cli16-");
    let secs = |d: Duration| d.as_secs_f64();
    println!(
        "invite {N} addresses, sandbox latency {} ms:",
        LATENCY.as_millis()
    );
    println!("  sequential curl loop:            {:>7.2} s", secs(curl));
    println!(
        "  invite-desk-cli (4 at once, default): {:>7.2} s  ({:.1}x faster)",
        secs(cli4),
        secs(curl) / secs(cli4)
    );
    println!(
        "  invite-desk-cli (16 at once):    {:>7.2} s  ({:.1}x faster)",
        secs(cli16),
        secs(curl) / secs(cli16)
    );
    rt.block_on(sb.shutdown());
}
