//! A server that streams an endless body: the client stops at its cap with a plain error, and
//! the process's memory stays flat (peak resident memory measured before and after, printed
//! for the notes; the bound asserted is loose, the figure is what matters).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use invite_core::http::{body_text, Http, MAX_BODY};
use invite_core::provider::Provider;
use invite_core::providers::supabase::SupabaseProvider;
use invite_sandbox::{Config, Fault, FaultAction, Flavor, Sandbox};

/// Peak resident set size of this process so far, in KiB (Linux: `VmHWM`).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_body_ends_in_a_plain_error_and_memory_stays_flat() {
    let sandbox = Sandbox::start(Config::new(Flavor::Supabase)).await.unwrap();
    let http = Http::with_timeout(Duration::from_secs(60)).unwrap();

    // Warm up (client, runtime, sandbox) so the measurement covers the endless read alone.
    let ok = http
        .send_read(http.client().get(format!("{}/health", sandbox.url())))
        .await
        .unwrap();
    assert!(body_text(ok).await.unwrap().contains("GoTrue"));
    let before = peak_rss_kib();

    sandbox.inject(Fault::new(
        Some("GET /admin/users"),
        1,
        FaultAction::EndlessBody,
    ));
    let resp = http
        .send_read(
            http.client()
                .get(format!("{}/admin/users", sandbox.url()))
                .bearer_auth(&sandbox.credentials().service_role_key),
        )
        .await
        .unwrap();
    let e = body_text(resp).await.unwrap_err();
    assert_eq!(e.kind(), "response_too_large", "{e:?}");
    assert!(e.to_string().contains("127.0.0.1"), "names the server: {e}");
    assert!(!e.is_transient(), "not retried on its own: {e:?}");

    if let (Some(before), Some(after)) = (before, peak_rss_kib()) {
        let grown = after.saturating_sub(before);
        eprintln!(
            "peak RSS before {before} KiB, after the endless body {after} KiB: +{grown} KiB (cap {} KiB)",
            MAX_BODY / 1024
        );
        // Reading the whole body first (the old way) grows without bound until the timeout.
        assert!(grown < 64 * 1024, "peak memory grew by {grown} KiB");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_meeting_an_endless_body_says_so() {
    let sandbox = Sandbox::start(Config::new(Flavor::Supabase)).await.unwrap();
    let (ws, secrets) = crate::common::supabase_workspace(&sandbox);
    let provider =
        SupabaseProvider::new(Http::new().unwrap(), &ws, std::sync::Arc::new(secrets)).unwrap();
    sandbox.inject(Fault::new(None, 1, FaultAction::EndlessBody));
    let e = provider
        .list_page(&Default::default(), 1)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "response_too_large", "{e:?}");
    // The next call is answered normally.
    provider.list_page(&Default::default(), 1).await.unwrap();
}
