//! The `invite-sandbox` binary: prints URL and credentials, serves every flavor, honours its
//! flags (faults, lifetimes, lists), documents them all, and stops cleanly on SIGINT.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Lines};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// A running binary and the `key: value` lines it printed so far.
struct Running {
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
    kv: HashMap<String, String>,
}

impl Running {
    fn start(args: &[&str]) -> Running {
        let mut child = Command::new(env!("CARGO_BIN_EXE_invite-sandbox"))
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        Running {
            child,
            lines,
            kv: HashMap::new(),
        }
    }

    /// Reads printed lines until `key` has been seen; returns its value.
    fn until(&mut self, key: &str) -> String {
        while !self.kv.contains_key(key) {
            let line = self
                .lines
                .next()
                .unwrap_or_else(|| panic!("exited before printing {key}: {:?}", self.kv))
                .unwrap();
            let (k, v) = line.split_once(": ").unwrap();
            self.kv.insert(k.to_string(), v.to_string());
        }
        self.kv[key].clone()
    }

    /// Sends SIGINT (what Ctrl-C sends) and asserts a clean exit within a few seconds.
    #[cfg(unix)]
    fn interrupt(mut self) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-INT", &pid]).status().unwrap();
        assert!(sent.success());
        let t0 = Instant::now();
        let status = loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                break st;
            }
            if t0.elapsed() > Duration::from_secs(5) {
                let _ = self.child.kill();
                panic!("still running 5 s after SIGINT");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(status.success(), "exit after SIGINT: {status:?}");
    }

    /// Windows has no signal one process can send another: Ctrl-C reaches only the programs
    /// attached to the console it is typed in (GenerateConsoleCtrlEvent would stop this test
    /// program as well). So on Windows the binary is ended (TerminateProcess) and only what it
    /// did while running is checked; its Ctrl-C handler is tokio's, the same call on every OS.
    #[cfg(not(unix))]
    fn interrupt(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // A failed assertion must not leave the server running; after `interrupt` this finds
        // the process already gone.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().unwrap()
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

async fn json_of(r: reqwest::RequestBuilder) -> (u16, Value) {
    let r = r.send().await.unwrap();
    let st = r.status().as_u16();
    let t = r.text().await.unwrap();
    (st, serde_json::from_str(&t).unwrap_or(Value::Null))
}

fn claims(token: &str) -> Value {
    use base64::Engine;
    let p = token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(p)
            .unwrap(),
    )
    .unwrap()
}

#[test]
fn binary_prints_url_and_credentials_and_serves() {
    let mut run = Running::start(&[
        "--flavor",
        "supabase",
        "--port",
        "0",
        "--seed",
        "42",
        "--email-limit",
        "1",
        "--latency-ms",
        "1",
        "--fault",
        r#"{"route":"GET /health","action":{"type":"status","status":502}}"#,
    ]);
    let url = run.until("url");
    assert!(url.starts_with("http://127.0.0.1:"));
    assert!(run.until("service_role_key").starts_with("eyJ"));
    assert!(run.until("secret_key").starts_with("sb_secret_"));
    let (a, b) = rt().block_on(async {
        let c = client();
        let a = c.get(format!("{url}/health")).send().await.unwrap();
        let b = c.get(format!("{url}/health")).send().await.unwrap();
        (a.status().as_u16(), b.status().as_u16())
    });
    assert_eq!((a, b), (502, 200));
    run.interrupt();
}

#[test]
fn help_documents_every_flag() {
    let out = Command::new(env!("CARGO_BIN_EXE_invite-sandbox"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    let flags = [
        "--flavor",
        "--port",
        "--seed",
        "--email-limit",
        "--email-window-secs",
        "--latency-ms",
        "--retry-after-header",
        "--smtp-failure",
        "--otp-ttl-secs",
        "--access-ttl-secs",
        "--refresh-ttl-secs",
        "--uri-allow-list",
        "--admin-roles",
        "--email-authorized-addresses",
        "--email-validation-extended",
        "--session-timebox-secs",
        "--invite-desk-roles",
        "--fault",
        "--max-in-flight",
        "--help",
        "--version",
    ];
    for flag in flags {
        assert!(help.contains(flag), "{flag} undocumented");
    }
    // Every flag clap lists is in the list above, and every one has a description.
    let listed: Vec<&str> = help
        .lines()
        .map(str::trim_start)
        .filter(|l| l.starts_with('-'))
        .filter_map(|l| l.split_once("--").map(|(_, rest)| rest))
        .collect();
    for line in &listed {
        let name = line.split([' ', '=', '<']).next().unwrap();
        assert!(
            flags.contains(&format!("--{name}").as_str()),
            "--{name} not in this test"
        );
        let described = line
            .split_once("  ")
            .is_some_and(|(_, d)| !d.trim().is_empty())
            || help
                .lines()
                .skip_while(|l| {
                    !l.trim_start().starts_with('-') || !l.contains(&format!("--{name}"))
                })
                .nth(1)
                .is_some_and(|next| !next.trim().is_empty() && !next.trim().starts_with('-'));
        assert!(described, "--{name} has no description");
    }
    assert_eq!(listed.len(), flags.len(), "{listed:?}");
    // The fault flag explains the new keys.
    assert!(help.contains("every") && help.contains("carried_out"));
}

#[test]
fn each_flavor_starts_and_stops_on_sigint() {
    for flavor in ["supabase", "netlify", "royalti"] {
        let mut run = Running::start(&["--flavor", flavor]);
        let url = run.until("url");
        assert_eq!(run.until("flavor"), flavor);
        let email = run.until("owner_email");
        let password = run.until("owner_password");
        rt().block_on(async {
            let c = client();
            let (st, b) = json_of(c.get(format!("{url}/__sandbox/health"))).await;
            assert_eq!((st, b["flavor"].as_str().unwrap()), (200, flavor));
            // Every flavor prints an owner login that works.
            let login = match flavor {
                "supabase" => c
                    .post(format!("{url}/token?grant_type=password"))
                    .json(&json!({"email": email, "password": password})),
                "netlify" => c.post(format!("{url}/.netlify/identity/token")).form(&[
                    ("grant_type", "password"),
                    ("username", email.as_str()),
                    ("password", password.as_str()),
                ]),
                _ => c
                    .post(format!("{url}/auth/login"))
                    .json(&json!({"email": email, "password": password})),
            };
            let (st, b) = json_of(login).await;
            assert_eq!(st, 200, "{flavor} owner login: {b}");
        });
        run.interrupt();
    }
}

#[test]
fn fault_flag_takes_every_and_carried_out() {
    let mut run = Running::start(&[
        "--fault",
        r#"{"route":"POST /invite","count":1,"every":2,"action":{"type":"status","status":502,"carried_out":true}}"#,
    ]);
    let url = run.until("url");
    let key = run.until("service_role_key");
    rt().block_on(async {
        let c = client();
        let mut got = Vec::new();
        for i in 0..3 {
            let r = c
                .post(format!("{url}/invite"))
                .bearer_auth(&key)
                .json(&json!({"email": format!("f{i}@example.com")}))
                .send()
                .await
                .unwrap();
            got.push(r.status().as_u16());
        }
        assert_eq!(got, [200, 502, 200]);
        let (_, mail) = json_of(c.get(format!("{url}/__sandbox/mail"))).await;
        assert_eq!(mail.as_array().unwrap().len(), 3, "the 502 was carried out");
    });
    run.interrupt();
    let out = Command::new(env!("CARGO_BIN_EXE_invite-sandbox"))
        .args(["--fault", r#"{"every":0,"action":{"type":"drop"}}"#])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("\"every\" must be 1 or more"));
}

#[test]
fn lifetime_and_list_flags_reach_the_server() {
    let mut run = Running::start(&[
        "--flavor",
        "supabase",
        "--access-ttl-secs",
        "120",
        "--otp-ttl-secs",
        "1",
        "--uri-allow-list",
        "https://app.example.org/**, https://other.example.org/**",
        "--admin-roles",
        "ops",
        "--email-authorized-addresses",
        "a@example.com,b@example.com",
        "--session-timebox-secs",
        "3600",
    ]);
    let url = run.until("url");
    let secret = run.until("jwt_secret");
    let (email, password) = (run.until("owner_email"), run.until("owner_password"));
    let service = run.until("service_role_key");
    let ops = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &json!({"role":"ops","exp":4_000_000_000u64}),
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap();
    rt().block_on(async {
        let c = client();
        let (_, s) = json_of(
            c.post(format!("{url}/token?grant_type=password"))
                .json(&json!({"email": email, "password": password})),
        )
        .await;
        assert_eq!(s["expires_in"], 120, "--access-ttl-secs");
        let invite = |tok: &str, email: &str, redirect: &str| {
            c.post(format!("{url}/invite"))
                .query(&[("redirect_to", redirect)])
                .bearer_auth(tok)
                .json(&json!({ "email": email }))
        };
        let (st, _) = json_of(invite(&service, "a@example.com", "")).await;
        assert_eq!(st, 403, "--admin-roles replaced service_role");
        let (st, e) = json_of(invite(&ops, "c@example.com", "")).await;
        assert_eq!(
            (st, e["error_code"].as_str().unwrap()),
            (400, "email_address_not_authorized")
        );
        let (st, _) = json_of(invite(&ops, "b@example.com", "https://other.example.org/w")).await;
        assert_eq!(st, 200);
        let (_, mail) = json_of(c.get(format!("{url}/__sandbox/mail"))).await;
        let link = mail[0]["link"].as_str().unwrap().to_string();
        assert!(
            link.ends_with("redirect_to=https%3A%2F%2Fother.example.org%2Fw"),
            "--uri-allow-list: {link}"
        );
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let r = c.get(&link).send().await.unwrap();
        let loc = r.headers()["location"].to_str().unwrap().to_string();
        assert!(
            loc.contains("error_code=otp_expired"),
            "--otp-ttl-secs: {loc}"
        );
    });
    run.interrupt();

    let mut run = Running::start(&[
        "--flavor",
        "royalti",
        "--access-ttl-secs",
        "60",
        "--refresh-ttl-secs",
        "90",
    ]);
    let url = run.until("url");
    let (email, password) = (run.until("owner_email"), run.until("owner_password"));
    rt().block_on(async {
        let c = client();
        let (_, b) = json_of(
            c.post(format!("{url}/auth/login"))
                .json(&json!({"email": email, "password": password})),
        )
        .await;
        let refresh = b["refresh_token"].as_str().unwrap();
        let r = claims(refresh);
        assert_eq!(r["exp"].as_i64().unwrap() - r["iat"].as_i64().unwrap(), 90);
        let ws = b["workspaces"][0]["workspaceId"].as_str().unwrap();
        let (_, t) = json_of(
            c.get(format!("{url}/auth/authtoken?currentWorkspace={ws}"))
                .bearer_auth(refresh),
        )
        .await;
        let a = claims(t["data"]["access_token"].as_str().unwrap());
        assert_eq!(a["exp"].as_i64().unwrap() - a["iat"].as_i64().unwrap(), 60);
    });
    run.interrupt();

    let mut run = Running::start(&["--flavor", "netlify", "--invite-desk-roles", "editor"]);
    let url = run.until("url");
    let (email, password) = (run.until("owner_email"), run.until("owner_password"));
    rt().block_on(async {
        let c = client();
        let (_, t) = json_of(c.post(format!("{url}/.netlify/identity/token")).form(&[
            ("grant_type", "password"),
            ("username", email.as_str()),
            ("password", password.as_str()),
        ]))
        .await;
        let (st, b) = json_of(
            c.get(format!("{url}/.netlify/functions/invite-desk/check"))
                .bearer_auth(t["access_token"].as_str().unwrap()),
        )
        .await;
        assert_eq!(st, 403, "--invite-desk-roles: {b}");
        assert!(b["error"]["message"].as_str().unwrap().contains("(editor)"));
    });
    run.interrupt();
}
