//! Benchmark (not in the default run): a links batch driven through the window.

use super::*;

/// PSS in KiB of the app's processes (the app and every process under it: WebKit's).
pub(super) fn app_pss_kib(app: &Path) -> u64 {
    app_tree(app)
        .iter()
        .filter_map(|pid| std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok())
        .filter_map(|s| {
            s.lines()
                .find(|l| l.starts_with("Pss:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .sum()
}

/// CPU time used so far, in clock ticks: by each of the app's processes (by name), and by the
/// whole machine (busy time over all cores, from /proc/stat).
fn cpu_ticks(app: &Path) -> (std::collections::BTreeMap<String, u64>, u64) {
    let mut by_name = std::collections::BTreeMap::new();
    for pid in app_tree(app) {
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let Some((head, after)) = stat.rsplit_once(')') else {
            continue;
        };
        let name = head.split_once('(').map_or("?", |(_, n)| n).to_string();
        // utime and stime: fields 14 and 15, the 12th and 13th after the name.
        let f: Vec<u64> = after
            .split_whitespace()
            .skip(11)
            .take(2)
            .filter_map(|v| v.parse().ok())
            .collect();
        *by_name.entry(name).or_insert(0) += f.iter().sum::<u64>();
    }
    let machine = std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|s| {
            let cpu = s.lines().next()?.split_whitespace().skip(1);
            // user nice system idle iowait irq softirq steal: all but idle and iowait.
            let v: Vec<u64> = cpu.take(8).filter_map(|v| v.parse().ok()).collect();
            (v.len() == 8).then(|| v[0] + v[1] + v[2] + v[5] + v[6] + v[7])
        })
        .unwrap_or(0);
    (by_name, machine)
}

/// Clock ticks per second (`getconf CLK_TCK`; 100 on Linux when it can't be asked).
fn ticks_per_second() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
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
    let cpu_before = cpu_ticks(&env.binary);
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
    let cpu_after = cpu_ticks(&env.binary);
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
    // Where the machine's time went during the batch: the window competes with WebKit, the
    // WebDriver chain and this test's probes for the same cores.
    let hz = ticks_per_second();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let by_process: Vec<String> = cpu_after
        .0
        .iter()
        .map(|(name, t)| {
            let before = cpu_before.0.get(name).copied().unwrap_or(0);
            format!("{name} {:.2}", t.saturating_sub(before) as f64 / hz)
        })
        .collect();
    println!(
        "  CPU during the batch (s): {}; the whole machine {:.2} of {:.2} ({} cores × wall)",
        by_process.join(", "),
        cpu_after.1.saturating_sub(cpu_before.1) as f64 / hz,
        wall.as_secs_f64() * cores as f64,
        cores
    );
    s.close().await?;
    drop(driver);
    Ok(())
}
