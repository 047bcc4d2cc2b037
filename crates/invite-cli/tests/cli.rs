//! The `invite-desk-cli` binary against the sandbox over real HTTP: every command, stdin input,
//! JSON output read back, exit codes, and a batch queued by the CLI while a second process
//! works the same outbox.
//!
//! Each test has its own data folder (`INVITE_DESK_DATA_DIR`). There is no keychain under
//! `cargo test`, so the binary (a debug build) takes its secrets from
//! `INVITE_DESK_CLI_TEST_SECRETS`; the real keychain is tested in `tests/keychain.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::Duration;

use invite_core::http::Http;
use invite_core::outbox::{JobState, Outbox, ProviderSource, Worker};
use invite_core::provider::Provider;
use invite_core::secret::{names, MemoryStore, SecretStore, Sensitive};
use invite_core::workspace::{Workspace, WorkspaceList};
use invite_sandbox::{Config, Fault, FaultAction, Flavor, Sandbox};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_invite-desk-cli");

/// A data folder and the secrets the binary may read.
struct Env {
    dir: tempfile::TempDir,
    secrets: serde_json::Map<String, Value>,
}

impl Env {
    fn new() -> Env {
        Env {
            dir: tempfile::tempdir().unwrap(),
            secrets: serde_json::Map::new(),
        }
    }

    fn data(&self) -> &Path {
        self.dir.path()
    }

    /// Runs the binary with `args`, `stdin` piped in, and waits.
    async fn run(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .env("INVITE_DESK_DATA_DIR", self.data())
            .env(
                "INVITE_DESK_CLI_TEST_SECRETS",
                Value::Object(self.secrets.clone()).to_string(),
            )
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let stdin = stdin.map(str::to_string);
        tokio::task::spawn_blocking(move || {
            let mut child = cmd.spawn().unwrap();
            let mut pipe = child.stdin.take().unwrap();
            if let Some(text) = stdin {
                pipe.write_all(text.as_bytes()).unwrap();
            }
            drop(pipe);
            child.wait_with_output().unwrap()
        })
        .await
        .unwrap()
    }

    /// Runs and parses stdout as JSON.
    async fn json(&self, args: &[&str], stdin: Option<&str>) -> (i32, Value) {
        let out = self.run(args, stdin).await;
        let text = String::from_utf8(out.stdout).unwrap();
        let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {text}\nstderr: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (out.status.code().unwrap(), v)
    }

    /// Adds a Supabase workspace for `sandbox` to settings.json (as the window saves it) and
    /// its key to the secrets the binary sees.
    fn workspace(&mut self, sandbox: &Sandbox, name: &str) -> Workspace {
        let ws = Workspace {
            id: uuid::Uuid::new_v4().to_string(),
            name: name.into(),
            base_url: sandbox.url(),
            config: invite_core::workspace::WorkspaceConfig::default_for(
                invite_core::model::WorkspaceKind::Supabase,
            ),
            demo: false,
        };
        let path = self.data().join("settings.json");
        let mut map: serde_json::Map<String, Value> = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        let mut list =
            WorkspaceList::from_json(map.get("workspaces").cloned().unwrap_or(Value::Null))
                .unwrap();
        list.add(ws.clone()).unwrap();
        map.insert("workspaces".into(), list.to_json());
        std::fs::write(&path, serde_json::to_vec_pretty(&map).unwrap()).unwrap();
        self.secrets.insert(
            format!("{}/{}", ws.id, names::SECRET_KEY),
            json!(sandbox.credentials().service_role_key),
        );
        ws
    }
}

async fn sandbox(config: impl FnOnce(&mut Config)) -> Sandbox {
    let mut c = Config::new(Flavor::Supabase);
    c.email_limit = 100_000;
    config(&mut c);
    Sandbox::start(c).await.unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// How many emails each address got.
fn mails_per_address(sandbox: &Sandbox) -> HashMap<String, usize> {
    let mut m = HashMap::new();
    for mail in sandbox.mail() {
        *m.entry(mail.to.to_lowercase()).or_default() += 1;
    }
    m
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_a_workspace_with_the_secret_on_stdin_then_list_it() {
    let sb = sandbox(|_| {}).await;
    let env = Env::new();
    let key = sb.credentials().service_role_key.clone();
    let (code, v) = env
        .json(
            &[
                "--json",
                "workspaces",
                "add",
                "--kind",
                "supabase",
                "--name",
                "Acme",
                "--url",
                &sb.url(),
                "--secret-stdin",
            ],
            Some(&format!("{key}\n")),
        )
        .await;
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["workspace"]["name"], "Acme");
    assert_eq!(v["workspace"]["kind"], "supabase");
    let settings = std::fs::read_to_string(env.data().join("settings.json")).unwrap();
    assert!(settings.contains("\"Acme\""));
    assert!(!settings.contains(&key), "the secret is never in settings");
    assert!(!v.to_string().contains(&key), "nor in the output");

    let (code, v) = env.json(&["workspaces", "--json"], None).await;
    assert_eq!(code, 0);
    let ws = &v["workspaces"][0];
    assert_eq!(ws["name"], "Acme");
    assert_eq!(ws["kind"], "supabase");
    assert_eq!(ws["status"], "ready");
    assert_eq!(ws["current"], true);

    // A key that can't invite is refused in the core's words, and nothing is saved.
    let anon = sb.credentials().anon_key.clone();
    let out = env
        .run(
            &[
                "workspaces",
                "add",
                "--kind",
                "supabase",
                "--name",
                "Anon",
                "--url",
                &sb.url(),
            ],
            Some(&anon),
        )
        .await;
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.starts_with("error: "), "{err}");
    assert!(!err.contains(&anon) && !text(&out.stdout).contains(&anon));
    let settings = std::fs::read_to_string(env.data().join("settings.json")).unwrap();
    assert!(!settings.contains("Anon"));

    // No secret given at all.
    let out = env
        .run(
            &[
                "workspaces",
                "add",
                "--kind",
                "supabase",
                "--name",
                "Empty",
                "--url",
                &sb.url(),
            ],
            Some(""),
        )
        .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("Secret key: is required"));

    // Removed, with its secrets.
    let out = env.run(&["workspaces", "remove", "-w", "acme"], None).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let (_, v) = env.json(&["workspaces", "--json"], None).await;
    assert_eq!(v["workspaces"].as_array().unwrap().len(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invite_from_stdin_then_list_resend_cancel_and_read_the_history() {
    let sb = sandbox(|_| {}).await;
    let mut env = Env::new();
    env.workspace(&sb, "Acme");

    let pasted = "Ann <ann@example.com>\nbob@example.com, broken@nowhere\nANN@example.com\n";
    let (code, v) = env
        .json(&["invite", "-w", "acme", "--json", "-"], Some(pasted))
        .await;
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["exitCode"], 0);
    assert_eq!(v["batch"]["total"], 2);
    assert_eq!(v["batch"]["counts"]["invited"], 2);
    let skipped: Vec<&str> = v["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["input"].as_str().unwrap())
        .collect();
    assert_eq!(skipped, ["broken@nowhere", "ANN@example.com"]);
    assert_eq!(sb.calls("POST /invite"), 2);
    let mails = mails_per_address(&sb);
    assert_eq!(mails.get("ann@example.com"), Some(&1));
    assert_eq!(mails.get("bob@example.com"), Some(&1));

    // Piped text output: one line per address, then the summary.
    let out = env
        .run(&["invite", "-w", "Acme", "-"], Some("carol@example.com"))
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("invited        carol@example.com"),
        "{stdout}"
    );
    assert!(stdout.contains("Acme: 1 invited."), "{stdout}");

    // A file.
    let file = env.data().join("people.csv");
    std::fs::write(
        &file,
        "Name,Email\nDan,dan@example.com\nEve,eve@example.com\n",
    )
    .unwrap();
    let (code, v) = env
        .json(
            &["invite", "-w", "Acme", "--json", file.to_str().unwrap()],
            None,
        )
        .await;
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["batch"]["counts"]["invited"], 2);

    let (code, v) = env
        .json(
            &["invitations", "-w", "Acme", "--json", "--status", "pending"],
            None,
        )
        .await;
    assert_eq!(code, 0);
    let mut emails: Vec<&str> = v["invitations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["email"].as_str().unwrap())
        .collect();
    emails.sort();
    assert_eq!(
        emails,
        [
            "ann@example.com",
            "bob@example.com",
            "carol@example.com",
            "dan@example.com",
            "eve@example.com"
        ]
    );
    let out = env
        .run(
            &["invitations", "-w", "Acme", "--csv", "--search", "dan"],
            None,
        )
        .await;
    let csv = text(&out.stdout);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "email,status,name,invited_at,expires_at,accepted_at"
    );
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(lines[1].starts_with("dan@example.com,pending,"));

    let out = env
        .run(&["resend", "-w", "Acme", "ann@example.com"], None)
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(mails_per_address(&sb).get("ann@example.com"), Some(&2));

    // Cancel: bob goes; an address with no invitation fails on its own (exit 1).
    let (code, v) = env
        .json(
            &[
                "cancel",
                "-w",
                "Acme",
                "--json",
                "bob@example.com",
                "zed@example.com",
            ],
            None,
        )
        .await;
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["results"][0]["ok"], true);
    assert_eq!(v["results"][1]["ok"], false);
    assert!(v["results"][1]["error"]["message"]
        .as_str()
        .unwrap()
        .contains("zed@example.com has no invitation"));
    let (_, v) = env
        .json(&["invitations", "-w", "Acme", "--json"], None)
        .await;
    assert!(!v.to_string().contains("bob@example.com"), "{v}");

    // History: every address the CLI sent, and its export.
    let (code, v) = env.json(&["history", "--json"], None).await;
    assert_eq!(code, 0);
    assert_eq!(v["total"], 5);
    assert!(v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["result"] == "invited" && r["workspaceName"] == "Acme"));
    let export = env.data().join("out.csv");
    let out = env
        .run(&["history", "--export", export.to_str().unwrap()], None)
        .await;
    assert_eq!(out.status.code(), Some(0));
    let csv = std::fs::read_to_string(&export).unwrap();
    assert_eq!(csv.lines().count(), 6, "{csv}");
    assert!(csv.starts_with("sent_at,workspace,email,result,error"));

    let (code, v) = env.json(&["status", "--json"], None).await;
    assert_eq!(code, 0);
    assert_eq!(v["unfinished"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_codes_and_errors_in_plain_words_with_the_servers_behind_verbose() {
    // The built-in mailer lets only the team be mailed: others fail, each with the reason.
    let sb = sandbox(|c| c.email_authorized_addresses = vec!["team@example.com".into()]).await;
    let mut env = Env::new();
    env.workspace(&sb, "Acme");

    let (code, v) = env
        .json(
            &["invite", "-w", "Acme", "--json", "-"],
            Some("team@example.com\nstranger@example.com"),
        )
        .await;
    assert_eq!(code, 1, "some addresses failed: {v}");
    assert_eq!(v["batch"]["counts"]["invited"], 1);
    assert_eq!(v["batch"]["counts"]["failed"], 1);
    let failed = &v["batch"]["jobs"][1];
    assert_eq!(failed["email"], "stranger@example.com");
    assert!(failed["error"]["message"].as_str().unwrap().len() > 10);
    assert_eq!(
        failed["error"]["detail"],
        Value::Null,
        "server words only with --verbose"
    );

    let out = env
        .run(&["invite", "-w", "Acme", "-"], Some("other@example.com"))
        .await;
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(
            "failed         other@example.com  other@example.com is not a valid email address"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("Acme: 1 failed."), "{stdout}");

    // Unknown workspace, nothing to invite, bad flags: 2.
    let out = env
        .run(&["invite", "-w", "Nope", "-"], Some("a@example.com"))
        .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("There is no workspace named \"Nope\""));
    let out = env
        .run(&["invite", "-w", "Acme", "-"], Some("nothing here"))
        .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("there is no address to invite"));
    let out = env
        .run(&["invitations", "-w", "Acme", "--status", "maybe"], None)
        .await;
    assert_eq!(out.status.code(), Some(2));
    let (code, v) = env.json(&["--json", "history", "-w", "Nope"], None).await;
    assert_eq!(code, 2);
    assert_eq!(v["error"]["kind"], "unknown_workspace");

    // A server that can't be reached: the core's words, exit 2.
    let mut env2 = Env::new();
    let ws = env2.workspace(&sb, "Gone");
    sb.inject(Fault {
        route: None,
        count: 100,
        action: FaultAction::Status {
            status: 401,
            retry_after: None,
        },
    });
    let out = env2.run(&["invitations", "-w", "Gone"], None).await;
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.starts_with("error: "), "{err}");
    assert!(
        err.contains("--verbose shows the server's own words"),
        "{err}"
    );
    assert!(!err.contains("the server said"), "{err}");
    let out = env2
        .run(&["invitations", "-w", "Gone", "--verbose"], None)
        .await;
    assert_eq!(out.status.code(), Some(2));
    let verbose = text(&out.stderr);
    assert!(verbose.contains("  the server said: "), "{verbose}");
    assert_eq!(
        verbose.lines().next(),
        err.lines().next(),
        "the same plain words"
    );
    assert!(!verbose.contains(&sb.credentials().service_role_key));
    let (code, v) = env2
        .json(&["invitations", "-w", "Gone", "--json", "-v"], None)
        .await;
    assert_eq!(code, 2);
    assert!(v["error"]["detail"].is_string(), "{v}");
    drop(ws);

    let out = env.run(&["--help"], None).await;
    let help = text(&out.stdout);
    assert!(
        help.contains("Examples:") && help.contains("Exit codes:"),
        "{help}"
    );
    let out = env.run(&["invite", "--help"], None).await;
    assert!(text(&out.stdout).contains("invite-desk-cli invite -w Acme people.csv"));
}

struct Source(Arc<dyn Provider>);

impl ProviderSource for Source {
    fn provider(&self, _: &str) -> invite_core::Result<Arc<dyn Provider>> {
        Ok(self.0.clone())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_queued_in_the_terminal_shows_in_the_window_and_the_other_way_round() {
    let sb = sandbox(|_| {}).await;
    let mut env = Env::new();
    let ws = env.workspace(&sb, "Acme");
    let out = env
        .run(
            &["invite", "-w", "Acme", "--no-wait", "-"],
            Some("a@example.com b@example.com"),
        )
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // What the window reads: the same outbox file, the batch under the workspace's id.
    let outbox = Outbox::open(&env.data().join("outbox.sqlite3")).unwrap();
    let unfinished = outbox.unfinished().unwrap();
    assert_eq!(unfinished.len(), 1);
    assert_eq!(unfinished[0].workspace_id, ws.id);
    assert_eq!(unfinished[0].pending, 2);
    let (_, v) = env.json(&["status", "--json"], None).await;
    assert_eq!(v["unfinished"][0]["pending"], 2);
    assert_eq!(v["unfinished"][0]["workspaceName"], "Acme");

    // A batch the window queued: `flush` sends it (and the CLI's too).
    let req = invite_core::model::InviteRequest {
        email: "c@example.com".into(),
        send_email: true,
        ..Default::default()
    };
    outbox.enqueue(&ws.id, &ws.name, &[req]).unwrap();
    let (code, v) = env.json(&["flush", "--json"], None).await;
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["batches"].as_array().unwrap().len(), 2);
    assert_eq!(sb.calls("POST /invite"), 3);
    assert!(outbox.unfinished().unwrap().is_empty());
    let (_, v) = env.json(&["workspaces", "--json"], None).await;
    assert_eq!(v["workspaces"][0]["status"], "ready");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_on_one_outbox_invite_each_address_exactly_once() {
    const N: usize = 500;
    let sb = sandbox(|_| {}).await;
    // Lost answers and 502s spread over the batch.
    sb.inject(Fault::new(Some("POST /invite"), 10, FaultAction::DropAfter).every(37));
    sb.inject(
        Fault::new(
            Some("POST /invite"),
            10,
            FaultAction::Status {
                status: 502,
                retry_after: None,
            },
        )
        .every(41),
    );
    let mut env = Env::new();
    let ws = env.workspace(&sb, "Acme");

    // This test process plays the window: the core's worker on the same database file.
    let secrets = MemoryStore::new();
    secrets
        .set(
            &ws.id,
            names::SECRET_KEY,
            &Sensitive::new(sb.credentials().service_role_key.clone()),
        )
        .unwrap();
    let provider = invite_core::connect::provider_for(
        Http::with_timeout(Duration::from_secs(30)).unwrap(),
        &ws,
        Arc::new(secrets),
    )
    .unwrap();
    let outbox = Outbox::open(&env.data().join("outbox.sqlite3")).unwrap();
    let window = Worker::spawn(outbox.clone(), Arc::new(Source(provider)), Arc::new(|_| {}));

    let list: String = (0..N).map(|i| format!("p{i}@example.com\n")).collect();
    let (code, v) = env
        .json(
            &["invite", "-w", "Acme", "--json", "--max-wait", "120", "-"],
            Some(&list),
        )
        .await;
    // Both processes worked the batch until it was done.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    let batch = v["batch"]["batchId"].as_str().unwrap().to_string();
    while outbox.batch(&batch).unwrap().pending > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "batch did not finish"
        );
        window.wake();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    window.shutdown().await;
    assert!(code == 0 || code == 1, "{v}");
    let jobs = outbox.jobs(&batch).unwrap();
    assert_eq!(jobs.len(), N);
    assert!(
        jobs.iter().all(|j| j.state == JobState::Done),
        "{:?}",
        jobs.iter()
            .filter(|j| j.state != JobState::Done)
            .collect::<Vec<_>>()
    );
    let mails = mails_per_address(&sb);
    assert_eq!(mails.len(), N, "every address got an email");
    let twice: Vec<_> = mails.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "invited twice: {twice:?}");
    // Every invite request either failed with a 502 before anything happened or made one
    // invitation: no address was sent twice.
    assert_eq!(sb.calls("POST /invite"), N as u64 + 10);
}
