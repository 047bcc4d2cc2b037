//! Minted admin tokens tolerate a desktop clock that runs a little fast: netlify/gotrue refuses a
//! token issued "in the future", so the app backdates `iat` by a minute. Against the sandbox,
//! which refuses a future `iat` as that server does.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::Utc;
use invite_core::http::{body_text, Http};
use invite_core::providers::gotrue::{mint_admin_token_at, TOKEN_TTL};
use invite_core::providers::gotrue_common::Dialect;
use invite_core::secret::Sensitive;
use invite_sandbox::{Config, Flavor, Sandbox};

async fn list_users_with(
    sandbox: &Sandbox,
    http: &Http,
    token: &Sensitive<String>,
) -> (u16, String) {
    let resp = http
        .send_read(
            http.client()
                .get(format!("{}/admin/users", sandbox.url()))
                .bearer_auth(token.expose()),
        )
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, body_text(resp).await.unwrap())
}

#[tokio::test]
async fn a_clock_thirty_seconds_fast_still_works_on_netlifys_fork() {
    let sandbox = Sandbox::start(Config::new(Flavor::Netlify)).await.unwrap();
    let secret = Sensitive::new(sandbox.credentials().jwt_secret.clone());
    let http = Http::new().unwrap();
    let ttl = i64::try_from(TOKEN_TTL.as_secs()).unwrap();
    let now = Utc::now().timestamp();

    // This desktop's clock reads 30 s ahead of the server's.
    let fast = mint_admin_token_at(&secret, Dialect::Netlify, "", ttl, now + 30).unwrap();
    let (status, body) = list_users_with(&sandbox, &http, &fast).await;
    assert_eq!(status, 200, "{body}");

    // The server really does refuse a token issued in its future: one from a clock 90 s fast
    // (beyond the minute of slack) is turned away in netlify/gotrue's words.
    let too_fast = mint_admin_token_at(&secret, Dialect::Netlify, "", ttl, now + 90).unwrap();
    let (status, body) = list_users_with(&sandbox, &http, &too_fast).await;
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("Token used before issued"), "{body}");
}

#[tokio::test]
async fn supabases_fork_does_not_look_at_iat() {
    let sandbox = Sandbox::start(Config::new(Flavor::Supabase)).await.unwrap();
    let secret = Sensitive::new(sandbox.credentials().jwt_secret.clone());
    let http = Http::new().unwrap();
    let now = Utc::now().timestamp();
    let t = mint_admin_token_at(&secret, Dialect::Supabase, "service_role", 300, now + 90).unwrap();
    let (status, body) = list_users_with(&sandbox, &http, &t).await;
    assert_eq!(status, 200, "{body}");
}
