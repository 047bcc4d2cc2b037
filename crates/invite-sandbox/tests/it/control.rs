//! Who the sandbox answers: the control token, no CORS, and the `Host` check (DNS rebinding),
//! over real HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::*;
use invite_sandbox::{random_control_token, Flavor, Sandbox, CONTROL_TOKEN_HEADER};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn with_token() -> (Sandbox, String) {
    let token = random_control_token();
    let t = token.clone();
    (
        start_with(Flavor::Supabase, move |c| c.control_token = Some(t)).await,
        token,
    )
}

#[tokio::test]
async fn control_routes_need_the_token_when_one_is_set() {
    let (s, token) = with_token().await;
    assert_eq!(s.control_token(), Some(token.as_str()));
    assert_eq!(token.len(), 43);
    assert_ne!(token, random_control_token(), "a new token every time");
    let key = s.credentials().service_role_key.clone();
    let wrong = "x".repeat(token.len());
    for (route, method) in [
        ("credentials", "GET"),
        ("mail", "GET"),
        ("calls", "GET"),
        ("health", "GET"),
        ("reset", "POST"),
        ("faults", "POST"),
        ("accept", "POST"),
    ] {
        for header in [None, Some(wrong.as_str()), Some(""), Some(&token[..10])] {
            let mut rb = client()
                .request(
                    method.parse().unwrap(),
                    format!("{}/__sandbox/{route}", s.url()),
                )
                .json(&json!({"count": 5, "action": {"type": "status", "status": 503}}));
            if let Some(v) = header {
                rb = rb.header(CONTROL_TOKEN_HEADER, v);
            }
            let r = rb.send().await.unwrap();
            let status = r.status().as_u16();
            let text = r.text().await.unwrap();
            assert_eq!(status, 401, "{method} {route} with {header:?}: {text}");
            assert!(!text.contains(&key), "no key leaks in a refusal");
            assert!(text.contains("x-sandbox-token"), "{text}");
        }
    }
    // The refused fault was not armed: the API answers normally (and needs no control token).
    let r = client()
        .get(format!("{}/admin/users", s.url()))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // With the token: served.
    let r = client()
        .get(format!("{}/__sandbox/credentials", s.url()))
        .header(CONTROL_TOKEN_HEADER, &token)
        .send()
        .await
        .unwrap();
    let (st, _, b) = parts(r).await;
    assert_eq!(
        (st, b["service_role_key"].as_str()),
        (200, Some(key.as_str()))
    );
}

#[tokio::test]
async fn without_a_token_the_control_routes_stay_open() {
    let s = start(Flavor::Netlify).await;
    assert_eq!(s.control_token(), None);
    let r = client()
        .get(format!("{}/__sandbox/mail", s.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn no_cors_headers_and_no_preflight_approval() {
    let (s, token) = with_token().await;
    let key = s.credentials().service_role_key.clone();
    let evil = "https://evil.example";
    let answers = [
        client()
            .get(format!("{}/admin/users", s.url()))
            .bearer_auth(&key)
            .header("origin", evil)
            .send()
            .await
            .unwrap(),
        client()
            .get(format!("{}/auth/v1/admin/users", s.url()))
            .header("apikey", &key)
            .header("origin", evil)
            .send()
            .await
            .unwrap(),
        client()
            .get(format!("{}/__sandbox/credentials", s.url()))
            .header(CONTROL_TOKEN_HEADER, &token)
            .header("origin", evil)
            .send()
            .await
            .unwrap(),
    ];
    for r in answers {
        assert_eq!(r.status(), 200);
        let cors: Vec<_> = r
            .headers()
            .keys()
            .filter(|k| k.as_str().starts_with("access-control-"))
            .collect();
        assert!(cors.is_empty(), "{cors:?}");
    }
    for path in [
        "/auth/v1/admin/users",
        "/invite",
        "/__sandbox/credentials",
        "/__sandbox/faults",
    ] {
        let r = client()
            .request(reqwest::Method::OPTIONS, format!("{}{path}", s.url()))
            .header("origin", evil)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, x-sandbox-token",
            )
            .send()
            .await
            .unwrap();
        assert!(!r.status().is_success(), "{path}: {}", r.status());
        assert!(
            !r.headers()
                .keys()
                .any(|k| k.as_str().starts_with("access-control-")),
            "{path}: {:?}",
            r.headers()
        );
    }
}

/// Sends a raw HTTP/1.1 request with exactly this `Host`; returns the status and body.
async fn with_host(s: &Sandbox, host: &str, path: &str, extra: &str) -> (u16, String) {
    let port = s.url().rsplit(':').next().unwrap().to_string();
    let mut conn = tokio::net::TcpStream::connect(format!("127.0.0.1:{port}"))
        .await
        .unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n{extra}Connection: close\r\n\r\n");
    conn.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    conn.read_to_end(&mut out).await.unwrap();
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    (status, body)
}

#[tokio::test]
async fn a_foreign_host_is_refused() {
    let (s, token) = with_token().await;
    let port = s.url().rsplit(':').next().unwrap().to_string();
    let auth = format!("{CONTROL_TOKEN_HEADER}: {token}\r\n");
    let key = s.credentials().service_role_key.clone();
    let bearer = format!("Authorization: Bearer {key}\r\n");
    // What a rebinding page sends: its own name (with or without the port), or another port.
    for host in [
        format!("evil.example:{port}"),
        "evil.example".to_string(),
        format!("127.0.0.1.nip.io:{port}"),
        format!("localhost.evil.example:{port}"),
        "127.0.0.1:1".to_string(),
        format!("[::1]:{port}"),
        String::new(),
    ] {
        for (path, extra) in [
            ("/__sandbox/credentials", auth.as_str()),
            ("/admin/users", bearer.as_str()),
        ] {
            let (st, body) = with_host(&s, &host, path, extra).await;
            assert_eq!(st, 403, "Host {host:?} {path}: {body}");
            assert!(!body.contains(&key), "no key for Host {host:?}");
            assert!(body.contains("host_not_allowed"), "{body}");
        }
    }
    assert_eq!(
        s.calls("GET /admin/users"),
        0,
        "refused before anything ran"
    );
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("LocalHost:{port}"),
    ] {
        let (st, body) = with_host(&s, &host, "/__sandbox/credentials", &auth).await;
        assert_eq!(st, 200, "Host {host}: {body}");
        assert!(body.contains(&key));
        let (st, _) = with_host(&s, &host, "/admin/users", &bearer).await;
        assert_eq!(st, 200, "Host {host}");
    }
}
