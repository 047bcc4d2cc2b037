//! Netlify flavor over real HTTP: netlify/gotrue rows of gotrue.md and the Invite Desk function.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::*;
use invite_sandbox::{Flavor, Sandbox};
use serde_json::{json, Value};

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

fn sign(s: &Sandbox, claims: Value) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(s.credentials().jwt_secret.as_bytes()),
    )
    .unwrap()
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

#[tokio::test]
async fn token_grant_and_user_jwts() {
    let s = start(Flavor::Netlify).await;
    let c = s.credentials().clone();
    let (st, b) = login(&s, &c.owner_email, &c.owner_password).await;
    assert_eq!(st, 200);
    assert_eq!(b["token_type"], "bearer");
    assert!(b.get("user").is_none(), "netlify returns no user object");
    let at = b["access_token"].as_str().unwrap();
    let hdr = jsonwebtoken::decode_header(at).unwrap();
    assert_eq!(hdr.kid.as_deref(), Some("nf-ident"));
    let (st, b) = login(&s, &c.owner_email, "wrong").await;
    assert_eq!(
        (st, b),
        (
            400,
            json!({"error":"invalid_grant","error_description":"No user found with that email, or password invalid."})
        )
    );
    let r = client()
        .post(format!("{}{ID}/token", s.url()))
        .json(&json!({"grant_type":"password"}))
        .send()
        .await
        .unwrap();
    let (st, _, b) = parts(r).await;
    assert_eq!((st, b), (400, json!({"error":"unsupported_grant_type"})));
    // A plain user's token (even the owner with roles ["admin"]) is not a GoTrue admin.
    let r = client()
        .post(format!("{}{ID}/invite", s.url()))
        .bearer_auth(at)
        .json(&json!({"email":"x@example.com"}))
        .send()
        .await
        .unwrap();
    let (st, _, b) = parts(r).await;
    assert_eq!((st, b), (401, json!({"code":401,"msg":"User not allowed"})));
    // GET /user with own token
    let r = client()
        .get(format!("{}{ID}/user", s.url()))
        .bearer_auth(at)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn admin_rows() {
    let s = start(Flavor::Netlify).await;
    let inv = |auth: Option<String>| {
        let mut r = client()
            .post(format!("{}{ID}/invite", s.url()))
            .json(&json!({"email":"a@example.com"}));
        if let Some(a) = auth {
            r = r.header("authorization", a);
        }
        r.send()
    };
    let (st, _, b) = parts(inv(None).await.unwrap()).await;
    assert_eq!(
        (st, b),
        (
            401,
            json!({"code":401,"msg":"This endpoint requires a Bearer token"})
        )
    );
    let (st, _, b) = parts(inv(Some("Bearer garbage".into())).await.unwrap()).await;
    assert_eq!(st, 401);
    assert!(b["msg"].as_str().unwrap().starts_with("Invalid token: "));
    let expired = sign(&s, json!({"sub":"0","exp":1000}));
    let (_, _, b) = parts(inv(Some(format!("Bearer {expired}"))).await.unwrap()).await;
    assert_eq!(
        b["msg"],
        "Invalid token: token has invalid claims: token is expired"
    );
    let ghost = sign(
        &s,
        json!({"sub": uuid::Uuid::new_v4().to_string(),"exp":4_000_000_000u64}),
    );
    let (st, _, b) = parts(inv(Some(format!("Bearer {ghost}"))).await.unwrap()).await;
    assert_eq!(
        (st, b["msg"].as_str().unwrap()),
        (401, "Invalid admin user")
    );
    // sub "0" is the system admin; so is the nil UUID.
    let zero = sign(&s, json!({"sub":"0","exp":4_000_000_000u64}));
    let (st, _, u) = parts(inv(Some(format!("Bearer {zero}"))).await.unwrap()).await;
    assert_eq!(st, 200);
    assert!(u["invited_at"].is_string());
    assert!(
        u.get("confirmation_sent_at").is_none(),
        "netlify /invite does not set confirmation_sent_at"
    );
    assert!(u.get("identities").is_none());
    let m = s.mail();
    assert_eq!(
        m[0].link,
        format!(
            "{}/#invite_token={}",
            s.url(),
            m[0].link.split("invite_token=").nth(1).unwrap()
        )
    );
    assert_eq!(m[0].subject, "You have been invited");
    let nil = sign(
        &s,
        json!({"sub":"00000000-0000-0000-0000-000000000000","exp":4_000_000_000u64}),
    );
    // Any existing email: 422, even unconfirmed.
    let (st, _, b) = parts(inv(Some(format!("Bearer {nil}"))).await.unwrap()).await;
    assert_eq!(
        (st, b),
        (
            422,
            json!({"code":422,"msg":"Email address already registered by another user"})
        )
    );
    let (st, b) = op_invite(&s, &format!("{ID}/invite"), "{bad").await;
    assert_eq!(st, 400);
    assert!(b["msg"]
        .as_str()
        .unwrap()
        .starts_with("Could not read Invite params: "));
    let (st, b) = op_invite(&s, &format!("{ID}/invite"), r#"{"email":""}"#).await;
    assert_eq!(
        (st, b["msg"].as_str().unwrap()),
        (422, "An email address is required")
    );
    let (st, b) = op_invite(&s, &format!("{ID}/invite"), r#"{"email":"nope"}"#).await;
    assert_eq!(st, 422);
    assert!(b["msg"]
        .as_str()
        .unwrap()
        .starts_with("Unable to validate email address: "));
    // Root (self-hosted fork) works the same.
    let (st, _) = op_invite(&s, "/invite", r#"{"email":"root@example.com"}"#).await;
    assert_eq!(st, 200);
    assert_eq!(s.calls("POST /invite"), 10);
}

#[tokio::test]
async fn list_get_delete_and_link_with_prev() {
    let s = start(Flavor::Netlify).await;
    for i in 0..5 {
        op_invite(
            &s,
            &format!("{ID}/invite"),
            &format!(r#"{{"email":"n{i}@example.com"}}"#),
        )
        .await;
    }
    let op = s.credentials().operator_token.clone();
    let r = client()
        .get(format!("{}{ID}/admin/users?page=2&per_page=2", s.url()))
        .bearer_auth(&op)
        .send()
        .await
        .unwrap();
    let (st, hd, b) = parts(r).await;
    assert_eq!(st, 200);
    assert_eq!(h(&hd, "x-total-count"), "7"); // 5 invited + owner + member
    assert_eq!(b["users"].as_array().unwrap().len(), 2);
    assert_eq!(
        h(&hd, "link"),
        r#"</admin/users?page=3&per_page=2>; rel="next", </admin/users?page=1&per_page=2>; rel="prev", </admin/users?page=4&per_page=2>; rel="last""#
    );
    let id = b["users"][0]["id"].as_str().unwrap().to_string();
    let r = client()
        .get(format!("{}{ID}/admin/users/{id}", s.url()))
        .bearer_auth(&op)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = client()
        .get(format!("{}{ID}/admin/users/xyz", s.url()))
        .bearer_auth(&op)
        .send()
        .await
        .unwrap();
    let (st, _, b) = parts(r).await;
    assert_eq!(
        (st, b),
        (400, json!({"code":400,"msg":"user_id must be an UUID"}))
    );
    let r = client()
        .delete(format!("{}{ID}/admin/users/{id}", s.url()))
        .bearer_auth(&op)
        .send()
        .await
        .unwrap();
    let (st, _, b) = parts(r).await;
    assert_eq!((st, b), (200, json!({})));
    let r = client()
        .delete(format!("{}{ID}/admin/users/{id}", s.url()))
        .bearer_auth(&op)
        .send()
        .await
        .unwrap();
    let (st, _, b) = parts(r).await;
    assert_eq!((st, b), (404, json!({"code":404,"msg":"User not found"})));
    // no generate_link on netlify
    let r = client()
        .post(format!("{}{ID}/admin/generate_link", s.url()))
        .bearer_auth(&op)
        .json(&json!({"type":"invite","email":"q@example.com"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error());
    let (_, _, b) = parts(r).await;
    assert!(b.get("msg").is_some());
}

#[tokio::test]
async fn verify_signup_accepts_invite() {
    let s = start(Flavor::Netlify).await;
    op_invite(&s, &format!("{ID}/invite"), r#"{"email":"v@example.com"}"#).await;
    let token = s.mail()[0]
        .link
        .split("#invite_token=")
        .nth(1)
        .unwrap()
        .to_string();
    let v = |b: Value| {
        client()
            .post(format!("{}{ID}/verify", s.url()))
            .json(&b)
            .send()
    };
    let (st, _, b) = parts(v(json!({"type":"signup"})).await.unwrap()).await;
    assert_eq!(
        (st, b["msg"].as_str().unwrap()),
        (422, "Verify requires a token")
    );
    let (st, _, b) = parts(v(json!({"token": token})).await.unwrap()).await;
    assert_eq!(
        (st, b["msg"].as_str().unwrap()),
        (422, "Verify requires a verification type")
    );
    let (st, _, b) = parts(
        v(json!({"type":"signup","token":"bogus","password":"x"}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((st, b["msg"].as_str().unwrap()), (404, "User not found"));
    let (st, _, b) = parts(v(json!({"type":"signup","token": token})).await.unwrap()).await;
    assert_eq!(
        (st, b["msg"].as_str().unwrap()),
        (422, "Invited users must specify a password")
    );
    let (st, _, b) = parts(
        v(json!({"type":"signup","token": token,"password":"secret1"}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, 200);
    for k in ["access_token", "token_type", "expires_in", "refresh_token"] {
        assert!(b.get(k).is_some());
    }
    let (st, _) = login(&s, "v@example.com", "secret1").await;
    assert_eq!(st, 200);
    // accept via control route on a second invite
    op_invite(&s, &format!("{ID}/invite"), r#"{"email":"w@example.com"}"#).await;
    let r = client()
        .post(format!("{}/__sandbox/accept", s.url()))
        .json(&json!({"link": s.mail()[1].link, "password":"pw-w-123"}))
        .send()
        .await
        .unwrap();
    let (st, _, b) = parts(r).await;
    assert_eq!((st, b), (200, json!({"ok":true,"email":"w@example.com"})));
    assert_eq!(login(&s, "w@example.com", "pw-w-123").await.0, 200);
    let r = client()
        .get(format!("{}{ID}/settings", s.url()))
        .send()
        .await
        .unwrap();
    let (_, _, b) = parts(r).await;
    assert!(b.get("autoconfirm").is_some());
    let r = client()
        .get(format!("{}{ID}/health", s.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn function_contract() {
    let s = start(Flavor::Netlify).await;
    let c = s.credentials().clone();
    let owner = login(&s, &c.owner_email, &c.owner_password).await.1["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let member = login(&s, &c.member_email, &c.member_password).await.1["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let call = |m: reqwest::Method, p: &str, tok: Option<&str>, body: Option<&str>| {
        let mut r = client().request(m, format!("{}{FN}{p}", s.url()));
        if let Some(t) = tok {
            r = r.bearer_auth(t);
        }
        if let Some(b) = body {
            r = r.body(b.to_string());
        }
        r.send()
    };
    use reqwest::Method as M;
    let (st, _, b) = parts(call(M::GET, "/check", None, None).await.unwrap()).await;
    assert_eq!(
        (st, b["error"]["code"].as_str().unwrap()),
        (401, "unauthorized")
    );
    let (st, _, b) = parts(call(M::GET, "/check", Some("x.y.z"), None).await.unwrap()).await;
    assert_eq!(
        (st, b["error"]["code"].as_str().unwrap()),
        (401, "unauthorized")
    );
    let exp = sign(
        &s,
        json!({"sub":"1","exp":1000,"app_metadata":{"roles":["admin"]}}),
    );
    let (st, _, _) = parts(call(M::GET, "/check", Some(&exp), None).await.unwrap()).await;
    assert_eq!(st, 401);
    let (st, _, b) = parts(call(M::GET, "/check", Some(&member), None).await.unwrap()).await;
    assert_eq!(
        (st, b["error"]["code"].as_str().unwrap()),
        (403, "forbidden")
    );
    let (st, _, b) = parts(call(M::GET, "/check", Some(&owner), None).await.unwrap()).await;
    assert_eq!(
        (st, b),
        (
            200,
            json!({"ok":true,"email":c.owner_email,"roles":["admin"]})
        )
    );
    let (st, _, u) = parts(
        call(
            M::POST,
            "/invite",
            Some(&owner),
            Some(r#"{"email":"f@example.com","data":{"full_name":"F"}}"#),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!((st, u["email"].as_str().unwrap()), (200, "f@example.com"));
    assert_eq!(u["user_metadata"]["full_name"], "F");
    let (st, _, b) = parts(
        call(
            M::POST,
            "/invite",
            Some(&owner),
            Some(r#"{"email":"f@example.com"}"#),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(
        (st, b),
        (
            422,
            json!({"error":{"code":"identity_error","status":422,"message":"Email address already registered by another user"}})
        )
    );
    let (st, _, b) = parts(
        call(M::POST, "/invite", Some(&owner), Some("{bad"))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (st, b["error"]["code"].as_str().unwrap()),
        (400, "bad_request")
    );
    let (st, _, b) = parts(
        call(
            M::POST,
            "/invite",
            Some(&member),
            Some(r#"{"email":"g@example.com"}"#),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(
        (st, b["error"]["code"].as_str().unwrap()),
        (403, "forbidden")
    );
    let (st, _, b) = parts(
        call(M::GET, "/users?page=1&per_page=2", Some(&owner), None)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(
        (b["total"].as_u64(), b["next_page"].as_u64()),
        (Some(3), Some(2))
    );
    assert_eq!(b["users"].as_array().unwrap().len(), 2);
    let (_, _, b) = parts(
        call(M::GET, "/users?page=2&per_page=2", Some(&owner), None)
            .await
            .unwrap(),
    )
    .await;
    assert!(b["next_page"].is_null());
    let (_, _, b) = parts(
        call(M::GET, "/users?filter=f%40", Some(&owner), None)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(b["total"], 1);
    let id = u["id"].as_str().unwrap();
    let (st, _, g) = parts(
        call(M::GET, &format!("/users/{id}"), Some(&owner), None)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((st, g["email"].as_str().unwrap()), (200, "f@example.com"));
    let (st, _, b) = parts(
        call(M::DELETE, &format!("/users/{id}"), Some(&owner), None)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((st, b), (200, json!({})));
    let (st, _, b) = parts(
        call(M::GET, &format!("/users/{id}"), Some(&owner), None)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (st, b["error"]["code"].as_str().unwrap()),
        (404, "not_found")
    );
    let (st, _, b) = parts(
        call(M::GET, "/users/not-a-uuid", Some(&owner), None)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (st, b["error"]["code"].as_str().unwrap()),
        (404, "not_found")
    );
    let (st, _, b) = parts(
        call(M::GET, "/elsewhere", Some(&owner), None)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (st, b["error"]["code"].as_str().unwrap()),
        (404, "not_found")
    );
    assert_eq!(s.calls("POST /.netlify/functions/invite-desk/invite"), 4);
    assert_eq!(s.calls("GET /.netlify/functions/invite-desk/users/{id}"), 3);
}
