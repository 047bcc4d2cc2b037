//! Two processes (the window and the command line, say) working one outbox file at once: claims
//! with a lease make every address invited exactly once, with lost answers and server faults
//! spread over the batch. The test binary runs itself twice as the worker processes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use invite_core::http::Http;
use invite_core::model::{InviteRequest, WorkspaceKind};
use invite_core::outbox::{JobState, Outbox, OutboxEvent, ProviderSource, Worker};
use invite_core::provider::Provider;
use invite_core::providers::supabase::SupabaseProvider;
use invite_core::secret::{names, MemoryStore, SecretStore, Sensitive};
use invite_core::workspace::Workspace;
use invite_sandbox::{Config, Fault, FaultAction, Flavor, Sandbox};

const ADDRESSES: usize = 500;
/// Set (to the database path) in the environment of a worker process.
const CHILD_DB: &str = "INVITE_DESK_TEST_OUTBOX_DB";
const CHILD_URL: &str = "INVITE_DESK_TEST_SANDBOX_URL";
const CHILD_KEY: &str = "INVITE_DESK_TEST_SANDBOX_KEY";
const CHILD_BATCH: &str = "INVITE_DESK_TEST_BATCH";
/// What a worker process prints: the jobs it finished itself.
const FINISHED: &str = "jobs finished by this process: ";

struct Source(Arc<dyn Provider>);

impl ProviderSource for Source {
    fn provider(&self, _: &str) -> invite_core::Result<Arc<dyn Provider>> {
        Ok(self.0.clone())
    }
    fn concurrency(&self, _: &str) -> usize {
        8
    }
}

fn provider(url: &str, key: &str) -> Arc<dyn Provider> {
    let secrets = MemoryStore::new();
    secrets
        .set("ws", names::SECRET_KEY, &Sensitive::new(key.to_string()))
        .unwrap();
    let ws = Workspace {
        id: "ws".into(),
        name: "Acme".into(),
        base_url: url.to_string(),
        config: invite_core::workspace::WorkspaceConfig::default_for(WorkspaceKind::Supabase),
        demo: false,
    };
    let http = Http::with_timeout(Duration::from_secs(5)).unwrap();
    Arc::new(SupabaseProvider::new(http, &ws, Arc::new(secrets)).unwrap())
}

/// One worker process: opens the shared file, works until the batch has no job left, and says
/// how many jobs it finished itself. Started by `two_processes_invite_everyone_exactly_once`
/// (it reads its database and sandbox from the environment); on its own it has nothing to do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a worker process of two_processes_invite_everyone_exactly_once"]
async fn child_worker() {
    let Ok(db) = std::env::var(CHILD_DB) else {
        eprintln!("child_worker runs only as a process started by the two-process test");
        return;
    };
    let url = std::env::var(CHILD_URL).unwrap();
    let key = std::env::var(CHILD_KEY).unwrap();
    let batch = std::env::var(CHILD_BATCH).unwrap();
    let outbox = Outbox::open(Path::new(&db)).unwrap();
    let finished = Arc::new(AtomicUsize::new(0));
    let count = finished.clone();
    let worker = Worker::spawn(
        outbox.clone(),
        Arc::new(Source(provider(&url, &key))),
        Arc::new(move |ev| {
            if let OutboxEvent::JobChanged { job } = ev {
                if job.state == JobState::Done {
                    count.fetch_add(1, Ordering::SeqCst);
                }
            }
        }),
    );
    worker.wake();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    while outbox.batch(&batch).unwrap().pending > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "batch did not finish: {:?}",
            outbox.batch(&batch).unwrap()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    worker.shutdown().await;
    println!("{FINISHED}{}", finished.load(Ordering::SeqCst));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_invite_everyone_exactly_once() {
    let mut config = Config::new(Flavor::Supabase);
    config.email_limit = 100_000;
    // A little latency keeps requests of both processes in flight together.
    config.latency = Duration::from_millis(5);
    let sandbox = Sandbox::start(config).await.unwrap();
    let invite = Some("POST /invite".to_string());
    // Carried out, answer lost; refused before anything happened (sent again after a lookup);
    // carried out, then a gateway error instead of the answer.
    sandbox.inject(
        Fault {
            route: invite.clone(),
            count: 8,
            action: FaultAction::DropAfter,
        }
        .every(29),
    );
    let refused = 8;
    sandbox.inject(
        Fault {
            route: invite.clone(),
            count: refused,
            action: FaultAction::Status {
                status: 502,
                retry_after: None,
            },
        }
        .every(31),
    );
    sandbox.inject(
        Fault {
            route: invite,
            count: 8,
            action: FaultAction::StatusAfter {
                status: 502,
                retry_after: None,
            },
        }
        .every(37),
    );

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("outbox.sqlite3");
    let outbox = Outbox::open(&db).unwrap();
    let reqs: Vec<InviteRequest> = (0..ADDRESSES)
        .map(|i| InviteRequest {
            email: format!("person{i}@example.com"),
            send_email: true,
            ..Default::default()
        })
        .collect();
    let batch = outbox.enqueue("ws", "Acme", &reqs).unwrap();

    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..2)
        .map(|_| {
            std::process::Command::new(&exe)
                .args([
                    "--exact",
                    "outbox_two_processes::child_worker",
                    "--ignored",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(CHILD_DB, &db)
                .env(CHILD_URL, sandbox.url())
                .env(CHILD_KEY, &sandbox.credentials().service_role_key)
                .env(CHILD_BATCH, &batch)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut finished_by = Vec::new();
    for child in children {
        let out = tokio::task::spawn_blocking(move || child.wait_with_output())
            .await
            .unwrap()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "a worker process failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let n: usize = stdout
            .lines()
            .find_map(|l| l.split(FINISHED).nth(1))
            .unwrap_or_else(|| panic!("no count from a worker process:\n{stdout}"))
            .trim()
            .parse()
            .unwrap();
        finished_by.push(n);
    }

    let jobs = outbox.jobs(&batch).unwrap();
    assert_eq!(jobs.len(), ADDRESSES);
    assert!(jobs.iter().all(|j| j.state == JobState::Done), "{jobs:?}");
    // Both processes worked the batch, and each job was finished by exactly one of them.
    assert!(
        finished_by.iter().all(|&n| n > 0),
        "both processes must have sent: {finished_by:?}"
    );
    assert_eq!(
        finished_by.iter().sum::<usize>(),
        ADDRESSES,
        "{finished_by:?}"
    );
    // The server saw each address invited once: one email each, and no invite request beyond
    // one per address plus those refused before they were carried out.
    let mail = sandbox.mail();
    let mut to: Vec<_> = mail.iter().map(|m| m.to.to_lowercase()).collect();
    to.sort();
    to.dedup();
    assert_eq!(to.len(), ADDRESSES, "every address got an email");
    assert_eq!(mail.len(), ADDRESSES, "nobody got two");
    assert_eq!(
        sandbox.calls("POST /invite"),
        (ADDRESSES + refused as usize) as u64,
        "no invite was sent twice"
    );
}
