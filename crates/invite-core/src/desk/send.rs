//! The outbox through the desk: enqueue, status, stop, retry, pause and resume, links instead,
//! history and export, and the worker with its events.
//!
//! The outbox stores states and results as words; here they become closed enums
//! ([`JobResult`], [`BatchCounts`], [`JobErrorView`]) so that front ends never compare strings.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{lock, Desk, Inner};
use crate::error::{Error, Result};
use crate::model::InviteRequest;
use crate::outbox::{
    BatchSummary, EmailBudget, HistoryQuery, Job, JobError, Notice, OutboxEvent, ProviderSource,
    Worker,
};
use crate::provider::Provider;

/// What the owner sees for one address: its state while open, its outcome once done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum JobResult {
    /// Written, not yet sent.
    Queued,
    /// A request is in flight.
    Sending,
    /// Waits for a rate limit or the network.
    Waiting,
    /// The answer was lost; it is looked up before anything is sent again.
    Uncertain,
    /// Held until the owner resumes the workspace.
    Paused,
    /// Failed; Retry puts it back.
    Failed,
    /// Stopped by the owner before it was sent.
    Cancelled,
    /// Invitation sent.
    Invited,
    /// A link to copy was made instead of an email.
    Linked,
    /// An existing invitation was updated and sent again.
    Updated,
    /// The address already belongs to a member.
    AlreadyMember,
}

impl JobResult {
    /// From the outbox's word ([`Job::result`]).
    pub fn from_word(word: &str) -> Option<JobResult> {
        Some(match word {
            "queued" => JobResult::Queued,
            "sending" => JobResult::Sending,
            "waiting" => JobResult::Waiting,
            "uncertain" => JobResult::Uncertain,
            "paused" => JobResult::Paused,
            "failed" => JobResult::Failed,
            "cancelled" => JobResult::Cancelled,
            "invited" => JobResult::Invited,
            "linked" => JobResult::Linked,
            "updated" => JobResult::Updated,
            "already_member" => JobResult::AlreadyMember,
            _ => return None,
        })
    }

    /// The outbox's word for it.
    pub fn word(self) -> &'static str {
        match self {
            JobResult::Queued => "queued",
            JobResult::Sending => "sending",
            JobResult::Waiting => "waiting",
            JobResult::Uncertain => "uncertain",
            JobResult::Paused => "paused",
            JobResult::Failed => "failed",
            JobResult::Cancelled => "cancelled",
            JobResult::Invited => "invited",
            JobResult::Linked => "linked",
            JobResult::Updated => "updated",
            JobResult::AlreadyMember => "already_member",
        }
    }

    /// True while the job may still be sent (the batch is not finished).
    pub fn is_open(self) -> bool {
        matches!(
            self,
            JobResult::Queued | JobResult::Sending | JobResult::Waiting | JobResult::Uncertain
        )
    }

    /// True when nothing has been sent for it yet and it still may be.
    pub fn is_unsent(self) -> bool {
        self.is_open() || self == JobResult::Paused
    }
}

/// Why a job failed or waits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobErrorView {
    /// The stable error kind (the same words as a command's error).
    pub kind: String,
    /// Plain-language message.
    pub message: String,
    /// The server's words.
    pub detail: Option<String>,
    /// True when it waits for the email limit (the server's, or the one set for the workspace):
    /// links to copy are the way around it.
    pub email_limit: bool,
    /// True when the network was down.
    pub offline: bool,
}

impl From<JobError> for JobErrorView {
    fn from(e: JobError) -> Self {
        Self {
            offline: e.kind == "network",
            email_limit: e.email_limit,
            kind: e.kind,
            message: e.message,
            detail: e.detail,
        }
    }
}

/// One address of a batch.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobView {
    /// Row id (for Retry).
    pub id: i64,
    /// The address.
    pub email: String,
    /// Where it stands.
    pub state: JobResult,
    /// The link to copy, when one was made.
    pub link: Option<String>,
    /// Why it failed or waits.
    pub error: Option<JobErrorView>,
    /// When it is tried again (RFC 3339).
    pub next_attempt_at: Option<String>,
    /// Retry applies (failed or stopped).
    pub can_retry: bool,
    /// Held with its workspace's queue (Resume applies).
    pub held: bool,
    /// Waits for a limit or the network; it goes by itself.
    pub waiting: bool,
}

impl From<Job> for JobView {
    fn from(j: Job) -> Self {
        let state = JobResult::from_word(j.result()).unwrap_or(JobResult::Failed);
        Self {
            id: j.id,
            state,
            can_retry: matches!(state, JobResult::Failed | JobResult::Cancelled),
            held: state == JobResult::Paused,
            waiting: state == JobResult::Waiting,
            email: j.email,
            link: j.link,
            error: j.last_error.map(JobErrorView::from),
            next_attempt_at: j.next_attempt_at.map(|t| t.to_rfc3339()),
        }
    }
}

/// A batch's progress since a cursor (see [`Desk::batch_changes`]).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchChangesView {
    /// The batch.
    pub batch_id: String,
    /// Jobs in the batch.
    pub total: u32,
    /// Jobs per result word (`queued`, `sending`, `invited`, `linked`, `failed`…).
    pub counts: std::collections::BTreeMap<String, u32>,
    /// No job is left to send.
    pub finished: bool,
    /// Jobs finished one way or another (neither open nor paused), as [`BatchStatus::settled`].
    pub settled: u32,
    /// Something can still be stopped (open or paused jobs), as [`BatchStatus::stoppable`].
    pub stoppable: bool,
    /// Give it back as `cursor` next time.
    pub cursor: i64,
    /// More changes wait: ask again at once.
    pub more: bool,
    /// The jobs changed since the cursor given, in the order they changed.
    pub jobs: Vec<JobView>,
}

/// How many jobs of a batch stand where.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)] // one field per `JobResult`
pub struct BatchCounts {
    pub queued: usize,
    pub sending: usize,
    pub waiting: usize,
    pub uncertain: usize,
    pub paused: usize,
    pub failed: usize,
    pub cancelled: usize,
    pub invited: usize,
    pub linked: usize,
    pub updated: usize,
    pub already_member: usize,
}

impl BatchCounts {
    fn add(&mut self, r: JobResult) {
        let slot = match r {
            JobResult::Queued => &mut self.queued,
            JobResult::Sending => &mut self.sending,
            JobResult::Waiting => &mut self.waiting,
            JobResult::Uncertain => &mut self.uncertain,
            JobResult::Paused => &mut self.paused,
            JobResult::Failed => &mut self.failed,
            JobResult::Cancelled => &mut self.cancelled,
            JobResult::Invited => &mut self.invited,
            JobResult::Linked => &mut self.linked,
            JobResult::Updated => &mut self.updated,
            JobResult::AlreadyMember => &mut self.already_member,
        };
        *slot += 1;
    }

    /// Jobs finished one way or another (neither open nor paused).
    pub fn settled(&self, total: usize) -> usize {
        total - self.queued - self.sending - self.waiting - self.uncertain - self.paused
    }
}

/// A batch: every address and the counts.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchStatus {
    /// The batch.
    pub batch_id: String,
    /// Its workspace.
    pub workspace_id: String,
    /// Addresses in it.
    pub total: usize,
    /// By result.
    pub counts: BatchCounts,
    /// Settled count (`total` minus open and paused jobs).
    pub settled: usize,
    /// True when nothing is open (paused jobs wait for the owner, not for the worker).
    pub finished: bool,
    /// True while something can still be stopped (open or paused jobs).
    pub stoppable: bool,
    /// Every address.
    pub jobs: Vec<JobView>,
}

/// What the history shows, filtered and paged.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct HistoryFilter {
    /// One workspace, or every one.
    pub workspace_id: Option<String>,
    /// One result, or every result.
    pub result: Option<JobResult>,
    /// Part of the address or of the workspace name, any case.
    pub search: Option<String>,
    /// Rows to skip.
    pub offset: usize,
    /// Rows to return (100 when not given).
    pub limit: Option<usize>,
}

impl HistoryFilter {
    fn query(&self) -> HistoryQuery {
        HistoryQuery {
            workspace_id: self.workspace_id.clone(),
            result: self.result.map(|r| r.word().to_string()),
            search: self.search.clone(),
            offset: self.offset,
            limit: self.limit,
        }
    }
}

/// One row of the history.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryRowView {
    /// The job.
    pub job_id: i64,
    /// When the owner clicked Invite.
    pub at: String,
    /// The workspace's id.
    pub workspace_id: String,
    /// The workspace's name at the time.
    pub workspace_name: String,
    /// The address.
    pub email: String,
    /// The result.
    pub result: JobResult,
    /// The last error, in plain words.
    pub detail: Option<String>,
}

/// A page of history, newest batch first.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryPageView {
    /// The rows asked for.
    pub rows: Vec<HistoryRowView>,
    /// Rows matching the filter in all.
    pub total: usize,
}

/// Why a workspace's queue is held.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PausedBy {
    /// `owner` when paused by hand, otherwise the error kind that paused it.
    pub reason: String,
}

/// What a front end hears from the desk: something to read again.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged, rename_all_fields = "camelCase")]
pub enum DeskEvent {
    /// A batch changed: read it again with [`Desk::batch_status`].
    Batch {
        /// The batch.
        batch_id: String,
        /// Its workspace.
        workspace_id: String,
        /// True when the worker settled jobs (a finished batch may deserve a notification);
        /// false for the owner's own actions.
        #[serde(skip)]
        by_worker: bool,
    },
    /// A workspace's queue was paused (`paused` says why) or resumed (`paused` is `None`).
    Queue {
        /// The workspace.
        workspace_id: String,
        /// Why it is held, or `None` when it goes again.
        paused: Option<String>,
    },
}

/// Receives [`DeskEvent`]s (called from the desk's tasks; keep it quick).
pub type DeskEvents = Arc<dyn Fn(DeskEvent) + Send + Sync>;

/// How often the worker's job changes are announced: a few times a second is enough for a
/// progress bar, and a batch of thousands stays one event per tick.
pub const EVENT_INTERVAL: Duration = Duration::from_millis(250);

/// Gives the outbox worker the providers and limits of the desk's workspaces.
struct Source(Weak<Inner>);

impl Source {
    fn desk(&self) -> Result<Desk> {
        self.0
            .upgrade()
            .map(|inner| Desk { inner })
            .ok_or_else(|| Error::storage("Invite Desk is shutting down"))
    }
}

impl ProviderSource for Source {
    fn provider(&self, workspace_id: &str) -> Result<Arc<dyn Provider>> {
        self.desk()?.provider(workspace_id)
    }

    fn serves(&self, workspace_id: &str) -> bool {
        // The demo's server lives in the window's process: a desk without the launcher (the
        // command line) leaves the demo's jobs to the window instead of failing them.
        self.desk().is_ok_and(|d| {
            d.inner.demo.is_some() || d.workspace(workspace_id).map_or(true, |w| !w.demo)
        })
    }

    fn concurrency(&self, workspace_id: &str) -> usize {
        self.desk()
            .and_then(|d| d.workspace(workspace_id))
            .ok()
            .and_then(|w| w.sending().concurrency)
            .map_or(4, |c| c as usize)
    }

    fn email_budget(&self, workspace_id: &str) -> Option<EmailBudget> {
        self.desk()
            .and_then(|d| d.workspace(workspace_id))
            .ok()
            .and_then(|w| w.sending().emails_per_hour)
            .map(EmailBudget::per_hour)
    }
}

impl Desk {
    fn emit(&self, ev: DeskEvent) {
        let sink = self.inner.events.lock().ok().and_then(|s| s.clone());
        if let Some(sink) = sink {
            sink(ev);
        }
    }

    fn batch_event(&self, batch_id: &str, workspace_id: &str) {
        self.emit(DeskEvent::Batch {
            batch_id: batch_id.to_string(),
            workspace_id: workspace_id.to_string(),
            by_worker: false,
        });
    }

    fn wake(&self) {
        if let Ok(w) = self.inner.worker.lock() {
            if let Some(w) = w.as_ref() {
                w.0.wake();
            }
        }
    }

    /// Starts sending: spawns the outbox worker (unfinished jobs resume by themselves) on the
    /// current tokio runtime, and sends `events` what changed. Without a worker the desk still
    /// queues, reads and changes jobs; a worker in another process (the window, say) sends them.
    pub fn start_worker(&self, events: DeskEvents) -> Result<()> {
        *lock(&self.inner.events)? = Some(events.clone());
        // Job changes come by the hundred in a big batch: they are gathered and announced once
        // per batch every EVENT_INTERVAL. A paused workspace is announced at once.
        let changed: Arc<Mutex<HashMap<String, String>>> = Arc::default();
        let gathered = changed.clone();
        let pauses = events.clone();
        let sink = Arc::new(move |ev: OutboxEvent| match ev {
            OutboxEvent::JobChanged { job } => {
                if let Ok(mut c) = gathered.lock() {
                    c.insert(job.batch_id.clone(), job.workspace_id.clone());
                }
            }
            OutboxEvent::WorkspacePaused {
                workspace_id,
                reason,
            } => pauses(DeskEvent::Queue {
                workspace_id,
                paused: Some(reason),
            }),
        });
        let weak = Arc::downgrade(&self.inner);
        let ticker = tokio::spawn(async move {
            let mut tick = tokio::time::interval(EVENT_INTERVAL);
            loop {
                tick.tick().await;
                if weak.strong_count() == 0 {
                    break;
                }
                let batches = match changed.lock() {
                    Ok(mut c) => std::mem::take(&mut *c),
                    Err(_) => break,
                };
                for (batch_id, workspace_id) in batches {
                    events(DeskEvent::Batch {
                        batch_id,
                        workspace_id,
                        by_worker: true,
                    });
                }
            }
        });
        let source = Arc::new(Source(Arc::downgrade(&self.inner)));
        let handle = Worker::spawn(self.inner.outbox.clone(), source, sink);
        let mut w = lock(&self.inner.worker)?;
        if let Some((old, old_ticker)) = w.replace((handle, ticker)) {
            old_ticker.abort();
            tokio::spawn(old.shutdown());
        }
        Ok(())
    }

    /// Stops the worker; jobs in flight are resolved on the next start (looked up first when a
    /// request may have gone out).
    pub async fn stop_worker(&self) -> Result<()> {
        let running = lock(&self.inner.worker)?.take();
        if let Some((handle, ticker)) = running {
            ticker.abort();
            handle.shutdown().await;
        }
        Ok(())
    }

    /// Writes one job per address (in one transaction), wakes the worker, and returns the batch.
    pub fn enqueue(&self, workspace_id: &str, requests: &[InviteRequest]) -> Result<BatchStatus> {
        if requests.is_empty() {
            return Err(Error::invalid_input(
                "Addresses",
                "there is no address to invite",
            ));
        }
        let mut clean = Vec::with_capacity(requests.len());
        for r in requests {
            let email = crate::parse::normalize_email(&r.email)?;
            clean.push(InviteRequest { email, ..r.clone() });
        }
        // An outbox file this version cannot use: nothing is queued (it would be lost).
        if let Some(e) = self.outbox_blocked() {
            return Err(e);
        }
        let ws = self.workspace(workspace_id)?;
        let batch = self.inner.outbox.enqueue(&ws.id, &ws.name, &clean)?;
        tracing::info!(workspace = %ws.id, batch = %batch, jobs = clean.len(), "batch queued");
        self.wake();
        // Jobs of a paused workspace change no state, so say there is a new batch.
        self.batch_event(&batch, &ws.id);
        self.batch_status(&batch)
    }

    /// Where a batch stands.
    pub fn batch_status(&self, batch: &str) -> Result<BatchStatus> {
        let summary = self.inner.outbox.batch(batch)?;
        let jobs: Vec<JobView> = self
            .inner
            .outbox
            .jobs(batch)?
            .into_iter()
            .map(JobView::from)
            .collect();
        let mut counts = BatchCounts::default();
        for j in &jobs {
            counts.add(j.state);
        }
        Ok(BatchStatus {
            batch_id: batch.to_string(),
            workspace_id: summary.workspace_id,
            total: jobs.len(),
            settled: counts.settled(jobs.len()),
            counts,
            finished: !jobs.iter().any(|j| j.state.is_open()),
            stoppable: jobs.iter().any(|j| j.state.is_unsent()),
            jobs,
        })
    }

    /// A batch's progress since `cursor` (0: every job): counts of the whole batch plus only
    /// the jobs changed since, so a page holding a cursor pays for what changed, not the batch.
    pub fn batch_changes(&self, batch: &str, cursor: i64) -> Result<BatchChangesView> {
        let c = self.inner.outbox.batch_changes(batch, cursor)?;
        // Unsent: open or paused (JobResult::is_unsent), the same rule as batch_status.
        let unsent: u32 = c
            .counts
            .iter()
            .filter(|(word, _)| JobResult::from_word(word).is_some_and(JobResult::is_unsent))
            .map(|(_, n)| *n)
            .sum();
        Ok(BatchChangesView {
            batch_id: c.batch_id,
            total: c.total,
            settled: c.total.saturating_sub(unsent),
            stoppable: unsent > 0,
            counts: c.counts,
            finished: c.finished,
            cursor: c.cursor,
            more: c.more,
            jobs: c.changed.into_iter().map(JobView::from).collect(),
        })
    }

    /// A batch's counts and names (what a notification says).
    pub fn batch_summary(&self, batch: &str) -> Result<BatchSummary> {
        self.inner.outbox.batch(batch)
    }

    /// The desktop notice for `batch` if it has just finished and the owner would want one
    /// (see [`BatchSummary::completion_notice`]), given once per outcome: several changes can
    /// arrive after the last job (its result, a resume, a stop) and each of them asks. A retry
    /// that changes the outcome is announced again. `watching` (is the owner looking at the
    /// window?) is asked only once the batch has finished.
    pub fn finished_batch_notice(
        &self,
        batch: &str,
        watching: impl FnOnce() -> bool,
    ) -> Result<Option<(BatchSummary, Notice)>> {
        let summary = self.inner.outbox.batch(batch)?;
        if !summary.is_finished() {
            return Ok(None);
        }
        let Some(notice) = summary.completion_notice(chrono::Utc::now(), watching()) else {
            return Ok(None);
        };
        let outcome = format!(
            "{} {}/{}/{}/{}",
            summary.id, summary.total, summary.done, summary.failed, summary.cancelled
        );
        if !lock(&self.inner.notified)?.insert(outcome) {
            return Ok(None);
        }
        Ok(Some((summary, notice)))
    }

    /// Stops a batch: what has not been sent is not sent. Returns how many were stopped.
    pub fn stop_batch(&self, batch: &str) -> Result<u32> {
        let n = self.inner.outbox.cancel_batch(batch)?;
        tracing::info!(batch, stopped = n, "batch stopped");
        if let Ok(b) = self.inner.outbox.batch(batch) {
            self.batch_event(batch, &b.workspace_id);
        }
        Ok(n)
    }

    /// Puts a failed or stopped job back in the queue (looked up on the server first when a
    /// request of it went out).
    pub fn retry_job(&self, job: i64) -> Result<()> {
        self.inner.outbox.retry_job(job)?;
        tracing::info!(job, "job retried");
        self.wake();
        let j = self.inner.outbox.job(job)?;
        self.batch_event(&j.batch_id, &j.workspace_id);
        Ok(())
    }

    /// Batches with work left (what "Resuming…" and `status` show).
    pub fn unfinished(&self) -> Result<Vec<BatchSummary>> {
        self.inner.outbox.unfinished()
    }

    /// Holds a workspace's unsent invitations until the owner resumes.
    pub fn pause_workspace(&self, workspace_id: &str) -> Result<u32> {
        let n = self.inner.outbox.pause_workspace(workspace_id, "owner")?;
        tracing::info!(
            workspace = workspace_id,
            held = n,
            "queue paused by the owner"
        );
        self.emit(DeskEvent::Queue {
            workspace_id: workspace_id.to_string(),
            paused: Some("owner".into()),
        });
        Ok(n)
    }

    /// Sends a paused workspace's invitations again (each one looked up first if it may have
    /// arrived).
    pub fn resume_workspace(&self, workspace_id: &str) -> Result<u32> {
        let n = self.inner.outbox.resume_workspace(workspace_id)?;
        tracing::info!(workspace = workspace_id, released = n, "queue resumed");
        self.wake();
        self.emit(DeskEvent::Queue {
            workspace_id: workspace_id.to_string(),
            paused: None,
        });
        Ok(n)
    }

    /// The way around an email limit: the batch's unsent invitations become links to copy,
    /// which the server does not rate-limit. Refused where the back end cannot make links.
    pub fn switch_to_links(&self, batch: &str) -> Result<u32> {
        let b = self.inner.outbox.batch(batch)?;
        if !self.provider(&b.workspace_id)?.capabilities().copy_link {
            return Err(Error::Unsupported {
                what: "Creating links to copy".into(),
            });
        }
        let n = self.inner.outbox.switch_to_links(batch)?;
        self.wake();
        self.batch_event(batch, &b.workspace_id);
        Ok(n)
    }

    /// What was sent, newest batch first, filtered and paged.
    pub fn history(&self, filter: &HistoryFilter) -> Result<HistoryPageView> {
        let page = self.inner.outbox.history(&filter.query())?;
        Ok(HistoryPageView {
            total: page.total,
            rows: page
                .rows
                .into_iter()
                .map(|r| HistoryRowView {
                    job_id: r.job_id,
                    at: r.at,
                    workspace_id: r.workspace_id,
                    workspace_name: r.workspace_name,
                    email: r.email,
                    result: JobResult::from_word(r.result).unwrap_or(JobResult::Failed),
                    detail: r.detail,
                })
                .collect(),
        })
    }

    /// The history matching `filter` (every page) as CSV text.
    pub fn history_csv(&self, filter: &HistoryFilter) -> Result<String> {
        self.inner.outbox.export_csv(&filter.query())
    }

    /// Writes the history matching `filter` as a new CSV file `file_name` in `dir` (a plain
    /// name; `name (2).csv`… when taken); never overwrites a file or follows a link. Returns
    /// the path.
    pub fn export_history(
        &self,
        filter: &HistoryFilter,
        dir: &Path,
        file_name: &str,
    ) -> Result<PathBuf> {
        let name = super::files::clean_file_name(file_name, "csv")?;
        let csv = self.history_csv(filter)?;
        super::files::save_new(dir, &name, csv.as_bytes())
    }
}
