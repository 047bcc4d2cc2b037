//! The CLI with the REAL keychain (Linux Secret Service): `workspaces add` keeps the secret where
//! the window looks for it (checked from another process with `secret-tool`), a second CLI
//! process invites with it, and `workspaces remove` deletes it.
//!
//! Runs only where a throwaway keychain is set up (an unlocked gnome-keyring on a private
//! session bus, `INVITE_DESK_REAL_KEYCHAIN=1`), as `scripts/keychain-test.sh` does for the core.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

use invite_core::secret::SERVICE;
use invite_sandbox::{Config, Flavor, Sandbox};

fn enabled() -> bool {
    let on = std::env::var("INVITE_DESK_REAL_KEYCHAIN").as_deref() == Ok("1");
    assert!(
        on || std::env::var("INVITE_DESK_KEYCHAIN_SCRIPT").is_err(),
        "the keychain script ran this test without INVITE_DESK_REAL_KEYCHAIN=1"
    );
    if !on {
        eprintln!("skipped: INVITE_DESK_REAL_KEYCHAIN is not 1 (needs an unlocked keychain)");
    }
    on
}

fn lookup(account: &str) -> Option<String> {
    let out = Command::new("secret-tool")
        .args(["lookup", "service", SERVICE, "username", account])
        .output()
        .expect("secret-tool (libsecret-tools) is installed");
    out.status
        .success()
        .then(|| String::from_utf8(out.stdout).unwrap())
}

async fn cli(data: &std::path::Path, args: &[&str], stdin: &str) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_invite-desk-cli"));
    cmd.args(args)
        .env("INVITE_DESK_DATA_DIR", data)
        .env_remove("INVITE_DESK_CLI_TEST_SECRETS")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let stdin = stdin.to_string();
    tokio::task::spawn_blocking(move || {
        let mut child = cmd.spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a throwaway unlocked keychain: INVITE_DESK_REAL_KEYCHAIN=1"]
async fn real_keychain_cli_add_invite_remove() {
    if !enabled() {
        return;
    }
    let sb = Sandbox::start(Config::new(Flavor::Supabase)).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let key = sb.credentials().service_role_key.clone();
    let out = cli(
        dir.path(),
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
        ],
        &key,
    )
    .await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = v["workspace"]["id"].as_str().unwrap().to_string();
    let account = format!("{id}/secret_key");
    assert_eq!(lookup(&account).as_deref(), Some(key.as_str()));

    // Another process finds the key in the keychain and invites with it.
    let out = cli(
        dir.path(),
        &["invite", "-w", "Acme", "-"],
        "ann@example.com",
    )
    .await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(sb.calls("POST /invite"), 1);

    let out = cli(dir.path(), &["workspaces", "remove", "-w", "Acme"], "").await;
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        lookup(&account),
        None,
        "removing the workspace deletes its key"
    );
}
