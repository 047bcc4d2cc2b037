//! Identity's own routes: the token grant, user JWTs and `/verify`.

use super::*;

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
