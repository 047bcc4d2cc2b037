//! Netlify flavor over real HTTP: netlify/gotrue rows of docs/wire/gotrue.md and the Invite Desk function.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::*;
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
    let token = first_invite_token(&s);
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
    // An id that is not a UUID names no user: the function's own 404, Identity is not asked.
    let (st, _, b) = parts(
        call(M::GET, "/users/not-a-uuid", Some(&owner), None)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (st, b),
        (
            404,
            json!({"error":{"code":"not_found","message":"No user has that id."}})
        )
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

#[tokio::test]
async fn bearer_scheme_is_exactly_bearer_or_lowercase() {
    let s = start(Flavor::Netlify).await;
    let op = s.credentials().operator_token.clone();
    let invite = format!("{ID}/invite");
    let refused = json!({"code":401,"msg":"This endpoint requires a Bearer token"});
    for (i, scheme) in ["Bearer", "bearer"].into_iter().enumerate() {
        let body = format!(r#"{{"email":"ok{i}@example.com"}}"#);
        let (st, b) = post_auth(&s, &invite, &format!("{scheme} {op}"), &[], &body).await;
        assert_eq!(st, 200, "{scheme}: {b}");
    }
    // `^(?:B|b)earer (\S+$)`: no other casing, exactly one space, one token.
    for auth in [
        format!("BEARER {op}"),
        format!("bEARER {op}"),
        format!("Bearer  {op}"),
        format!("Bearer {op} x"),
        format!("Token {op}"),
        op.clone(),
    ] {
        let (st, b) = post_auth(&s, &invite, &auth, &[], r#"{"email":"no@example.com"}"#).await;
        assert_eq!((st, &b), (401, &refused), "{auth:?}");
    }
    // The user's own routes read the header the same way.
    let c = s.credentials().clone();
    let (_, t) = login(&s, &c.owner_email, &c.owner_password).await;
    let at = t["access_token"].as_str().unwrap();
    for (auth, want) in [(format!("bearer {at}"), 200), (format!("BEARER {at}"), 401)] {
        let r = client()
            .get(format!("{}{ID}/user", s.url()))
            .header("authorization", auth)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), want);
    }
    assert!(s.mail().iter().all(|m| m.to.starts_with("ok")));
}

#[tokio::test]
async fn verify_checks_the_type_before_the_token() {
    let s = start(Flavor::Netlify).await;
    op_invite(&s, &format!("{ID}/invite"), r#"{"email":"t@example.com"}"#).await;
    let token = first_invite_token(&s);
    let v = |b: String| {
        client()
            .post(format!("{}{ID}/verify", s.url()))
            .body(b)
            .send()
    };
    let want_type = json!({"code":422,"msg":"Verify requires a verification type"});
    // `invite` is not a netlify/gotrue verification type, known token or not.
    for body in [
        json!({"type":"invite","token":token,"password":"secret1"}),
        json!({"type":"bogus","token":"no-such-token"}),
        json!({"token":token}),
    ] {
        let (st, _, b) = parts(v(body.to_string()).await.unwrap()).await;
        assert_eq!((st, &b), (422, &want_type), "{body}");
    }
    let (st, _, b) = parts(
        v(json!({"type":"signup","token":"   "}).to_string())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (st, b),
        (422, json!({"code":422,"msg":"Verify requires a token"}))
    );
    // `recovery` looks for a recovery token; an invite token is not one.
    let (st, _, b) = parts(
        v(json!({"type":"recovery","token":token}).to_string())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((st, b), (404, json!({"code":404,"msg":"User not found"})));
    let (st, _, b) = parts(v("{bad".into()).await.unwrap()).await;
    assert_eq!(st, 400);
    assert!(b["msg"]
        .as_str()
        .unwrap()
        .starts_with("Could not read verification params: "));
    // The token survived all of that.
    let (st, _, _) = parts(
        v(json!({"type":"signup","token":token,"password":"secret1"}).to_string())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, 200);
}

#[tokio::test]
async fn admin_check_uses_db_role_aud_and_body_aud() {
    let s = start(Flavor::Netlify).await;
    let c = s.credentials().clone();
    let op = format!("Bearer {}", c.operator_token);
    let users = format!("{ID}/admin/users");
    let invite = format!("{ID}/invite");
    // A DB user whose role is the admin group (not app_metadata.roles) is a GoTrue admin.
    let (st, boss) = post_auth(
        &s,
        &users,
        &op,
        &[],
        r#"{"email":"boss@example.com","password":"boss-pw-1","confirm":true,"role":"admin"}"#,
    )
    .await;
    assert_eq!((st, boss["role"].as_str().unwrap()), (200, "admin"));
    let (_, t) = login(&s, "boss@example.com", "boss-pw-1").await;
    let bt = format!("Bearer {}", t["access_token"].as_str().unwrap());
    let (st, _) = post_auth(&s, &invite, &bt, &[], r#"{"email":"i1@example.com"}"#).await;
    assert_eq!(st, 200);
    let not_allowed = json!({"code":401,"msg":"User not allowed"});
    // aud from X-JWT-AUD must match the admin's own aud ("")...
    let (st, b) = post_auth(
        &s,
        &invite,
        &bt,
        &[("x-jwt-aud", "other")],
        r#"{"email":"i2@example.com"}"#,
    )
    .await;
    assert_eq!((st, b), (401, not_allowed.clone()));
    // ...and a body `aud` overrides it for the check (any case of the key, as Go decodes).
    let (st, b) = post_auth(
        &s,
        &invite,
        &bt,
        &[],
        r#"{"email":"i2@example.com","AUD":"other"}"#,
    )
    .await;
    assert_eq!((st, b), (401, not_allowed.clone()));
    let (st, b) = post_auth(
        &s,
        &invite,
        &bt,
        &[("x-jwt-aud", "other")],
        r#"{"email":"i2@example.com","aud":""}"#,
    )
    .await;
    assert_eq!(
        (st, b),
        (401, not_allowed.clone()),
        "an empty body aud changes nothing"
    );
    // Body that the admin check cannot decode: its own 400, before the handler's.
    for (body, tail) in [
        ("{bad", "key must be a string"),
        ("[1]", "json: cannot unmarshal array into Go value of type api.adminCheckParams"),
        (
            r#"{"aud":5}"#,
            "json: cannot unmarshal number into Go struct field adminCheckParams.aud of type string",
        ),
    ] {
        let (st, b) = post_auth(&s, &invite, &bt, &[], body).await;
        let msg = b["msg"].as_str().unwrap();
        assert_eq!(st, 400, "{body}");
        assert!(
            msg.starts_with("Could not decode admin user params: ") && msg.contains(tail),
            "{body}: {msg}"
        );
    }
    // The system user (sub "0") goes through the same body check; the operator token does not.
    let zero = format!(
        "Bearer {}",
        sign(&s, json!({"sub":"0","exp":4_000_000_000u64}))
    );
    let (_, b) = post_auth(&s, &invite, &zero, &[], "{bad").await;
    assert!(b["msg"]
        .as_str()
        .unwrap()
        .starts_with("Could not decode admin user params: "));
    let (_, b) = post_auth(&s, &invite, &op, &[], "{bad").await;
    assert!(b["msg"]
        .as_str()
        .unwrap()
        .starts_with("Could not read Invite params: "));
    // A user without the DB role is refused until an admin gives it to them.
    let (_, t) = login(&s, &c.member_email, &c.member_password).await;
    let mt = format!("Bearer {}", t["access_token"].as_str().unwrap());
    let (st, b) = post_auth(&s, &invite, &mt, &[], r#"{"email":"i3@example.com"}"#).await;
    assert_eq!((st, b), (401, not_allowed));
    let (_, list) = {
        let r = client()
            .get(format!("{}{users}?filter=member", s.url()))
            .header("authorization", &op)
            .send()
            .await
            .unwrap();
        let (st, _, b) = parts(r).await;
        (st, b)
    };
    let member_id = list["users"][0]["id"].as_str().unwrap().to_string();
    let r = client()
        .put(format!("{}{users}/{member_id}", s.url()))
        .header("authorization", &op)
        .body(r#"{"role":"admin"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (st, _) = post_auth(&s, &invite, &mt, &[], r#"{"email":"i3@example.com"}"#).await;
    assert_eq!(st, 200, "now an admin");
}

#[tokio::test]
async fn request_aud_scopes_invites_and_lists() {
    let s = start(Flavor::Netlify).await;
    let op = format!("Bearer {}", s.credentials().operator_token);
    // An admin of audience "other": created there by a body aud, signs in with aud "other".
    let (st, u) = post_auth(
        &s,
        &format!("{ID}/admin/users"),
        &op,
        &[],
        r#"{"email":"oboss@example.com","password":"pw-other-1","confirm":true,"role":"admin","aud":"other"}"#,
    )
    .await;
    assert_eq!((st, u["aud"].as_str().unwrap()), (200, "other"));
    let (_, t) = login(&s, "oboss@example.com", "pw-other-1").await;
    let ot = format!("Bearer {}", t["access_token"].as_str().unwrap());
    let (st, u) = post_auth(
        &s,
        &format!("{ID}/invite"),
        &ot,
        &[],
        r#"{"email":"o1@example.com"}"#,
    )
    .await;
    assert_eq!((st, u["aud"].as_str().unwrap()), (200, "other"));
    // The same address may be invited in the default audience: duplicates are per aud.
    let (st, u) = post_auth(
        &s,
        &format!("{ID}/invite"),
        &op,
        &[],
        r#"{"email":"o1@example.com"}"#,
    )
    .await;
    assert_eq!((st, u["aud"].as_str().unwrap()), (200, ""));
    let list = |aud: Option<&'static str>| {
        let mut r = client()
            .get(format!("{}{ID}/admin/users", s.url()))
            .header("authorization", &op);
        if let Some(a) = aud {
            r = r.header("x-jwt-aud", a);
        }
        r.send()
    };
    let (_, hd, b) = parts(list(Some("other")).await.unwrap()).await;
    assert_eq!(
        (h(&hd, "x-total-count"), b["aud"].as_str().unwrap()),
        ("2", "other")
    );
    let (_, hd, b) = parts(list(None).await.unwrap()).await;
    assert_eq!(
        (h(&hd, "x-total-count"), b["aud"].as_str().unwrap()),
        ("3", "")
    );
}

#[tokio::test]
async fn admin_user_params_that_do_not_decode() {
    let s = start(Flavor::Netlify).await;
    let op = s.credentials().operator_token.clone();
    let (st, b) = op_invite(&s, &format!("{ID}/admin/users"), "{bad").await;
    assert_eq!(st, 400);
    assert!(b["msg"]
        .as_str()
        .unwrap()
        .starts_with("Could not decode admin user params: "));
    let (_, u) = op_invite(&s, &format!("{ID}/invite"), r#"{"email":"p@example.com"}"#).await;
    let r = client()
        .put(format!(
            "{}{ID}/admin/users/{}",
            s.url(),
            u["id"].as_str().unwrap()
        ))
        .bearer_auth(&op)
        .body("[]")
        .send()
        .await
        .unwrap();
    let (st, _, b) = parts(r).await;
    assert_eq!(st, 400);
    assert!(b["msg"]
        .as_str()
        .unwrap()
        .starts_with("Could not decode admin user params: "));
}

#[tokio::test]
async fn function_answers_as_the_real_file() {
    let s = start_with(Flavor::Netlify, |c| {
        c.invite_desk_roles = invite_sandbox::parse_roles("editor, admin")
    })
    .await;
    let c = s.credentials().clone();
    let owner = login(&s, &c.owner_email, &c.owner_password).await.1["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let member = login(&s, &c.member_email, &c.member_password).await.1["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let call = |m: &str, p: &str, tok: Option<&str>, body: Option<&str>| {
        let mut r = client().request(m.parse().unwrap(), format!("{}{FN}{p}", s.url()));
        if let Some(t) = tok {
            r = r.bearer_auth(t);
        }
        if let Some(b) = body {
            r = r.body(b.to_string());
        }
        async move { parts(r.send().await.unwrap()).await }
    };
    let no_user = json!({"error":{"code":"unauthorized","message":"Sign in with your Netlify Identity account: this request had no valid user token."}});
    let expired = sign(
        &s,
        json!({"sub":"1","exp":1000,"app_metadata":{"roles":["admin"]}}),
    );
    let no_sub = sign(
        &s,
        json!({"exp":4_000_000_000u64,"app_metadata":{"roles":["admin"]}}),
    );
    for tok in [
        None,
        Some("x.y.z"),
        Some(expired.as_str()),
        Some(no_sub.as_str()),
    ] {
        let (st, _, b) = call("GET", "/check", tok, None).await;
        assert_eq!((st, &b), (401, &no_user), "{tok:?}");
    }
    let (st, _, b) = call("GET", "/check", Some(&member), None).await;
    assert_eq!(
        (st, b),
        (
            403,
            json!({"error":{"code":"forbidden","message":"member@example.com lacks a role allowed to invite (editor, admin). Add it under Identity → user → Roles."}})
        )
    );
    let anon = sign(
        &s,
        json!({"sub":"7","exp":4_000_000_000u64,"app_metadata":{"roles":["editor"]}}),
    );
    let (st, _, b) = call("GET", "/check", Some(&anon), None).await;
    assert_eq!(
        (st, b),
        (200, json!({"ok":true,"email":null,"roles":["editor"]}))
    );
    // Bodies: none reads as {} (Identity then wants an email), non-objects are refused.
    let (st, _, b) = call("POST", "/invite", Some(&owner), None).await;
    assert_eq!(
        (st, b),
        (
            422,
            json!({"error":{"code":"identity_error","status":422,"message":"An email address is required"}})
        )
    );
    for body in ["null", "[1]", "7", "\"a@b.co\""] {
        let (st, _, b) = call("POST", "/invite", Some(&owner), Some(body)).await;
        assert_eq!(
            (st, b),
            (
                400,
                json!({"error":{"code":"bad_request","message":"The request body must be a JSON object {\"email\", \"data\"}."}})
            ),
            "{body}"
        );
    }
    let (st, _, b) = call("POST", "/invite", Some(&owner), Some("{bad")).await;
    assert_eq!(st, 400);
    assert!(b["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("The request body is not JSON: "));
    // The email is trimmed; a non-object `data` is left out; other keys are not passed on.
    let (st, _, u) = call(
        "POST",
        "/invite",
        Some(&owner),
        Some(r#"{"email":"  spaced@example.com ","data":[1],"aud":"x"}"#),
    )
    .await;
    assert_eq!(
        (st, u["email"].as_str().unwrap()),
        (200, "spaced@example.com")
    );
    assert_eq!(
        (u["user_metadata"].clone(), u["aud"].as_str().unwrap()),
        (json!({}), "")
    );
    // Paging values go to Identity as given, and its 400 comes back.
    let (st, _, b) = call("GET", "/users?page=x", Some(&owner), None).await;
    assert_eq!(
        (st, b["error"]["code"].as_str().unwrap()),
        (400, "identity_error")
    );
    assert!(b["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("Bad Pagination Parameters: "));
    let (st, _, b) = call("GET", "/users/", Some(&owner), None).await;
    assert_eq!(
        (st, b["total"].as_u64()),
        (200, Some(3)),
        "a trailing slash is dropped"
    );
    // Ids the function refuses itself, and routes it does not have.
    for id in ["bad_id!", "%zz", &"a".repeat(65)] {
        let (st, _, b) = call("GET", &format!("/users/{id}"), Some(&owner), None).await;
        assert_eq!(
            (st, b),
            (
                404,
                json!({"error":{"code":"not_found","message":"No user has that id."}})
            ),
            "{id}"
        );
    }
    let id = u["id"].as_str().unwrap();
    for (m, p, msg) in [
        (
            "PUT",
            format!("/users/{id}"),
            format!("No route PUT /users/{id}."),
        ),
        (
            "GET",
            "/users/a/b".into(),
            "No route GET /users/a/b.".into(),
        ),
        ("GET", String::new(), "No route GET /.".into()),
        ("POST", "/check".into(), "No route POST /check.".into()),
    ] {
        let (st, _, b) = call(m, &p, Some(&owner), None).await;
        assert_eq!(
            (st, b),
            (404, json!({"error":{"code":"not_found","message":msg}})),
            "{m} {p}"
        );
    }
    // Another function's path is not this one.
    let r = client()
        .get(format!("{}{FN}-old/check", s.url()))
        .bearer_auth(&owner)
        .send()
        .await
        .unwrap();
    let (st, _, b) = parts(r).await;
    assert_eq!(
        (st, b["error"]["message"].as_str().unwrap()),
        (404, "No such function")
    );
    // Nobody is let in when the list has no roles at all, as the function reads " , ".
    let none = start_with(Flavor::Netlify, |c| {
        c.invite_desk_roles = invite_sandbox::parse_roles(" , ")
    })
    .await;
    let c = none.credentials().clone();
    let t = login(&none, &c.owner_email, &c.owner_password).await.1["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let r = client()
        .get(format!("{}{FN}/check", none.url()))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    let (st, _, b) = parts(r).await;
    assert_eq!(
        (st, b["error"]["message"].as_str().unwrap()),
        (
            403,
            "owner@example.com lacks a role allowed to invite (). Add it under Identity → user → Roles."
        )
    );
}
