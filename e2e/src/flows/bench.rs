//! Benchmark (not in the default run): a links batch driven through the window.

use super::*;

/// PSS in KiB of the app's processes (the app and every process under it: WebKit's).
pub(super) fn app_pss_kib(app: &Path) -> u64 {
    let procs: Vec<(u32, u32)> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let after = stat.rsplit_once(')')?.1;
            let ppid = after.split_whitespace().nth(1)?.parse().ok()?;
            Some((pid, ppid))
        })
        .collect();
    let roots: Vec<u32> = procs
        .iter()
        .filter(|(pid, _)| {
            std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|exe| exe == app)
        })
        .map(|(pid, _)| *pid)
        .collect();
    let mut tree = roots.clone();
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        tree.extend(
            procs
                .iter()
                .filter(|(_, pp)| *pp == parent)
                .map(|(p, _)| *p),
        );
        i += 1;
    }
    tree.iter()
        .filter_map(|pid| std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok())
        .filter_map(|s| {
            s.lines()
                .find(|l| l.starts_with("Pss:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .sum()
}

pub(super) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// 2,000 addresses as links on the demo workspace, through the window: wall time, the page's
/// answer time to a trivial script during the batch (median, p95), and memory at the end
/// against idle. `BENCH_INVITES` changes the count.
pub async fn bench_links(env: &Env) -> Res<()> {
    let n: usize = std::env::var("BENCH_INVITES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    // Without the leak test's recorder, which keeps every IPC answer in the page: the memory
    // measured is what an owner's copy uses.
    let (driver, s) = open(
        env,
        "bench-links",
        &[("INVITE_DESK_RECORD_IPC", "0".into())],
    )
    .await?;
    s.wait_visible("#view-empty", 5).await?;
    s.click("#empty-demo").await?;
    s.wait_visible("#invite-title", 20).await?;
    s.wait_visible("#delivery-link", 10).await?;
    s.click("#delivery-link").await?;
    let list: String = (0..n).map(|i| format!("person{i}@example.com\n")).collect();
    set_value(&s, "invite-text", &list).await?;
    s.wait_text("#invite-send", &format!("Invite {n} people"), 30)
        .await?;
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let idle = app_pss_kib(&env.binary);
    let started = std::time::Instant::now();
    s.click("#invite-send").await?;
    let done_text = format!("{n} of {n} done");
    let mut lags = Vec::new();
    loop {
        let t = std::time::Instant::now();
        let counts = s
            .js("return document.getElementById('progress-counts')?.textContent || ''")
            .await?;
        lags.push(t.elapsed().as_secs_f64() * 1000.0);
        if counts.as_str().is_some_and(|c| c.contains(&done_text)) {
            break;
        }
        if started.elapsed() > std::time::Duration::from_secs(900) {
            return Err(format!("the batch did not finish in 15 min: {counts}"));
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let wall = started.elapsed();
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let end = app_pss_kib(&env.binary);
    s.shot("bench-links-done").await?;
    lags.sort_by(|a, b| a.total_cmp(b));
    println!(
        "links batch through the window: {n} addresses in {:.2} s ({:.0}/s)",
        wall.as_secs_f64(),
        n as f64 / wall.as_secs_f64()
    );
    println!(
        "  page lag (trivial script round trip, {} samples): median {:.1} ms, p95 {:.1} ms (target p95 < 50 ms)",
        lags.len(),
        percentile(&lags, 0.5),
        percentile(&lags, 0.95)
    );
    println!(
        "  memory (PSS, app + WebKit): idle {:.1} MiB, at the end {:.1} MiB, growth {:.1} MiB (target < 40 MiB)",
        idle as f64 / 1024.0,
        end as f64 / 1024.0,
        (end as f64 - idle as f64) / 1024.0
    );
    s.close().await?;
    drop(driver);
    Ok(())
}
