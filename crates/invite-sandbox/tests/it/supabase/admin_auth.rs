//! Who may call the admin API: keys, tokens, roles and sessions.

use super::*;

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
async fn owner_login_is_a_confirmed_user_but_not_an_admin() {
    let s = start(Flavor::Supabase).await;
    let c = s.credentials().clone();
    assert_eq!(c.owner_email, "owner@example.com");
    assert_eq!(c.owner_password.len(), 16);
    let (st, _, sess) = send(
        client()
            .post(format!("{}/token?grant_type=password", s.url()))
            .json(&json!({"email": c.owner_email, "password": c.owner_password})),
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
    let ops = sign_jwt(&s, json!({"role":"ops","exp":4_000_000_000u64}));
    assert_eq!(invite_as(&s, &ops, "a@example.com").await.0, 200);
    let sa = sign_jwt(&s, json!({"role":"supabase_admin","exp":4_000_000_000u64}));
    assert_eq!(invite_as(&s, &sa, "b@example.com").await.0, 403);
}

#[tokio::test]
async fn session_timebox_expires_admin_tokens_with_a_session() {
    let s = start_with(Flavor::Supabase, |c| {
        c.session_timebox = Some(std::time::Duration::from_millis(3_000))
    })
    .await;
    let c = s.credentials().clone();
    let (_, _, sess) = send(
        client()
            .post(format!("{}/token?grant_type=password", s.url()))
            .json(&json!({"email": c.owner_email, "password": c.owner_password})),
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
    let admin_with_session = sign_jwt(
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
