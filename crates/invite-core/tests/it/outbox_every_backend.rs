//! The outbox's exactly-once promise on every GoTrue back end, not only Supabase: self-hosted
//! GoTrue of both forks (minted admin tokens) and Netlify Identity through the Invite Desk
//! function. A batch meets lost answers and gateway 502s spread over it; every address ends
//! invited with exactly one email.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use crate::common::{http, Fork, Hosted, Nf};
use invite_core::model::InviteRequest;
use invite_core::outbox::{JobState, Outbox, ProviderSource, Worker};
use invite_core::provider::Provider;
use invite_core::providers::gotrue::GotrueProvider;
use invite_core::providers::netlify::NetlifyProvider;
use invite_core::workspace::{GotrueFork, GotrueSignIn};
use invite_sandbox::{Fault, FaultAction, Sandbox};

struct Source(Arc<dyn Provider>);

impl ProviderSource for Source {
    fn provider(&self, _: &str) -> invite_core::Result<Arc<dyn Provider>> {
        Ok(self.0.clone())
    }
}

/// Arms faults on `route` spread over the batch: every 5th answer lost after the server acted,
/// every 7th a 502 after acting, every 11th a 502 without acting.
fn spread_faults(sb: &Sandbox, route: &str) -> u64 {
    let f = |count, action| Fault {
        route: Some(route.into()),
        count,
        action,
    };
    sb.inject(f(3, FaultAction::DropAfter).every(5));
    sb.inject(
        f(
            2,
            FaultAction::StatusAfter {
                status: 502,
                retry_after: None,
            },
        )
        .every(7),
    );
    sb.inject(
        f(
            2,
            FaultAction::Status {
                status: 502,
                retry_after: None,
            },
        )
        .every(11),
    );
    2
}

async fn send_all(sb: &Sandbox, provider: Arc<dyn Provider>, route: &str, tag: &str) {
    let refused = spread_faults(sb, route);
    let n = 24;
    let outbox = Outbox::open_in_memory().unwrap();
    let reqs: Vec<InviteRequest> = (0..n)
        .map(|i| InviteRequest {
            email: format!("{tag}{i}@example.com"),
            send_email: true,
            ..Default::default()
        })
        .collect();
    let batch = outbox.enqueue("ws", "Acme", &reqs).unwrap();
    let worker = Worker::spawn(outbox.clone(), Arc::new(Source(provider)), Arc::new(|_| {}));
    worker.wake();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while outbox.batch(&batch).unwrap().pending > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{tag}: {:#?}",
            outbox.jobs(&batch).unwrap()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    worker.shutdown().await;
    let jobs = outbox.jobs(&batch).unwrap();
    assert!(
        jobs.iter().all(|j| j.state == JobState::Done),
        "{tag}: {jobs:#?}"
    );
    let mail = sb.mail();
    for r in &reqs {
        let got = mail.iter().filter(|m| m.to == r.email).count();
        assert_eq!(got, 1, "{tag}: {} got {got} emails", r.email);
    }
    // One request per address, plus the two the server refused without acting.
    assert_eq!(
        sb.calls(route),
        n as u64 + refused,
        "{tag}: no invite was sent twice"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn self_hosted_gotrue_of_either_fork_invites_everyone_once_through_faults() {
    for (fork, tag) in [(Fork::Supabase, "sh-s"), (Fork::Netlify, "sh-n")] {
        let t = Hosted::start(fork, GotrueSignIn::JwtSecret, GotrueFork::Auto).await;
        let p = GotrueProvider::new(http(), &t.ws, t.store.clone()).unwrap();
        send_all(&t.sb, Arc::new(p), "POST /invite", tag).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn netlify_identity_invites_everyone_once_through_faults() {
    let t = Nf::start().await;
    let p = NetlifyProvider::new(http(), &t.ws, t.store.clone()).unwrap();
    send_all(
        &t.sb,
        Arc::new(p),
        "POST /.netlify/functions/invite-desk/invite",
        "nf",
    )
    .await;
}
