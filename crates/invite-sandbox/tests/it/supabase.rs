//! Supabase flavor over real HTTP: every route and every error row of docs/wire/gotrue.md.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::*;
use invite_sandbox::{Flavor, Sandbox};
use serde_json::{json, Value};

fn admin(s: &Sandbox) -> String {
    s.credentials().service_role_key.clone()
}

async fn invite(s: &Sandbox, email: &str) -> (u16, reqwest::header::HeaderMap, Value) {
    let k = admin(s);
    parts(
        client()
            .post(format!("{}/auth/v1/invite", s.url()))
            .header("apikey", &k)
            .bearer_auth(&k)
            .json(&json!({"email": email}))
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn invite_hosted_and_root_and_reinvite() {
    let s = start(Flavor::Supabase).await;
    let (st, _, u) = invite(&s, "Jane@Example.com").await;
    assert_eq!(st, 200);
    assert_eq!(u["email"], "jane@example.com");
    assert_eq!(u["aud"], "authenticated");
    assert_eq!(
        u["app_metadata"],
        json!({"provider":"email","providers":["email"]})
    );
    assert!(u["invited_at"].is_string() && u["confirmation_sent_at"].is_string());
    assert!(u.get("email_confirmed_at").is_none());
    assert_eq!(u["identities"][0]["provider"], "email");
    let m = s.mail();
    assert_eq!(m.len(), 1);
    assert!(
        m[0].link
            .starts_with(&format!("{}/auth/v1/verify?token=", s.url())),
        "{}",
        m[0].link
    );
    assert!(m[0].link.contains("&type=invite&redirect_to="));
    // Root (self-hosted): no apikey needed, link at root.
    let r = client()
        .post(format!(
            "{}/invite?redirect_to=http%3A%2F%2Flocalhost%3A3000%2Fwelcome",
            s.url()
        ))
        .bearer_auth(admin(&s))
        .json(&json!({"email":"jane@example.com","data":{"ignored":true}}))
        .send()
        .await
        .unwrap();
    let (st, _, u2) = parts(r).await;
    assert_eq!(st, 200);
    assert_eq!(u2["id"], u["id"], "re-invite reuses the unconfirmed user");
    let m = s.mail();
    assert_eq!(m.len(), 2);
    assert_ne!(m[0].link, m[1].link, "fresh link");
    assert!(m[1].link.starts_with(&format!("{}/verify?token=", s.url())));
    assert!(m[1]
        .link
        .ends_with("redirect_to=http%3A%2F%2Flocalhost%3A3000%2Fwelcome"));
    // Old link is dead, new one works.
    let old = client().get(&m[0].link).send().await.unwrap();
    assert_eq!(old.status(), 303);
    assert!(h(old.headers(), "location").contains("#error=access_denied&error_code=otp_expired"));
    let new = client().get(&m[1].link).send().await.unwrap();
    assert_eq!(new.status(), 303);
    let loc = h(new.headers(), "location").to_string();
    assert!(
        loc.starts_with("http://localhost:3000/welcome#access_token="),
        "{loc}"
    );
    assert!(
        loc.contains("&expires_in=3600&refresh_token=")
            && loc.ends_with("&sb=&token_type=bearer&type=invite")
    );
    // Now confirmed: 422 email_exists in both shapes.
    let (st, hd, e) = invite(&s, "jane@example.com").await;
    assert_eq!((st, h(&hd, "x-sb-error-code")), (422, "email_exists"));
    assert_eq!(
        e,
        json!({"code":422,"error_code":"email_exists","msg":"A user with this email address has already been registered"})
    );
    let r = client()
        .post(format!("{}/invite", s.url()))
        .bearer_auth(admin(&s))
        .header("X-Supabase-Api-Version", "2024-01-01")
        .json(&json!({"email":"jane@example.com"}))
        .send()
        .await
        .unwrap();
    let (st, hd, e) = parts(r).await;
    assert_eq!(st, 422);
    assert_eq!(h(&hd, "x-supabase-api-version"), "2024-01-01");
    assert_eq!(
        e,
        json!({"code":"email_exists","message":"A user with this email address has already been registered"})
    );
    assert_eq!(s.calls("POST /invite"), 4);
    s.shutdown().await;
}

#[tokio::test]
async fn redirect_outside_allow_list_falls_back_to_site_url() {
    let s = start(Flavor::Supabase).await;
    client()
        .post(format!(
            "{}/invite?redirect_to=https%3A%2F%2Fevil.example%2F",
            s.url()
        ))
        .bearer_auth(admin(&s))
        .json(&json!({"email":"x@example.com"}))
        .send()
        .await
        .unwrap();
    let link = &s.mail()[0].link;
    assert!(
        link.ends_with(&format!("redirect_to={}", url_enc(&s.url()))),
        "{link}"
    );
}

fn url_enc(s: &str) -> String {
    s.replace(':', "%3A").replace('/', "%2F")
}

#[tokio::test]
async fn admin_authorization_rows() {
    let s = start(Flavor::Supabase).await;
    let c = s.credentials().clone();
    let post = |auth: Option<String>, apikey: Option<String>, path: &str| {
        let mut r = client()
            .post(format!("{}{}", s.url(), path))
            .json(&json!({"email":"a@b.co"}));
        if let Some(a) = auth {
            r = r.header("authorization", a);
        }
        if let Some(k) = apikey {
            r = r.header("apikey", k);
        }
        r.send()
    };
    // no Authorization
    let (st, hd, e) = parts(post(None, None, "/invite").await.unwrap()).await;
    assert_eq!((st, h(&hd, "x-sb-error-code")), (401, "no_authorization"));
    assert_eq!(e["msg"], "This endpoint requires a valid Bearer token");
    // malformed
    let (st, _, _) = parts(
        post(Some("Basic abc".into()), None, "/invite")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, 401);
    // bad signature
    let (st, _, e) = parts(
        post(Some("Bearer abc.def.ghi".into()), None, "/invite")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((st, e["error_code"].as_str().unwrap()), (403, "bad_jwt"));
    assert!(e["msg"]
        .as_str()
        .unwrap()
        .starts_with("invalid JWT: unable to parse or verify signature, "));
    // expired
    let exp = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &json!({"role":"service_role","exp": 1000}),
        &jsonwebtoken::EncodingKey::from_secret(c.jwt_secret.as_bytes()),
    )
    .unwrap();
    let (st, _, e) = parts(
        post(Some(format!("Bearer {exp}")), None, "/invite")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, 403);
    assert!(e["msg"]
        .as_str()
        .unwrap()
        .ends_with("token has invalid claims: token is expired"));
    // anon
    let (st, _, e) = parts(
        post(Some(format!("Bearer {}", c.anon_key)), None, "/invite")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (
            st,
            e["error_code"].as_str().unwrap(),
            e["msg"].as_str().unwrap()
        ),
        (403, "not_admin", "User not allowed")
    );
    // supabase_admin role works
    let sa = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &json!({"role":"supabase_admin","exp": 4_000_000_000u64}),
        &jsonwebtoken::EncodingKey::from_secret(c.jwt_secret.as_bytes()),
    )
    .unwrap();
    assert_eq!(
        post(Some(format!("bearer {sa}")), None, "/invite")
            .await
            .unwrap()
            .status(),
        200
    );
    // session_id of an unknown session
    let ss = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &json!({"role":"service_role","session_id":"nope","exp": 4_000_000_000u64}),
        &jsonwebtoken::EncodingKey::from_secret(c.jwt_secret.as_bytes()),
    )
    .unwrap();
    let (st, _, e) = parts(
        post(Some(format!("Bearer {ss}")), None, "/invite")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (st, e["error_code"].as_str().unwrap()),
        (403, "session_not_found")
    );
    // Gateway: apikey mandatory on /auth/v1
    let r = post(
        Some(format!("Bearer {}", c.service_role_key)),
        None,
        "/auth/v1/invite",
    )
    .await
    .unwrap();
    let (st, _, e) = parts(r).await;
    assert_eq!(
        (st, e["message"].as_str().unwrap()),
        (401, "No API key found in request")
    );
    let r = post(
        Some(format!("Bearer {}", c.service_role_key)),
        Some("wrong".into()),
        "/auth/v1/invite",
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 401);
    // sb_secret_ in apikey, no Authorization -> service_role
    let r = post(None, Some(c.secret_key.clone()), "/auth/v1/invite")
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // sb_secret_ in both -> service_role
    let r = client()
        .post(format!("{}/auth/v1/invite", s.url()))
        .header("apikey", &c.secret_key)
        .bearer_auth(&c.secret_key)
        .json(&json!({"email":"z@b.co"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // publishable -> anon -> not_admin
    let (st, _, e) = parts(
        post(None, Some(c.publishable_key.clone()), "/auth/v1/invite")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((st, e["error_code"].as_str().unwrap()), (403, "not_admin"));
    // anon apikey + service Authorization: Authorization is kept
    let r = post(
        Some(format!("Bearer {}", c.service_role_key)),
        Some(c.anon_key.clone()),
        "/auth/v1/invite",
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    // /verify needs no apikey
    let r = client()
        .get(format!("{}/auth/v1/verify?token=x&type=invite", s.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
}

#[tokio::test]
async fn invite_body_and_email_rows() {
    let s = start(Flavor::Supabase).await;
    let send = |body: &'static str| {
        client()
            .post(format!("{}/invite", s.url()))
            .bearer_auth(admin(&s))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let (st, hd, e) = parts(send("{nope").await.unwrap()).await;
    assert_eq!((st, h(&hd, "x-sb-error-code")), (400, "bad_json"));
    assert!(e["msg"]
        .as_str()
        .unwrap()
        .starts_with("Could not parse request body as JSON: "));
    let (st, _, e) = parts(send(r#"{"email":""}"#).await.unwrap()).await;
    assert_eq!(
        (
            st,
            e["error_code"].as_str().unwrap(),
            e["msg"].as_str().unwrap()
        ),
        (400, "validation_failed", "An email address is required")
    );
    let (st, _, e) = parts(send(r#"{"email":"not-an-email"}"#).await.unwrap()).await;
    assert_eq!(st, 400);
    assert!(e["msg"]
        .as_str()
        .unwrap()
        .starts_with("Unable to validate email address: "));
    let long = format!(r#"{{"email":"{}@example.com"}}"#, "a".repeat(250));
    let r = client()
        .post(format!("{}/invite", s.url()))
        .bearer_auth(admin(&s))
        .body(long)
        .send()
        .await
        .unwrap();
    let (st, _, e) = parts(r).await;
    assert_eq!(
        (st, e["msg"].as_str().unwrap()),
        (400, "An email address is too long")
    );
    // Extra keys and null data are ignored (python client sends nulls).
    let (st, _, _) = parts(
        send(r#"{"email":"ok@example.com","data":null,"extra":1}"#)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, 200);
}

#[tokio::test]
async fn email_rate_limit() {
    let s = start_with(Flavor::Supabase, |c| c.email_limit = 2).await;
    assert_eq!(invite(&s, "a1@example.com").await.0, 200);
    assert_eq!(invite(&s, "a2@example.com").await.0, 200);
    let (st, hd, e) = invite(&s, "a3@example.com").await;
    assert_eq!(
        (st, h(&hd, "x-sb-error-code")),
        (429, "over_email_send_rate_limit")
    );
    assert_eq!(e["msg"], "email rate limit exceeded");
    assert!(
        hd.get("retry-after").is_none(),
        "real GoTrue documents no Retry-After"
    );
    // refused invite did not create the user
    let r = client()
        .get(format!("{}/admin/users?filter=a3", s.url()))
        .bearer_auth(admin(&s))
        .send()
        .await
        .unwrap();
    assert_eq!(h(r.headers(), "x-total-count"), "0");
    // generate_link is not rate limited and sends nothing
    let r = client()
        .post(format!("{}/admin/generate_link", s.url()))
        .bearer_auth(admin(&s))
        .json(&json!({"type":"invite","email":"a4@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(s.mail().len(), 2);

    let z = start_with(Flavor::Supabase, |c| {
        c.email_limit = 0;
        c.retry_after_header = true;
        c.email_window = std::time::Duration::from_secs(120);
    })
    .await;
    let (st, hd, _) = invite(&z, "a@example.com").await;
    assert_eq!(st, 429);
    let ra: u64 = h(&hd, "retry-after").parse().unwrap();
    assert!((1..=120).contains(&ra));

    let w = start_with(Flavor::Supabase, |c| {
        c.email_limit = 1;
        c.email_window = std::time::Duration::from_millis(3_000);
    })
    .await;
    assert_eq!(invite(&w, "a@example.com").await.0, 200);
    assert_eq!(invite(&w, "b@example.com").await.0, 429);
    tokio::time::sleep(std::time::Duration::from_millis(3_100)).await;
    assert_eq!(invite(&w, "b@example.com").await.0, 200, "window resets");
}

#[tokio::test]
async fn list_users_paging_link_and_total() {
    let s = start(Flavor::Supabase).await;
    for i in 0..250 {
        let r = client()
            .post(format!("{}/admin/generate_link", s.url()))
            .bearer_auth(admin(&s))
            .json(&json!({"type":"invite","email":format!("user{i:03}@example.com"),"data":{"full_name":format!("Name {i}")}}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let get = |q: &str| {
        client()
            .get(format!("{}/auth/v1/admin/users{q}", s.url()))
            .header("apikey", admin(&s))
            .bearer_auth(admin(&s))
            .send()
    };
    let (st, hd, b) = parts(get("?page=&per_page=").await.unwrap()).await;
    assert_eq!(st, 200);
    assert_eq!(b["aud"], "authenticated");
    assert_eq!(b["users"].as_array().unwrap().len(), 50);
    // 250 invited + the seeded owner login
    assert_eq!(h(&hd, "x-total-count"), "251");
    assert_eq!(
        h(&hd, "link"),
        r#"</admin/users?page=2&per_page=50>; rel="next", </admin/users?page=6&per_page=50>; rel="last""#
    );
    // newest first
    assert_eq!(b["users"][0]["email"], "user249@example.com");
    assert!(b["users"][0]["identities"].is_null());
    let (_, hd, b) = parts(get("?page=2&per_page=2").await.unwrap()).await;
    assert_eq!(b["users"][0]["email"], "user247@example.com");
    assert_eq!(
        h(&hd, "link"),
        r#"</admin/users?page=3&per_page=2>; rel="next", </admin/users?page=126&per_page=2>; rel="last""#
    );
    let (_, hd, b) = parts(get("?page=126&per_page=2").await.unwrap()).await;
    assert_eq!(b["users"].as_array().unwrap().len(), 1);
    assert_eq!(b["users"][0]["email"], s.credentials().owner_email.as_str());
    assert_eq!(
        h(&hd, "link"),
        r#"</admin/users?page=126&per_page=2>; rel="last""#
    );
    let (_, _, b) = parts(get("?page=127&per_page=2").await.unwrap()).await;
    assert_eq!(b["users"], json!([]));
    let (_, hd, b) = parts(get("?filter=user12").await.unwrap()).await;
    assert_eq!(h(&hd, "x-total-count"), "10"); // user120..user129
    assert_eq!(b["users"].as_array().unwrap().len(), 10);
    let (_, hd, _) = parts(get("?filter=name%2010").await.unwrap()).await; // full_name ILIKE
    assert_eq!(h(&hd, "x-total-count"), "11");
    let (_, _, b) = parts(get("?sort=created_at%20asc&per_page=2").await.unwrap()).await;
    assert_eq!(b["users"][0]["email"], s.credentials().owner_email.as_str());
    assert_eq!(b["users"][1]["email"], "user000@example.com");
    let (st, hd, e) = parts(get("?page=abc").await.unwrap()).await;
    assert_eq!((st, h(&hd, "x-sb-error-code")), (400, "validation_failed"));
    assert!(e["msg"]
        .as_str()
        .unwrap()
        .starts_with("Bad Pagination Parameters: "));
    // no mail for generate_link
    assert!(s.mail().is_empty());
}

#[tokio::test]
async fn get_and_delete_user() {
    let s = start(Flavor::Supabase).await;
    let (_, _, u) = invite(&s, "d@example.com").await;
    let id = u["id"].as_str().unwrap().to_string();
    let k = admin(&s);
    let (st, _, g) = parts(
        client()
            .get(format!("{}/admin/users/{id}", s.url()))
            .bearer_auth(&k)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((st, g["email"].as_str().unwrap()), (200, "d@example.com"));
    let (st, _, e) = parts(
        client()
            .get(format!("{}/admin/users/not-a-uuid", s.url()))
            .bearer_auth(&k)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (
            st,
            e["error_code"].as_str().unwrap(),
            e["msg"].as_str().unwrap()
        ),
        (404, "validation_failed", "user_id must be an UUID")
    );
    let missing = uuid::Uuid::new_v4();
    let (st, _, e) = parts(
        client()
            .get(format!("{}/admin/users/{missing}", s.url()))
            .bearer_auth(&k)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (
            st,
            e["error_code"].as_str().unwrap(),
            e["msg"].as_str().unwrap()
        ),
        (404, "user_not_found", "User not found")
    );
    // soft delete keeps the row
    let (st, _, b) = parts(
        client()
            .delete(format!("{}/admin/users/{id}", s.url()))
            .bearer_auth(&k)
            .json(&json!({"should_soft_delete":true}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((st, b), (200, json!({})));
    let (_, _, g) = parts(
        client()
            .get(format!("{}/admin/users/{id}", s.url()))
            .bearer_auth(&k)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(g["deleted_at"].is_string());
    assert_ne!(g["email"], "d@example.com");
    // the old link is dead
    let r = client().get(&s.mail()[0].link).send().await.unwrap();
    assert!(h(r.headers(), "location").contains("error_code=otp_expired"));
    // same address can be invited again
    let (st, _, u2) = invite(&s, "d@example.com").await;
    assert_eq!(st, 200);
    let id2 = u2["id"].as_str().unwrap();
    assert_ne!(id2, id);
    // hard delete, no body
    let (st, _, _) = parts(
        client()
            .delete(format!("{}/admin/users/{id2}", s.url()))
            .bearer_auth(&k)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, 200);
    let r = client()
        .delete(format!("{}/admin/users/{id2}", s.url()))
        .bearer_auth(&k)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = client()
        .delete(format!("{}/admin/users/{id}", s.url()))
        .bearer_auth(&k)
        .body("{bad")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn generate_link_rows() {
    let s = start(Flavor::Supabase).await;
    let k = admin(&s);
    let gl = |body: Value| {
        client()
            .post(format!(
                "{}/auth/v1/admin/generate_link?redirect_to=http%3A%2F%2F127.0.0.1%3A9%2Fcb",
                s.url()
            ))
            .header("apikey", &k)
            .bearer_auth(&k)
            .json(&body)
            .send()
    };
    let (st, _, b) = parts(
        gl(json!({"type":"invite","email":"g@example.com","data":{"a":1}}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(b["email"], "g@example.com");
    assert_eq!(b["verification_type"], "invite");
    assert_eq!(b["redirect_to"], "http://127.0.0.1:9/cb");
    assert_eq!(b["email_otp"].as_str().unwrap().len(), 6);
    let hash = b["hashed_token"].as_str().unwrap();
    assert_eq!(b["action_link"].as_str().unwrap(), format!("{}/auth/v1/verify?token={hash}&type=invite&redirect_to=http%3A%2F%2F127.0.0.1%3A9%2Fcb", s.url()));
    assert_eq!(b["user_metadata"], json!({"a":1}));
    let (st, _, e) = parts(
        gl(json!({"type":"bogus","email":"g@example.com"}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (st, e["msg"].as_str().unwrap()),
        (400, "Invalid email action link type requested: bogus")
    );
    // Verify by email + OTP
    let otp = b["email_otp"].as_str().unwrap();
    let (st, _, sess) = parts(
        client()
            .post(format!("{}/verify", s.url()))
            .json(&json!({"type":"invite","email":"g@example.com","token":otp}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(sess["token_type"], "bearer");
    assert_eq!(sess["user"]["email"], "g@example.com");
    // now confirmed
    let (st, _, e) = parts(
        gl(json!({"type":"invite","email":"g@example.com"}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (st, e["error_code"].as_str().unwrap()),
        (422, "email_exists")
    );
    assert!(s.mail().is_empty());
}

#[tokio::test]
async fn accept_flow_verify_put_user_token() {
    let s = start(Flavor::Supabase).await;
    invite(&s, "acc@example.com").await;
    let link = s.mail()[0].link.clone();
    let hash = link
        .split("token=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_string();
    let verify = |b: Value| client().post(format!("{}/verify", s.url())).json(&b).send();
    let (st, _, e) = parts(verify(json!({"token_hash": hash})).await.unwrap()).await;
    assert_eq!(
        (st, e["msg"].as_str().unwrap()),
        (400, "Verify requires a verification type")
    );
    let (st, _, e) = parts(verify(json!({"type":"invite"})).await.unwrap()).await;
    assert_eq!(
        (st, e["msg"].as_str().unwrap()),
        (400, "Verify requires either a token or a token hash")
    );
    let (st, _, e) = parts(
        verify(json!({"type":"invite","token_hash":"nope"}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (
            st,
            e["error_code"].as_str().unwrap(),
            e["msg"].as_str().unwrap()
        ),
        (403, "otp_expired", "Email link is invalid or has expired")
    );
    let (st, _, e) = parts(
        verify(json!({"type":"invite","email":"acc@example.com","token":"000000x"}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (st, e["msg"].as_str().unwrap()),
        (403, "Token has expired or is invalid")
    );
    let (st, _, sess) = parts(
        verify(json!({"type":"invite","token_hash": hash, "gotrue_meta_security":{}}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, 200);
    for k in [
        "access_token",
        "token_type",
        "expires_in",
        "expires_at",
        "refresh_token",
        "user",
    ] {
        assert!(sess.get(k).is_some(), "{k}");
    }
    assert!(sess["user"]["email_confirmed_at"].is_string());
    let at = sess["access_token"].as_str().unwrap();
    // Token not admin
    let r = client()
        .get(format!("{}/admin/users", s.url()))
        .bearer_auth(at)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let (st, _, e) = parts(
        client()
            .put(format!("{}/user", s.url()))
            .bearer_auth(at)
            .json(&json!({"password":"123"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (st, e["error_code"].as_str().unwrap()),
        (422, "weak_password")
    );
    let (st, _, u) = parts(
        client()
            .put(format!("{}/user", s.url()))
            .bearer_auth(at)
            .json(&json!({"password":"hunter22"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((st, u["email"].as_str().unwrap()), (200, "acc@example.com"));
    let (st, _, _) = parts(
        client()
            .get(format!("{}/user", s.url()))
            .bearer_auth(at)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, 200);
    let tok = |b: Value, q: &str| {
        client()
            .post(format!("{}/token{q}", s.url()))
            .json(&b)
            .send()
    };
    let (st, _, sess) = parts(
        tok(
            json!({"email":"acc@example.com","password":"hunter22"}),
            "?grant_type=password",
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(
        (st, sess["user"]["email"].as_str().unwrap()),
        (200, "acc@example.com")
    );
    let (st, _, e) = parts(
        tok(
            json!({"email":"acc@example.com","password":"wrong"}),
            "?grant_type=password",
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(
        (
            st,
            e["error_code"].as_str().unwrap(),
            e["msg"].as_str().unwrap()
        ),
        (400, "invalid_credentials", "Invalid login credentials")
    );
    let (st, _, e) = parts(
        tok(json!({"password":"x"}), "?grant_type=password")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (st, e["msg"].as_str().unwrap()),
        (400, "missing email or phone")
    );
    let (st, _, e) = parts(tok(json!({}), "?grant_type=magic").await.unwrap()).await;
    assert_eq!(
        (st, e["msg"].as_str().unwrap()),
        (400, "unsupported_grant_type")
    );
    // used link is dead
    let (st, _, _) = parts(
        verify(json!({"type":"invite","token_hash": hash}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, 403);
}

#[tokio::test]
async fn unconfirmed_login_and_control_accept_and_expiry() {
    let s = start_with(Flavor::Supabase, |c| {
        c.otp_ttl = std::time::Duration::from_millis(3_000)
    })
    .await;
    invite(&s, "u@example.com").await;
    invite(&s, "late@example.com").await;
    let r = client()
        .post(format!("{}/__sandbox/accept", s.url()))
        .json(&json!({"link": s.mail()[0].link, "password":"pw123456"}))
        .send()
        .await
        .unwrap();
    let (st, _, b) = parts(r).await;
    assert_eq!((st, b), (200, json!({"ok":true,"email":"u@example.com"})));
    let r = client()
        .post(format!("{}/token?grant_type=password", s.url()))
        .json(&json!({"email":"u@example.com","password":"pw123456"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    tokio::time::sleep(std::time::Duration::from_millis(3_100)).await;
    let r = client().get(&s.mail()[1].link).send().await.unwrap();
    assert!(
        h(r.headers(), "location").contains("error_code=otp_expired"),
        "expired link"
    );
    // generate_link user with password but unconfirmed
    let k = admin(&s);
    client()
        .post(format!("{}/admin/generate_link", s.url()))
        .bearer_auth(&k)
        .json(&json!({"type":"signup","email":"s@example.com","password":"abcdef"}))
        .send()
        .await
        .unwrap();
    let (st, _, e) = parts(
        client()
            .post(format!("{}/token?grant_type=password", s.url()))
            .json(&json!({"email":"s@example.com","password":"abcdef"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (st, e["error_code"].as_str().unwrap()),
        (400, "email_not_confirmed")
    );
}

#[tokio::test]
async fn settings_health_unknown_and_control() {
    let s = start(Flavor::Supabase).await;
    let k = admin(&s);
    let (st, _, b) = parts(
        client()
            .get(format!("{}/auth/v1/settings", s.url()))
            .header("apikey", &k)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((st, b["external"]["email"].as_bool()), (200, Some(true)));
    assert!(b.get("mailer_autoconfirm").is_some());
    let (st, _, b) = parts(
        client()
            .get(format!("{}/health", s.url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((st, b["name"].as_str().unwrap()), (200, "GoTrue"));
    assert_eq!(
        b["description"],
        "GoTrue is a user registration and authentication API"
    );
    let (st, _, _) = parts(
        client()
            .get(format!("{}/nope", s.url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, 404);
    let (st, _, _) = parts(
        client()
            .patch(format!("{}/invite", s.url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, 405);
    let (st, _, b) = parts(
        client()
            .get(format!("{}/__sandbox/health", s.url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((st, b["flavor"].as_str().unwrap()), (200, "supabase"));
    invite(&s, "m@example.com").await;
    let (_, _, calls) = parts(
        client()
            .get(format!("{}/__sandbox/calls", s.url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(calls["POST /invite"], 1);
    assert_eq!(calls["GET /health"], 1);
    let (_, _, mail) = parts(
        client()
            .get(format!("{}/__sandbox/mail", s.url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(mail[0]["to"], "m@example.com");
    assert_eq!(mail[0]["kind"], "invite");
    let r = client()
        .post(format!("{}/__sandbox/reset", s.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(s.mail().is_empty());
    assert_eq!(s.calls("POST /invite"), 0);
    // Deterministic credentials per seed
    let a = start(Flavor::Supabase).await;
    assert_eq!(a.credentials().jwt_secret, s.credentials().jwt_secret);
    assert!(a.credentials().secret_key.starts_with("sb_secret_"));
    assert!(a
        .credentials()
        .publishable_key
        .starts_with("sb_publishable_"));
}

fn mint(s: &Sandbox, claims: Value) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(s.credentials().jwt_secret.as_bytes()),
    )
    .unwrap()
}

async fn invite_as(
    s: &Sandbox,
    token: &str,
    email: &str,
) -> (u16, reqwest::header::HeaderMap, Value) {
    parts(
        client()
            .post(format!("{}/invite", s.url()))
            .bearer_auth(token)
            .json(&json!({ "email": email }))
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn owner_login_is_a_confirmed_user_but_not_an_admin() {
    let s = start(Flavor::Supabase).await;
    let c = s.credentials().clone();
    assert_eq!(c.owner_email, "owner@example.com");
    assert_eq!(c.owner_password.len(), 16);
    let (st, _, sess) = parts(
        client()
            .post(format!("{}/token?grant_type=password", s.url()))
            .json(&json!({"email": c.owner_email, "password": c.owner_password}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, 200, "{sess}");
    assert!(sess["user"]["email_confirmed_at"].is_string());
    assert_eq!(sess["user"]["role"], "authenticated");
    let (st, _, e) = invite_as(&s, sess["access_token"].as_str().unwrap(), "x@example.com").await;
    assert_eq!((st, e["error_code"].as_str().unwrap()), (403, "not_admin"));
    // The owner already exists, confirmed: inviting that address is `email_exists`.
    assert_eq!(invite(&s, &c.owner_email).await.0, 422);
    // It survives a reset.
    s.reset();
    let r = client()
        .post(format!("{}/token?grant_type=password", s.url()))
        .json(&json!({"email": c.owner_email, "password": c.owner_password}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn admin_roles_are_configurable() {
    let s = start_with(Flavor::Supabase, |c| c.admin_roles = vec!["ops".into()]).await;
    let (st, _, e) = invite(&s, "a@example.com").await;
    assert_eq!(
        (st, e["error_code"].as_str().unwrap()),
        (403, "not_admin"),
        "service_role is no admin once the list is replaced"
    );
    let ops = mint(&s, json!({"role":"ops","exp":4_000_000_000u64}));
    assert_eq!(invite_as(&s, &ops, "a@example.com").await.0, 200);
    let sa = mint(&s, json!({"role":"supabase_admin","exp":4_000_000_000u64}));
    assert_eq!(invite_as(&s, &sa, "b@example.com").await.0, 403);
}

#[tokio::test]
async fn authorized_addresses_limit_the_mailer() {
    let s = start_with(Flavor::Supabase, |c| {
        c.email_authorized_addresses = vec!["Boss@Example.com".into()];
        c.email_limit = 1;
    })
    .await;
    let (st, hd, e) = invite(&s, "other@example.com").await;
    assert_eq!(
        (st, h(&hd, "x-sb-error-code")),
        (400, "email_address_not_authorized")
    );
    assert_eq!(
        e,
        json!({"code":400,"error_code":"email_address_not_authorized","msg":"Email address \"other@example.com\" cannot be used as it is not authorized"})
    );
    // A refused address creates nobody, sends nothing and uses no email budget (limit 1).
    assert!(s.mail().is_empty());
    // A `+label` is ignored and case does not matter.
    let (st, _, u) = invite(&s, "boss+team@example.com").await;
    assert_eq!(
        (st, u["email"].as_str().unwrap()),
        (200, "boss+team@example.com")
    );
    let r = client()
        .get(format!("{}/admin/users?filter=other", s.url()))
        .bearer_auth(admin(&s))
        .send()
        .await
        .unwrap();
    assert_eq!(h(r.headers(), "x-total-count"), "0");
}

#[tokio::test]
async fn extended_validation_refuses_fake_addresses() {
    let s = start_with(Flavor::Supabase, |c| c.email_validation_extended = true).await;
    for email in [
        "a@example.com",
        "a@foo.test",
        "a@corp.invalid",
        "test@gmail.com",
        "abc@gmail.com",
        "a@localhost",
    ] {
        let (st, hd, e) = invite(&s, email).await;
        // `a@localhost` already fails the basic format check (no dot in the domain).
        if email == "a@localhost" {
            assert_eq!(
                (st, e["error_code"].as_str().unwrap()),
                (400, "validation_failed")
            );
            continue;
        }
        assert_eq!(
            (st, h(&hd, "x-sb-error-code")),
            (400, "email_address_invalid"),
            "{email}"
        );
        assert_eq!(e["msg"], format!("Email address \"{email}\" is invalid"));
    }
    assert!(s.mail().is_empty());
    assert_eq!(invite(&s, "abcdef@gmail.com").await.0, 200);
    assert_eq!(invite(&s, "jane@company.io").await.0, 200);
    // Off by default: the other tests invite @example.com all the time.
    let d = start(Flavor::Supabase).await;
    assert_eq!(invite(&d, "a@example.com").await.0, 200);
}

#[tokio::test]
async fn session_timebox_expires_admin_tokens_with_a_session() {
    let s = start_with(Flavor::Supabase, |c| {
        c.session_timebox = Some(std::time::Duration::from_millis(3_000))
    })
    .await;
    let c = s.credentials().clone();
    let (_, _, sess) = parts(
        client()
            .post(format!("{}/token?grant_type=password", s.url()))
            .json(&json!({"email": c.owner_email, "password": c.owner_password}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let user_token = sess["access_token"].as_str().unwrap().to_string();
    let claims: Value = {
        use base64::Engine;
        let p = user_token.split('.').nth(1).unwrap();
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(p)
                .unwrap(),
        )
        .unwrap()
    };
    let sid = claims["session_id"].as_str().unwrap();
    let admin_with_session = mint(
        &s,
        json!({"role":"service_role","sub":claims["sub"],"session_id":sid,"exp":4_000_000_000u64}),
    );
    assert_eq!(
        invite_as(&s, &admin_with_session, "a@example.com").await.0,
        200
    );
    assert_eq!(invite_as(&s, &user_token, "b@example.com").await.0, 403);
    tokio::time::sleep(std::time::Duration::from_millis(3_100)).await;
    for tok in [&admin_with_session, &user_token] {
        let (st, hd, e) = invite_as(&s, tok, "c@example.com").await;
        assert_eq!((st, h(&hd, "x-sb-error-code")), (403, "session_expired"));
        assert_eq!(e["msg"], "Session is no longer valid");
    }
    // Sessionless admin keys are not affected; /user only checks that the session exists.
    assert_eq!(invite(&s, "d@example.com").await.0, 200);
    let r = client()
        .get(format!("{}/user", s.url()))
        .bearer_auth(&user_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn uri_allow_list_globs_let_redirects_through() {
    let s = start_with(Flavor::Supabase, |c| {
        c.uri_allow_list = vec!["https://*.example.org/**".into()]
    })
    .await;
    for (target, kept) in [
        ("https://app.example.org/welcome/x", true),
        ("https://example.org/welcome", false),
        ("https://evil.example/", false),
    ] {
        let r = client()
            .post(format!("{}/invite", s.url()))
            .query(&[("redirect_to", target)])
            .bearer_auth(admin(&s))
            .json(&json!({"email": format!("u{}@example.com", s.mail().len())}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let link = s.mail().last().unwrap().link.clone();
        let to = url::Url::parse(&link)
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == "redirect_to")
            .unwrap()
            .1
            .to_string();
        assert_eq!(to == target, kept, "{target} -> {to}");
        if !kept {
            assert_eq!(to, s.url(), "falls back to the site URL");
        }
    }
}
