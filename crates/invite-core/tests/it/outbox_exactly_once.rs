//! The outbox against the real sandbox over HTTP: lost answers and server faults never make
//! anyone invited twice, and every address ends done.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use invite_core::http::Http;
use invite_core::model::InviteRequest;
use invite_core::outbox::{JobState, Outbox, ProviderSource, Worker};
use invite_core::provider::Provider;
use invite_core::providers::supabase::SupabaseProvider;
use invite_sandbox::{Config, Fault, FaultAction, Flavor, Sandbox};

struct Source(Arc<dyn Provider>);

impl ProviderSource for Source {
    fn provider(&self, _: &str) -> invite_core::Result<Arc<dyn Provider>> {
        Ok(self.0.clone())
    }
    fn concurrency(&self, _: &str) -> usize {
        8
    }
}

async fn run_batch(sandbox: &Sandbox, outbox: &Outbox, n: usize) -> String {
    let (ws, secrets) = crate::common::supabase_workspace(sandbox);
    let http = Http::with_timeout(Duration::from_secs(5)).unwrap();
    let provider: Arc<dyn Provider> =
        Arc::new(SupabaseProvider::new(http, &ws, Arc::new(secrets)).unwrap());
    let reqs: Vec<InviteRequest> = (0..n)
        .map(|i| InviteRequest {
            email: format!("person{i}@example.com"),
            send_email: true,
            ..Default::default()
        })
        .collect();
    let batch = outbox.enqueue("ws", "Acme", &reqs).unwrap();
    let worker = Worker::spawn(outbox.clone(), Arc::new(Source(provider)), Arc::new(|_| {}));
    worker.wake();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let s = outbox.batch(&batch).unwrap();
        if s.pending == 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "batch did not finish: {s:?} {:?}",
            outbox
                .jobs(&batch)
                .unwrap()
                .iter()
                .filter(|j| j.state != JobState::Done)
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    worker.shutdown().await;
    batch
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_answers_and_502s_invite_everyone_exactly_once() {
    let mut config = Config::new(Flavor::Supabase);
    config.email_limit = 1000;
    let sandbox = Sandbox::start(config).await.unwrap();
    // The server carries out the invite and the answer is lost, on several requests.
    sandbox.inject(Fault {
        route: Some("POST /invite".into()),
        count: 5,
        action: FaultAction::DropAfter,
    });
    let outbox = Outbox::open_in_memory().unwrap();
    let batch = run_batch(&sandbox, &outbox, 40).await;
    let jobs = outbox.jobs(&batch).unwrap();
    assert!(jobs.iter().all(|j| j.state == JobState::Done), "{jobs:?}");
    let mail = sandbox.mail();
    assert_eq!(mail.len(), 40, "every address got exactly one email");
    let mut to: Vec<_> = mail.iter().map(|m| m.to.clone()).collect();
    to.sort();
    to.dedup();
    assert_eq!(to.len(), 40);
    assert_eq!(
        sandbox.calls("POST /invite"),
        40,
        "no invite was sent twice"
    );

    // 502 before anything happened: looked up, then sent once.
    sandbox.reset();
    sandbox.inject(Fault {
        route: Some("POST /invite".into()),
        count: 4,
        action: FaultAction::Status {
            status: 502,
            retry_after: None,
        },
    });
    let outbox = Outbox::open_in_memory().unwrap();
    let batch = run_batch(&sandbox, &outbox, 20).await;
    assert!(outbox
        .jobs(&batch)
        .unwrap()
        .iter()
        .all(|j| j.state == JobState::Done));
    assert_eq!(sandbox.mail().len(), 20);
    assert_eq!(
        sandbox.calls("POST /invite"),
        24,
        "20 invites plus the 4 refused with 502"
    );
}
