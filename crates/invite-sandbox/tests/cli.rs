//! The `invite-sandbox` binary: prints URL and credentials, serves, honours --fault.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn binary_prints_url_and_credentials_and_serves() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_invite-sandbox"))
        .args([
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
        ])
        .args([
            "--fault",
            r#"{"route":"GET /health","action":{"type":"status","status":502}}"#,
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut kv = std::collections::HashMap::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let (k, v) = line.split_once(": ").unwrap();
        kv.insert(k.to_string(), v.to_string());
        if k == "jwt_secret" {
            break;
        }
    }
    let url = kv["url"].clone();
    assert!(url.starts_with("http://127.0.0.1:"));
    assert!(kv["service_role_key"].starts_with("eyJ"));
    assert!(kv["secret_key"].starts_with("sb_secret_"));
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (a, b) = rt.block_on(async {
        let c = reqwest::Client::new();
        let a = c
            .get(format!("{url}/health"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        let b = c
            .get(format!("{url}/health"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        (a, b)
    });
    assert_eq!((a, b), (502, 200));
    child.kill().unwrap();
    child.wait().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_invite-sandbox"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--flavor",
        "--port",
        "--seed",
        "--email-limit",
        "--email-window-secs",
        "--latency-ms",
        "--fault",
        "--retry-after-header",
    ] {
        assert!(help.contains(flag), "{flag} undocumented");
    }
}
