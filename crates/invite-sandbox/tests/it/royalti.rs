//! Royalti flavor over real HTTP (docs/wire/royalti.md).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::*;
use invite_sandbox::{Flavor, Sandbox};
use serde_json::{json, Value};

async fn login(s: &Sandbox, email: &str, pw: &str) -> (u16, Value) {
    let r = client()
        .post(format!("{}/auth/login", s.url()))
        .json(&json!({"email":email,"password":pw}))
        .send()
        .await
        .unwrap();
    let (st, _, b) = parts(r).await;
    (st, b)
}

async fn access(s: &Sandbox, refresh: &str, ws: &str) -> (u16, Value) {
    let r = client()
        .get(format!("{}/auth/authtoken?currentWorkspace={ws}", s.url()))
        .bearer_auth(refresh)
        .send()
        .await
        .unwrap();
    let (st, _, b) = parts(r).await;
    (st, b)
}

async fn owner_token(s: &Sandbox, role: &str) -> String {
    let c = s.credentials();
    let (_, b) = login(s, &c.owner_email, &c.owner_password).await;
    let ws = s
        .royalti_workspaces()
        .into_iter()
        .find(|w| w.2 == role)
        .unwrap()
        .0;
    let (_, t) = access(s, b["refresh_token"].as_str().unwrap(), &ws).await;
    t["data"]["access_token"].as_str().unwrap().to_string()
}

async fn invite(s: &Sandbox, tok: &str, body: Value) -> (u16, Value) {
    let r = client()
        .post(format!("{}/auth/invite", s.url()))
        .bearer_auth(tok)
        .json(&body)
        .send()
        .await
        .unwrap();
    let (st, _, b) = parts(r).await;
    (st, b)
}

async fn list(s: &Sandbox, tok: &str, q: &str) -> (u16, Value) {
    let r = client()
        .get(format!("{}/user/invites{q}", s.url()))
        .bearer_auth(tok)
        .send()
        .await
        .unwrap();
    let (st, _, b) = parts(r).await;
    (st, b)
}

#[tokio::test]
async fn login_and_tokens() {
    let s = start(Flavor::Royalti).await;
    let c = s.credentials().clone();
    let (st, b) = login(&s, &c.owner_email, &c.owner_password).await;
    assert_eq!(st, 200);
    assert_eq!(b["message"], "Successful");
    let ws = b["workspaces"].as_array().unwrap();
    assert_eq!(ws.len(), 3);
    let roles: Vec<&str> = ws.iter().map(|w| w["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["owner", "admin", "user"]);
    assert_eq!(ws[0]["userType"], json!([["Artist"]]));
    assert_eq!(ws[0]["status"], "active");
    let refresh = b["refresh_token"].as_str().unwrap().to_string();
    let (st, e) = login(&s, &c.owner_email, "nope").await;
    assert_eq!((st, e["success"].as_bool()), (401, Some(false)));
    assert!(e["error"]["message"].is_string());
    let (st, _) = login(&s, "", "").await;
    assert_eq!(st, 400);
    let wid = ws[0]["workspaceId"].as_str().unwrap();
    let (st, t) = access(&s, &refresh, wid).await;
    assert_eq!(st, 200);
    assert_eq!(t["status"], "success");
    assert_eq!(
        t["message"],
        format!(
            "Access token generated for {}",
            ws[0]["name"].as_str().unwrap()
        )
    );
    let at = t["data"]["access_token"].as_str().unwrap();
    // lifetimes as documented: access 6 h, refresh 1 day
    let claims = |tok: &str| -> Value {
        use base64::Engine;
        let p = tok.split('.').nth(1).unwrap();
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(p)
                .unwrap(),
        )
        .unwrap()
    };
    let a = claims(at);
    assert_eq!(
        a["exp"].as_i64().unwrap() - a["iat"].as_i64().unwrap(),
        21600
    );
    assert_eq!(a["activeWorkspace"], wid);
    let r = claims(&refresh);
    assert_eq!(
        r["exp"].as_i64().unwrap() - r["iat"].as_i64().unwrap(),
        86400
    );
    assert_eq!(r["name"], "refresh_token");
    // access token is not a refresh token, and vice versa
    assert_eq!(access(&s, at, wid).await.0, 401);
    assert_eq!(list(&s, &refresh, "").await.0, 401);
    assert_eq!(access(&s, &refresh, "unknown").await.0, 404);
    assert_eq!(access(&s, "garbage", wid).await.0, 401);
    let r = client()
        .get(format!("{}/auth/authtoken?currentWorkspace={wid}", s.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // No workspace named: docs/wire/royalti.md §A.1 lists only 200/401/404/500, so it is the 404 of a
    // workspace that is not found.
    for path in ["/auth/authtoken", "/auth/authtoken?currentWorkspace="] {
        let r = client()
            .get(format!("{}{path}", s.url()))
            .bearer_auth(&refresh)
            .send()
            .await
            .unwrap();
        let (st, _, e) = parts(r).await;
        assert_eq!(
            (st, e["error"]["code"].as_str().unwrap()),
            (404, "NOT_FOUND"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn tokens_expire() {
    let s = start_with(Flavor::Royalti, |c| {
        // 3 s, not 1: a busy machine (or Wine) can take a second between a login and the
        // token exchange that follows it, and the refresh token then expired before its use.
        // The wait is a second over the lifetime: expiry is checked in whole seconds.
        c.access_ttl = std::time::Duration::from_secs(3);
        c.refresh_ttl = std::time::Duration::from_secs(3);
    })
    .await;
    let tok = owner_token(&s, "owner").await;
    let c = s.credentials().clone();
    let refresh = login(&s, &c.owner_email, &c.owner_password).await.1["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(list(&s, &tok, "").await.0, 200);
    tokio::time::sleep(std::time::Duration::from_millis(4100)).await;
    let (st, e) = list(&s, &tok, "").await;
    assert_eq!(
        (st, e["error"]["code"].as_str().unwrap()),
        (401, "UNAUTHORIZED")
    );
    let ws = s.royalti_workspaces()[0].0.clone();
    assert_eq!(access(&s, &refresh, &ws).await.0, 401);
}

#[tokio::test]
async fn login_rate_limit() {
    let s = start(Flavor::Royalti).await;
    for _ in 0..20 {
        assert_eq!(login(&s, "x@example.com", "bad").await.0, 401);
    }
    let (st, e) = login(&s, "x@example.com", "bad").await;
    assert_eq!(st, 429);
    assert_eq!(e["success"], false);
}

#[tokio::test]
async fn invite_list_resend_cancel() {
    let s = start(Flavor::Royalti).await;
    let tok = owner_token(&s, "owner").await;
    let (st, b) = invite(&s, &tok, json!({"email":"Jane@Example.com","message":"Welcome","redirectUrl":"https://app.example/activate"})).await;
    assert_eq!(
        (st, b),
        (
            201,
            json!({"message":"Successful, Email verification Instructions have been sent to your email"})
        )
    );
    let m = s.mail();
    assert_eq!(m[0].to, "jane@example.com");
    assert!(m[0].link.starts_with("https://app.example/activate?code="));
    // re-invite an `invited` address: updates, still 201, one row
    let (st, _) = invite(
        &s,
        &tok,
        json!({"email":"jane@example.com","redirect_url":"https://other.example/a?x=1"}),
    )
    .await;
    assert_eq!(st, 201);
    assert!(s.mail()[1]
        .link
        .starts_with("https://other.example/a?x=1&code="));
    let (st, b) = invite(
        &s,
        &tok,
        json!({"email":"bob@example.com","sendEmail":false}),
    )
    .await;
    assert_eq!(st, 201);
    assert!(b["message"].is_string());
    assert_eq!(s.mail().len(), 2, "sendEmail false sends nothing");
    invite(&s, &tok, json!({"email":"carl@example.com"})).await;
    assert!(s.mail()[2]
        .link
        .starts_with(&format!("{}/email/activate?code=", s.url())));
    let (st, l) = list(&s, &tok, "").await;
    assert_eq!(st, 200);
    assert_eq!(
        (
            l["totalItems"].as_u64(),
            l["filteredItems"].as_u64(),
            l["totalPages"].as_u64(),
            l["currentPage"].as_u64()
        ),
        (Some(3), Some(3), Some(1), Some(1))
    );
    let inv = &l["invites"][0];
    for k in [
        "id",
        "TenantUserId",
        "TenantId",
        "status",
        "meta",
        "JoinedAt",
        "createdAt",
        "updatedAt",
        "TenantUser",
    ] {
        assert!(inv.get(k).is_some(), "{k}");
    }
    assert!(inv["TenantId"].is_number());
    assert!(inv["JoinedAt"].is_null());
    assert_eq!(inv["TenantUser"]["User"]["email"], "carl@example.com");
    let jane = l["invites"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["TenantUser"]["User"]["email"] == "jane@example.com")
        .unwrap();
    assert_eq!(jane["meta"]["message"], "Welcome");
    let jane_id = jane["id"].as_str().unwrap().to_string();
    let (_, l) = list(&s, &tok, "?q=JANE").await;
    assert_eq!(l["filteredItems"], 1);
    let (_, l) = list(&s, &tok, "?page=2&size=2").await;
    assert_eq!(
        (
            l["invites"].as_array().unwrap().len(),
            l["totalPages"].as_u64()
        ),
        (1, Some(2))
    );
    let (st, _) = list(&s, &tok, "?status=bogus").await;
    assert_eq!(st, 400);
    let (st, _) = list(&s, &tok, "?size=abc").await;
    assert_eq!(st, 400);
    let (_, l) = list(&s, &tok, "?size=1000").await;
    assert_eq!(l["totalPages"], 1, "size capped at 100");
    // resend
    let post = |p: String, b: Value| {
        client()
            .post(format!("{}{p}", s.url()))
            .bearer_auth(&tok)
            .json(&b)
            .send()
    };
    let (st, _, b) = parts(
        post(
            format!("/user/invites/{jane_id}/resend"),
            json!({"message":"Again"}),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(
        (st, b),
        (200, json!({"message":"Invite resent successfully"}))
    );
    assert_eq!(s.mail().len(), 4);
    let (st, _, _) = parts(
        post("/user/invites/nope/resend".into(), json!({}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, 404);
    // accept jane through the mailbox link -> joined
    let link = s.mail()[3].link.clone();
    let old = s.mail()[0].link.clone();
    let r = client()
        .post(format!("{}/__sandbox/accept", s.url()))
        .json(&json!({"link": old}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "an older code is dead");
    let r = client()
        .post(format!("{}/__sandbox/accept", s.url()))
        .json(&json!({"link": link}))
        .send()
        .await
        .unwrap();
    let (st, _, b) = parts(r).await;
    assert_eq!(
        (st, b),
        (200, json!({"ok":true,"email":"jane@example.com"}))
    );
    let (_, l) = list(&s, &tok, "?status=joined").await;
    assert_eq!(l["filteredItems"], 1);
    assert!(l["invites"][0]["JoinedAt"].is_string());
    // joined rows cannot be resent or cancelled
    let (st, _, e) = parts(
        post(format!("/user/invites/{jane_id}/resend"), json!({}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((st, e["success"].as_bool()), (400, Some(false)));
    let (st, _, _) = parts(
        post(format!("/user/invites/{jane_id}/cancel"), json!({}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, 400);
    // re-inviting a joined user is a conflict
    assert_eq!(
        invite(&s, &tok, json!({"email":"jane@example.com"}))
            .await
            .0,
        409
    );
    // cancel bob
    let (_, l) = list(&s, &tok, "?q=bob").await;
    let bob = l["invites"][0]["id"].as_str().unwrap().to_string();
    let (st, _, _) = parts(
        post(format!("/user/invites/{bob}/cancel"), json!({}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, 200);
    let (_, l) = list(&s, &tok, "?status=cancelled").await;
    assert_eq!(l["filteredItems"], 1);
    // a new invite after cancel creates a new active row
    assert_eq!(
        invite(&s, &tok, json!({"email":"bob@example.com"})).await.0,
        201
    );
    let (_, l) = list(&s, &tok, "?q=bob").await;
    assert_eq!(l["filteredItems"], 2);
    // existing member cannot be invited
    let member = s.credentials().member_email.clone();
    assert_eq!(invite(&s, &tok, json!({"email": member})).await.0, 409);
    // validation
    assert_eq!(invite(&s, &tok, json!({})).await.0, 400);
    assert_eq!(
        invite(&s, &tok, json!({"email":"not-an-email"})).await.0,
        400
    );
    let r = client()
        .post(format!("{}/auth/invite", s.url()))
        .bearer_auth(&tok)
        .body("{bad")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = client()
        .post(format!("{}/auth/invite?userId=nope", s.url()))
        .bearer_auth(&tok)
        .json(&json!({"email":"u@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(s.calls("POST /auth/invite"), 11);
    assert_eq!(s.calls("POST /user/invites/{id}/resend"), 3);
}

#[tokio::test]
async fn roles_and_api_key() {
    let s = start(Flavor::Royalti).await;
    let admin = owner_token(&s, "admin").await;
    assert_eq!(
        invite(&s, &admin, json!({"email":"a@example.com"})).await.0,
        201
    );
    let user = owner_token(&s, "user").await;
    let (st, e) = invite(&s, &user, json!({"email":"a@example.com"})).await;
    assert_eq!(
        (st, e["error"]["code"].as_str().unwrap()),
        (403, "FORBIDDEN")
    );
    let (_, l) = list(&s, &admin, "").await;
    let id = l["invites"][0]["id"].as_str().unwrap().to_string();
    // A plain `user` may read its workspace's invitations but not resend or cancel any: the
    // role is checked before the invitation is looked up (docs/wire/royalti.md §A.3: owners and admins).
    let (st, l) = list(&s, &user, "").await;
    assert_eq!(
        (st, l["totalItems"].as_u64()),
        (200, Some(0)),
        "own workspace only"
    );
    for action in ["resend", "cancel"] {
        let r = client()
            .post(format!("{}/user/invites/{id}/{action}", s.url()))
            .bearer_auth(&user)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        let (st, _, e) = parts(r).await;
        assert_eq!(
            (st, e["error"]["code"].as_str().unwrap()),
            (403, "FORBIDDEN"),
            "{action}"
        );
    }
    // invites are per workspace
    let owner = owner_token(&s, "owner").await;
    let (_, l) = list(&s, &owner, "").await;
    assert_eq!(l["totalItems"], 0);
    let r = client()
        .post(format!("{}/user/invites/{id}/cancel", s.url()))
        .bearer_auth(&owner)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "other workspace's invite");
    // member login: a plain user
    let c = s.credentials().clone();
    let (st, b) = login(&s, &c.member_email, &c.member_password).await;
    assert_eq!(st, 200);
    assert_eq!(b["workspaces"][0]["role"], "user");
    // RWAK key acts on the first workspace
    assert!(c.api_key.starts_with("RWAK"));
    assert_eq!(
        invite(&s, &c.api_key, json!({"email":"k@example.com"}))
            .await
            .0,
        201
    );
    let (_, l) = list(&s, &owner, "").await;
    assert_eq!(l["totalItems"], 1);
    assert_eq!(
        invite(&s, "RWAKwrong", json!({"email":"k@example.com"}))
            .await
            .0,
        401
    );
    let (st, _) = invite(&s, "", json!({"email":"k@example.com"})).await;
    assert_eq!(st, 401);
    let r = client()
        .get(format!("{}/nope", s.url()))
        .send()
        .await
        .unwrap();
    let (st, _, b) = parts(r).await;
    assert_eq!((st, b["success"].as_bool()), (404, Some(false)));
}
