//! Self-hosted GoTrue (both forks) at the root URL: admin tokens minted from the JWT secret, or
//! an operator token; fork detection; over real HTTP against the sandbox.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::*;
use invite_core::model::{InviteRef, InviteRequest, InviteStatus, ListQuery, ResendOptions};
use invite_core::provider::Provider;
use invite_core::providers::gotrue::mint_admin_token;
use invite_core::providers::gotrue_common::Dialect;
use invite_core::secret::{names, Sensitive};
use invite_core::workspace::{GotrueFork, GotrueSignIn};
use invite_core::Error;

fn req(email: &str) -> InviteRequest {
    InviteRequest {
        email: email.into(),
        message: None,
        redirect_url: None,
        send_email: true,
    }
}

fn fresh(tag: &str) -> String {
    format!(
        "{tag}-{}@example.com",
        &uuid::Uuid::new_v4().to_string()[..8]
    )
}

#[tokio::test]
async fn the_fork_is_detected_and_decides_the_capabilities() {
    for (fork, dialect) in [
        (Fork::Supabase, Dialect::Supabase),
        (Fork::Netlify, Dialect::Netlify),
    ] {
        let t = Hosted::start(fork, GotrueSignIn::JwtSecret, GotrueFork::Auto).await;
        assert!(
            !t.provider.capabilities().copy_link,
            "unknown fork: only what both can do"
        );
        assert_eq!(t.provider.dialect().await.unwrap(), dialect);
        let report = t.provider.check_connection().await.unwrap();
        let name = if dialect == Dialect::Supabase {
            "Supabase's fork"
        } else {
            "Netlify's fork"
        };
        assert!(report.summary.contains(name), "{report:?}");
        assert_eq!(
            t.provider.capabilities().copy_link,
            dialect == Dialect::Supabase
        );
        assert_eq!(
            t.provider.capabilities().redirect,
            dialect == Dialect::Supabase
        );
    }
}

#[tokio::test]
async fn supabase_fork_does_everything_with_minted_tokens() {
    let t = Hosted::start(Fork::Supabase, GotrueSignIn::JwtSecret, GotrueFork::Auto).await;
    let email = fresh("sh");
    let mut r = req(&email);
    r.message = Some("Hello".into());
    r.redirect_url = Some("http://localhost:3000/in".into());
    let inv = t.provider.invite(&r).await.unwrap().invite;
    assert_eq!(
        (inv.status, inv.message.as_deref()),
        (InviteStatus::Pending, Some("Hello"))
    );
    assert_eq!(t.mail_to(&email).len(), 1);
    let iref = InviteRef {
        id: inv.id.clone(),
        email: email.clone(),
    };
    let again = t
        .provider
        .resend(&iref, &ResendOptions::default())
        .await
        .unwrap();
    assert_eq!(again.id, inv.id);
    assert_eq!(t.mail_to(&email).len(), 2);
    let link = t.provider.link(&iref, None).await.unwrap();
    assert!(link.contains("type=invite"), "{link}");
    let mut quiet = req(&fresh("quiet"));
    quiet.send_email = false;
    assert!(t.provider.invite(&quiet).await.unwrap().link.is_some());
    t.provider.cancel(&iref).await.unwrap();
    assert!(t.provider.find(&email).await.unwrap().is_none());
    // Every request carried a token minted for it, never anything else.
    assert!(t.calls("POST /invite") >= 2);
}

#[tokio::test]
async fn netlify_fork_resends_by_delete_and_invite() {
    let t = Hosted::start(Fork::Netlify, GotrueSignIn::JwtSecret, GotrueFork::Auto).await;
    let email = fresh("nf");
    let mut r = req(&email);
    r.message = Some("Hi there".into());
    let inv = t.provider.invite(&r).await.unwrap().invite;
    assert_eq!(inv.status, InviteStatus::Pending);
    assert!(
        inv.expires_at.is_none(),
        "Netlify invitations do not expire"
    );
    // Netlify refuses an existing address; a pending one is not "already a member".
    let e = t.provider.invite(&req(&email)).await.unwrap_err();
    assert!(
        matches!(&e, Error::Rejected { status: 422, message } if message.contains("pending")),
        "{e:?}"
    );
    let iref = InviteRef {
        id: inv.id.clone(),
        email: email.clone(),
    };
    let again = t
        .provider
        .resend(&iref, &ResendOptions::default())
        .await
        .unwrap();
    assert_ne!(again.id, inv.id, "re-created: a new id");
    assert_eq!(
        again.message.as_deref(),
        Some("Hi there"),
        "the data is carried over"
    );
    assert_eq!(t.mail_to(&email).len(), 2);
    let mut quiet = req(&fresh("q"));
    quiet.send_email = false;
    assert_eq!(
        t.provider.invite(&quiet).await.unwrap_err().kind(),
        "unsupported"
    );
    let new_ref = InviteRef {
        id: again.id.clone(),
        email: email.clone(),
    };
    assert_eq!(
        t.provider.link(&new_ref, None).await.unwrap_err().kind(),
        "unsupported"
    );
    t.accept(&email).await;
    let e = t.provider.invite(&req(&email)).await.unwrap_err();
    assert_eq!(e.kind(), "already_member", "{e:?}");
    let e = t.provider.cancel(&new_ref).await.unwrap_err();
    assert!(
        matches!(&e, Error::NotPending { reason } if reason.contains(&email)),
        "{e:?}"
    );
}

#[tokio::test]
async fn operator_tokens_work_and_wrong_ones_are_explained() {
    let t = Hosted::start(
        Fork::Netlify,
        GotrueSignIn::OperatorToken,
        GotrueFork::Netlify,
    )
    .await;
    t.provider.check_connection().await.unwrap();
    t.provider.invite(&req(&fresh("op"))).await.unwrap();
    t.store
        .put(&t.ws.id, names::OPERATOR_TOKEN, "not-the-operator-token");
    let e = t.provider.check_connection().await.unwrap_err();
    assert!(
        matches!(&e, Error::NotAdmin { hint, .. } if hint.contains("GOTRUE_OPERATOR_TOKEN")),
        "{e:?}"
    );
}

#[tokio::test]
async fn a_wrong_jwt_secret_or_role_is_explained() {
    for fork in [Fork::Supabase, Fork::Netlify] {
        let t = Hosted::start(fork, GotrueSignIn::JwtSecret, GotrueFork::Auto).await;
        t.store.put(
            &t.ws.id,
            names::JWT_SECRET,
            "not-the-secret-not-the-secret-000",
        );
        let e = t.provider.check_connection().await.unwrap_err();
        assert!(
            matches!(&e, Error::NotAdmin { hint, .. } if hint.contains("GOTRUE_JWT_SECRET")),
            "{fork:?}: {e:?}"
        );
    }
    let t = Hosted::start_with_role(Fork::Supabase, "editor").await;
    let e = t.provider.invite(&req(&fresh("role"))).await.unwrap_err();
    assert!(
        matches!(&e, Error::NotAdmin { hint, .. } if hint.contains("\"editor\"")),
        "{e:?}"
    );
    let t = Hosted::start_with_role(Fork::Supabase, "supabase_admin").await;
    t.provider.invite(&req(&fresh("role"))).await.unwrap();
}

#[tokio::test]
async fn expired_minted_tokens_are_rejected_by_both_forks() {
    for (fork, dialect) in [
        (Fork::Supabase, Dialect::Supabase),
        (Fork::Netlify, Dialect::Netlify),
    ] {
        let t = Hosted::start(fork, GotrueSignIn::JwtSecret, GotrueFork::Auto).await;
        let secret = Sensitive::new(t.creds.jwt_secret.clone());
        let http = reqwest::Client::new();
        let get = |token: String| {
            http.get(format!("{}/admin/users?per_page=1", t.url))
                .bearer_auth(token)
                .send()
        };
        let fresh_token = mint_admin_token(&secret, dialect, "service_role", 300).unwrap();
        assert_eq!(
            get(fresh_token.expose().clone()).await.unwrap().status(),
            200
        );
        let expired = mint_admin_token(&secret, dialect, "service_role", -3600).unwrap();
        let resp = get(expired.expose().clone()).await.unwrap();
        assert!(
            matches!(resp.status().as_u16(), 401 | 403),
            "{fork:?}: {}",
            resp.status()
        );
        let body = resp.text().await.unwrap();
        assert!(body.to_lowercase().contains("expired"), "{fork:?}: {body}");
    }
}

#[tokio::test]
async fn a_server_that_is_not_gotrue_is_named() {
    let t = Hosted::start(Fork::Supabase, GotrueSignIn::JwtSecret, GotrueFork::Auto).await;
    let p = t.provider_at(&format!("{}/elsewhere", t.url));
    assert_eq!(
        p.check_connection().await.unwrap_err().kind(),
        "wrong_server"
    );
}

#[tokio::test]
async fn netlify_fork_pages_through_260_invitations() {
    let t = Hosted::start(Fork::Netlify, GotrueSignIn::JwtSecret, GotrueFork::Auto).await;
    let tag = &uuid::Uuid::new_v4().to_string()[..6];
    t.seed_invited(260, tag).await;
    let all = t
        .provider
        .list_all(&ListQuery {
            status: Some(InviteStatus::Pending),
            search: None,
        })
        .await
        .unwrap();
    assert_eq!(all.iter().filter(|i| i.email.contains(tag)).count(), 260);
    let p2 = t
        .provider
        .list_page(&ListQuery::default(), 2)
        .await
        .unwrap();
    assert_eq!(p2.next_page, Some(3));
}

#[tokio::test]
async fn a_lost_invite_answer_is_looked_up_not_resent() {
    let t = Hosted::start(Fork::Netlify, GotrueSignIn::JwtSecret, GotrueFork::Auto).await;
    let email = fresh("lost");
    t.provider.dialect().await.unwrap();
    t.drop_after("POST /invite");
    assert!(t
        .provider
        .invite(&req(&email))
        .await
        .unwrap_err()
        .is_uncertain());
    assert_eq!(
        t.provider.find(&email).await.unwrap().unwrap().status,
        InviteStatus::Pending
    );
    assert_eq!(t.calls("POST /invite"), 1);
    t.fail_with("GET /admin/users", 503);
    t.provider
        .list_page(&ListQuery::default(), 1)
        .await
        .unwrap();
}

#[tokio::test]
async fn the_owner_can_name_the_fork_and_it_is_used_without_asking_the_server() {
    for (fork, choice, dialect) in [
        (Fork::Supabase, GotrueFork::Supabase, Dialect::Supabase),
        (Fork::Netlify, GotrueFork::Netlify, Dialect::Netlify),
    ] {
        let t = Hosted::start(fork, GotrueSignIn::JwtSecret, choice).await;
        // Known from the start: the capabilities are the fork's, before any request.
        assert_eq!(
            t.provider.capabilities().copy_link,
            dialect == Dialect::Supabase
        );
        assert_eq!(t.provider.dialect().await.unwrap(), dialect);
        assert_eq!(t.calls("GET /settings") + t.calls("GET /health"), 0);
        // And it works: a minted token of that fork invites.
        t.provider.invite(&req(&fresh("named"))).await.unwrap();
    }
}
