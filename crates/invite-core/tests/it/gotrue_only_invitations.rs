//! Cancel, resend and copy-link touch only invitations, on every GoTrue back end (Supabase,
//! self-hosted GoTrue of both forks, Netlify through the function): a reference to someone who
//! signed up by themselves, or who has confirmed, is refused before any request that changes
//! anything. Over real HTTP against the sandbox, whose call counters show what was sent.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::*;
use invite_core::model::{InviteRef, InviteRequest, ResendOptions};
use invite_core::provider::Provider;
use invite_core::providers::gotrue_common::AdminApi;
use invite_core::workspace::{GotrueFork, GotrueSignIn};
use invite_core::Error;
use serde_json::{json, Value};

fn fresh(tag: &str) -> String {
    format!(
        "{tag}-{}@example.com",
        &uuid::Uuid::new_v4().to_string()[..8]
    )
}

fn req(email: &str) -> InviteRequest {
    InviteRequest {
        email: email.into(),
        message: None,
        redirect_url: None,
        send_email: true,
    }
}

/// Makes a user the way a sign-up does (no invitation), through the server's admin API at
/// `admin_root` (`…/admin/users`), confirmed or not. Returns its id.
async fn signed_up(admin_root: &str, bearer: &str, email: &str, confirmed: bool) -> String {
    let r = reqwest::Client::new()
        .post(format!("{admin_root}/admin/users"))
        .bearer_auth(bearer)
        .json(&json!({"email": email, "password": "self-chosen-1", "email_confirm": confirmed, "confirm": confirmed}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let v: Value = r.json().await.unwrap();
    assert!(v["invited_at"].is_null(), "not an invitation: {v}");
    v["id"].as_str().unwrap().to_string()
}

/// The counters of every route that changes something on the server.
fn writes(base: &Base, routes: &[&str]) -> Vec<usize> {
    routes.iter().map(|r| base.calls(r)).collect()
}

/// Cancel, resend and (where offered) copy-link on `r` are all refused as not pending, naming
/// the address, and none of `write_routes` saw a request.
async fn refused(p: &dyn Provider, base: &Base, r: &InviteRef, write_routes: &[&str], why: &str) {
    let before = writes(base, write_routes);
    let mut errors = vec![
        p.cancel(r).await.map(|_| ()).unwrap_err(),
        p.resend(
            r,
            &ResendOptions {
                message: Some("new words".into()),
                redirect_url: None,
            },
        )
        .await
        .map(|_| ())
        .unwrap_err(),
    ];
    if p.capabilities().copy_link {
        errors.push(p.link(r, None).await.map(|_| ()).unwrap_err());
    }
    for e in errors {
        assert!(
            matches!(&e, Error::NotPending { reason } if reason.contains(&r.email) && reason.contains(why)),
            "{} ({why}): {e:?}",
            r.email
        );
    }
    assert_eq!(
        writes(base, write_routes),
        before,
        "{}: nothing was changed on the server ({write_routes:?})",
        r.email
    );
}

const REST_WRITES: &[&str] = &[
    "DELETE /admin/users/{id}",
    "POST /invite",
    "POST /admin/generate_link",
    "PUT /admin/users/{id}",
];

#[tokio::test]
async fn supabase_refuses_sign_ups_and_members() {
    let t = Supa::start().await;
    let key = t.creds.service_role_key.clone();
    let unconfirmed = fresh("self");
    let confirmed = fresh("selfok");
    let accepted = fresh("acc");
    let refs = [
        (
            signed_up(&t.url, &key, &unconfirmed, false).await,
            unconfirmed,
            "signed up",
        ),
        (
            signed_up(&t.url, &key, &confirmed, true).await,
            confirmed,
            "signed up",
        ),
        (
            t.provider.invite(&req(&accepted)).await.unwrap().invite.id,
            accepted.clone(),
            "accepted",
        ),
    ];
    t.accept(&accepted).await;
    for (id, email, why) in refs {
        let r = InviteRef { id, email };
        refused(&t.provider, &t, &r, REST_WRITES, why).await;
    }
}

#[tokio::test]
async fn self_hosted_gotrue_of_both_forks_refuses_sign_ups_and_members() {
    for fork in [Fork::Supabase, Fork::Netlify] {
        let t = Hosted::start(fork, GotrueSignIn::JwtSecret, GotrueFork::Auto).await;
        let bearer = match fork {
            Fork::Supabase => t.creds.service_role_key.clone(),
            Fork::Netlify => t.creds.operator_token.clone(),
        };
        let unconfirmed = fresh("self");
        let confirmed = fresh("selfok");
        let accepted = fresh("acc");
        let accepted_id = t.provider.invite(&req(&accepted)).await.unwrap().invite.id;
        t.accept(&accepted).await;
        for (id, email, why) in [
            (
                signed_up(&t.url, &bearer, &unconfirmed, false).await,
                unconfirmed,
                "signed up",
            ),
            (
                signed_up(&t.url, &bearer, &confirmed, true).await,
                confirmed,
                "signed up",
            ),
            (accepted_id, accepted, "accepted"),
        ] {
            let r = InviteRef { id, email };
            refused(&t.provider, &t, &r, REST_WRITES, why).await;
        }
        // A pending invitation still goes (the check does not refuse everything).
        let pending = fresh("pend");
        let id = t.provider.invite(&req(&pending)).await.unwrap().invite.id;
        t.provider
            .cancel(&InviteRef {
                id,
                email: pending.clone(),
            })
            .await
            .unwrap();
        assert!(t.provider.find(&pending).await.unwrap().is_none());
    }
}

#[tokio::test]
async fn netlify_refuses_sign_ups_members_and_admins_in_the_app_and_in_the_function() {
    let t = Nf::start().await;
    let identity = format!("{}/.netlify/identity", t.url);
    let op = t.creds.operator_token.clone();
    let unconfirmed = fresh("self");
    let confirmed = fresh("selfok");
    let accepted = fresh("acc");
    let accepted_id = t.provider.invite(&req(&accepted)).await.unwrap().invite.id;
    t.accept(&accepted).await;
    let fn_writes = &[
        "DELETE /.netlify/functions/invite-desk/users/{id}",
        "POST /.netlify/functions/invite-desk/invite",
    ];
    let mut refs = vec![
        (
            signed_up(&identity, &op, &unconfirmed, false).await,
            unconfirmed,
            "signed up",
        ),
        (
            signed_up(&identity, &op, &confirmed, true).await,
            confirmed,
            "signed up",
        ),
        (accepted_id, accepted, "accepted"),
    ];
    // The member and the admin (the owner) were seeded confirmed without an invitation.
    for email in [t.creds.member_email.clone(), t.creds.owner_email.clone()] {
        let users: Value = reqwest::Client::new()
            .get(format!("{identity}/admin/users?filter={email}"))
            .bearer_auth(&op)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = users["users"][0]["id"].as_str().unwrap().to_string();
        refs.push((id, email, "signed up"));
    }
    for (id, email, why) in &refs {
        let r = InviteRef {
            id: id.clone(),
            email: email.clone(),
        };
        refused(&t.provider, &t, &r, fn_writes, why).await;
    }
    // Past the app's own check, straight to the function's DELETE: it refuses too (409), and
    // every one of them is still there.
    for (id, email, _) in &refs {
        let e = t.provider.delete_user(id).await.unwrap_err();
        assert!(
            matches!(&e, Error::NotPending { reason } if reason.contains(email.as_str())),
            "{email}: {e:?}"
        );
        let u = t.provider.get_user(id).await.unwrap();
        assert_eq!(u.email_lower(), *email);
    }
    // Through the function the list and one user carry the name and message, nothing else.
    let named = fresh("named");
    let r = reqwest::Client::new()
        .post(format!("{identity}/invite"))
        .bearer_auth(&op)
        .json(&json!({"email": named, "data": {"full_name": "Ann Named", "invite_message": "Hi Ann"}}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let listed = t.provider.find(&named).await.unwrap().unwrap();
    assert_eq!(listed.name.as_deref(), Some("Ann Named"));
    // Resend through the function keeps the name and the message it could only read slimmed.
    let again = t
        .provider
        .resend(
            &InviteRef {
                id: listed.id.clone(),
                email: named.clone(),
            },
            &ResendOptions::default(),
        )
        .await
        .unwrap();
    assert_ne!(again.id, listed.id);
    assert_eq!(
        (again.name.as_deref(), again.message.as_deref()),
        (Some("Ann Named"), Some("Hi Ann"))
    );
}
