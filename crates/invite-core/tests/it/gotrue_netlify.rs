//! Netlify Identity through the Invite Desk function, as the sandbox's netlify flavor serves it:
//! sign-in, the function's role check, renewal of the owner's session, every operation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use crate::common::*;
use invite_core::http::Http;
use invite_core::model::{InviteRef, InviteRequest, InviteStatus, ListQuery, ResendOptions};
use invite_core::provider::Provider;
use invite_core::providers::netlify::netlify_sign_in;
use invite_core::secret::{names, Sensitive};
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
async fn sign_in_keeps_tokens_and_check_connection_passes_the_role_check() {
    let t = Nf::start().await;
    assert!(t.store.peek(&t.ws.id, names::ACCESS_TOKEN).is_some());
    assert!(t.store.peek(&t.ws.id, names::REFRESH_TOKEN).is_some());
    assert!(
        t.store.peek(&t.ws.id, names::PASSWORD).is_none(),
        "sign-in never keeps the password itself"
    );
    let report = t.provider.check_connection().await.unwrap();
    assert!(report.summary.contains(&t.creds.owner_email), "{report:?}");
    assert!(
        report.notes.iter().any(|n| n.contains("deprecated")),
        "{report:?}"
    );
    let caps = t.provider.capabilities();
    assert!(caps.message && caps.resend && caps.cancel);
    assert!(!caps.redirect && !caps.copy_link && !caps.send_email_toggle && !caps.expiry);
}

#[tokio::test]
async fn a_wrong_password_is_said_plainly() {
    let t = Nf::start().await;
    let e = netlify_sign_in(
        &Http::new().unwrap(),
        &t.url,
        &t.creds.owner_email,
        &Sensitive::new("wrong".into()),
        t.store.as_ref(),
        "other",
    )
    .await
    .unwrap_err();
    assert_eq!(e.kind(), "invalid_input", "{e:?}");
    assert!(
        !e.to_string().contains("wrong"),
        "the password never shows: {e}"
    );
    let e = netlify_sign_in(
        &Http::new().unwrap(),
        &format!("{}/nope", t.url),
        "a@b.c",
        &Sensitive::new("x".into()),
        t.store.as_ref(),
        "o",
    )
    .await
    .unwrap_err();
    assert_eq!(e.kind(), "wrong_server", "{e:?}");
}

#[tokio::test]
async fn a_user_without_the_role_can_not_invite() {
    let t = Nf::start_as_member().await;
    let e = t.provider.check_connection().await.unwrap_err();
    assert!(
        matches!(&e, Error::NotAdmin { hint, .. } if hint.contains("role")),
        "{e:?}"
    );
    let email = fresh("spam");
    assert_eq!(
        t.provider.invite(&req(&email)).await.unwrap_err().kind(),
        "not_admin"
    );
    assert!(t.mail_to(&email).is_empty());
}

#[tokio::test]
async fn a_missing_function_gets_the_deploy_hint() {
    let t = Nf::start_with_function_path("/.netlify/functions/not-deployed").await;
    let e = t.provider.check_connection().await.unwrap_err();
    assert!(
        matches!(&e, Error::WrongServer { hint, .. } if hint.contains("not deployed")),
        "{e:?}"
    );
}

#[tokio::test]
async fn invite_list_resend_cancel() {
    let t = Nf::start().await;
    let email = fresh("net");
    let mut r = req(&email);
    r.message = Some("See you inside".into());
    r.redirect_url = Some("https://ignored.example/".into());
    let inv = t.provider.invite(&r).await.unwrap().invite;
    assert_eq!(
        (inv.status, inv.message.as_deref()),
        (InviteStatus::Pending, Some("See you inside"))
    );
    assert_eq!(t.mail_to(&email).len(), 1);
    let listed = t
        .provider
        .list_all(&ListQuery {
            status: None,
            search: Some(email.clone()),
        })
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    // Netlify refuses the address again: said as "pending", not "member".
    let e = t.provider.invite(&req(&email)).await.unwrap_err();
    assert!(
        matches!(&e, Error::Rejected { message, .. } if message.contains("pending")),
        "{e:?}"
    );
    // Resend = delete + invite: a new id, the message kept, a second email.
    let again = t
        .provider
        .resend(
            &InviteRef {
                id: inv.id.clone(),
                email: email.clone(),
            },
            &ResendOptions::default(),
        )
        .await
        .unwrap();
    assert_ne!(again.id, inv.id);
    assert_eq!(again.message.as_deref(), Some("See you inside"));
    assert_eq!(t.mail_to(&email).len(), 2);
    assert_eq!(t.provider.find(&email).await.unwrap().unwrap().id, again.id);
    // The old id is gone.
    let e = t
        .provider
        .cancel(&InviteRef {
            id: inv.id.clone(),
            email: email.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "not_found");
    t.provider
        .cancel(&InviteRef {
            id: again.id.clone(),
            email: email.clone(),
        })
        .await
        .unwrap();
    assert!(t.provider.find(&email).await.unwrap().is_none());
    // No email toggle, no links.
    let mut quiet = req(&fresh("quiet"));
    quiet.send_email = false;
    assert_eq!(
        t.provider.invite(&quiet).await.unwrap_err().kind(),
        "unsupported"
    );
    assert_eq!(
        t.provider
            .link(
                &InviteRef {
                    id: again.id,
                    email
                },
                None
            )
            .await
            .unwrap_err()
            .kind(),
        "unsupported"
    );
}

#[tokio::test]
async fn members_are_never_cancelled_and_are_reported_as_members() {
    let t = Nf::start().await;
    let email = fresh("in");
    let inv = t.provider.invite(&req(&email)).await.unwrap().invite;
    t.accept(&email).await;
    let r = InviteRef {
        id: inv.id.clone(),
        email: email.clone(),
    };
    let e = t.provider.cancel(&r).await.unwrap_err();
    assert!(
        matches!(&e, Error::NotPending { reason } if reason.contains(&email)),
        "{e:?}"
    );
    assert_eq!(
        t.provider
            .resend(&r, &ResendOptions::default())
            .await
            .unwrap_err()
            .kind(),
        "not_pending"
    );
    let e = t.provider.invite(&req(&email)).await.unwrap_err();
    assert!(
        matches!(&e, Error::AlreadyMember { email: m, .. } if *m == email),
        "{e:?}"
    );
    assert_eq!(
        t.provider.find(&email).await.unwrap().unwrap().status,
        InviteStatus::Accepted
    );
    let e = t.provider.invite(&req("no-at-sign")).await.unwrap_err();
    assert_eq!(e.kind(), "invalid_email", "{e:?}");
}

#[tokio::test]
async fn an_expired_or_rejected_session_is_renewed_from_the_refresh_token() {
    let t = Nf::start().await;
    let before = t.store.peek(&t.ws.id, names::REFRESH_TOKEN).unwrap();
    // A token the function rejects (401): renewed, then the call goes through.
    t.store
        .put(&t.ws.id, names::ACCESS_TOKEN, "garbage.token.value");
    t.provider.check_connection().await.unwrap();
    assert_ne!(
        t.store.peek(&t.ws.id, names::ACCESS_TOKEN).unwrap(),
        "garbage.token.value"
    );
    assert_ne!(
        t.store.peek(&t.ws.id, names::REFRESH_TOKEN).unwrap(),
        before,
        "the new refresh token is kept"
    );
    // A token past its exp is renewed before use.
    t.store.put(&t.ws.id, names::ACCESS_TOKEN, &expired_jwt());
    t.provider.invite(&req(&fresh("renewed"))).await.unwrap();
    assert_eq!(
        t.calls("POST /.netlify/functions/invite-desk/invite"),
        1,
        "sent once, with the renewed token"
    );
}

#[tokio::test]
async fn a_dead_refresh_token_falls_back_to_the_kept_password_or_signs_out() {
    let t = Nf::start().await;
    t.store.put(&t.ws.id, names::ACCESS_TOKEN, &expired_jwt());
    t.store.put(&t.ws.id, names::REFRESH_TOKEN, "revoked");
    let e = t.provider.check_connection().await.unwrap_err();
    assert_eq!(e.kind(), "signed_out", "{e:?}");
    // With "keep me signed in" and the password in the keychain: signed in again silently.
    let kept = t.keep_signed_in();
    kept.store
        .put(&kept.ws.id, names::ACCESS_TOKEN, &expired_jwt());
    kept.store.put(&kept.ws.id, names::REFRESH_TOKEN, "revoked");
    kept.provider.check_connection().await.unwrap();
}

#[tokio::test]
async fn paging_through_the_function_reads_all_260() {
    let t = Nf::start().await;
    let tag = &uuid::Uuid::new_v4().to_string()[..6];
    t.seed_invited(260, tag).await;
    let all = t
        .provider
        .list_all(&ListQuery {
            status: None,
            search: Some(tag.to_string()),
        })
        .await
        .unwrap();
    assert_eq!(all.len(), 260);
    let first = t
        .provider
        .list_page(&ListQuery::default(), 1)
        .await
        .unwrap();
    assert_eq!(first.next_page, Some(2));
    assert!(first.total.unwrap() >= 260);
}

#[tokio::test]
async fn faults_lost_invites_are_looked_up_reads_are_retried_limits_are_reported() {
    let t = Nf::start().await;
    let email = fresh("lost");
    t.drop_after("POST /.netlify/functions/invite-desk/invite");
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
    assert_eq!(t.calls("POST /.netlify/functions/invite-desk/invite"), 1);
    assert_eq!(t.mail_to(&email).len(), 1);
    t.fail_with("GET /.netlify/functions/invite-desk/users", 502);
    t.provider
        .list_page(&ListQuery::default(), 1)
        .await
        .unwrap();
    t.rate_limit("POST /.netlify/functions/invite-desk/invite", 30);
    let e = t.provider.invite(&req(&fresh("slow"))).await.unwrap_err();
    assert_eq!(e.retry_after(), Some(Duration::from_secs(30)), "{e:?}");
}
