//! The window's links batch, headless: 2,000 addresses as links (no email) against a sandbox
//! configured as the app's demo workspace, through the outbox at the workspace's default
//! concurrency. The same batch driven through the window (scripts/bench-window.sh) is compared
//! with this figure. `BENCH_INVITES` changes the count.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use invite_core::http::Http;
use invite_core::model::{InviteRequest, WorkspaceKind};
use invite_core::outbox::{Outbox, ProviderSource, Worker};
use invite_core::provider::Provider;
use invite_core::providers::supabase::SupabaseProvider;
use invite_core::secret::{names, MemoryStore, SecretStore, Sensitive};
use invite_core::workspace::{Workspace, WorkspaceConfig};
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

fn main() {
    let n: usize = std::env::var("BENCH_INVITES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        // The demo's sandbox, exactly as the app starts it.
        let sandbox = Sandbox::start(Config::new(Flavor::Supabase)).await.unwrap();
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
            name: "Demo".into(),
            base_url: sandbox.url(),
            config: WorkspaceConfig::default_for(WorkspaceKind::Supabase),
            demo: true,
        };
        let concurrency = ws.sending().concurrency.unwrap_or(4) as usize;
        let provider: Arc<dyn Provider> =
            Arc::new(SupabaseProvider::new(Http::new().unwrap(), &ws, Arc::new(secrets)).unwrap());
        let dir = tempfile::tempdir().unwrap();
        let outbox = Outbox::open(&dir.path().join("outbox.sqlite3")).unwrap();
        let requests: Vec<InviteRequest> = (0..n)
            .map(|i| InviteRequest {
                email: format!("person{i}@example.com"),
                send_email: false,
                ..Default::default()
            })
            .collect();
        let started = Instant::now();
        let batch = outbox.enqueue("ws", "Demo", &requests).unwrap();
        let worker = Worker::spawn(
            outbox.clone(),
            Arc::new(Source(provider, concurrency)),
            Arc::new(|_| {}),
        );
        worker.wake();
        while outbox.batch(&batch).unwrap().pending > 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let took = started.elapsed();
        worker.shutdown().await;
        let summary = outbox.batch(&batch).unwrap();
        println!(
            "links batch, headless: {n} addresses at concurrency {concurrency}: {:.2} s ({:.0}/s), {} done",
            took.as_secs_f64(),
            n as f64 / took.as_secs_f64(),
            summary.done
        );
    });
}
