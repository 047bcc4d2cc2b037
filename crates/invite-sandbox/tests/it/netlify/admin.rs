//! Identity's admin routes: who is an admin, listing, one user, deleting.

use super::*;

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
    let expired = sign_jwt(&s, json!({"sub":"0","exp":1000}));
    let (_, _, b) = parts(inv(Some(format!("Bearer {expired}"))).await.unwrap()).await;
    assert_eq!(
        b["msg"],
        "Invalid token: token has invalid claims: token is expired"
    );
    let ghost = sign_jwt(
        &s,
        json!({"sub": uuid::Uuid::new_v4().to_string(),"exp":4_000_000_000u64}),
    );
    let (st, _, b) = parts(inv(Some(format!("Bearer {ghost}"))).await.unwrap()).await;
    assert_eq!(
        (st, b["msg"].as_str().unwrap()),
        (401, "Invalid admin user")
    );
    // sub "0" is the system admin; so is the nil UUID.
    let zero = sign_jwt(&s, json!({"sub":"0","exp":4_000_000_000u64}));
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
    let nil = sign_jwt(
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
        sign_jwt(&s, json!({"sub":"0","exp":4_000_000_000u64}))
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
