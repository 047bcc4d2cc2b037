//! The outbox under the server's limits, a sign-out and an app killed mid-batch, against the real
//! sandbox over HTTP. Every address ends invited exactly once, nothing is dropped.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use invite_core::http::Http;
use invite_core::model::{InviteRequest, WorkspaceKind};
use invite_core::outbox::{
    BatchSummary, Job, JobState, Outbox, OutboxEvent, ProviderSource, Worker,
};
use invite_core::provider::Provider;
use invite_core::providers::supabase::SupabaseProvider;
use invite_core::secret::{names, MemoryStore, SecretStore, Sensitive};
use invite_core::workspace::{Workspace, WorkspaceOptions};
use invite_sandbox::{Config, Fault, FaultAction, Flavor, Sandbox};

struct Source(Arc<dyn Provider>);

impl ProviderSource for Source {
    fn provider(&self, _: &str) -> invite_core::Result<Arc<dyn Provider>> {
        Ok(self.0.clone())
    }
}

fn provider(sandbox_url: &str, secrets: &MemoryStore) -> Arc<dyn Provider> {
    let ws = Workspace {
        id: "ws".into(),
        name: "Acme".into(),
        kind: WorkspaceKind::Supabase,
        base_url: sandbox_url.into(),
        options: WorkspaceOptions::default(),
        demo: false,
    };
    let http = Http::with_timeout(Duration::from_secs(5)).unwrap();
    Arc::new(SupabaseProvider::new(http, &ws, Arc::new(secrets.clone())).unwrap())
}

fn key(secrets: &MemoryStore, value: &str) {
    secrets
        .set("ws", names::SECRET_KEY, &Sensitive::new(value.to_string()))
        .unwrap();
}

fn requests(n: usize, tag: &str) -> Vec<InviteRequest> {
    (0..n)
        .map(|i| InviteRequest {
            email: format!("{tag}{i}@example.com"),
            send_email: true,
            ..Default::default()
        })
        .collect()
}

async fn wait_for(
    outbox: &Outbox,
    batch: &str,
    secs: u64,
    done: impl Fn(&BatchSummary, &[Job]) -> bool,
) -> Vec<Job> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let s = outbox.batch(batch).unwrap();
        let jobs = outbox.jobs(batch).unwrap();
        if done(&s, &jobs) {
            return jobs;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "gave up waiting: {s:?} {jobs:#?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn one_mail_each(sandbox: &Sandbox, n: usize) {
    let mail = sandbox.mail();
    let mut to: Vec<_> = mail.iter().map(|m| m.to.clone()).collect();
    to.sort();
    to.dedup();
    assert_eq!((mail.len(), to.len()), (n, n), "one email per address");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_email_limit_makes_jobs_wait_and_then_they_all_go() {
    let mut config = Config::new(Flavor::Supabase);
    config.email_limit = 5;
    config.email_window = Duration::from_secs(2);
    config.retry_after_header = true;
    let sandbox = Sandbox::start(config).await.unwrap();
    let secrets = MemoryStore::new();
    key(&secrets, &sandbox.credentials().service_role_key);
    let outbox = Outbox::open_in_memory().unwrap();
    let batch = outbox
        .enqueue("ws", "Acme", &requests(12, "limit"))
        .unwrap();
    let seen: Arc<Mutex<Vec<Job>>> = Arc::default();
    let sink = seen.clone();
    let worker = Worker::spawn(
        outbox.clone(),
        Arc::new(Source(provider(&sandbox.url(), &secrets))),
        Arc::new(move |ev| {
            if let OutboxEvent::JobChanged { job } = ev {
                sink.lock().unwrap().push(job);
            }
        }),
    );
    worker.wake();
    let jobs = wait_for(&outbox, &batch, 60, |s, _| s.pending == 0).await;
    worker.shutdown().await;
    assert!(jobs.iter().all(|j| j.state == JobState::Done), "{jobs:#?}");
    one_mail_each(&sandbox, 12);
    // The limit was met, seen by the owner as "waiting" with a next try, not as a failure.
    let waited: Vec<Job> = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|j| j.state == JobState::Waiting)
        .cloned()
        .collect();
    assert!(!waited.is_empty(), "no job ever waited");
    assert!(waited.iter().all(|j| j.next_attempt_at.is_some()
        && j.last_error
            .as_ref()
            .is_some_and(|e| e.kind == "rate_limited")));
    // Holding the whole workspace keeps refusals few: far fewer than one per job per window.
    let refused = sandbox.calls("POST /invite") - 12;
    assert!(refused <= 12, "{refused} invites refused with 429");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_jobs_switch_to_links_which_are_not_rate_limited() {
    let mut config = Config::new(Flavor::Supabase);
    config.email_limit = 5;
    let sandbox = Sandbox::start(config).await.unwrap();
    let secrets = MemoryStore::new();
    key(&secrets, &sandbox.credentials().service_role_key);
    let outbox = Outbox::open_in_memory().unwrap();
    let batch = outbox.enqueue("ws", "Acme", &requests(9, "links")).unwrap();
    let worker = Worker::spawn(
        outbox.clone(),
        Arc::new(Source(provider(&sandbox.url(), &secrets))),
        Arc::new(|_| {}),
    );
    worker.wake();
    wait_for(&outbox, &batch, 20, |s, _| s.done == 5 && s.waiting == 4).await;
    assert_eq!(outbox.switch_to_links(&batch).unwrap(), 4);
    worker.wake();
    let jobs = wait_for(&outbox, &batch, 20, |s, _| s.pending == 0).await;
    worker.shutdown().await;
    let linked: Vec<&Job> = jobs
        .iter()
        .filter(|j| j.outcome.as_deref() == Some("link_created"))
        .collect();
    assert_eq!(linked.len(), 4, "{jobs:#?}");
    assert!(linked
        .iter()
        .all(|j| j.link.as_deref().is_some_and(|l| l.starts_with("http"))));
    assert_eq!(sandbox.mail().len(), 5, "only the first five got an email");
    assert_eq!(sandbox.calls("POST /admin/generate_link"), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_key_pauses_the_workspace_and_resume_sends_everything_once() {
    let sandbox = Sandbox::start(Config::new(Flavor::Supabase)).await.unwrap();
    let secrets = MemoryStore::new();
    // A key of another project (rotated, or pasted from the wrong tab).
    key(&secrets, "sb_secret_not-this-projects-key-000000000000");
    let outbox = Outbox::open_in_memory().unwrap();
    let batch = outbox.enqueue("ws", "Acme", &requests(5, "pause")).unwrap();
    let paused: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = paused.clone();
    let worker = Worker::spawn(
        outbox.clone(),
        Arc::new(Source(provider(&sandbox.url(), &secrets))),
        Arc::new(move |ev| {
            if let OutboxEvent::WorkspacePaused { reason, .. } = ev {
                sink.lock().unwrap().push(reason);
            }
        }),
    );
    worker.wake();
    let jobs = wait_for(&outbox, &batch, 20, |s, _| s.paused == 5).await;
    assert!(
        jobs.iter().all(|j| j.state == JobState::Paused),
        "{jobs:#?}"
    );
    assert!(!paused.lock().unwrap().is_empty());
    assert_eq!(outbox.paused_workspaces().unwrap()[0].0, "ws");
    // A batch added while paused waits too.
    let later = outbox.enqueue("ws", "Acme", &requests(2, "later")).unwrap();
    assert_eq!(outbox.batch(&later).unwrap().paused, 2);
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(sandbox.mail().len(), 0);

    // The owner pastes the right key and resumes.
    key(&secrets, &sandbox.credentials().secret_key);
    assert_eq!(outbox.resume_workspace("ws").unwrap(), 7);
    worker.wake();
    wait_for(&outbox, &batch, 20, |s, _| s.done == 5).await;
    wait_for(&outbox, &later, 20, |s, _| s.done == 2).await;
    worker.shutdown().await;
    one_mail_each(&sandbox, 7);
    assert!(outbox.paused_workspaces().unwrap().is_empty());
}

/// Runs the "app" (the `crash_child` test) on `db` until it has made `calls` invite requests in
/// all, then kills it with SIGKILL: no destructor, no flush, requests in flight.
async fn kill_child_at(sandbox: &Sandbox, db: &std::path::Path, calls: u64) {
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "crash_child", "--ignored", "--nocapture"])
        .env("CRASH_CHILD_DB", db)
        .env("CRASH_CHILD_URL", sandbox.url())
        .env("CRASH_CHILD_KEY", &sandbox.credentials().service_role_key)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while sandbox.calls("POST /invite") < calls {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the app stopped sending"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

/// Kills the app several times at random points of a 1,000-address batch, restarts it each
/// time, and finishes in a last run: every address ends invited exactly once.
async fn crash_and_resume(sandbox: &Sandbox, tag: &str) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("outbox.sqlite3");
    let n = 1000;
    let batch = {
        let outbox = Outbox::open(&db).unwrap();
        outbox.enqueue("ws", "Acme", &requests(n, tag)).unwrap()
    };
    let mut uncertain_seen = 0;
    for round in 0..4u64 {
        let at = sandbox.calls("POST /invite") + 60 + rand::random::<u64>() % 150;
        kill_child_at(sandbox, &db, at).await;
        let outbox = Outbox::open(&db).unwrap();
        let s = outbox.batch(&batch).unwrap();
        assert!(
            s.pending > 0,
            "round {round}: the batch finished before the kill"
        );
        uncertain_seen += outbox
            .jobs(&batch)
            .unwrap()
            .iter()
            .filter(|j| j.state == JobState::Uncertain)
            .count();
    }
    assert!(uncertain_seen > 0, "no kill left a request in flight");

    let outbox = Outbox::open(&db).unwrap();
    let secrets = MemoryStore::new();
    key(&secrets, &sandbox.credentials().service_role_key);
    let worker = Worker::spawn(
        outbox.clone(),
        Arc::new(Source(provider(&sandbox.url(), &secrets))),
        Arc::new(|_| {}),
    );
    worker.wake();
    let jobs = wait_for(&outbox, &batch, 120, |s, _| s.pending == 0).await;
    worker.shutdown().await;
    assert!(jobs.iter().all(|j| j.state == JobState::Done), "{jobs:#?}");
    one_mail_each(sandbox, n);
}

fn crash_sandbox_config() -> Config {
    let mut config = Config::new(Flavor::Supabase);
    config.email_limit = 100_000;
    config.latency = Duration::from_millis(20);
    config
}

/// The app killed with SIGKILL in the middle of a batch, four times: jobs in flight become
/// "uncertain", are looked up on the next start, and nobody gets a second email.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_app_resumes_without_inviting_anyone_twice() {
    let sandbox = Sandbox::start(crash_sandbox_config()).await.unwrap();
    crash_and_resume(&sandbox, "crash").await;
}

/// The same with the server dropping answers (after acting) and failing with 502 on about a
/// tenth of the invite calls.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_app_on_a_flaky_server_still_invites_everyone_once() {
    let sandbox = Sandbox::start(crash_sandbox_config()).await.unwrap();
    for _ in 0..50 {
        sandbox.inject(Fault {
            route: Some("POST /invite".into()),
            count: 1,
            action: FaultAction::DropAfter,
        });
        sandbox.inject(Fault {
            route: Some("POST /invite".into()),
            count: 1,
            action: FaultAction::Status {
                status: 502,
                retry_after: None,
            },
        });
    }
    crash_and_resume(&sandbox, "flaky").await;
}

/// The app process of the test above: sends the batch until it is killed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run by a_killed_app_resumes_without_inviting_anyone_twice as a child process"]
async fn crash_child() {
    let db = std::env::var("CRASH_CHILD_DB").expect("run by the crash test");
    let url = std::env::var("CRASH_CHILD_URL").unwrap();
    let secrets = MemoryStore::new();
    key(&secrets, &std::env::var("CRASH_CHILD_KEY").unwrap());
    let outbox = Outbox::open(std::path::Path::new(&db)).unwrap();
    let worker = Worker::spawn(
        outbox,
        Arc::new(Source(provider(&url, &secrets))),
        Arc::new(|_| {}),
    );
    worker.wake();
    tokio::time::sleep(Duration::from_secs(60)).await;
}
