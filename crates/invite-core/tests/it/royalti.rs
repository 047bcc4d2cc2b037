//! The Royalti provider against the sandbox's Royalti flavor, over real HTTP on 127.0.0.1:
//! sign-in with several workspaces and roles, token renewal and expiry, every operation, the
//! errors, paging over 250 invitations, and lost answers that never invite anyone twice.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;
use std::sync::Arc;
use std::time::Duration;

use crate::common::{http, MemStore, NOTHING_LISTENS};
use invite_core::model::{InviteRef, InviteRequest, InviteStatus, ListQuery, ResendOptions};
use invite_core::provider::Provider;
use invite_core::providers::royalti::{
    royalti_connect_workspace, royalti_sign_in, RoyaltiAccount, RoyaltiProvider,
};
use invite_core::secret::{names, Sensitive};
use invite_core::workspace::{RoyaltiOptions, RoyaltiSignIn, Workspace, WorkspaceConfig};
use invite_core::Error;
use invite_sandbox::{Config, Fault, FaultAction, Flavor, Sandbox};

struct Ry {
    sb: Sandbox,
    store: Arc<MemStore>,
    ws: Workspace,
    provider: RoyaltiProvider,
    account: RoyaltiAccount,
}

fn req(email: &str) -> InviteRequest {
    InviteRequest {
        email: email.into(),
        send_email: true,
        ..Default::default()
    }
}

fn workspace(url: &str, remote: &str, role: &str, keep: bool) -> Workspace {
    common::workspace(
        url,
        WorkspaceConfig::Royalti(RoyaltiOptions {
            remote_workspace_id: Some(remote.into()),
            account_email: Some("owner@example.com".into()),
            role: Some(role.into()),
            keep_signed_in: keep,
            ..Default::default()
        }),
    )
}

impl Ry {
    /// Signs in as the owner and connects the first workspace where the owner can invite.
    async fn start_with(config: Config, keep: bool) -> Self {
        let sb = Sandbox::start(config).await.unwrap();
        let c = sb.credentials().clone();
        let pw = Sensitive::new(c.owner_password.clone());
        let (account, session) = royalti_sign_in(&http(), &sb.url(), &c.owner_email, &pw)
            .await
            .unwrap();
        let pick = account.workspaces.iter().find(|w| w.can_invite).unwrap();
        let mut ws = workspace(&sb.url(), &pick.id, &pick.role, keep);
        if let WorkspaceConfig::Royalti(o) = &mut ws.config {
            o.account_email = Some(c.owner_email.clone());
        }
        let store = MemStore::new();
        royalti_connect_workspace(
            &http(),
            &sb.url(),
            &session,
            &pick.id,
            store.as_ref(),
            &ws.id,
        )
        .await
        .unwrap();
        if keep {
            store.put(&ws.id, names::PASSWORD, &c.owner_password);
        }
        let provider = RoyaltiProvider::new(http(), &ws, store.clone()).unwrap();
        Self {
            sb,
            store,
            ws,
            provider,
            account,
        }
    }

    async fn start() -> Self {
        Self::start_with(Config::new(Flavor::Royalti), false).await
    }

    fn mail_to(&self, email: &str) -> usize {
        self.sb
            .mail()
            .iter()
            .filter(|m| m.to.eq_ignore_ascii_case(email))
            .count()
    }

    fn links_to(&self, email: &str) -> Vec<String> {
        self.sb
            .mail()
            .into_iter()
            .filter(|m| m.to.eq_ignore_ascii_case(email))
            .map(|m| m.link)
            .collect()
    }

    async fn accept(&self, email: &str) {
        let link = self.links_to(email).pop().unwrap();
        let r = reqwest::Client::new()
            .post(format!("{}/__sandbox/accept", self.sb.url()))
            .json(&serde_json::json!({ "link": link }))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    }

    fn fault(&self, route: &str, action: FaultAction) {
        self.sb.inject(Fault {
            route: Some(route.into()),
            count: 1,
            action,
        });
    }
}

#[tokio::test]
async fn sign_in_lists_every_workspace_with_the_role_and_who_can_invite() {
    let t = Ry::start().await;
    let mut seen: Vec<(String, String, bool)> = t
        .account
        .workspaces
        .iter()
        .map(|w| (w.name.clone(), w.role.clone(), w.can_invite))
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        vec![
            ("Acme Records".into(), "owner".into(), true),
            ("Beta Music".into(), "admin".into(), true),
            ("Gamma Sounds".into(), "user".into(), false),
        ]
    );
    let report = t.provider.check_connection().await.unwrap();
    assert!(report.summary.contains("Signed in"), "{report:?}");

    // A workspace where the owner is a plain user: refused before anything is sent.
    let gamma = t.account.workspaces.iter().find(|w| !w.can_invite).unwrap();
    let ws = workspace(&t.sb.url(), &gamma.id, &gamma.role, false);
    let p = RoyaltiProvider::new(http(), &ws, t.store.clone()).unwrap();
    assert_eq!(p.check_connection().await.unwrap_err().kind(), "not_admin");

    // A wrong password is a plain sign-in error; nothing is kept.
    let e = royalti_sign_in(
        &http(),
        &t.sb.url(),
        "owner@example.com",
        &Sensitive::new("wrong-password".into()),
    )
    .await
    .unwrap_err();
    assert_eq!(e.kind(), "invalid_input", "{e:?}");
}

#[tokio::test]
async fn the_login_limit_is_a_rate_limit() {
    let sb = Sandbox::start(Config::new(Flavor::Royalti)).await.unwrap();
    let bad = Sensitive::new("wrong".to_string());
    let mut last = None;
    for _ in 0..21 {
        last = Some(
            royalti_sign_in(&http(), &sb.url(), "owner@example.com", &bad)
                .await
                .unwrap_err(),
        );
    }
    assert_eq!(last.unwrap().kind(), "rate_limited");
}

#[tokio::test]
async fn invite_finds_the_new_row_and_a_reinvite_updates_it() {
    let t = Ry::start().await;
    let mut r = req("new.person@example.com");
    r.message = Some("Welcome aboard".into());
    r.redirect_url = Some("https://app.example.com/welcome".into());
    let done = t.provider.invite(&r).await.unwrap();
    assert!(!done.invite.id.is_empty(), "the row is found by listing");
    assert_eq!(done.invite.status, InviteStatus::Pending);
    assert_eq!(done.invite.message.as_deref(), Some("Welcome aboard"));
    assert!(!done.replaced_existing);
    let links = t.links_to("new.person@example.com");
    assert_eq!(links.len(), 1);
    assert!(
        links[0].starts_with("https://app.example.com/welcome"),
        "redirectUrl reached the server: {}",
        links[0]
    );
    // One active invitation per tenant user: inviting again updates it, not an error.
    tokio::time::sleep(Duration::from_millis(5)).await;
    let again = t
        .provider
        .invite(&req("new.person@example.com"))
        .await
        .unwrap();
    assert!(again.replaced_existing);
    assert_eq!(again.invite.id, done.invite.id);
    // Without sending email: the record exists, no mail.
    let quiet = InviteRequest {
        send_email: false,
        ..req("quiet@example.com")
    };
    t.provider.invite(&quiet).await.unwrap();
    assert_eq!(t.mail_to("quiet@example.com"), 0);
    assert!(t
        .provider
        .find("quiet@example.com")
        .await
        .unwrap()
        .is_some());
    // An address that already joined is a member, not a failure.
    t.accept("new.person@example.com").await;
    let e = t
        .provider
        .invite(&req("new.person@example.com"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "already_member", "{e:?}");
    // An address the server refuses.
    let e = t.provider.invite(&req("not-an-address")).await.unwrap_err();
    assert_eq!(e.kind(), "invalid_email", "{e:?}");
}

#[tokio::test]
async fn list_pages_through_250_and_filters_by_status_and_search() {
    let t = Ry::start().await;
    for i in 0..250 {
        let r = InviteRequest {
            send_email: false,
            ..req(&format!("p{i:03}@example.com"))
        };
        t.provider.invite(&r).await.unwrap();
    }
    let before = t.sb.calls("GET /user/invites");
    let all = t.provider.list_all(&ListQuery::default()).await.unwrap();
    assert_eq!(all.len(), 250);
    assert_eq!(
        t.sb.calls("GET /user/invites") - before,
        3,
        "three pages of 100"
    );
    let mut emails: Vec<_> = all.iter().map(|i| i.email.clone()).collect();
    emails.sort();
    emails.dedup();
    assert_eq!(emails.len(), 250);

    t.provider.invite(&req("joiner@example.com")).await.unwrap();
    t.accept("joiner@example.com").await;
    let joined = t
        .provider
        .list_all(&ListQuery {
            status: Some(InviteStatus::Accepted),
            search: None,
        })
        .await
        .unwrap();
    assert_eq!(joined.len(), 1);
    assert_eq!(joined[0].email, "joiner@example.com");
    assert!(joined[0].accepted_at.is_some());
    let found = t
        .provider
        .list_all(&ListQuery {
            status: None,
            search: Some("p12".into()),
        })
        .await
        .unwrap();
    assert_eq!(found.len(), 10, "p120..p129");
    // Royalti has no expiry: the Expired filter is empty without a request.
    let expired = t
        .provider
        .list_all(&ListQuery {
            status: Some(InviteStatus::Expired),
            search: None,
        })
        .await
        .unwrap();
    assert!(expired.is_empty());
}

#[tokio::test]
async fn resend_and_cancel_only_invited_rows() {
    let t = Ry::start().await;
    let a = t
        .provider
        .invite(&req("ann@example.com"))
        .await
        .unwrap()
        .invite;
    let r = InviteRef {
        id: a.id.clone(),
        email: a.email.clone(),
    };
    let opts = ResendOptions {
        message: Some("A new note".into()),
        redirect_url: None,
    };
    let after = t.provider.resend(&r, &opts).await.unwrap();
    assert_eq!(after.message.as_deref(), Some("A new note"));
    assert_eq!(t.mail_to("ann@example.com"), 2, "a fresh email");
    t.provider.cancel(&r).await.unwrap();
    let now = t.provider.find("ann@example.com").await.unwrap().unwrap();
    assert_eq!(now.status, InviteStatus::Cancelled);
    // Cancelled: neither resent nor cancelled again, and the server is not asked to.
    let calls = t.sb.calls("POST /user/invites/{id}/resend");
    assert_eq!(
        t.provider.resend(&r, &opts).await.unwrap_err().kind(),
        "not_pending"
    );
    assert_eq!(t.sb.calls("POST /user/invites/{id}/resend"), calls);
    assert_eq!(
        t.provider.cancel(&r).await.unwrap_err().kind(),
        "not_pending"
    );

    // Joined: never cancelled.
    let b = t
        .provider
        .invite(&req("bob@example.com"))
        .await
        .unwrap()
        .invite;
    t.accept("bob@example.com").await;
    let e = t
        .provider
        .cancel(&InviteRef {
            id: b.id,
            email: b.email,
        })
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::NotPending { reason } if reason.contains("already joined")),
        "{e:?}"
    );
    // Unknown id.
    let e = t
        .provider
        .cancel(&InviteRef {
            id: "nope".into(),
            email: "nobody@example.com".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "not_found");
}

#[tokio::test]
async fn an_expiring_access_token_is_renewed_from_the_refresh_token() {
    let mut config = Config::new(Flavor::Royalti);
    // Shorter than the renewal margin: every call finds the access token about to expire.
    config.access_ttl = Duration::from_secs(60);
    let t = Ry::start_with(config, false).await;
    let before = t.sb.calls("GET /auth/authtoken");
    t.provider
        .list_page(&ListQuery::default(), 1)
        .await
        .unwrap();
    assert_eq!(t.sb.calls("GET /auth/authtoken"), before + 1);
    assert_eq!(t.sb.calls("POST /auth/login"), 1, "no new sign-in");

    // A token the server refuses (401) is renewed once and the call goes through.
    t.store
        .put(&t.ws.id, names::ACCESS_TOKEN, "garbage.token.value");
    t.provider
        .invite(&req("after401@example.com"))
        .await
        .unwrap();
    assert_eq!(t.mail_to("after401@example.com"), 1);
}

#[tokio::test]
async fn when_the_session_ends_the_kept_password_signs_in_again_or_the_owner_is_asked() {
    let mut config = Config::new(Flavor::Royalti);
    // 3 s, not 1: signing in and connecting the workspace must fit in the lifetime, and on a
    // busy machine (or under Wine) that took more than a second. The waits are a second over
    // the lifetime: expiry is checked in whole seconds.
    config.access_ttl = Duration::from_secs(3);
    config.refresh_ttl = Duration::from_secs(3);
    // Without "keep me signed in": signed out, in plain words, nothing sent.
    let t = Ry::start_with(config.clone(), false).await;
    tokio::time::sleep(Duration::from_millis(4100)).await;
    let e = t.provider.invite(&req("x@example.com")).await.unwrap_err();
    assert_eq!(e.kind(), "signed_out", "{e:?}");
    assert_eq!(t.sb.calls("POST /auth/invite"), 0);

    // With it: the password in the keychain signs in again by itself.
    let t = Ry::start_with(config, true).await;
    tokio::time::sleep(Duration::from_millis(4100)).await;
    t.provider.invite(&req("y@example.com")).await.unwrap();
    // (With lifetimes of seconds every token is "about to expire", so each call signs in.)
    assert!(t.sb.calls("POST /auth/login") >= 2);
    assert_eq!(t.sb.calls("POST /auth/invite"), 1);
    assert_eq!(t.mail_to("y@example.com"), 1);
}

#[tokio::test]
async fn a_workspace_api_key_works_and_a_revoked_one_is_named() {
    let sb = Sandbox::start(Config::new(Flavor::Royalti)).await.unwrap();
    let store = MemStore::new();
    let ws = common::workspace(
        &sb.url(),
        WorkspaceConfig::Royalti(RoyaltiOptions {
            auth_mode: RoyaltiSignIn::ApiKey,
            ..Default::default()
        }),
    );
    store.put(&ws.id, names::API_KEY, &sb.credentials().api_key);
    let p = RoyaltiProvider::new(http(), &ws, store.clone()).unwrap();
    let report = p.check_connection().await.unwrap();
    assert!(report.summary.contains("API key"), "{report:?}");
    p.invite(&req("key@example.com")).await.unwrap();
    assert_eq!(sb.mail().len(), 1);
    store.put(&ws.id, names::API_KEY, "RWAK-revoked-0000000000");
    let e = p.invite(&req("key2@example.com")).await.unwrap_err();
    assert!(
        matches!(&e, Error::NotAdmin { hint, .. } if hint.contains("API key")),
        "{e:?}"
    );
}

#[tokio::test]
async fn server_errors_keep_the_servers_words() {
    let t = Ry::start().await;
    t.fault(
        "POST /auth/invite",
        FaultAction::Status {
            status: 429,
            retry_after: Some(30),
        },
    );
    let e = t.provider.invite(&req("a@example.com")).await.unwrap_err();
    assert_eq!(e.retry_after(), Some(Duration::from_secs(30)), "{e:?}");
    t.fault(
        "POST /auth/invite",
        FaultAction::Status {
            status: 500,
            retry_after: None,
        },
    );
    let e = t.provider.invite(&req("a@example.com")).await.unwrap_err();
    assert_eq!(e.kind(), "server");
    // Reads go through 502/503 by themselves.
    for status in [502, 503] {
        t.fault(
            "GET /user/invites",
            FaultAction::Status {
                status,
                retry_after: None,
            },
        );
    }
    t.provider
        .list_page(&ListQuery::default(), 1)
        .await
        .unwrap();
    // Garbage is a plain "could not read", not a panic.
    t.fault("GET /user/invites", FaultAction::Malformed);
    t.fault("GET /user/invites", FaultAction::Malformed);
    t.fault("GET /user/invites", FaultAction::Malformed);
    let e = t
        .provider
        .list_page(&ListQuery::default(), 1)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "bad_response", "{e:?}");
}

#[tokio::test]
async fn a_lost_answer_is_uncertain_and_find_prevents_a_second_invite() {
    let t = Ry::start().await;
    // The server acts, the answer is lost.
    t.fault("POST /auth/invite", FaultAction::DropAfter);
    let e = t
        .provider
        .invite(&req("lost@example.com"))
        .await
        .unwrap_err();
    assert!(e.is_uncertain(), "{e:?}");
    // What the outbox does next: look it up, and do not send again.
    let found = t.provider.find("lost@example.com").await.unwrap().unwrap();
    assert_eq!(found.status, InviteStatus::Pending);
    assert_eq!(t.sb.calls("POST /auth/invite"), 1);
    assert_eq!(t.mail_to("lost@example.com"), 1);
    // A 502 on a write is uncertain too; this one was not carried out, so find says so.
    t.fault(
        "POST /auth/invite",
        FaultAction::Status {
            status: 502,
            retry_after: None,
        },
    );
    let e = t.provider.invite(&req("gw@example.com")).await.unwrap_err();
    assert!(e.is_uncertain(), "{e:?}");
    assert!(t.provider.find("gw@example.com").await.unwrap().is_none());
}

/// The outbox on a Royalti workspace with dropped answers and 502s: each address once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_outbox_invites_everyone_exactly_once_through_faults() {
    use invite_core::outbox::{Outbox, ProviderSource, Worker};
    struct Source(Arc<dyn Provider>);
    impl ProviderSource for Source {
        fn provider(&self, _: &str) -> invite_core::Result<Arc<dyn Provider>> {
            Ok(self.0.clone())
        }
    }
    let t = Ry::start().await;
    for _ in 0..4 {
        t.fault("POST /auth/invite", FaultAction::DropAfter);
        t.fault(
            "POST /auth/invite",
            FaultAction::Status {
                status: 502,
                retry_after: None,
            },
        );
    }
    let outbox = Outbox::open_in_memory().unwrap();
    let reqs: Vec<_> = (0..30).map(|i| req(&format!("o{i}@example.com"))).collect();
    let batch = outbox.enqueue(&t.ws.id, "Acme", &reqs).unwrap();
    let provider: Arc<dyn Provider> =
        Arc::new(RoyaltiProvider::new(http(), &t.ws, t.store.clone()).unwrap());
    let worker = Worker::spawn(outbox.clone(), Arc::new(Source(provider)), Arc::new(|_| {}));
    worker.wake();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while outbox.batch(&batch).unwrap().pending > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "batch did not finish"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    worker.shutdown().await;
    assert_eq!(outbox.batch(&batch).unwrap().done, 30);
    for i in 0..30 {
        assert_eq!(t.mail_to(&format!("o{i}@example.com")), 1, "o{i}");
    }
    assert_eq!(
        t.sb.calls("POST /auth/invite"),
        34,
        "30 invites + the 4 refused with 502; no dropped one sent again"
    );
}

#[tokio::test]
async fn a_resend_carries_the_new_message_and_landing_page() {
    let t = Ry::start().await;
    let a = t
        .provider
        .invite(&req("rita@example.com"))
        .await
        .unwrap()
        .invite;
    let r = InviteRef {
        id: a.id,
        email: a.email,
    };
    let opts = ResendOptions {
        message: Some("Second try".into()),
        redirect_url: Some("https://app.example.com/second".into()),
    };
    let after = t.provider.resend(&r, &opts).await.unwrap();
    assert_eq!(after.message.as_deref(), Some("Second try"));
    let links = t.links_to("rita@example.com");
    assert_eq!(links.len(), 2);
    assert!(
        links[1].starts_with("https://app.example.com/second?code="),
        "the new redirectUrl reached the server: {}",
        links[1]
    );
}

#[tokio::test]
async fn an_invitation_attaches_to_an_existing_tenant_user_by_user_id() {
    let t = Ry::start().await;
    let first = t
        .provider
        .invite(&req("tess@example.com"))
        .await
        .unwrap()
        .invite;
    t.provider
        .cancel(&InviteRef {
            id: first.id.clone(),
            email: first.email.clone(),
        })
        .await
        .unwrap();
    // The tenant user behind it, as the server's own list names it.
    let token = t.store.peek(&t.ws.id, names::ACCESS_TOKEN).unwrap();
    let list: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/user/invites?q=tess", t.sb.url()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let tenant_user = list["invites"][0]["TenantUserId"]
        .as_str()
        .unwrap()
        .to_string();
    let again = t
        .provider
        .invite_tenant_user(&req("tess@example.com"), Some(&tenant_user))
        .await
        .unwrap();
    assert_eq!(again.invite.status, InviteStatus::Pending);
    assert_ne!(again.invite.id, first.id, "a new active invitation");
    assert_eq!(t.mail_to("tess@example.com"), 2);
    // A tenant user the server does not know: named, not a crash, nothing sent.
    let e = t
        .provider
        .invite_tenant_user(&req("tess@example.com"), Some("no-such-user"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "not_found", "{e:?}");
    assert_eq!(t.mail_to("tess@example.com"), 2);
}

#[tokio::test]
async fn refusals_from_the_server_itself_are_mapped() {
    let t = Ry::start().await;
    // 403 on invite: the role changed on the server since sign-in.
    t.fault(
        "POST /auth/invite",
        FaultAction::Status {
            status: 403,
            retry_after: None,
        },
    );
    let e = t
        .provider
        .invite(&req("uma@example.com"))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::NotAdmin { hint, .. } if hint.contains("owners and admins")),
        "{e:?}"
    );
    assert_eq!(t.sb.calls("POST /auth/invite"), 1, "never retried");
    // 404 on resend of a row the server no longer has.
    let a = t
        .provider
        .invite(&req("vic@example.com"))
        .await
        .unwrap()
        .invite;
    t.fault(
        "POST /user/invites/{id}/resend",
        FaultAction::Status {
            status: 404,
            retry_after: None,
        },
    );
    let e = t
        .provider
        .resend(
            &InviteRef {
                id: a.id,
                email: a.email,
            },
            &ResendOptions::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "not_found", "{e:?}");
}

#[tokio::test]
async fn a_server_that_cannot_be_reached_is_a_network_error() {
    let t = Ry::start().await;
    // The same workspace, pointed at a port nothing listens on.
    let url = format!("http://{NOTHING_LISTENS}");
    let mut ws = t.ws.clone();
    ws.base_url = url;
    let p = RoyaltiProvider::new(http(), &ws, t.store.clone()).unwrap();
    let e = p.invite(&req("wes@example.com")).await.unwrap_err();
    assert_eq!(e.kind(), "network", "{e:?}");
    assert!(e.is_transient());
    let e = p.list_page(&ListQuery::default(), 1).await.unwrap_err();
    assert_eq!(e.kind(), "network", "{e:?}");
}
