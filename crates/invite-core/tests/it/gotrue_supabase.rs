//! Supabase provider against the sandbox's Supabase flavor (`/auth/v1/…` behind a gateway that
//! wants `apikey`), over real HTTP on 127.0.0.1.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use crate::common::*;
use invite_core::model::{InviteRef, InviteRequest, InviteStatus, ListQuery, ResendOptions};
use invite_core::provider::Provider;
use invite_core::providers::gotrue::mint_admin_token;
use invite_core::providers::gotrue_common::Dialect;
use invite_core::providers::supabase::classify_supabase_key;
use invite_core::secret::{names, Sensitive};
use invite_core::Error;
use invite_sandbox::{Config, Fault, FaultAction, Flavor};

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
async fn check_connection_proves_the_key_can_invite() {
    let t = Supa::start().await;
    let report = t.provider.check_connection().await.unwrap();
    assert!(report.summary.contains("admin key"), "{report:?}");
    assert!(
        report.notes.iter().any(|n| n.contains("allow list")),
        "{report:?}"
    );
    // The same with the legacy service_role JWT.
    t.store
        .put(&t.ws.id, names::SECRET_KEY, &t.creds.service_role_key);
    t.provider.check_connection().await.unwrap();
}

#[tokio::test]
async fn public_keys_are_refused_before_anything_is_sent() {
    let t = Supa::start().await;
    for key in [&t.creds.anon_key, &t.creds.publishable_key] {
        classify_supabase_key(key).unwrap_err();
        t.store.put(&t.ws.id, names::SECRET_KEY, key);
        let e = t.provider.invite(&req(&fresh("pub"))).await.unwrap_err();
        assert_eq!(e.kind(), "wrong_key", "{e:?}");
        let e = t.provider.check_connection().await.unwrap_err();
        assert_eq!(e.kind(), "wrong_key", "{e:?}");
    }
    assert_eq!(t.calls("POST /invite"), 0);
    assert_eq!(t.calls("GET /admin/users"), 0);
}

#[tokio::test]
async fn a_key_that_is_not_an_admin_s_gets_a_plain_answer() {
    let t = Supa::start().await;
    // Signed by the project but with a role outside GOTRUE_JWT_ADMIN_ROLES: 403 not_admin.
    let secret = Sensitive::new(t.creds.jwt_secret.clone());
    let editor = mint_admin_token(&secret, Dialect::Supabase, "editor", 300).unwrap();
    t.store.put(&t.ws.id, names::SECRET_KEY, editor.expose());
    let e = t.provider.check_connection().await.unwrap_err();
    match &e {
        Error::NotAdmin { hint, detail } => {
            assert!(hint.contains("secret key"), "{hint}");
            // Through the hosted gateway the key is refused before GoTrue sees it (Kong's
            // "Invalid authentication credentials"); at the root GoTrue says not_admin.
            let d = detail.as_deref().unwrap_or_default();
            assert!(
                d.contains("not_admin") || d.contains("Invalid authentication credentials"),
                "{detail:?}"
            );
        }
        other => panic!("expected NotAdmin, got {other:?}"),
    }
    // Signed with another secret (a rotated or foreign key): bad_jwt.
    let foreign = mint_admin_token(
        &Sensitive::new("another-secret-another-secret-123".into()),
        Dialect::Supabase,
        "service_role",
        300,
    )
    .unwrap();
    t.store.put(&t.ws.id, names::SECRET_KEY, foreign.expose());
    let e = t
        .provider
        .invite(&req(&fresh("foreign")))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::NotAdmin { hint, .. } if hint.contains("did not accept")),
        "{e:?}"
    );
    // A refused key is never tried again by itself.
    assert_eq!(t.calls("POST /invite"), 1);
    // An expired service key: rejected the same way.
    let expired = mint_admin_token(&secret, Dialect::Supabase, "service_role", -3600).unwrap();
    t.store.put(&t.ws.id, names::SECRET_KEY, expired.expose());
    let e = t
        .provider
        .list_page(&ListQuery::default(), 1)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::NotAdmin { detail, .. } if {
            let d = detail.as_deref().unwrap_or_default();
            d.contains("bad_jwt") || d.contains("Invalid authentication credentials")
        }),
        "{e:?}"
    );
    // A missing key is named, never shown.
    t.store.remove(&t.ws.id, names::SECRET_KEY);
    assert_eq!(
        t.provider.check_connection().await.unwrap_err().kind(),
        "secret_missing"
    );
}

#[tokio::test]
async fn a_wrong_address_is_not_a_supabase_project() {
    let t = Supa::start().await;
    let p = t.provider_at(&format!("{}/not-supabase", t.url));
    let e = p.check_connection().await.unwrap_err();
    assert_eq!(e.kind(), "wrong_server", "{e:?}");
    // Nothing listens: a network error, not a guess.
    let p = t.provider_at("http://127.0.0.1:9");
    assert_eq!(p.check_connection().await.unwrap_err().kind(), "network");
}

#[tokio::test]
async fn invite_sends_one_email_with_the_message_and_redirect() {
    let t = Supa::start().await;
    let email = fresh("ann");
    let mut r = req(&email.to_uppercase());
    r.message = Some("Welcome to the team".into());
    r.redirect_url = Some("http://localhost:3000/welcome".into());
    let invited = t.provider.invite(&r).await.unwrap();
    assert_eq!(invited.invite.email, email);
    assert_eq!(invited.invite.status, InviteStatus::Pending);
    assert_eq!(
        invited.invite.message.as_deref(),
        Some("Welcome to the team")
    );
    assert!(invited.invite.expires_at.is_some());
    assert!(invited.link.is_none());
    assert!(!invited.replaced_existing);
    let mails = t.mail_to(&email);
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert!(
        mails[0].contains("redirect_to=http"),
        "redirect passed as ?redirect_to=: {}",
        mails[0]
    );
    let found = t.provider.find(&email).await.unwrap().unwrap();
    assert_eq!(
        (found.id.as_str(), found.status),
        (invited.invite.id.as_str(), InviteStatus::Pending)
    );
    assert_eq!(t.calls("POST /invite"), 1);
}

#[tokio::test]
async fn invite_without_email_gives_a_link_and_sends_nothing() {
    let t = Supa::start().await;
    let email = fresh("link");
    let mut r = req(&email);
    r.send_email = false;
    let invited = t.provider.invite(&r).await.unwrap();
    let link = invited.link.expect("a link to copy");
    assert!(link.contains("type=invite"), "{link}");
    assert_eq!(invited.invite.status, InviteStatus::Pending);
    assert!(t.mail_to(&email).is_empty());
    assert_eq!(t.calls("POST /invite"), 0);
}

#[tokio::test]
async fn invalid_and_existing_addresses_are_told_apart() {
    let t = Supa::start().await;
    let e = t.provider.invite(&req("not-an-address")).await.unwrap_err();
    assert_eq!(e.kind(), "invalid_email", "{e:?}");
    let email = fresh("member");
    t.provider.invite(&req(&email)).await.unwrap();
    t.accept(&email).await;
    let e = t.provider.invite(&req(&email)).await.unwrap_err();
    assert!(
        matches!(&e, Error::AlreadyMember { email: m, .. } if *m == email),
        "{e:?}"
    );
    assert_eq!(
        t.provider.find(&email).await.unwrap().unwrap().status,
        InviteStatus::Accepted
    );
}

#[tokio::test]
async fn resend_makes_a_fresh_link_and_kills_the_old_one() {
    let t = Supa::start().await;
    let email = fresh("again");
    let first = t.provider.invite(&req(&email)).await.unwrap().invite;
    let old_link = t.mail_to(&email).pop().unwrap();
    let again = t
        .provider
        .resend(
            &InviteRef {
                id: first.id.clone(),
                email: email.clone(),
            },
            &ResendOptions {
                message: Some("Reminder".into()),
                redirect_url: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(again.id, first.id, "Supabase keeps the user");
    assert_eq!(again.status, InviteStatus::Pending);
    assert_eq!(again.message.as_deref(), Some("Reminder"));
    assert_eq!(t.mail_to(&email).len(), 2);
    assert!(!t.link_works(&old_link).await, "the first link died");
}

#[tokio::test]
async fn accepted_invitations_are_never_cancelled_or_resent() {
    let t = Supa::start().await;
    let email = fresh("joined");
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
    let e = t
        .provider
        .resend(&r, &ResendOptions::default())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "not_pending");
    assert_eq!(t.calls("DELETE /admin/users/{id}"), 0);
    assert_eq!(
        t.provider.find(&email).await.unwrap().unwrap().status,
        InviteStatus::Accepted
    );
}

#[tokio::test]
async fn cancel_deletes_a_pending_invitation_and_kills_its_link() {
    let t = Supa::start().await;
    let email = fresh("bye");
    let inv = t.provider.invite(&req(&email)).await.unwrap().invite;
    let link = t.mail_to(&email).pop().unwrap();
    let r = InviteRef {
        id: inv.id.clone(),
        email: email.clone(),
    };
    t.provider.cancel(&r).await.unwrap();
    assert!(t.provider.find(&email).await.unwrap().is_none());
    assert!(!t.link_works(&link).await);
    assert_eq!(t.provider.cancel(&r).await.unwrap_err().kind(), "not_found");
    let ghost = InviteRef {
        id: uuid::Uuid::new_v4().to_string(),
        email: "ghost@example.com".into(),
    };
    assert_eq!(
        t.provider.cancel(&ghost).await.unwrap_err().kind(),
        "not_found"
    );
}

#[tokio::test]
async fn copy_link_reissues_the_token() {
    let t = Supa::start().await;
    let email = fresh("copy");
    let inv = t.provider.invite(&req(&email)).await.unwrap().invite;
    let emailed = t.mail_to(&email).pop().unwrap();
    let link = t
        .provider
        .link(
            &InviteRef {
                id: inv.id,
                email: email.clone(),
            },
            Some("http://localhost:3000/x"),
        )
        .await
        .unwrap();
    assert!(link.contains("type=invite"), "{link}");
    assert_eq!(t.mail_to(&email).len(), 1, "no second email");
    assert!(!t.link_works(&emailed).await, "the emailed link died");
    assert!(t.link_works(&link).await, "the new link works");
}

#[tokio::test]
async fn paging_reads_every_one_of_260_invitations() {
    let t = Supa::start().await;
    let tag = &uuid::Uuid::new_v4().to_string()[..6];
    t.seed_invited(260, tag).await;
    let page1 = t
        .provider
        .list_page(&ListQuery::default(), 1)
        .await
        .unwrap();
    assert_eq!(page1.next_page, Some(2));
    assert!(page1.total.unwrap() >= 260, "{:?}", page1.total);
    let all = t.provider.list_all(&ListQuery::default()).await.unwrap();
    let mine = all.iter().filter(|i| i.email.contains(tag)).count();
    assert_eq!(mine, 260);
    assert!(
        t.calls("GET /admin/users") >= 4,
        "at least three pages of 100 plus the first"
    );
    let some = t
        .provider
        .list_all(&ListQuery {
            status: None,
            search: Some(format!("bulk-{tag}-00")),
        })
        .await
        .unwrap();
    assert_eq!(some.len(), 10, "bulk-…-000 to -009");
    let pending = t
        .provider
        .list_all(&ListQuery {
            status: Some(InviteStatus::Accepted),
            search: Some(tag.to_string()),
        })
        .await
        .unwrap();
    assert!(pending.is_empty());
}

#[tokio::test]
async fn a_lost_invite_answer_is_uncertain_and_the_lookup_finds_it_sent_once() {
    let t = Supa::start().await;
    let email = fresh("lost");
    t.drop_after("POST /invite");
    let e = t.provider.invite(&req(&email)).await.unwrap_err();
    assert!(e.is_uncertain(), "{e:?}");
    let found = t
        .provider
        .find(&email)
        .await
        .unwrap()
        .expect("the server has it");
    assert_eq!(found.status, InviteStatus::Pending);
    assert_eq!(t.calls("POST /invite"), 1, "never re-sent");
    assert_eq!(t.mail_to(&email).len(), 1);
}

#[tokio::test]
async fn gateway_errors_on_writes_are_uncertain_and_not_resent() {
    let t = Supa::start().await;
    t.fail_with("POST /invite", 502);
    let e = t.provider.invite(&req(&fresh("gw"))).await.unwrap_err();
    assert!(e.is_uncertain(), "{e:?}");
    assert_eq!(t.calls("POST /invite"), 1);
    t.fail_with("POST /invite", 500);
    let e = t.provider.invite(&req(&fresh("boom"))).await.unwrap_err();
    assert!(matches!(e, Error::Server { status: 500, .. }), "{e:?}");
    assert_eq!(t.calls("POST /invite"), 2);
}

#[tokio::test]
async fn reads_are_retried_through_502_and_503() {
    let t = Supa::start().await;
    t.fail_with("GET /admin/users", 502);
    t.provider
        .list_page(&ListQuery::default(), 1)
        .await
        .unwrap();
    assert_eq!(t.calls("GET /admin/users"), 2);
    t.fail_with("GET /admin/users", 503);
    t.provider
        .list_page(&ListQuery::default(), 1)
        .await
        .unwrap();
    assert_eq!(t.calls("GET /admin/users"), 4);
}

#[tokio::test]
async fn rate_limits_say_when_to_try_again() {
    let t = Supa::start().await;
    t.rate_limit("POST /invite", 120);
    let e = t.provider.invite(&req(&fresh("slow"))).await.unwrap_err();
    match e {
        Error::RateLimited {
            retry_after,
            email_limit,
            ..
        } => {
            assert_eq!(retry_after, Some(Duration::from_secs(120)));
            // The injected 429 carries no GoTrue error code, so it is not known to be the email limit.
            assert!(!email_limit);
        }
        other => panic!("expected RateLimited, got {other:?}"),
    }
    assert_eq!(t.calls("POST /invite"), 1, "429 on a write is not retried");
}

#[tokio::test]
async fn the_servers_email_limit_is_known_for_what_it_is() {
    // GoTrue's own 429 over_email_send_rate_limit (its window is an hour), not a gateway's.
    let mut config = Config::new(Flavor::Supabase);
    config.email_limit = 1;
    let t = Supa::start_with(config).await;
    t.provider.invite(&req(&fresh("first"))).await.unwrap();
    let e = t.provider.invite(&req(&fresh("second"))).await.unwrap_err();
    match &e {
        Error::RateLimited {
            email_limit,
            detail,
            ..
        } => {
            assert!(email_limit, "{e:?}");
            assert!(
                detail
                    .as_deref()
                    .is_some_and(|d| d.contains("over_email_send_rate_limit")),
                "{detail:?}"
            );
        }
        other => panic!("expected RateLimited, got {other:?}"),
    }
    assert_eq!(
        t.calls("POST /invite"),
        2,
        "the refused invite is not retried"
    );
    // Links to copy are not email-limited: the way around it.
    let link = t
        .provider
        .invite(&InviteRequest {
            email: fresh("linked"),
            send_email: false,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(link.link.is_some_and(|l| l.starts_with("http")));
}

#[tokio::test]
async fn an_invite_that_times_out_is_uncertain_and_looked_up_not_resent() {
    let t = Supa::start().await;
    let email = fresh("slowpoke");
    // The server carries it out, but only after the client stopped waiting.
    t.sb.inject(Fault {
        route: Some("POST /invite".into()),
        count: 1,
        action: FaultAction::Delay { ms: 1500 },
    });
    let impatient = t.provider_with_timeout(Duration::from_millis(500));
    let e = impatient.invite(&req(&email)).await.unwrap_err();
    assert_eq!(e.kind(), "uncertain", "{e:?}");
    assert!(e.is_uncertain());
    assert_eq!(
        t.calls("POST /invite"),
        1,
        "a write whose answer was lost is not re-sent"
    );
}

#[tokio::test]
async fn an_invitation_past_its_link_lifetime_is_expired_until_resent() {
    use invite_core::providers::supabase::SupabaseProvider;
    let t = Supa::start().await;
    // The workspace says links live an hour (Supabase: Email OTP Expiration).
    let mut ws = t.ws.clone();
    ws.config.set_link_lifetime_hours(Some(1)).unwrap();
    let p = SupabaseProvider::new(http(), &ws, t.store.clone()).unwrap();
    let email = fresh("late");
    let sent = p.invite(&req(&email)).await.unwrap().invite;
    assert_eq!(sent.status, InviteStatus::Pending);
    let expires = sent.expires_at.unwrap();
    let hour = expires - sent.invited_at.unwrap();
    assert!((3590..=3610).contains(&hour.num_seconds()), "{hour:?}");
    // Two hours later, as the server reports it.
    let r = reqwest::Client::new()
        .post(format!("{}/__sandbox/age", t.url))
        .json(&serde_json::json!({"email": email, "seconds": 7200}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let late = p.find(&email).await.unwrap().unwrap();
    assert_eq!(late.status, InviteStatus::Expired);
    let expired = p
        .list_all(&ListQuery {
            status: Some(InviteStatus::Expired),
            search: None,
        })
        .await
        .unwrap();
    assert!(expired.iter().any(|i| i.email == email));
    // A resend makes it pending again, with a fresh link.
    let again = p
        .resend(
            &InviteRef {
                id: late.id.clone(),
                email: email.clone(),
            },
            &ResendOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(again.status, InviteStatus::Pending, "{again:?}");
    assert_eq!(t.mail_to(&email).len(), 2);
}

#[tokio::test]
async fn addresses_the_mailer_refuses_are_named_with_the_reason() {
    // The built-in mailer emails only the team (email_address_not_authorized)...
    let mut config = Config::new(Flavor::Supabase);
    config.email_authorized_addresses = vec!["team@acme.io".into()];
    let t = Supa::start_with(config).await;
    t.provider.invite(&req("team@acme.io")).await.unwrap();
    let e = t
        .provider
        .invite(&req("outsider@acme.io"))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::InvalidEmail { email, reason }
            if email == "outsider@acme.io" && reason.contains("custom SMTP")),
        "{e:?}"
    );
    // ...and with extended validation refuses addresses that cannot receive mail.
    let mut config = Config::new(Flavor::Supabase);
    config.email_validation_extended = true;
    let t = Supa::start_with(config).await;
    let e = t
        .provider
        .invite(&req("someone@site.invalid"))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::InvalidEmail { email, reason }
            if email == "someone@site.invalid" && reason.contains("invalid")),
        "{e:?}"
    );
}
