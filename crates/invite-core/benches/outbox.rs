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
use invite_core::workspace::Workspace;
use invite_sandbox::{Config, Flavor, Sandbox};

/// A provider, the setting to start from, and the most the worker may grow to.
struct Source(Arc<dyn Provider>, usize, usize);

impl ProviderSource for Source {
    fn provider(&self, _: &str) -> invite_core::Result<Arc<dyn Provider>> {
        Ok(self.0.clone())
    }
    fn concurrency(&self, _: &str) -> usize {
        self.1
    }
    fn max_concurrency(&self, _: &str) -> usize {
        self.2
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

async fn supabase(latency: Duration, max_in_flight: Option<usize>) -> (Sandbox, Arc<dyn Provider>) {
    let mut config = Config::new(Flavor::Supabase);
    config.email_limit = 1_000_000;
    config.latency = latency;
    config.max_in_flight = max_in_flight;
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
        base_url: sandbox.url(),
        config: invite_core::workspace::WorkspaceConfig::default_for(WorkspaceKind::Supabase),
        demo: false,
    };
    let provider = SupabaseProvider::new(Http::new().unwrap(), &ws, Arc::new(secrets)).unwrap();
    (sandbox, Arc::new(provider))
}

/// `n` invites through the outbox, starting at `start` in flight and growing to at most `max`.
async fn through_outbox(
    provider: Arc<dyn Provider>,
    start: usize,
    max: usize,
    n: usize,
) -> Duration {
    let dir = tempfile::tempdir().unwrap();
    let outbox = Outbox::open(&dir.path().join("outbox.sqlite3")).unwrap();
    let started = Instant::now();
    let batch = outbox.enqueue("ws", "Bench", &requests(n, "o")).unwrap();
    let worker = Worker::spawn(
        outbox.clone(),
        Arc::new(Source(provider, start, max)),
        Arc::new(|_| {}),
    );
    worker.wake();
    while outbox.batch(&batch).unwrap().pending > 0 {
        // Not too often: each look takes the outbox lock the worker needs.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let took = started.elapsed();
    worker.shutdown().await;
    assert_eq!(outbox.batch(&batch).unwrap().done as usize, n);
    took
}

/// The refusals a run earned: calls beyond one per address.
fn refusals(sandbox: &Sandbox, n: usize) -> u64 {
    sandbox.calls("POST /invite").saturating_sub(n as u64)
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
        let (sandbox, provider) = supabase(latency, None).await;
        let started = Instant::now();
        for r in requests(n, "s") {
            provider.invite(&r).await.unwrap();
        }
        let sequential = started.elapsed();
        drop(sandbox);
        let ratio = |d: Duration| sequential.as_secs_f64() / d.as_secs_f64();
        println!("outbox bench: {n} invites, sandbox latency {latency:?}");
        println!("  sequential loop of single requests: {sequential:>10.2?}");

        // The owner's default: start at 4 and adapt (AIMD, at most 16).
        let (sandbox, provider) = supabase(latency, None).await;
        let adaptive = through_outbox(provider, 4, 16, n).await;
        assert_eq!(sandbox.mail().len(), n);
        println!(
            "  through the outbox, default (start 4, adaptive): {adaptive:>10.2?} ({:.1}x, target >= 12x; most in flight {})",
            ratio(adaptive),
            sandbox.most_in_flight()
        );
        drop(sandbox);

        // Held at 4 (what the worker did before it adapted).
        let (sandbox, provider) = supabase(latency, None).await;
        let fixed4 = through_outbox(provider, 4, 4, n).await;
        assert_eq!(sandbox.mail().len(), n);
        println!("  through the outbox, held at 4: {fixed4:>10.2?} ({:.1}x)", ratio(fixed4));
        drop(sandbox);

        // A server that answers 429 above 6 requests in flight: held settings against adaptive.
        let cap = 6;
        println!("  against a server that refuses above {cap} in flight:");
        let mut best: Option<(usize, Duration)> = None;
        for held in [4, 5, 6, 7, 8] {
            let (sandbox, provider) = supabase(latency, Some(cap)).await;
            let took = through_outbox(provider, held, held, n).await;
            assert_eq!(sandbox.mail().len(), n);
            println!(
                "    at most {held} at once: {took:>10.2?}, {} refusals",
                refusals(&sandbox, n)
            );
            if best.is_none_or(|(_, b)| took < b) {
                best = Some((held, took));
            }
        }
        let (sandbox, provider) = supabase(latency, Some(cap)).await;
        let adapted = through_outbox(provider, 4, 16, n).await;
        assert_eq!(sandbox.mail().len(), n);
        let (best_held, best_took) = best.unwrap();
        println!(
            "    default (start 4, adaptive): {adapted:>10.2?}, {} refusals; {:.2}x the best held setting ({best_held}, target <= 1.3x)",
            refusals(&sandbox, n),
            adapted.as_secs_f64() / best_took.as_secs_f64()
        );
        drop(sandbox);

        let overhead = through_outbox(Arc::new(Instant0), 16, 16, n).await;
        println!(
            "  outbox overhead per job (instant back end, SQLite on disk): {:.3} ms (target < 1 ms)",
            overhead.as_secs_f64() * 1000.0 / n as f64
        );
    });
}
