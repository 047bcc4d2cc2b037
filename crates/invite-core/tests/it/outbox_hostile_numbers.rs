//! A server that answers a 429 with a hostile `Retry-After` (ten trillion seconds, a negative
//! number, a date in year 9999, garbage) neither panics the worker nor parks the queue: over the
//! real sandbox and the real outbox, each batch finishes, no job is left `sending`, and a capped
//! wait says so in the row.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::wait_for;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use invite_core::http::{Http, MAX_RETRY_AFTER};
use invite_core::model::InviteRequest;
use invite_core::outbox::{Job, JobState, Outbox, OutboxEvent, ProviderSource, Worker};
use invite_core::provider::Provider;
use invite_core::providers::supabase::SupabaseProvider;
use invite_sandbox::{Config, Fault, FaultAction, Flavor, Sandbox};

struct Source(Arc<dyn Provider>);

impl ProviderSource for Source {
    fn provider(&self, _: &str) -> invite_core::Result<Arc<dyn Provider>> {
        Ok(self.0.clone())
    }
}

fn provider(sandbox: &Sandbox) -> Arc<dyn Provider> {
    let (ws, secrets) = crate::common::supabase_workspace(sandbox);
    let http = Http::with_timeout(Duration::from_secs(30)).unwrap();
    Arc::new(SupabaseProvider::new(http, &ws, Arc::new(secrets)).unwrap())
}

/// Runs a batch of three whose first invite meets `value`; returns the jobs at the end and
/// every waiting row the owner was shown.
async fn batch_meeting(value: &str, capped: bool) -> (Vec<Job>, Vec<Job>, Sandbox) {
    let sandbox = Sandbox::start(Config::new(Flavor::Supabase)).await.unwrap();
    sandbox.inject(Fault::new(
        Some("POST /invite"),
        1,
        FaultAction::RawRetryAfter {
            status: 429,
            value: value.into(),
        },
    ));
    let outbox = Outbox::open_in_memory().unwrap();
    let requests: Vec<InviteRequest> = (0..3)
        .map(|i| InviteRequest {
            email: format!("hostile{i}@example.com"),
            send_email: true,
            ..Default::default()
        })
        .collect();
    let batch = outbox.enqueue("ws", "Acme", &requests).unwrap();
    let waited: Arc<Mutex<Vec<Job>>> = Arc::default();
    let sink = waited.clone();
    let worker = Worker::spawn(
        outbox.clone(),
        Arc::new(Source(provider(&sandbox))),
        Arc::new(move |ev| {
            if let OutboxEvent::JobChanged { job } = ev {
                if job.state == JobState::Waiting {
                    sink.lock().unwrap().push(*job);
                }
            }
        }),
    );
    worker.wake();
    if capped {
        // The refused job waits an hour at most (not ten trillion seconds, not until 9999)...
        let jobs = wait_for(&outbox, &batch, 30, |s, _| s.waiting > 0).await;
        let w = jobs.iter().find(|j| j.state == JobState::Waiting).unwrap();
        let next = w.next_attempt_at.unwrap();
        let limit = Utc::now() + chrono::Duration::from_std(MAX_RETRY_AFTER).unwrap();
        assert!(next <= limit, "{value}: waits until {next}");
        assert!(
            next > Utc::now() + chrono::Duration::minutes(50),
            "{value}: the capped wait is still the server's (long) wish: {next}"
        );
        // ...and the row says the server's wish was cut.
        let e = w.last_error.as_ref().unwrap();
        assert_eq!(e.kind, "rate_limited");
        let detail = e.detail.as_deref().unwrap_or_default();
        assert!(
            detail.contains("at most 1 hour") && detail.contains(value),
            "{value}: {detail}"
        );
        // The owner resumes by hand rather than wait the hour: the batch then finishes.
        outbox.pause_workspace("ws", "owner").unwrap();
        outbox.resume_workspace("ws").unwrap();
        worker.wake();
    }
    let jobs = wait_for(&outbox, &batch, 60, |s, _| s.pending == 0 && s.paused == 0).await;
    worker.shutdown().await;
    let waited = waited.lock().unwrap().clone();
    (jobs, waited, sandbox)
}

fn finished_once_each(value: &str, jobs: &[Job], sandbox: &Sandbox) {
    assert!(
        jobs.iter().all(|j| j.state == JobState::Done),
        "{value}: {jobs:#?}"
    );
    assert!(!jobs.iter().any(|j| j.state == JobState::Sending));
    let mut to: Vec<String> = sandbox.mail().iter().map(|m| m.to.clone()).collect();
    to.sort();
    to.dedup();
    assert_eq!(
        (sandbox.mail().len(), to.len()),
        (3, 3),
        "{value}: one email each"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_or_far_retry_after_is_capped_at_an_hour_and_said_so() {
    for value in ["10000000000000", "Fri, 31 Dec 9999 23:59:59 GMT"] {
        let (jobs, _, sandbox) = batch_meeting(value, true).await;
        finished_once_each(value, &jobs, &sandbox);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreadable_retry_after_falls_back_to_the_usual_backoff() {
    for value in ["-5", "soon-ish garbage"] {
        let (jobs, waited, sandbox) = batch_meeting(value, false).await;
        finished_once_each(value, &jobs, &sandbox);
        // It waited the usual seconds, and the row said why the server's value was not used.
        let w = waited
            .iter()
            .find(|j| {
                j.last_error
                    .as_ref()
                    .is_some_and(|e| e.kind == "rate_limited")
            })
            .unwrap_or_else(|| panic!("{value}: no job waited: {waited:#?}"));
        let detail = w.last_error.as_ref().unwrap().detail.clone().unwrap();
        assert!(detail.contains("could not be read"), "{value}: {detail}");
        assert!(w.next_attempt_at.unwrap() <= Utc::now() + chrono::Duration::minutes(1));
    }
}
