//! What the outbox holds and reports: jobs, their states and errors, batch summaries, notices.

use super::*;

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Written, not yet sent.
    Queued,
    /// A request is (or was, if the app died) in flight.
    Sending,
    /// The answer was lost: look the address up before re-sending.
    Uncertain,
    /// Rate-limited or offline: waits until `next_attempt_at`.
    Waiting,
    /// Done (see the outcome).
    Done,
    /// Failed for a reason the owner must see; Retry puts it back in the queue.
    Failed,
    /// Cancelled by the owner before it was sent.
    Cancelled,
    /// Held until the owner resumes the workspace (paused by hand, or signed out).
    Paused,
}

impl JobState {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Sending => "sending",
            JobState::Uncertain => "uncertain",
            JobState::Waiting => "waiting",
            JobState::Done => "done",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
            JobState::Paused => "paused",
        }
    }

    pub(super) fn parse(s: &str) -> JobState {
        match s {
            "queued" => JobState::Queued,
            "sending" => JobState::Sending,
            "uncertain" => JobState::Uncertain,
            "waiting" => JobState::Waiting,
            "done" => JobState::Done,
            "cancelled" => JobState::Cancelled,
            "paused" => JobState::Paused,
            _ => JobState::Failed,
        }
    }
}

/// The last error of a job, as the UI shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobError {
    /// Stable kind ([`Error::kind`]).
    pub kind: String,
    /// Plain-language message.
    pub message: String,
    /// The server's words.
    pub detail: Option<String>,
    /// The error is the email limit (the server's, or the one set for the workspace): links to
    /// copy are the way around it.
    pub email_limit: bool,
}

/// One address in a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    /// Row id.
    pub id: i64,
    /// The batch it belongs to.
    pub batch_id: BatchId,
    /// The workspace it is sent to.
    pub workspace_id: String,
    /// The address.
    pub email: String,
    /// Where it stands.
    pub state: JobState,
    /// `invited`, `link_created`, `already_member`, `updated_existing` once done.
    pub outcome: Option<String>,
    /// The link to copy, when one was created.
    pub link: Option<String>,
    /// The server's id of the invitation, once known.
    pub invite_id: Option<String>,
    /// Requests made for it.
    pub attempts: u32,
    /// Why it failed or waits.
    pub last_error: Option<JobError>,
    /// When it will be tried again (waiting jobs).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// When its first request went out; `None` while nothing was sent.
    pub first_sent_at: Option<DateTime<Utc>>,
}

impl Job {
    /// What the owner sees for this job, one stable word: the outcome once done (`invited`,
    /// `linked`, `updated`, `already_member`), otherwise its state (`queued`, `waiting`, `failed`…).
    pub fn result(&self) -> &'static str {
        result_word(self.state, self.outcome.as_deref())
    }

    /// Whether `found` (the server's record for this address) can be the answer to one of this
    /// job's requests: it must not be older than the first request, give or take [`CLOCK_SKEW`].
    /// A record without a time is taken as ours: inviting twice is the worse mistake.
    pub(super) fn made_by_us(&self, found: &crate::model::Invite) -> bool {
        let Some(sent) = self.first_sent_at else {
            return false;
        };
        match found.invited_at {
            Some(at) => at + chrono::Duration::from_std(CLOCK_SKEW).unwrap_or_default() >= sent,
            None => true,
        }
    }
}

/// [`Job::result`] of a job in `state` with `outcome`.
pub(super) fn result_word(state: JobState, outcome: Option<&str>) -> &'static str {
    match (state, outcome) {
        (JobState::Done, Some("link_created")) => "linked",
        (JobState::Done, Some("updated_existing")) => "updated",
        (JobState::Done, Some("already_member")) => "already_member",
        (JobState::Done, _) => "invited",
        (state, _) => state.as_str(),
    }
}

/// A batch's progress since a cursor: counts of the whole batch, and only the jobs that changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchChanges {
    /// The batch.
    pub batch_id: BatchId,
    /// Jobs in the batch.
    pub total: u32,
    /// Jobs per [`Job::result`] word (`queued`, `sending`, `invited`, `linked`, `failed`…).
    pub counts: std::collections::BTreeMap<String, u32>,
    /// No job is left to send (every one done, failed, cancelled or paused).
    pub finished: bool,
    /// The jobs changed since the cursor given, in the order they changed.
    pub changed: Vec<Job>,
    /// The cursor for the next call.
    pub cursor: i64,
    /// More changes are waiting than one answer holds: ask again with `cursor` at once.
    pub more: bool,
}

/// Most jobs in one [`Outbox::batch_changes`] answer.
pub(super) const CHANGES_PER_ANSWER: usize = 1000;

/// Counts of a batch by state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct BatchSummary {
    /// Batch id.
    pub id: BatchId,
    /// Workspace id.
    pub workspace_id: String,
    /// Workspace name at the time of sending.
    pub workspace_name: String,
    /// When the owner clicked Invite.
    pub created_at: String,
    /// Jobs in the batch.
    pub total: u32,
    /// Jobs not yet finished (queued, sending, uncertain, waiting, paused).
    pub pending: u32,
    /// Jobs held because the workspace is paused.
    pub paused: u32,
    /// Jobs waiting for a rate limit or the network.
    pub waiting: u32,
    /// Jobs done.
    pub done: u32,
    /// Jobs failed.
    pub failed: u32,
    /// Jobs cancelled.
    pub cancelled: u32,
}

/// A batch that ran at least this long gets a desktop notification even while the owner has the
/// window in front: by then they have usually turned to something else.
pub const NOTICE_AFTER: Duration = Duration::from_secs(20);

/// A desktop notification, in the owner's words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notice {
    /// One line.
    pub title: String,
    /// What happened and what to do next.
    pub body: String,
}

pub(super) fn invitations(n: u32) -> String {
    if n == 1 {
        "1 invitation".into()
    } else {
        format!("{n} invitations")
    }
}

impl BatchSummary {
    /// Every job has an outcome (done, failed or cancelled).
    pub fn is_finished(&self) -> bool {
        self.total > 0 && self.pending == 0
    }

    /// The notification for a batch that has just finished, when the owner would want one: they
    /// are not looking at the app (`watching` is false), or the batch ran for [`NOTICE_AFTER`] or
    /// longer (a rate limit, a pause, a restart in between). `None` while jobs are left.
    pub fn completion_notice(&self, now: DateTime<Utc>, watching: bool) -> Option<Notice> {
        if !self.is_finished() {
            return None;
        }
        let ran = DateTime::parse_from_rfc3339(&self.created_at)
            .ok()
            .and_then(|t| (now - t.with_timezone(&Utc)).to_std().ok())
            .unwrap_or_default();
        if watching && ran < NOTICE_AFTER {
            return None;
        }
        let ws = &self.workspace_name;
        let (title, body) = if self.done == self.total {
            (
                format!("Invitations sent for {ws}"),
                if self.total == 1 {
                    "The invitation is done.".to_string()
                } else {
                    format!("All {} are done.", invitations(self.total))
                },
            )
        } else {
            let mut body = format!("{} of {} done", self.done, invitations(self.total));
            if self.cancelled > 0 {
                body.push_str(&format!(", {} cancelled", self.cancelled));
            }
            if self.failed > 0 {
                body.push_str(&format!(
                    ", {} failed. Open Invite Desk to see why and retry.",
                    self.failed
                ));
            } else {
                body.push('.');
            }
            let title = if self.failed > 0 {
                format!("Some invitations for {ws} failed")
            } else {
                format!("Invitations finished for {ws}")
            };
            (title, body)
        };
        Some(Notice { title, body })
    }
}

/// What the worker reports to the app.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum OutboxEvent {
    /// A job changed state.
    JobChanged {
        /// The job as it now stands.
        job: Box<Job>,
    },
    /// A workspace's queue stopped until the owner acts (signed out, key no longer admin).
    WorkspacePaused {
        /// The workspace.
        workspace_id: String,
        /// The error kind that paused it.
        reason: String,
    },
}

/// What [`Outbox::open_with_report`] opened, and what it had to do first.
#[derive(Debug)]
pub struct OpenReport {
    /// The outbox, ready.
    pub outbox: Outbox,
    /// Set when the owner must be told (the old file was damaged and set aside).
    pub notice: Option<OutboxNotice>,
}

/// Something the owner must know about the outbox at start-up, for a banner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboxNotice {
    /// Stable kind: `outbox_moved_aside`, or the [`Error::kind`] that kept the file from use.
    pub kind: String,
    /// What happened and what to do, in plain words.
    pub message: String,
    /// The file it is about (where the old one now is).
    pub path: Option<String>,
    /// What SQLite said.
    pub detail: Option<String>,
    /// True when the app runs without its outbox (nothing is sent until it is fixed).
    pub blocks_sending: bool,
}

impl OutboxNotice {
    /// The notice for an outbox file that could not be used at all (`e`, from
    /// [`Outbox::open_with_report`]): the app starts, but sends nothing.
    pub fn unusable(e: &Error, path: &Path) -> Self {
        OutboxNotice {
            kind: e.kind().to_string(),
            message: format!(
                "{e} Invite Desk sends no invitation until this is solved, so that none is lost."
            ),
            path: Some(path.display().to_string()),
            detail: e.detail().map(str::to_string),
            blocks_sending: true,
        }
    }
}
