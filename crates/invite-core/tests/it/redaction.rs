//! A server that echoes what it was sent (the key, a bearer token, a JWT, a `token=` value)
//! in its error text: the error a provider returns, which the outbox stores and the window
//! shows, holds none of it, and long text is clipped.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use invite_core::http::Http;
use invite_core::model::{InviteRequest, WorkspaceKind};
use invite_core::provider::Provider;
use invite_core::providers::supabase::SupabaseProvider;
use invite_core::redact::MAX_DETAIL_CHARS;
use invite_core::secret::{names, MemoryStore, SecretStore, Sensitive};
use invite_core::workspace::Workspace;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dGhpcy1pcy1hLXNpZ25hdHVyZQ";

/// Answers `/health` as GoTrue does, and everything else with `status` and a GoTrue error whose
/// message repeats the request's headers, a JWT and an invite link, then 2000 characters of
/// padding.
async fn echoing_server(status: u16) -> String {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 16384];
                let mut n = 0;
                while !buf[..n].windows(4).any(|w| w == b"\r\n\r\n") && n < buf.len() {
                    match s.read(&mut buf[n..]).await {
                        Ok(0) | Err(_) => return,
                        Ok(k) => n += k,
                    }
                }
                let head = String::from_utf8_lossy(&buf[..n]).to_string();
                let (code, body) = if head.starts_with("GET /health") {
                    (200, r#"{"name":"GoTrue","version":"v2.170.0"}"#.to_string())
                } else {
                    let echoed: String = head.lines().skip(1).collect::<Vec<_>>().join(" | ");
                    let msg = format!(
                        "could not process {echoed} with session {JWT}; see https://x.io/verify?token=inv1te-t0ken&type=invite {}",
                        "padding ".repeat(250)
                    );
                    (
                        status,
                        serde_json::json!({"code": status, "msg": msg}).to_string(),
                    )
                };
                let reply = format!(
                    "HTTP/1.1 {code} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = s.write_all(reply.as_bytes()).await;
            });
        }
    });
    format!("http://{addr}")
}

fn provider(base: &str, key: &str) -> SupabaseProvider {
    let secrets = MemoryStore::new();
    secrets
        .set("ws", names::SECRET_KEY, &Sensitive::new(key.to_string()))
        .unwrap();
    let ws = Workspace {
        id: "ws".into(),
        name: "Acme".into(),
        base_url: base.into(),
        config: invite_core::workspace::WorkspaceConfig::default_for(WorkspaceKind::Supabase),
        demo: false,
    };
    SupabaseProvider::new(Http::new().unwrap(), &ws, Arc::new(secrets)).unwrap()
}

fn assert_clean(e: &invite_core::Error, key: &str) {
    let texts = [e.to_string(), e.detail().unwrap_or_default().to_string()];
    for t in &texts {
        for leaked in [key, JWT, "inv1te-t0ken", "sb_secret_"] {
            assert!(!t.contains(leaked), "{leaked} in {t}");
        }
        assert!(
            t.chars().count() <= MAX_DETAIL_CHARS + 200,
            "not clipped: {t}"
        );
    }
    assert!(
        texts.iter().any(|t| t.contains("[redacted]")),
        "the server's words are kept, redacted: {texts:?}"
    );
}

#[tokio::test]
async fn echoed_secrets_never_reach_the_error() {
    let key = "sb_secret_Zm9vYmFyYmF6cXV4cXV1eDEyMzQ1Njc4";
    for status in [400, 403, 500] {
        let base = echoing_server(status).await;
        let p = provider(&base, key);
        let e = p.check_connection().await.unwrap_err();
        assert_clean(&e, key);
        let e = p
            .invite(&InviteRequest {
                email: "a@example.com".into(),
                send_email: true,
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_clean(&e, key);
    }
}
