//! Supabase flavor over real HTTP: every route and every error row of docs/wire/gotrue.md.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::*;
use invite_sandbox::{Flavor, Sandbox};
use serde_json::{json, Value};

mod accept;
mod admin_auth;
mod invites;
mod service;
mod users;

fn admin(s: &Sandbox) -> String {
    s.credentials().service_role_key.clone()
}

async fn invite(s: &Sandbox, email: &str) -> (u16, reqwest::header::HeaderMap, Value) {
    let k = admin(s);
    send(
        client()
            .post(format!("{}/auth/v1/invite", s.url()))
            .header("apikey", &k)
            .bearer_auth(&k)
            .json(&json!({"email": email})),
    )
    .await
}

fn url_enc(s: &str) -> String {
    s.replace(':', "%3A").replace('/', "%2F")
}

async fn invite_as(
    s: &Sandbox,
    token: &str,
    email: &str,
) -> (u16, reqwest::header::HeaderMap, Value) {
    send(
        client()
            .post(format!("{}/invite", s.url()))
            .bearer_auth(token)
            .json(&json!({ "email": email })),
    )
    .await
}
