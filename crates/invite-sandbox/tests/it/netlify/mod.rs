//! Netlify flavor over real HTTP: netlify/gotrue rows of docs/wire/gotrue.md and the Invite Desk function.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::*;
use invite_sandbox::{Flavor, Sandbox};
use serde_json::{json, Value};

mod admin;
mod function;
mod identity;

const ID: &str = "/.netlify/identity";
const FN: &str = "/.netlify/functions/invite-desk";

async fn login(s: &Sandbox, email: &str, pw: &str) -> (u16, Value) {
    let r = client()
        .post(format!("{}{ID}/token", s.url()))
        .form(&[
            ("grant_type", "password"),
            ("username", email),
            ("password", pw),
        ])
        .send()
        .await
        .unwrap();
    let (st, _, b) = parts(r).await;
    (st, b)
}

/// The token in the first invitation email's link (`#invite_token=`), as the invitee's
/// browser would read it.
fn first_invite_token(s: &Sandbox) -> String {
    s.mail()[0]
        .link
        .split("#invite_token=")
        .nth(1)
        .unwrap()
        .to_string()
}

async fn op_invite(s: &Sandbox, path: &str, body: &str) -> (u16, Value) {
    let r = client()
        .post(format!("{}{path}", s.url()))
        .bearer_auth(&s.credentials().operator_token)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let (st, _, b) = parts(r).await;
    (st, b)
}

/// POST `body` to `path` with a raw Authorization header and optional extra headers.
async fn post_auth(
    s: &Sandbox,
    path: &str,
    auth: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, Value) {
    let mut r = client()
        .post(format!("{}{path}", s.url()))
        .header("authorization", auth)
        .body(body.to_string());
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    let (st, _, b) = parts(r.send().await.unwrap()).await;
    (st, b)
}
