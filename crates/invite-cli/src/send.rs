//! `invite`, `flush` and `status`: the outbox from a terminal.
//!
//! `invite` writes the batch into the window's outbox in one transaction (so it shows in the
//! window at once), then works the outbox with the core's worker until the batch is settled,
//! showing progress. Stopped halfway (Ctrl-C, a closed terminal), the jobs stay in the outbox and
//! the window or `flush` finishes them; a job whose answer was lost is looked up before it is
//! sent again, as in the window.

use std::collections::{BTreeMap, HashSet};
use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use invite_core::desk::{Desk, JobResult, JobView};
use invite_core::model::InviteRequest;
use invite_core::parse::EntryStatus;
use serde::Serialize;

use crate::cli::{FlushArgs, InviteArgs};
use crate::error::{CliError, CliResult};
use crate::output::{plural, table, Done, Out};

/// Largest file or standard input read (the window's limit for a dropped file).
const MAX_INPUT_BYTES: u64 = 16 * 1024 * 1024;

/// How often the outbox is read while a batch runs.
const POLL: Duration = Duration::from_millis(100);

/// A piece of the input that is not invited, and why.
#[derive(Debug, Serialize)]
struct Skipped {
    input: String,
    reason: String,
}

/// One address of a batch, as printed.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct JobOut {
    email: String,
    /// invited, linked, updated, already_member, failed, waiting, paused…
    result: &'static str,
    link: Option<String>,
    error: Option<serde_json::Value>,
    next_attempt_at: Option<String>,
}

/// A batch, as printed.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct BatchOut {
    batch_id: String,
    workspace: String,
    total: usize,
    counts: BTreeMap<&'static str, usize>,
    jobs: Vec<JobOut>,
}

fn read_input(path: Option<&Path>) -> CliResult<Vec<u8>> {
    let mut bytes = Vec::new();
    match path {
        None => {
            return Err(CliError::usage(
                "give a file of addresses, or `-` to read them from standard input",
            ))
        }
        Some(p) if p == Path::new("-") => {
            std::io::stdin()
                .take(MAX_INPUT_BYTES + 1)
                .read_to_end(&mut bytes)
                .map_err(|e| CliError::file("standard input", e))?;
        }
        Some(p) => {
            std::fs::File::open(p)
                .and_then(|f| f.take(MAX_INPUT_BYTES + 1).read_to_end(&mut bytes))
                .map_err(|e| CliError::file(p, e))?;
        }
    }
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(invite_core::Error::invalid_input(
            "File",
            "this file is too large; use a file under 16 MB",
        )
        .into());
    }
    Ok(bytes)
}

/// Runs `invite`.
pub async fn invite(desk: &Desk, out: &Out, args: InviteArgs) -> CliResult<Done> {
    let ws = crate::desk::workspace(desk, &args.workspace)?;
    if ws.demo {
        return Err(CliError::usage(
            "The demo workspace's server runs inside the window: invite from there",
        ));
    }
    let parsed = invite_core::parse::parse_csv(&read_input(args.input.as_deref())?);
    let skipped: Vec<Skipped> = parsed
        .entries
        .iter()
        .filter_map(|e| match &e.status {
            EntryStatus::Invalid { reason } => Some(Skipped {
                input: e.input.clone(),
                reason: reason.clone(),
            }),
            EntryStatus::Duplicate { .. } => Some(Skipped {
                input: e.input.clone(),
                reason: "appears earlier in the list".into(),
            }),
            _ => None,
        })
        .collect();
    let emails = parsed.valid_emails();
    if emails.is_empty() {
        return Err(invite_core::Error::invalid_input(
            "Addresses",
            "there is no address to invite",
        )
        .into());
    }
    let caps = desk.provider(&ws.id)?.capabilities();
    let unsupported = |what: &str| -> CliError {
        invite_core::Error::Unsupported {
            what: what.to_string(),
        }
        .into()
    };
    if args.links && !caps.copy_link {
        return Err(unsupported("Creating links to copy"));
    }
    let message = args.message.filter(|m| !m.trim().is_empty());
    if message.is_some() && !caps.message {
        return Err(unsupported("A personal message"));
    }
    if let Some(r) = &args.redirect {
        invite_core::workspace::validate_redirect_url(r)?;
        if !caps.redirect {
            return Err(unsupported("A redirect address"));
        }
    }
    let requests: Vec<InviteRequest> = emails
        .iter()
        .map(|e| InviteRequest {
            email: e.to_string(),
            message: message.clone(),
            redirect_url: args.redirect.clone(),
            send_email: !args.links,
        })
        .collect();
    let batch = desk.enqueue(&ws.id, &requests)?.batch_id;
    if !out.json {
        for s in &skipped {
            eprintln!("skipped {}: {}", s.input, s.reason);
        }
        eprintln!(
            "Queued {} for {}.",
            plural(requests.len(), "invitation", "invitations"),
            ws.name
        );
    }
    let batches = [batch];
    let done = if args.no_wait {
        Done::All
    } else {
        work(desk, out, &batches, Duration::from_secs(args.max_wait)).await?
    };
    report(out, desk, &batches, Some(&skipped), done)
}

/// Runs `flush`: works every unfinished batch.
pub async fn flush(desk: &Desk, out: &Out, args: FlushArgs) -> CliResult<Done> {
    let batches: Vec<String> = desk.unfinished()?.into_iter().map(|b| b.id).collect();
    if batches.is_empty() {
        if out.json {
            out.json(&serde_json::json!({ "batches": [] }))?;
        } else {
            println!("Nothing waits in the outbox.");
        }
        return Ok(Done::All);
    }
    let done = work(desk, out, &batches, Duration::from_secs(args.max_wait)).await?;
    report(out, desk, &batches, None, done)
}

/// A job the worker is still on (or will be at once).
fn active(j: &JobView) -> bool {
    matches!(
        j.state,
        JobResult::Queued | JobResult::Sending | JobResult::Uncertain
    )
}

/// Finished for good (whatever the outcome).
fn settled(j: &JobView) -> bool {
    !j.state.is_unsent()
}

/// Done: invited, linked, updated, or already a member.
fn is_success(j: &JobView) -> bool {
    matches!(
        j.state,
        JobResult::Invited | JobResult::Linked | JobResult::Updated | JobResult::AlreadyMember
    )
}

fn next_attempt(j: &JobView) -> Option<DateTime<Utc>> {
    j.next_attempt_at
        .as_deref()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// Works the outbox until the batches are settled: every job done, failed, cancelled or
/// paused, or waiting longer than `max_wait` allows. Returns `Partly` when stopped with Ctrl-C.
async fn work(desk: &Desk, out: &Out, batches: &[String], max_wait: Duration) -> CliResult<Done> {
    // Progress is read from the outbox file, not from the worker's events: a second process (the
    // window) may be sending some of these addresses.
    desk.start_worker(Arc::new(|_| {}))?;
    let mut jobs = all_jobs(desk, batches)?;
    let bar = if out.interactive() {
        let bar =
            ProgressBar::with_draw_target(Some(jobs.len() as u64), ProgressDrawTarget::stderr());
        if let Ok(style) =
            ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} {msg} ({elapsed})")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.enable_steady_tick(Duration::from_millis(120));
        Some(bar)
    } else {
        None
    };
    let mut told: HashSet<i64> = HashSet::new();
    let mut waited = Duration::ZERO;
    let mut interrupted = false;
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    loop {
        // Lines for people: one per address once it has its outcome.
        for j in jobs.iter().filter(|j| settled(j)) {
            if !told.insert(j.id) {
                continue;
            }
            let line = job_line(out, j);
            match &bar {
                Some(bar) if !is_success(j) => bar.println(line),
                Some(_) => {}
                None if !out.json => println!("{line}"),
                None => {}
            }
        }
        if let Some(bar) = &bar {
            bar.set_position(jobs.iter().filter(|j| settled(j)).count() as u64);
            bar.set_message(counts_text(&jobs));
        }
        let any_active = jobs.iter().any(active);
        if !any_active {
            // Only waiting (rate limit, offline) and paused jobs are left, or none.
            let horizon = Utc::now()
                + chrono::Duration::from_std(max_wait.saturating_sub(waited)).unwrap_or_default();
            let soon = jobs.iter().any(|j| {
                j.state == JobResult::Waiting && next_attempt(j).is_none_or(|t| t <= horizon)
            });
            if !soon || waited >= max_wait {
                break;
            }
        }
        let tick = Instant::now();
        tokio::select! {
            _ = &mut ctrl_c => { interrupted = true; break; }
            _ = tokio::time::sleep(POLL) => {}
        }
        if !any_active {
            waited += tick.elapsed();
        }
        jobs = all_jobs(desk, batches)?;
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    desk.stop_worker().await?;
    if interrupted && !out.json {
        eprintln!(
            "Stopped. What was not sent stays in the outbox: the window or `invite-desk-cli flush` sends it, and nobody is invited twice."
        );
    }
    let jobs = all_jobs(desk, batches)?;
    Ok(Done::when(!interrupted && jobs.iter().all(is_success)))
}

fn all_jobs(desk: &Desk, batches: &[String]) -> CliResult<Vec<JobView>> {
    let mut jobs = Vec::new();
    for b in batches {
        jobs.extend(desk.batch_status(b)?.jobs);
    }
    Ok(jobs)
}

fn counts(jobs: &[JobView]) -> BTreeMap<&'static str, usize> {
    let mut c = BTreeMap::new();
    for j in jobs {
        *c.entry(j.state.word()).or_default() += 1;
    }
    c
}

fn counts_text(jobs: &[JobView]) -> String {
    counts(jobs)
        .iter()
        .map(|(k, n)| format!("{n} {}", k.replace('_', " ")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `invited  ann@example.com`, `failed  bob@example.com  <why>`, `linked  c@…  <link>`.
fn job_line(out: &Out, j: &JobView) -> String {
    let mut line = format!("{:<14} {}", j.state.word(), j.email);
    if let Some(link) = &j.link {
        line.push_str(&format!("  {link}"));
    }
    if !is_success(j) {
        if let Some(e) = &j.error {
            line.push_str(&format!(
                "  {}",
                out.reason(&e.message, e.detail.as_deref())
            ));
        }
    }
    line
}

fn job_out(out: &Out, j: &JobView) -> JobOut {
    JobOut {
        email: j.email.clone(),
        result: j.state.word(),
        link: j.link.clone(),
        error: j.error.as_ref().filter(|_| !is_success(j)).map(|e| {
            serde_json::json!({
                "kind": e.kind,
                "message": e.message,
                "detail": if out.verbose { e.detail.as_deref() } else { None },
            })
        }),
        next_attempt_at: j.next_attempt_at.clone(),
    }
}

/// The end of `invite` and `flush`: a summary per batch, what is left and why.
fn report(
    out: &Out,
    desk: &Desk,
    batches: &[String],
    skipped: Option<&[Skipped]>,
    done: Done,
) -> CliResult<Done> {
    let mut docs = Vec::new();
    for b in batches {
        let summary = desk.batch_summary(b)?;
        let jobs = desk.batch_status(b)?.jobs;
        docs.push(BatchOut {
            batch_id: b.clone(),
            workspace: summary.workspace_name,
            total: jobs.len(),
            counts: counts(&jobs),
            jobs: jobs.iter().map(|j| job_out(out, j)).collect(),
        });
    }
    if out.json {
        let mut doc = serde_json::json!({ "exitCode": done.code() });
        match (skipped, docs.as_slice()) {
            (Some(skipped), [one]) => {
                doc["batch"] = serde_json::to_value(one).map_err(invite_core::Error::storage)?;
                doc["skipped"] =
                    serde_json::to_value(skipped).map_err(invite_core::Error::storage)?;
            }
            _ => {
                doc["batches"] = serde_json::to_value(&docs).map_err(invite_core::Error::storage)?
            }
        }
        out.json(&doc)?;
        return Ok(done);
    }
    for d in &docs {
        let text = d
            .counts
            .iter()
            .map(|(k, n)| format!("{n} {}", k.replace('_', " ")))
            .collect::<Vec<_>>()
            .join(", ");
        println!("{}: {text}.", d.workspace);
        let waiting = d.counts.get("waiting").copied().unwrap_or(0)
            + d.counts.get("queued").copied().unwrap_or(0)
            + d.counts.get("uncertain").copied().unwrap_or(0)
            + d.counts.get("sending").copied().unwrap_or(0);
        if waiting > 0 {
            let next = d
                .jobs
                .iter()
                .filter_map(|j| j.next_attempt_at.as_deref())
                .min();
            println!(
                "  {} still in the outbox{}; the window or `invite-desk-cli flush` sends them.",
                plural(waiting, "address is", "addresses are"),
                next.map(|t| format!(" (next try {t})")).unwrap_or_default()
            );
        }
        if d.counts.get("paused").copied().unwrap_or(0) > 0 {
            println!("  Paused addresses go out once the workspace is resumed in the window.");
        }
    }
    Ok(done)
}

/// A batch as `status` shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct BatchState {
    #[serde(flatten)]
    summary: invite_core::outbox::BatchSummary,
    /// What the batch is doing now: `sending`, `waiting`, `paused`.
    activity: &'static str,
    /// When the next waiting address is tried.
    next_attempt_at: Option<String>,
    /// Why addresses wait, in plain words (the last one's error).
    why: Option<String>,
}

/// Runs `status`.
pub fn status(desk: &Desk, out: &Out) -> CliResult<Done> {
    let list = desk.workspaces()?.workspaces;
    let name = |id: &str| {
        list.iter()
            .find(|w| w.id == id)
            .map(|w| w.name.clone())
            .unwrap_or_else(|| id.to_string())
    };
    let mut batches = Vec::new();
    for summary in desk.unfinished()? {
        let jobs = desk.batch_status(&summary.id)?.jobs;
        let activity = if jobs.iter().any(active) {
            "sending"
        } else if jobs.iter().any(|j| j.state == JobResult::Waiting) {
            "waiting"
        } else {
            "paused"
        };
        let waiting: Vec<&JobView> = jobs
            .iter()
            .filter(|j| j.state == JobResult::Waiting)
            .collect();
        batches.push(BatchState {
            activity,
            next_attempt_at: waiting
                .iter()
                .filter_map(|j| next_attempt(j))
                .min()
                .map(|t| t.to_rfc3339()),
            why: waiting
                .iter()
                .find_map(|j| j.error.as_ref())
                .map(|e| out.reason(&e.message, e.detail.as_deref())),
            summary,
        });
    }
    let paused: Vec<serde_json::Value> = crate::workspaces::paused_workspaces(desk)?
        .into_iter()
        .map(|(id, reason)| {
            serde_json::json!({
                "workspaceId": id,
                "workspace": name(&id),
                "reason": reason,
                "what": crate::workspaces::pause_reason(&reason),
            })
        })
        .collect();
    if out.json {
        out.json(&serde_json::json!({ "unfinished": batches, "paused": paused }))?;
        return Ok(Done::All);
    }
    if batches.is_empty() && paused.is_empty() {
        println!("Nothing waits in the outbox.");
        return Ok(Done::All);
    }
    let rows: Vec<Vec<String>> = batches
        .iter()
        .map(|b| {
            let s = &b.summary;
            let mut what = b.activity.to_string();
            if let Some(t) = &b.next_attempt_at {
                what.push_str(&format!(" until {t}"));
            }
            vec![
                s.workspace_name.clone(),
                s.created_at.clone(),
                format!("{} of {} left", s.pending, s.total),
                format!("{} done, {} failed", s.done, s.failed),
                what,
                b.why.clone().unwrap_or_default(),
            ]
        })
        .collect();
    if !rows.is_empty() {
        println!(
            "{}",
            table(
                &["WORKSPACE", "QUEUED AT", "LEFT", "SO FAR", "NOW", "WHY"],
                &rows
            )
        );
    }
    for p in &paused {
        println!(
            "{} is {}",
            p["workspace"].as_str().unwrap_or_default(),
            p["what"].as_str().unwrap_or_default()
        );
    }
    Ok(Done::All)
}
