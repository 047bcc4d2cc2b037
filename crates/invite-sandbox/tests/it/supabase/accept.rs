//! The invitee's side: verifying the link, setting a password, signing in.

use super::*;

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
    let (st, _, e) = send(
        client()
            .put(format!("{}/user", s.url()))
            .bearer_auth(at)
            .json(&json!({"password":"123"})),
    )
    .await;
    assert_eq!(
        (st, e["error_code"].as_str().unwrap()),
        (422, "weak_password")
    );
    let (st, _, u) = send(
        client()
            .put(format!("{}/user", s.url()))
            .bearer_auth(at)
            .json(&json!({"password":"hunter22"})),
    )
    .await;
    assert_eq!((st, u["email"].as_str().unwrap()), (200, "acc@example.com"));
    let (st, _, _) = send(client().get(format!("{}/user", s.url())).bearer_auth(at)).await;
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
    let (st, _, e) = send(
        client()
            .post(format!("{}/token?grant_type=password", s.url()))
            .json(&json!({"email":"s@example.com","password":"abcdef"})),
    )
    .await;
    assert_eq!(
        (st, e["error_code"].as_str().unwrap()),
        (400, "email_not_confirmed")
    );
}
