//! Outbox throughput (issue 8): 1,000 invites against the sandbox at 50 ms latency through the
//! outbox, against a plain sequential loop of single requests (what a cURL script does), and
//! the outbox's own overhead per job (an instant back end, the database on disk).
//!
//! `make bench` runs it; `BENCH_INVITES` changes the count. A benchmark, not a timed test.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use invite_core::http::Http;
use invite_core::model::{
    Capabilities, ConnectionReport, Invite, InvitePage, InviteRef, InviteRequest, InviteStatus,
    Invited, ListQuery, ResendOptions, WorkspaceKind,
};
use invite_core::outbox::{Outbox, ProviderSource, Worker};
use invite_core::provider::Provider;
use invite_core::providers::supabase::SupabaseProvider;
use invite_core::secret::{names, MemoryStore, SecretStore, Sensitive};
use invite_core::workspace::{Workspace, WorkspaceOptions};
use invite_sandbox::{Config, Flavor, Sandbox};

struct Source(Arc<dyn Provider>, usize);

impl ProviderSource for Source {
    fn provider(&self, _: &str) -> invite_core::Result<Arc<dyn Provider>> {
        Ok(self.0.clone())
    }
    fn concurrency(&self, _: &str) -> usize {
        self.1
    }
}

/// A back end that answers at once: what is left of a job's time is the outbox's own.
#[derive(Debug)]
struct Instant0;

#[async_trait]
impl Provider for Instant0 {
    fn kind(&self) -> WorkspaceKind {
        WorkspaceKind::Supabase
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
    }
    async fn check_connection(&self) -> invite_core::Result<ConnectionReport> {
        Ok(ConnectionReport {
            summary: String::new(),
            notes: Vec::new(),
        })
    }
    async fn invite(&self, req: &InviteRequest) -> invite_core::Result<Invited> {
        Ok(Invited {
            invite: Invite {
                id: req.email.clone(),
                email: req.email.clone(),
                status: InviteStatus::Pending,
                invited_at: None,
                expires_at: None,
                accepted_at: None,
                name: None,
                message: None,
            },
            link: None,
            replaced_existing: false,
        })
    }
    async fn list_page(&self, _: &ListQuery, _: u32) -> invite_core::Result<InvitePage> {
        Ok(InvitePage {
            invites: Vec::new(),
            total: Some(0),
            next_page: None,
        })
    }
    async fn resend(&self, _: &InviteRef, _: &ResendOptions) -> invite_core::Result<Invite> {
        unreachable!("not used by the outbox")
    }
    async fn cancel(&self, _: &InviteRef) -> invite_core::Result<()> {
        Ok(())
    }
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

async fn supabase(latency: Duration) -> (Sandbox, Arc<dyn Provider>) {
    let mut config = Config::new(Flavor::Supabase);
    config.email_limit = 1_000_000;
    config.latency = latency;
    let sandbox = Sandbox::start(config).await.unwrap();
    let secrets = MemoryStore::new();
    secrets
        .set(
            "ws",
            names::SECRET_KEY,
            &Sensitive::new(sandbox.credentials().service_role_key.clone()),
        )
        .unwrap();
    let ws = Workspace {
        id: "ws".into(),
        name: "Bench".into(),
        kind: WorkspaceKind::Supabase,
        base_url: sandbox.url(),
        options: WorkspaceOptions::default(),
        demo: false,
    };
    let provider = SupabaseProvider::new(Http::new().unwrap(), &ws, Arc::new(secrets)).unwrap();
    (sandbox, Arc::new(provider))
}

async fn through_outbox(provider: Arc<dyn Provider>, concurrency: usize, n: usize) -> Duration {
    let dir = tempfile::tempdir().unwrap();
    let outbox = Outbox::open(&dir.path().join("outbox.sqlite3")).unwrap();
    let started = Instant::now();
    let batch = outbox.enqueue("ws", "Bench", &requests(n, "o")).unwrap();
    let worker = Worker::spawn(
        outbox.clone(),
        Arc::new(Source(provider, concurrency)),
        Arc::new(|_| {}),
    );
    worker.wake();
    while outbox.batch(&batch).unwrap().pending > 0 {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let took = started.elapsed();
    worker.shutdown().await;
    assert_eq!(outbox.batch(&batch).unwrap().done as usize, n);
    took
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else to parse.
    let n: usize = std::env::var("BENCH_INVITES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let latency = Duration::from_millis(50);
        let (sandbox, provider) = supabase(latency).await;
        let started = Instant::now();
        for r in requests(n, "s") {
            provider.invite(&r).await.unwrap();
        }
        let sequential = started.elapsed();
        drop(sandbox);

        // The owner's default (4 at once), then the most Settings allows (16).
        let (sandbox, provider) = supabase(latency).await;
        let by_default = through_outbox(provider, 4, n).await;
        assert_eq!(sandbox.mail().len(), n);
        drop(sandbox);

        let (sandbox, provider) = supabase(latency).await;
        let concurrency = 16;
        let outboxed = through_outbox(provider, concurrency, n).await;
        assert_eq!(sandbox.mail().len(), n);

        let overhead = through_outbox(Arc::new(Instant0), concurrency, n).await;
        println!("outbox bench: {n} invites, sandbox latency {latency:?}");
        println!("  sequential loop of single requests: {sequential:>10.2?}");
        println!(
            "  through the outbox (default, 4 at once): {by_default:>10.2?} ({:.1}x)",
            sequential.as_secs_f64() / by_default.as_secs_f64()
        );
        println!("  through the outbox (concurrency {concurrency}): {outboxed:>10.2?}");
        println!(
            "  speed-up: {:.1}x (target >= 12x)",
            sequential.as_secs_f64() / outboxed.as_secs_f64()
        );
        println!(
            "  outbox overhead per job (instant back end, SQLite on disk): {:.3} ms (target < 1 ms)",
            overhead.as_secs_f64() * 1000.0 / n as f64
        );
    });
}
