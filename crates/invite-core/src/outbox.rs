//! The durable outbox: every invitation is written to SQLite before any request is sent, and a
//! worker sends it. State changes are committed before the next step, so a crash, a sign-out, an
//! offline spell or a rate limit never loses a job — and a job whose answer was lost is looked up
//! on the server ([`Provider::find`]) before anything is sent again, so nobody is invited twice.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection};
use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, Semaphore};

use crate::error::{Error, Result};
use crate::model::{InviteRequest, InviteStatus};
use crate::provider::Provider;

/// Identifier of a batch (one click on "Invite N people").
pub type BatchId = String;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS batches (
  id TEXT PRIMARY KEY, workspace_id TEXT NOT NULL, workspace_name TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (
  id INTEGER PRIMARY KEY AUTOINCREMENT, batch_id TEXT NOT NULL REFERENCES batches(id),
  workspace_id TEXT NOT NULL, email TEXT NOT NULL, message TEXT, redirect_url TEXT, send_email INTEGER NOT NULL,
  state TEXT NOT NULL, outcome TEXT, link TEXT, invite_id TEXT, attempts INTEGER NOT NULL DEFAULT 0,
  error_kind TEXT, error_message TEXT, error_detail TEXT, next_attempt_at TEXT, updated_at TEXT NOT NULL,
  UNIQUE(batch_id, email));
CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state, workspace_id);
";
/// Version 2: a workspace's queue can be paused (by the owner, or by a sign-out) across restarts.
const SCHEMA_V2: &str = "
CREATE TABLE IF NOT EXISTS paused_workspaces (
  workspace_id TEXT PRIMARY KEY, reason TEXT NOT NULL, since TEXT NOT NULL);
";
/// Version 3: when a job's first request went out, so that a lost answer is matched only with an
/// invitation the server made after it (an older pending invitation is not proof of ours).
/// Jobs sent before it get the earliest time, so that any record found for them still counts,
/// as it did then.
fn schema_v3(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<()> {
    add_column(tx, "jobs", "first_sent_at", "TEXT")?;
    tx.execute_batch(
        "UPDATE jobs SET first_sent_at='1970-01-01T00:00:00+00:00' WHERE attempts > 0 AND first_sent_at IS NULL",
    )
}
/// Version 4: claims with a lease, so that more than one process (the window and the command
/// line) can work on one database: a job is held by `lease_owner` until `lease_until`
/// (milliseconds since 1970, UTC), renewed while a request is in flight. A lapsed lease is free.
fn schema_v4(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<()> {
    add_column(tx, "jobs", "lease_owner", "TEXT")?;
    add_column(tx, "jobs", "lease_until", "INTEGER")
}

/// Version 5: when a job's invitation link stops working (milliseconds since 1970, UTC). The link
/// is a sign-in token for the invitee: it is cleared from the outbox once it has expired. Links
/// kept before this version get the default lifetime from now.
fn schema_v5(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<()> {
    add_column(tx, "jobs", "link_expires_at", "INTEGER")?;
    tx.execute_batch(
        "UPDATE jobs SET link_expires_at = CAST(strftime('%s','now') AS INTEGER) * 1000 + 86400000
           WHERE link IS NOT NULL AND link_expires_at IS NULL;
         CREATE INDEX IF NOT EXISTS jobs_link_expiry ON jobs(link_expires_at) WHERE link IS NOT NULL;",
    )
}

/// Version 6: a change sequence, so that a caller holding a cursor reads only the jobs changed
/// since (the progress of a big batch costs what changed, not the batch). Every insert and every
/// change the owner can see takes the next number, in commit order (writes are serialised).
fn schema_v6(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<()> {
    add_column(tx, "jobs", "change_seq", "INTEGER NOT NULL DEFAULT 0")?;
    tx.execute_batch(
        "UPDATE jobs SET change_seq = id;
         CREATE INDEX IF NOT EXISTS jobs_change_seq ON jobs(change_seq);
         CREATE TRIGGER IF NOT EXISTS jobs_seq_insert AFTER INSERT ON jobs BEGIN
           UPDATE jobs SET change_seq = (SELECT COALESCE(MAX(change_seq), 0) + 1 FROM jobs) WHERE id = NEW.id;
         END;
         CREATE TRIGGER IF NOT EXISTS jobs_seq_update
           AFTER UPDATE OF state, outcome, link, invite_id, attempts, error_kind, error_message,
             error_detail, next_attempt_at, send_email ON jobs BEGIN
           UPDATE jobs SET change_seq = (SELECT COALESCE(MAX(change_seq), 0) + 1 FROM jobs) WHERE id = NEW.id;
         END;",
    )
}

/// How long a link whose expiry the server does not tell is kept: GoTrue's default lifetime.
const LINK_KEPT: Duration = Duration::from_secs(24 * 3600);

/// One step of the schema. Each runs in one transaction together with its `user_version`
/// bump, so a crash (or a power cut) leaves the database at the step before or after it.
type Migration = fn(&rusqlite::Transaction<'_>) -> rusqlite::Result<()>;

/// Every step, in order: step `i` takes the database from version `i` to `i + 1`.
const MIGRATIONS: &[Migration] = &[
    |tx| tx.execute_batch(SCHEMA),
    |tx| tx.execute_batch(SCHEMA_V2),
    schema_v3,
    schema_v4,
    schema_v5,
    schema_v6,
];

/// Adds a column unless it is there. Builds before migrations ran in one transaction could die
/// between a step and its version bump, leaving the column without the version: such a file
/// still opens.
fn add_column(
    tx: &rusqlite::Transaction<'_>,
    table: &str,
    column: &str,
    decl: &str,
) -> rusqlite::Result<()> {
    let exists: bool = tx.query_row(
        "SELECT EXISTS(SELECT 1 FROM pragma_table_info(?1) WHERE name=?2)",
        params![table, column],
        |r| r.get(0),
    )?;
    if !exists {
        tx.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} {decl}"))?;
    }
    Ok(())
}

/// Brings the database to the last version of `steps`, one transaction per step. The version
/// is read again inside each transaction: another process may be migrating the same file. A
/// database of a newer version is refused before anything is written to it.
fn migrate(conn: &mut Connection, steps: &[Migration]) -> Result<()> {
    let known = i64::try_from(steps.len()).unwrap_or(i64::MAX);
    loop {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let version: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version > known || version < 0 {
            return Err(Error::OutboxTooNew {
                found: version,
                known,
            });
        }
        let Some(step) = usize::try_from(version).ok().and_then(|v| steps.get(v)) else {
            return Ok(());
        };
        step(&tx)?;
        tx.pragma_update(None, "user_version", version + 1)?;
        tx.commit()?;
    }
}

/// The version this build writes.
#[cfg(test)]
const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// How long a claim holds a job without being renewed. A process that dies leaves its jobs to
/// the others (and to its own next start) once this has passed.
const LEASE: Duration = Duration::from_secs(30);
/// How often a claim on a job with a request in flight is renewed: well inside [`LEASE`], so a
/// slow request never loses its job to another process.
const RENEW_EVERY: Duration = Duration::from_secs(10);

/// Clocks of the app and the server may disagree by this much when a found invitation's time is
/// compared with our first request: a record made up to this long before it still counts as ours.
const CLOCK_SKEW: Duration = Duration::from_secs(300);

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
    fn as_str(self) -> &'static str {
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

    fn parse(s: &str) -> JobState {
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
    fn made_by_us(&self, found: &crate::model::Invite) -> bool {
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
fn result_word(state: JobState, outcome: Option<&str>) -> &'static str {
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
const CHANGES_PER_ANSWER: usize = 1000;

/// What the History screen asks for; the CSV export takes the same filter (without paging).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct HistoryQuery {
    /// One workspace, or every one.
    pub workspace_id: Option<String>,
    /// One [`Job::result`] word, or every result.
    pub result: Option<String>,
    /// Part of the address or of the workspace name, any case.
    pub search: Option<String>,
    /// Rows to skip.
    pub offset: usize,
    /// Rows to return (100 when not given).
    pub limit: Option<usize>,
}

/// One row of the history: one address of one batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryRow {
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
    /// [`Job::result`].
    pub result: &'static str,
    /// The last error, in plain words.
    pub detail: Option<String>,
}

/// A page of history, newest batch first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryPage {
    /// The rows asked for.
    pub rows: Vec<HistoryRow>,
    /// Rows matching the filter in all.
    pub total: usize,
}

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

fn invitations(n: u32) -> String {
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

/// Why the database at `path` cannot be used, if it is damaged: not a database at all, or
/// failing SQLite's quick integrity check. `None` for a healthy (or missing) file, and for
/// failures that are not damage (a lock, a permission), which must not move a file away.
fn damage(path: &Path) -> Option<String> {
    if !path.exists() {
        return None;
    }
    let conn = match Connection::open(path) {
        Ok(c) => c,
        Err(e) => return is_damage(&e).then(|| e.to_string()),
    };
    let _ = conn.busy_timeout(Duration::from_secs(5));
    match conn.query_row("PRAGMA quick_check", [], |r| r.get::<_, String>(0)) {
        Ok(ok) if ok == "ok" => None,
        Ok(problem) => Some(problem),
        Err(e) => is_damage(&e).then(|| e.to_string()),
    }
}

fn is_damage(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if matches!(f.code, rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt))
}

/// Renames the database (and its `-wal` and `-shm` companions) to
/// `<name>.unreadable-<date and time>` next to it; returns the new path.
fn move_aside(path: &Path) -> Result<std::path::PathBuf> {
    let stamp = Utc::now().format("%Y-%m-%d-%H%M%S");
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let mut dest = path.with_file_name(format!("{name}.unreadable-{stamp}"));
    let mut n = 1;
    while dest.exists() {
        n += 1;
        dest = path.with_file_name(format!("{name}.unreadable-{stamp}-{n}"));
    }
    std::fs::rename(path, &dest).map_err(Error::storage)?;
    for companion in ["-wal", "-shm"] {
        let mut from = path.as_os_str().to_os_string();
        from.push(companion);
        let from = std::path::PathBuf::from(from);
        if from.exists() {
            let mut to = dest.as_os_str().to_os_string();
            to.push(companion);
            std::fs::rename(&from, to).map_err(Error::storage)?;
        }
    }
    Ok(dest)
}

/// The persistent queue. Cheap to clone.
///
/// More than one process may open the same file (the window and the command line): a job is
/// sent only by the process that claimed it, and every change after the claim is made only while
/// the claim still holds, so a Stop or Pause from anywhere is never overwritten.
#[derive(Debug, Clone)]
pub struct Outbox {
    conn: Arc<Mutex<Connection>>,
    /// Who this process's claims belong to (random per open).
    owner: Arc<str>,
    /// Where each open outbox keeps a file locked while it lives (none in memory): a claim of
    /// an owner whose file nobody holds belongs to a process that is gone, lease or not.
    owners: Option<Arc<Owners>>,
    /// When the worker last looked for jobs left by a process that is gone.
    recovered_at: Arc<Mutex<Option<std::time::Instant>>>,
}

/// The folder of owner lock files next to the database, and this process's own, held locked.
#[derive(Debug)]
struct Owners {
    dir: std::path::PathBuf,
    _mine: std::fs::File,
}

impl Owners {
    /// Creates `<db>-owners/<owner>.lock` and keeps it locked until the outbox is dropped (or
    /// the process ends, however it ends: the system releases the lock).
    fn hold(db: &Path, owner: &str) -> Result<Owners> {
        let mut name = db.file_name().unwrap_or_default().to_os_string();
        name.push("-owners");
        let dir = db.with_file_name(name);
        std::fs::create_dir_all(&dir).map_err(Error::storage)?;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(format!("{owner}.lock")))
            .map_err(Error::storage)?;
        file.lock().map_err(Error::storage)?;
        Ok(Owners { dir, _mine: file })
    }

    /// True when the process that made `owner`'s claims is gone: its lock file is missing or
    /// nobody holds it. The file of a gone owner is removed.
    fn is_gone(&self, owner: &str) -> bool {
        // An owner id is a UUID this code wrote; anything else is not a file name to open.
        if uuid::Uuid::parse_str(owner).is_err() {
            return true;
        }
        let path = self.dir.join(format!("{owner}.lock"));
        let Ok(file) = std::fs::OpenOptions::new().write(true).open(&path) else {
            return true;
        };
        match file.try_lock() {
            Ok(()) => {
                drop(file);
                let _ = std::fs::remove_file(&path);
                true
            }
            Err(_) => false,
        }
    }
}

fn now() -> String {
    Utc::now().to_rfc3339()
}

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

fn lease_end() -> i64 {
    now_ms().saturating_add(i64::try_from(LEASE.as_millis()).unwrap_or(i64::MAX))
}

impl Outbox {
    /// Opens (and creates or migrates) the database at `path`, in WAL mode.
    pub fn open(path: &Path) -> Result<Outbox> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(Error::storage)?;
        }
        Self::init(Connection::open(path)?, Some(path))
    }

    /// Opens the outbox at `path` as [`Outbox::open`] does, except that a damaged or unreadable
    /// file (not a database, or failing SQLite's integrity check) is moved aside under a dated
    /// name next to it, kept, and a fresh outbox is started: the report says so, for the
    /// owner. A file of a newer version is refused ([`Error::OutboxTooNew`]), never moved.
    pub fn open_with_report(path: &Path) -> Result<OpenReport> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(Error::storage)?;
        }
        let notice = match damage(path) {
            None => None,
            Some(detail) => {
                let moved = move_aside(path)?;
                tracing::error!(moved = %moved.display(), %detail, "the outbox file was damaged and set aside");
                Some(OutboxNotice {
                    kind: "outbox_moved_aside".into(),
                    message: "Invite Desk could not read its record of invitations, so it set the file aside and started a new one. Invitations that were waiting to be sent are not in the new record: check the workspace's list of invitations before sending them again.".into(),
                    path: Some(moved.display().to_string()),
                    detail: Some(detail),
                    blocks_sending: false,
                })
            }
        };
        Ok(OpenReport {
            outbox: Self::open(path)?,
            notice,
        })
    }

    /// An in-memory outbox, for tests.
    pub fn open_in_memory() -> Result<Outbox> {
        Self::init(Connection::open_in_memory()?, None)
    }

    fn init(conn: Connection, path: Option<&Path>) -> Result<Outbox> {
        let mut conn = conn;
        // Another process may hold the file (the command line and the window): wait for it.
        conn.busy_timeout(Duration::from_secs(5))?;
        // A file of a newer version is not touched at all, not even its journal mode.
        let known = i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX);
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version > known || version < 0 {
            return Err(Error::OutboxTooNew {
                found: version,
                known,
            });
        }
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // FULL: a commit reaches the disk before the call returns. The claim and the move to
        // `sending` must survive a power cut, or a job whose request went out could come back
        // as never sent and be sent again without a lookup (NORMAL in WAL mode may lose the
        // last commits on power loss). It costs one sync per state change.
        conn.pragma_update(None, "synchronous", "FULL")?;
        migrate(&mut conn, MIGRATIONS)?;
        // What is deleted or cleared (an expired invitation link) is overwritten on disk too,
        // not left in free pages.
        conn.pragma_update(None, "secure_delete", true)?;
        let owner: Arc<str> = uuid::Uuid::new_v4().to_string().into();
        let owners = match path {
            Some(p) => Some(Arc::new(Owners::hold(p, &owner)?)),
            None => None,
        };
        let outbox = Outbox {
            conn: Arc::new(Mutex::new(conn)),
            owner,
            owners,
            recovered_at: Arc::default(),
        };
        outbox.recover()?;
        outbox.clear_expired_links()?;
        Ok(outbox)
    }

    /// Clears the invitation links that have expired: they are sign-in tokens for the invitee
    /// and have no use once dead. Returns the links cleared.
    pub fn clear_expired_links(&self) -> Result<usize> {
        let conn = self.lock()?;
        Ok(conn.execute(
            "UPDATE jobs SET link=NULL, link_expires_at=NULL WHERE link IS NOT NULL AND link_expires_at <= ?1",
            params![now_ms()],
        )?)
    }

    /// A job left `sending` by a process that is gone may have reached the server: it becomes
    /// `uncertain` (looked up before anything is sent again) once its lease has lapsed, or at
    /// once when its owner's process is known to be gone. A job another running process is
    /// sending keeps its live lease and is left alone. Returns the jobs recovered.
    fn recover(&self) -> Result<usize> {
        let conn = self.lock()?;
        let ms = now_ms();
        let mut n = 0;
        if let Some(owners) = &self.owners {
            let live: Vec<String> = conn
                .prepare(
                    "SELECT DISTINCT lease_owner FROM jobs
                     WHERE lease_owner IS NOT NULL AND lease_owner != ?1 AND lease_until >= ?2",
                )?
                .query_map(params![&*self.owner, ms], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            for gone in live.iter().filter(|o| owners.is_gone(o)) {
                n += conn.execute(
                    "UPDATE jobs SET state=CASE WHEN state='sending' THEN 'uncertain' ELSE state END,
                       lease_owner=NULL, lease_until=NULL, updated_at=?2 WHERE lease_owner=?1",
                    params![gone, now()],
                )?;
            }
        }
        n += conn.execute(
            "UPDATE jobs SET state='uncertain', lease_owner=NULL, lease_until=NULL, updated_at=?2
             WHERE state='sending' AND (lease_until IS NULL OR lease_until < ?1)",
            params![ms, now()],
        )?;
        Ok(n)
    }

    /// [`Outbox::recover`] at most once a second: the worker asks on every pass.
    fn recover_now_and_then(&self) -> Result<()> {
        let due = match self.recovered_at.lock() {
            Ok(mut at) => {
                let due = at.is_none_or(|t| t.elapsed() >= Duration::from_secs(1));
                if due {
                    *at = Some(std::time::Instant::now());
                }
                due
            }
            Err(_) => true,
        };
        if due {
            self.recover()?;
            self.clear_expired_links()?;
        }
        Ok(())
    }

    /// Claims a job for this process: only if it is still due and nobody holds a live lease on
    /// it (one conditional update, the affected rows checked). Returns the job as it now stands
    /// (another process may have tried it meanwhile) with its request, or `None` when it is not
    /// ours to send.
    fn claim(&self, id: i64) -> Result<Option<(Job, InviteRequest)>> {
        let conn = self.lock()?;
        let (ms, t) = (now_ms(), now());
        let n = conn.execute(
            "UPDATE jobs SET lease_owner=?2, lease_until=?3 WHERE id=?1
               AND (state IN ('queued','uncertain') OR (state='waiting' AND next_attempt_at <= ?4))
               AND (lease_owner IS NULL OR lease_until < ?5)",
            params![id, &*self.owner, lease_end(), t, ms],
        )?;
        if n != 1 {
            return Ok(None);
        }
        Ok(Some(conn.query_row(
            &format!("SELECT {JOB_COLS}, message, redirect_url, send_email FROM jobs WHERE id=?1"),
            params![id],
            job_and_request,
        )?))
    }

    /// Keeps this process's claim on a job alive while its request is in flight.
    fn renew(&self, id: i64) -> Result<bool> {
        let conn = self.lock()?;
        let n = conn.execute(
            "UPDATE jobs SET lease_until=?3 WHERE id=?1 AND lease_owner=?2",
            params![id, &*self.owner, lease_end()],
        )?;
        Ok(n == 1)
    }

    /// Moves a job this process has claimed to `state` and runs `f` in the same transaction,
    /// only while the claim still holds: a Stop, a Pause or another process's recovery clears
    /// the claim, and then nothing is changed (`None`). Leaving for `sending` keeps (and
    /// renews) the claim; any other state gives it up.
    fn transition(
        &self,
        id: i64,
        state: JobState,
        f: impl FnOnce(&Connection) -> rusqlite::Result<()>,
    ) -> Result<Option<Job>> {
        let mut conn = self.lock()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let keep = state == JobState::Sending;
        let n = tx.execute(
            "UPDATE jobs SET state=?3, updated_at=?4,
               lease_owner = CASE WHEN ?5 THEN lease_owner ELSE NULL END,
               lease_until = CASE WHEN ?5 THEN ?6 ELSE NULL END
             WHERE id=?1 AND lease_owner=?2",
            params![id, &*self.owner, state.as_str(), now(), keep, lease_end()],
        )?;
        if n != 1 {
            return Ok(None);
        }
        f(&tx)?;
        let job = tx.query_row(
            &format!("{JOB_SELECT} WHERE id=?1"),
            params![id],
            job_from_row,
        )?;
        tx.commit()?;
        Ok(Some(job))
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Connection>> {
        self.conn
            .lock()
            .map_err(|_| Error::storage("the outbox lock was poisoned"))
    }

    /// Writes one job per address in ONE transaction, before anything is sent. Repeated
    /// addresses (case-insensitive) are merged.
    pub fn enqueue(
        &self,
        workspace_id: &str,
        workspace_name: &str,
        requests: &[InviteRequest],
    ) -> Result<BatchId> {
        let id = uuid::Uuid::new_v4().to_string();
        let mut conn = self.lock()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO batches(id, workspace_id, workspace_name, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![id, workspace_id, workspace_name, now()],
        )?;
        // A paused workspace keeps new jobs too, until the owner resumes it.
        let paused: bool = tx.query_row(
            "SELECT EXISTS(SELECT 1 FROM paused_workspaces WHERE workspace_id=?1)",
            params![workspace_id],
            |r| r.get(0),
        )?;
        let state = if paused { "paused" } else { "queued" };
        for r in requests {
            tx.execute(
                "INSERT OR IGNORE INTO jobs(batch_id, workspace_id, email, message, redirect_url, send_email, state, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![id, workspace_id, r.email.trim().to_lowercase(), r.message, r.redirect_url, r.send_email, state, now()],
            )?;
        }
        tx.commit()?;
        Ok(id)
    }

    /// Every job of a batch, in the order they were written.
    pub fn jobs(&self, batch: &str) -> Result<Vec<Job>> {
        let conn = self.lock()?;
        let mut stmt = conn.prepare(&format!("{JOB_SELECT} WHERE batch_id=?1 ORDER BY id"))?;
        let rows = stmt.query_map(params![batch], job_from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// One job.
    pub fn job(&self, id: i64) -> Result<Job> {
        let conn = self.lock()?;
        Ok(conn.query_row(
            &format!("{JOB_SELECT} WHERE id=?1"),
            params![id],
            job_from_row,
        )?)
    }

    /// Where a batch stands, for a caller that holds a cursor: counts of the whole batch plus
    /// only the jobs changed since `since` (0 for every job), and the cursor to give next time.
    /// The counts and the rows are read in one snapshot, so they agree with the cursor.
    pub fn batch_changes(&self, batch: &str, since: i64) -> Result<BatchChanges> {
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        let mut counts = std::collections::BTreeMap::new();
        let mut total = 0u32;
        {
            let mut stmt = tx.prepare(
                "SELECT state, outcome, COUNT(*) FROM jobs WHERE batch_id=?1 GROUP BY state, outcome",
            )?;
            let rows = stmt.query_map(params![batch], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, u32>(2)?,
                ))
            })?;
            for row in rows {
                let (state, outcome, n) = row?;
                let word = result_word(JobState::parse(&state), outcome.as_deref());
                *counts.entry(word.to_string()).or_insert(0) += n;
                total += n;
            }
        }
        let mut changed = {
            let mut stmt = tx.prepare(&format!(
                "{JOB_SELECT} WHERE batch_id=?1 AND change_seq > ?2 ORDER BY change_seq LIMIT ?3"
            ))?;
            let limit = i64::try_from(CHANGES_PER_ANSWER + 1).unwrap_or(i64::MAX);
            let rows = stmt.query_map(params![batch, since, limit], |r| {
                Ok((job_from_row(r)?, r.get::<_, i64>(14)?))
            })?;
            rows.collect::<rusqlite::Result<Vec<_>>>()?
        };
        let newest: i64 = tx.query_row(
            "SELECT COALESCE(MAX(change_seq), 0) FROM jobs WHERE batch_id=?1",
            params![batch],
            |r| r.get(0),
        )?;
        drop(tx);
        let more = changed.len() > CHANGES_PER_ANSWER;
        changed.truncate(CHANGES_PER_ANSWER);
        let cursor = if more {
            changed.last().map_or(since, |(_, seq)| *seq)
        } else {
            newest.max(since)
        };
        let open = ["queued", "sending", "waiting", "uncertain"];
        let finished = total > 0 && !open.iter().any(|w| counts.contains_key(*w));
        Ok(BatchChanges {
            batch_id: batch.to_string(),
            total,
            counts,
            finished,
            changed: changed.into_iter().map(|(j, _)| j).collect(),
            cursor,
            more,
        })
    }

    /// Counts of one batch.
    pub fn batch(&self, batch: &str) -> Result<BatchSummary> {
        self.summaries(Some(batch), None)?
            .into_iter()
            .next()
            .ok_or_else(|| Error::invalid_input("batch", "no such batch"))
    }

    /// Every batch (newest first), optionally of one workspace.
    pub fn batches(&self, workspace_id: Option<&str>) -> Result<Vec<BatchSummary>> {
        self.summaries(None, workspace_id)
    }

    /// Batches with work left: for "Resuming 37 invitations for Acme".
    pub fn unfinished(&self) -> Result<Vec<BatchSummary>> {
        Ok(self
            .summaries(None, None)?
            .into_iter()
            .filter(|b| b.pending > 0)
            .collect())
    }

    fn summaries(&self, batch: Option<&str>, ws: Option<&str>) -> Result<Vec<BatchSummary>> {
        let conn = self.lock()?;
        let mut stmt = conn.prepare(
            "SELECT b.id, b.workspace_id, b.workspace_name, b.created_at, COUNT(j.id),
               SUM(j.state IN ('queued','sending','uncertain','waiting','paused')), SUM(j.state='waiting'),
               SUM(j.state='done'), SUM(j.state='failed'), SUM(j.state='cancelled'), SUM(j.state='paused')
             FROM batches b LEFT JOIN jobs j ON j.batch_id=b.id
             WHERE (?1 IS NULL OR b.id=?1) AND (?2 IS NULL OR b.workspace_id=?2)
             GROUP BY b.id ORDER BY b.created_at DESC",
        )?;
        let rows = stmt.query_map(params![batch, ws], |r| {
            let n = |i: usize| r.get::<_, Option<u32>>(i).map(|v| v.unwrap_or(0));
            Ok(BatchSummary {
                id: r.get(0)?,
                workspace_id: r.get(1)?,
                workspace_name: r.get(2)?,
                created_at: r.get(3)?,
                total: n(4)?,
                pending: n(5)?,
                waiting: n(6)?,
                done: n(7)?,
                failed: n(8)?,
                cancelled: n(9)?,
                paused: n(10)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Puts a failed (or stopped) job back in the queue. One whose request went out is looked up
    /// on the server before it is sent again, so a retry never invites twice; in a paused
    /// workspace it waits with the rest until the owner resumes.
    pub fn retry_job(&self, job: i64) -> Result<()> {
        let conn = self.lock()?;
        conn.execute(
            "UPDATE jobs SET next_attempt_at=NULL, updated_at=?2,
               state = CASE WHEN EXISTS(SELECT 1 FROM paused_workspaces p WHERE p.workspace_id=jobs.workspace_id)
                 THEN 'paused' ELSE 'uncertain' END
             WHERE id=?1 AND state IN ('failed','cancelled')",
            params![job, now()],
        )?;
        Ok(())
    }

    /// Cancels what has not been sent yet; a request in flight finishes. A job being looked up
    /// at that moment loses its claim, so the lookup's end never sends it.
    pub fn cancel_batch(&self, batch: &str) -> Result<u32> {
        let conn = self.lock()?;
        let n = conn.execute(
            "UPDATE jobs SET state='cancelled', updated_at=?2, lease_owner=NULL, lease_until=NULL
             WHERE batch_id=?1 AND state IN ('queued','waiting','paused')",
            params![batch, now()],
        )?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// Holds every unsent job of a workspace until [`Outbox::resume_workspace`]; jobs added
    /// meanwhile are held too. A request in flight finishes. Returns the jobs held.
    pub fn pause_workspace(&self, workspace_id: &str, reason: &str) -> Result<u32> {
        let mut conn = self.lock()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO paused_workspaces(workspace_id, reason, since) VALUES (?1, ?2, ?3)
             ON CONFLICT(workspace_id) DO UPDATE SET reason=excluded.reason",
            params![workspace_id, reason, now()],
        )?;
        // `attempts > 0` survives the pause, so a job that may have arrived is looked up first.
        let n = tx.execute(
            "UPDATE jobs SET state='paused', updated_at=?2, lease_owner=NULL, lease_until=NULL
             WHERE workspace_id=?1 AND state IN ('queued','waiting','uncertain')",
            params![workspace_id, now()],
        )?;
        tx.commit()?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// Lets a paused workspace's jobs go again, at once. Returns the jobs released.
    pub fn resume_workspace(&self, workspace_id: &str) -> Result<u32> {
        let mut conn = self.lock()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute(
            "DELETE FROM paused_workspaces WHERE workspace_id=?1",
            params![workspace_id],
        )?;
        let n = tx.execute(
            "UPDATE jobs SET state='queued', next_attempt_at=NULL, updated_at=?2, lease_owner=NULL, lease_until=NULL
             WHERE workspace_id=?1 AND state='paused'",
            params![workspace_id, now()],
        )?;
        tx.commit()?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// Paused workspaces and why (`owner`, or the error kind that paused them).
    pub fn paused_workspaces(&self) -> Result<Vec<(String, String)>> {
        let conn = self.lock()?;
        let mut stmt =
            conn.prepare("SELECT workspace_id, reason FROM paused_workspaces ORDER BY since")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The one-click way around an email limit: the batch's unsent jobs create links to copy
    /// instead of sending emails (links are not rate-limited), and go at once. Returns the jobs
    /// switched. Only for back ends that can create links; the caller checks.
    pub fn switch_to_links(&self, batch: &str) -> Result<u32> {
        let conn = self.lock()?;
        let n = conn.execute(
            "UPDATE jobs SET send_email=0, state='queued', next_attempt_at=NULL, updated_at=?2,
               lease_owner=NULL, lease_until=NULL
             WHERE batch_id=?1 AND state IN ('queued','waiting')",
            params![batch, now()],
        )?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// Makes the workspace's other queued jobs, and those waiting for less long, wait until
    /// `until` too (only those that send an email, with `emails_only`).
    fn hold_workspace(
        &self,
        workspace_id: &str,
        until: DateTime<Utc>,
        emails_only: bool,
    ) -> Result<()> {
        let conn = self.lock()?;
        // A job claimed by a live lease is left to its worker: knocking it back here would take
        // its claim between the claim and the request, and the next round would do the same
        // (a waiting batch that never moves). Its own answer reschedules it if need be.
        conn.execute(
            "UPDATE jobs SET state='waiting', next_attempt_at=?2, updated_at=?3, lease_owner=NULL, lease_until=NULL
             WHERE workspace_id=?1 AND (state='queued' OR (state='waiting' AND next_attempt_at < ?2))
               AND (?4 = 0 OR send_email = 1)
               AND (lease_owner IS NULL OR lease_until < ?5)",
            params![workspace_id, until.to_rfc3339(), now(), emails_only, now_ms()],
        )?;
        Ok(())
    }

    /// Whether one more email fits `budget` now, with `in_flight` email requests already
    /// started: `None` if it does, else when the next one will.
    fn next_email_slot(
        &self,
        workspace_id: &str,
        budget: EmailBudget,
        in_flight: u32,
    ) -> Result<Option<DateTime<Utc>>> {
        let window = to_chrono(budget.window);
        let since = Utc::now() - window;
        let conn = self.lock()?;
        // A job done with an email counts when it was done; one found on the server by a lookup
        // counts too (it may have sent one), which errs on the side of the limit.
        let mut stmt = conn.prepare(
            "SELECT updated_at FROM jobs WHERE workspace_id=?1 AND send_email=1 AND state='done'
               AND outcome IN ('invited','updated_existing') AND updated_at >= ?2 ORDER BY updated_at",
        )?;
        let sent: Vec<DateTime<Utc>> = stmt
            .query_map(params![workspace_id, since.to_rfc3339()], |r| {
                r.get::<_, String>(0)
            })?
            .filter_map(|t| parse_time(t.ok()))
            .filter(|t| *t >= since)
            .collect();
        let used = sent.len() + usize::try_from(in_flight).unwrap_or(usize::MAX);
        let allowed = usize::try_from(budget.emails).unwrap_or(usize::MAX);
        if used < allowed {
            return Ok(None);
        }
        // The slot frees when enough of the oldest sends leave the window. While requests in
        // flight alone fill it, their end wakes the worker: try again shortly.
        Ok(Some(match sent.get(used - allowed) {
            Some(t) => *t + window,
            None => Utc::now() + chrono::Duration::seconds(1),
        }))
    }

    /// Jobs the worker may start now, oldest first.
    fn due(&self, limit: usize) -> Result<Vec<(Job, InviteRequest)>> {
        let conn = self.lock()?;
        let mut stmt = conn.prepare(&format!(
            "SELECT {JOB_COLS}, message, redirect_url, send_email FROM jobs
             WHERE (state IN ('queued','uncertain') OR (state='waiting' AND next_attempt_at <= ?1))
               AND (lease_owner IS NULL OR lease_until < ?3)
             ORDER BY id LIMIT ?2"
        ))?;
        let rows = stmt.query_map(
            params![now(), i64::try_from(limit).unwrap_or(i64::MAX), now_ms()],
            job_and_request,
        )?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Sets a job's state whoever holds it: only for tests that build a situation.
    #[cfg(test)]
    fn set_state(
        &self,
        id: i64,
        state: JobState,
        f: impl FnOnce(&Connection) -> rusqlite::Result<()>,
    ) -> Result<Job> {
        let conn = self.lock()?;
        conn.execute(
            "UPDATE jobs SET state=?2, updated_at=?3 WHERE id=?1",
            params![id, state.as_str(), now()],
        )?;
        f(&conn)?;
        Ok(conn.query_row(
            &format!("{JOB_SELECT} WHERE id=?1"),
            params![id],
            job_from_row,
        )?)
    }

    /// Every history row matching `q` (paging ignored), newest batch first.
    fn history_rows(&self, q: &HistoryQuery) -> Result<Vec<HistoryRow>> {
        let given = |o: &Option<String>| {
            o.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let (ws, result) = (given(&q.workspace_id), given(&q.result));
        let needle = given(&q.search).map(|s| s.to_lowercase());
        let conn = self.lock()?;
        let mut stmt = conn.prepare(&format!(
            "SELECT {cols}, b.created_at, b.workspace_name FROM jobs j JOIN batches b ON b.id=j.batch_id
             WHERE (?1 IS NULL OR j.workspace_id=?1)
               AND (?2 IS NULL OR instr(lower(j.email), ?2) > 0 OR instr(lower(b.workspace_name), ?2) > 0)
             ORDER BY b.created_at DESC, j.id",
            cols = JOB_COLS.split(',').map(|c| format!("j.{}", c.trim())).collect::<Vec<_>>().join(", ")
        ))?;
        let rows = stmt.query_map(params![ws, needle], |r| {
            Ok((
                job_from_row(r)?,
                r.get::<_, String>(14)?,
                r.get::<_, String>(15)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (job, at, workspace_name) = row?;
            let word = job.result();
            if result.as_deref().is_some_and(|r| r != word) {
                continue;
            }
            out.push(HistoryRow {
                job_id: job.id,
                at,
                workspace_id: job.workspace_id,
                workspace_name,
                email: job.email,
                result: word,
                detail: job.last_error.map(|e| e.message),
            });
        }
        Ok(out)
    }

    /// What this app sent, to whom, when, from which workspace and with what result: one page.
    pub fn history(&self, q: &HistoryQuery) -> Result<HistoryPage> {
        let rows = self.history_rows(q)?;
        let total = rows.len();
        let rows = rows
            .into_iter()
            .skip(q.offset)
            .take(q.limit.unwrap_or(100))
            .collect();
        Ok(HistoryPage { rows, total })
    }

    /// The history matching `q` (every page) as CSV; cells that a spreadsheet would run as a
    /// formula are escaped.
    pub fn export_csv(&self, q: &HistoryQuery) -> Result<String> {
        let mut w = csv::Writer::from_writer(Vec::new());
        let header = ["sent_at", "workspace", "email", "result", "error"];
        w.write_record(header).map_err(Error::storage)?;
        for r in self.history_rows(q)? {
            let cells = [
                r.at.as_str(),
                &r.workspace_name,
                &r.email,
                r.result,
                r.detail.as_deref().unwrap_or(""),
            ];
            w.write_record(cells.map(escape_cell))
                .map_err(Error::storage)?;
        }
        let bytes = w.into_inner().map_err(Error::storage)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }
}

const JOB_COLS: &str =
    "id, batch_id, workspace_id, email, state, outcome, link, invite_id, attempts,
  error_kind, error_message, error_detail, next_attempt_at, first_sent_at";
const JOB_SELECT: &str =
    "SELECT id, batch_id, workspace_id, email, state, outcome, link, invite_id, attempts,
  error_kind, error_message, error_detail, next_attempt_at, first_sent_at, change_seq FROM jobs";

fn parse_time(s: Option<String>) -> Option<DateTime<Utc>> {
    s.and_then(|s| DateTime::parse_from_rfc3339(&s).ok())
        .map(|d| d.with_timezone(&Utc))
}

/// A row of `SELECT {JOB_COLS}, message, redirect_url, send_email`.
fn job_and_request(r: &rusqlite::Row<'_>) -> rusqlite::Result<(Job, InviteRequest)> {
    let job = job_from_row(r)?;
    let req = InviteRequest {
        email: job.email.clone(),
        message: r.get(14)?,
        redirect_url: r.get(15)?,
        send_email: r.get(16)?,
    };
    Ok((job, req))
}

fn job_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Job> {
    let kind: Option<String> = r.get(9)?;
    let next: Option<String> = r.get(12)?;
    Ok(Job {
        id: r.get(0)?,
        batch_id: r.get(1)?,
        workspace_id: r.get(2)?,
        email: r.get(3)?,
        state: JobState::parse(&r.get::<_, String>(4)?),
        outcome: r.get(5)?,
        link: r.get(6)?,
        invite_id: r.get(7)?,
        attempts: r.get(8)?,
        last_error: match kind {
            Some(kind) => Some(JobError {
                kind,
                message: r.get::<_, Option<String>>(10)?.unwrap_or_default(),
                detail: r.get(11)?,
            }),
            None => None,
        },
        next_attempt_at: parse_time(next),
        first_sent_at: parse_time(r.get(13)?),
    })
}

/// Spreadsheets run cells starting with these as formulas; a leading `'` makes them text.
pub fn escape_cell(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_string(),
    }
}

/// Gives the worker the provider of a workspace.
pub trait ProviderSource: Send + Sync {
    /// The provider for `workspace_id`.
    fn provider(&self, workspace_id: &str) -> Result<Arc<dyn Provider>>;
    /// Most requests in flight for the workspace at once.
    fn concurrency(&self, workspace_id: &str) -> usize {
        let _ = workspace_id;
        4
    }
    /// The workspace's known email limit; the worker never starts more emails than it allows.
    /// `None`: not known (a 429 teaches it).
    fn email_budget(&self, workspace_id: &str) -> Option<EmailBudget> {
        let _ = workspace_id;
        None
    }
}

/// At most `emails` invitation emails per `window`: what the owner knows of the server's limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmailBudget {
    /// Emails per window.
    pub emails: u32,
    /// The window (an hour for GoTrue's limit).
    pub window: Duration,
}

impl EmailBudget {
    /// `n` emails per hour.
    pub fn per_hour(n: u32) -> Self {
        Self {
            emails: n,
            window: Duration::from_secs(3600),
        }
    }
}

/// Callback for [`OutboxEvent`]s.
pub type EventSink = Arc<dyn Fn(OutboxEvent) + Send + Sync>;

/// The background sender.
#[derive(Debug)]
pub struct Worker;

/// A running worker.
#[derive(Debug)]
pub struct WorkerHandle {
    notify: Arc<Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl WorkerHandle {
    /// Tells the worker new jobs are there.
    pub fn wake(&self) {
        self.notify.notify_one();
    }

    /// Stops the worker; jobs in flight are abandoned and resolved on the next start.
    pub async fn shutdown(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

impl Worker {
    /// Spawns the worker on the current tokio runtime.
    pub fn spawn(
        outbox: Outbox,
        providers: Arc<dyn ProviderSource>,
        events: EventSink,
    ) -> WorkerHandle {
        let notify = Arc::new(Notify::new());
        let n = notify.clone();
        let task = tokio::spawn(async move { run(outbox, providers, events, n).await });
        WorkerHandle { notify, task }
    }
}

async fn run(
    outbox: Outbox,
    providers: Arc<dyn ProviderSource>,
    events: EventSink,
    notify: Arc<Notify>,
) {
    // Per workspace: the concurrency it was made with, and the semaphore.
    let mut limits: HashMap<String, (usize, Arc<Semaphore>)> = HashMap::new();
    let in_flight: Arc<Mutex<std::collections::HashSet<i64>>> = Arc::default();
    let offline: Arc<Offline> = Arc::default();
    // Email requests started and not yet finished, per workspace with a known email limit.
    let emails: Arc<Mutex<HashMap<String, u32>>> = Arc::default();
    loop {
        // Jobs another process was sending when it died come back once their lease lapses.
        if let Err(e) = outbox.recover_now_and_then() {
            tracing::error!(error = %e, "outbox recovery failed");
        }
        let due = match outbox.due(256) {
            Ok(d) => d,
            Err(e) => {
                tracing::error!(error = %e, "outbox read failed");
                Vec::new()
            }
        };
        for (job, _) in due {
            if in_flight
                .lock()
                .map(|s| s.contains(&job.id))
                .unwrap_or(true)
            {
                continue;
            }
            // Read each time: the owner may change it in Settings while a batch runs. Requests
            // already in flight under the old limit finish.
            let want = providers.concurrency(&job.workspace_id).max(1);
            let sem = match limits.get(&job.workspace_id) {
                Some((n, sem)) if *n == want => sem.clone(),
                _ => {
                    let sem = Arc::new(Semaphore::new(want));
                    limits.insert(job.workspace_id.clone(), (want, sem.clone()));
                    sem
                }
            };
            let Ok(permit) = sem.try_acquire_owned() else {
                continue;
            };
            // The claim decides who sends it; what `due` read may be stale by now (another
            // process may have tried it), so the job is read again with the claim.
            let (job, req) = match outbox.claim(job.id) {
                Ok(Some(claimed)) => claimed,
                Ok(None) => continue,
                Err(e) => {
                    tracing::error!(error = %e, "outbox claim failed");
                    continue;
                }
            };
            let budget = req
                .send_email
                .then(|| providers.email_budget(&job.workspace_id))
                .flatten();
            if let Some(b) = budget {
                let started = emails
                    .lock()
                    .map_or(0, |m| m.get(&job.workspace_id).copied().unwrap_or(0));
                let slot = outbox
                    .next_email_slot(&job.workspace_id, b, started)
                    .and_then(|slot| match slot {
                        None => Ok(false),
                        Some(until) => {
                            wait_for_budget(&outbox, &events, &job, b, until).map(|()| true)
                        }
                    });
                match slot {
                    Ok(false) => {}
                    Ok(true) => continue,
                    Err(e) => {
                        tracing::error!(error = %e, "outbox job failed to record");
                        // Leave it to the lease: it is due again once the claim lapses.
                        continue;
                    }
                }
            }
            if let Ok(mut s) = in_flight.lock() {
                s.insert(job.id);
            }
            let counted = budget.is_some();
            if counted {
                if let Ok(mut m) = emails.lock() {
                    *m.entry(job.workspace_id.clone()).or_default() += 1;
                }
            }
            let (outbox, providers, events, in_flight, notify, offline, emails) = (
                outbox.clone(),
                providers.clone(),
                events.clone(),
                in_flight.clone(),
                notify.clone(),
                offline.clone(),
                emails.clone(),
            );
            tokio::spawn(async move {
                let id = job.id;
                let workspace_id = job.workspace_id.clone();
                if let Err(e) =
                    process(&outbox, providers.as_ref(), &events, &offline, job, req).await
                {
                    tracing::error!(error = %e, "outbox job failed to record");
                }
                drop(permit);
                if let Ok(mut s) = in_flight.lock() {
                    s.remove(&id);
                }
                if counted {
                    if let Ok(mut m) = emails.lock() {
                        if let Some(n) = m.get_mut(&workspace_id) {
                            *n = n.saturating_sub(1);
                        }
                    }
                }
                notify.notify_one();
            });
        }
        tokio::select! {
            _ = notify.notified() => {}
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
        }
    }
}

/// Runs `fut` (a request for job `id`) while renewing this process's claim on the job, so that
/// a slow answer never lets another process take it over.
async fn renewing<F: std::future::Future>(outbox: &Outbox, id: i64, fut: F) -> F::Output {
    tokio::pin!(fut);
    let mut tick = tokio::time::interval(RENEW_EVERY);
    tick.tick().await;
    loop {
        tokio::select! {
            out = &mut fut => return out,
            _ = tick.tick() => {
                if let Err(e) = outbox.renew(id) {
                    tracing::warn!(error = %e, "outbox lease renewal failed");
                }
            }
        }
    }
}

/// Sends one claimed job: look up first when an earlier attempt may have arrived, then send
/// once. Every change is made only while the claim holds; when it no longer does (the owner
/// stopped or paused it meanwhile) the job is left as they set it.
async fn process(
    outbox: &Outbox,
    providers: &dyn ProviderSource,
    events: &EventSink,
    offline: &Offline,
    job: Job,
    req: InviteRequest,
) -> Result<()> {
    let emit = |j: Option<Job>| match j {
        Some(j) => events(OutboxEvent::JobChanged { job: Box::new(j) }),
        None => tracing::debug!("an outbox job was stopped or paused while it was worked on"),
    };
    let provider = match providers.provider(&job.workspace_id) {
        Ok(p) => p,
        Err(e) => return fail(outbox, &emit, job.id, &e),
    };
    // A request of this job may have reached the server: look before sending again. What is
    // found counts only if it can be ours; a member is a member whoever invited them.
    if job.first_sent_at.is_some() {
        match renewing(outbox, job.id, provider.find(&req.email)).await {
            Ok(Some(found))
                if found.status == InviteStatus::Accepted
                    || (found.status.is_open() && job.made_by_us(&found)) =>
            {
                let outcome = if found.status == InviteStatus::Accepted {
                    "already_member"
                } else {
                    "invited"
                };
                let j = outbox.transition(job.id, JobState::Done, |c| {
                    c.execute(
                        "UPDATE jobs SET outcome=?2, invite_id=?3, error_kind=NULL WHERE id=?1",
                        params![job.id, outcome, found.id],
                    )
                    .map(|_| ())
                })?;
                emit(j);
                return Ok(());
            }
            Ok(_) => {}
            Err(e) => return reschedule(outbox, &emit, events, offline, &job, &e),
        }
    }
    // The step that must never overwrite a Stop or a Pause: conditional on the claim.
    let Some(j) = outbox.transition(job.id, JobState::Sending, |c| {
        c.execute(
            "UPDATE jobs SET attempts=attempts+1, first_sent_at=COALESCE(first_sent_at, ?2) WHERE id=?1",
            params![job.id, now()],
        )
        .map(|_| ())
    })?
    else {
        emit(None);
        return Ok(());
    };
    emit(Some(j.clone()));
    let answer = renewing(outbox, job.id, provider.invite(&req)).await;
    if !matches!(answer, Err(Error::Network { .. })) {
        offline.clear(&job.workspace_id);
    }
    match answer {
        Ok(done) => {
            let outcome = if done.link.is_some() && !req.send_email {
                "link_created"
            } else if done.replaced_existing {
                "updated_existing"
            } else {
                "invited"
            };
            // Kept until the link dies (as the server tells, else GoTrue's default lifetime).
            let link_expires_at = done.link.as_ref().map(|_| {
                done.invite
                    .expires_at
                    .map(|t| t.timestamp_millis())
                    .unwrap_or_else(|| {
                        now_ms().saturating_add(
                            i64::try_from(LINK_KEPT.as_millis()).unwrap_or(i64::MAX),
                        )
                    })
            });
            let j = outbox.transition(job.id, JobState::Done, |c| {
                c.execute(
                    "UPDATE jobs SET outcome=?2, link=?3, invite_id=?4, link_expires_at=?5,
                       error_kind=NULL, error_message=NULL, error_detail=NULL WHERE id=?1",
                    params![job.id, outcome, done.link, done.invite.id, link_expires_at],
                )
                .map(|_| ())
            })?;
            emit(j);
            Ok(())
        }
        Err(Error::AlreadyMember { .. }) => {
            let j = outbox.transition(job.id, JobState::Done, |c| {
                c.execute(
                    "UPDATE jobs SET outcome='already_member' WHERE id=?1",
                    params![job.id],
                )
                .map(|_| ())
            })?;
            emit(j);
            Ok(())
        }
        Err(e) => reschedule(outbox, &emit, events, offline, &j, &e),
    }
}

/// Holds a claimed job, and the workspace's other email jobs, until the owner's email limit
/// has room.
fn wait_for_budget(
    outbox: &Outbox,
    events: &EventSink,
    job: &Job,
    budget: EmailBudget,
    until: DateTime<Utc>,
) -> Result<()> {
    let e = Error::RateLimited {
        retry_after: (until - Utc::now()).to_std().ok(),
        email_limit: true,
        detail: Some(format!(
            "Invite Desk keeps to the limit set for this workspace: {} emails in {}.",
            budget.emails,
            crate::error::human_duration(budget.window)
        )),
    };
    let Some(j) = outbox.transition(job.id, JobState::Waiting, |c| {
        record_error(c, job.id, &e, Some(until))
    })?
    else {
        return Ok(());
    };
    events(OutboxEvent::JobChanged { job: Box::new(j) });
    outbox.hold_workspace(&job.workspace_id, until, true)
}

fn record_error(
    c: &Connection,
    id: i64,
    e: &Error,
    next: Option<DateTime<Utc>>,
) -> rusqlite::Result<()> {
    c.execute(
        "UPDATE jobs SET error_kind=?2, error_message=?3, error_detail=?4, next_attempt_at=?5 WHERE id=?1",
        params![id, e.kind(), e.to_string(), e.detail(), next.map(|n| n.to_rfc3339())],
    )
    .map(|_| ())
}

fn fail(outbox: &Outbox, emit: &dyn Fn(Option<Job>), id: i64, e: &Error) -> Result<()> {
    let j = outbox.transition(id, JobState::Failed, |c| record_error(c, id, e, None))?;
    emit(j);
    Ok(())
}

/// Transient errors wait and retry (a lost answer is looked up first); the rest fail visibly.
fn reschedule(
    outbox: &Outbox,
    emit: &dyn Fn(Option<Job>),
    events: &EventSink,
    offline: &Offline,
    job: &Job,
    e: &Error,
) -> Result<()> {
    if matches!(e, Error::SignedOut { .. } | Error::NotAdmin { .. }) {
        // Nothing is dropped: this job and the rest of the workspace's queue wait for the owner
        // to sign in again (or fix the key) and resume.
        let held = outbox.transition(job.id, JobState::Queued, |c| {
            record_error(c, job.id, e, None)
        })?;
        outbox.pause_workspace(&job.workspace_id, e.kind())?;
        events(OutboxEvent::WorkspacePaused {
            workspace_id: job.workspace_id.clone(),
            reason: e.kind().to_string(),
        });
        if held.is_some() {
            if let Ok(j) = outbox.job(job.id) {
                emit(Some(j));
            }
        }
        return Ok(());
    }
    if !e.is_transient() {
        return fail(outbox, emit, job.id, e);
    }
    let cap = match e {
        Error::RateLimited {
            email_limit: true, ..
        } => Duration::from_secs(3600),
        _ => Duration::from_secs(60),
    };
    let next = match e {
        // Offline, the workspace's failures count, not the job's: fresh jobs would otherwise
        // each start again at a second.
        Error::Network { .. } => offline.hold(&job.workspace_id, cap),
        _ => {
            let backoff = Duration::from_secs(1u64 << job.attempts.min(12)).min(cap);
            // A server's wait is taken at most up to an hour: a hostile or broken value never
            // parks the queue, and the date arithmetic is checked.
            let wait = e.retry_after().unwrap_or(backoff).min(MAX_WAIT);
            let now = Utc::now();
            now.checked_add_signed(to_chrono(wait)).unwrap_or(now)
        }
    };
    // Waits until due; `attempts > 0` makes `process` look the address up before re-sending.
    let j = outbox.transition(job.id, JobState::Waiting, |c| {
        record_error(c, job.id, e, Some(next))
    })?;
    let held = j.is_some();
    emit(j);
    // Once the server says "too many" or cannot be reached, more requests before `next` only
    // earn more refusals: the workspace's other queued jobs wait too.
    if held && matches!(e, Error::RateLimited { .. } | Error::Network { .. }) {
        outbox.hold_workspace(&job.workspace_id, next, false)?;
    }
    Ok(())
}

/// The longest the worker waits on a server's word before trying again.
const MAX_WAIT: Duration = Duration::from_secs(3600);

fn to_chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or_else(|_| chrono::Duration::seconds(60))
}

/// Network failures per workspace. While the network is gone the whole workspace waits, each
/// round of failures doubling the wait (up to `cap`), rather than every job trying in turn.
#[derive(Debug, Default)]
struct Offline(Mutex<HashMap<String, (u32, DateTime<Utc>)>>);

impl Offline {
    /// Until when the workspace waits. Requests of one round fail together: only the first
    /// failure after the last wait ended doubles it.
    fn hold(&self, workspace_id: &str, cap: Duration) -> DateTime<Utc> {
        let now = Utc::now();
        let Ok(mut m) = self.0.lock() else {
            return now + to_chrono(cap);
        };
        let (rounds, until) = m
            .entry(workspace_id.to_string())
            .or_insert((0, DateTime::<Utc>::MIN_UTC));
        if *until <= now {
            *rounds = rounds.saturating_add(1);
            *until = now + to_chrono(Duration::from_secs(1u64 << (*rounds).min(12)).min(cap));
        }
        *until
    }

    fn clear(&self, workspace_id: &str) {
        if let Ok(mut m) = self.0.lock() {
            m.remove(workspace_id);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn req(email: &str) -> InviteRequest {
        InviteRequest {
            email: email.into(),
            send_email: true,
            ..Default::default()
        }
    }

    fn summary(total: u32, pending: u32, done: u32, failed: u32, cancelled: u32) -> BatchSummary {
        BatchSummary {
            workspace_name: "Acme".into(),
            created_at: "2026-11-22T10:00:00+00:00".into(),
            total,
            pending,
            done,
            failed,
            cancelled,
            ..Default::default()
        }
    }

    #[test]
    fn completion_notice_only_when_finished_and_wanted() {
        let at = |s: u64| {
            DateTime::parse_from_rfc3339("2026-11-22T10:00:00+00:00")
                .unwrap()
                .with_timezone(&Utc)
                + chrono::Duration::seconds(s as i64)
        };
        let all = summary(12, 0, 12, 0, 0);
        // Jobs left: nothing to say.
        assert_eq!(
            summary(12, 1, 11, 0, 0).completion_notice(at(3600), false),
            None
        );
        assert_eq!(
            BatchSummary::default().completion_notice(at(3600), false),
            None
        );
        // A quick batch the owner watched: the screen already says it.
        assert_eq!(all.completion_notice(at(5), true), None);
        // Looking elsewhere, or it took long: tell them.
        let n = all.completion_notice(at(5), false).unwrap();
        assert_eq!(n.title, "Invitations sent for Acme");
        assert_eq!(n.body, "All 12 invitations are done.");
        assert_eq!(
            all.completion_notice(at(NOTICE_AFTER.as_secs()), true),
            Some(n)
        );
        // A created_at the app cannot read counts as quick, never as a panic.
        let odd = BatchSummary {
            created_at: "yesterday".into(),
            ..all.clone()
        };
        assert_eq!(odd.completion_notice(at(99), true), None);

        let one = summary(1, 0, 1, 0, 0)
            .completion_notice(at(99), true)
            .unwrap();
        assert_eq!(one.body, "The invitation is done.");
        let mixed = summary(12, 0, 9, 2, 1)
            .completion_notice(at(99), true)
            .unwrap();
        assert_eq!(mixed.title, "Some invitations for Acme failed");
        assert_eq!(
            mixed.body,
            "9 of 12 invitations done, 1 cancelled, 2 failed. Open Invite Desk to see why and retry."
        );
        let stopped = summary(3, 0, 2, 0, 1)
            .completion_notice(at(99), true)
            .unwrap();
        assert_eq!(stopped.title, "Invitations finished for Acme");
        assert_eq!(stopped.body, "2 of 3 invitations done, 1 cancelled.");
    }

    #[test]
    fn enqueue_merges_duplicates_in_one_batch() {
        let o = Outbox::open_in_memory().unwrap();
        let b = o
            .enqueue("ws", "Acme", &[req("a@x.io"), req("A@x.io"), req("b@x.io")])
            .unwrap();
        let jobs = o.jobs(&b).unwrap();
        assert_eq!(jobs.len(), 2);
        assert!(jobs.iter().all(|j| j.state == JobState::Queued));
        let s = o.batch(&b).unwrap();
        assert_eq!((s.total, s.pending), (2, 2));
        assert_eq!(o.unfinished().unwrap().len(), 1);
        assert_eq!(o.cancel_batch(&b).unwrap(), 2);
        assert_eq!(o.batch(&b).unwrap().cancelled, 2);
        // A stopped job can be sent after all (looked up first).
        let id = o.jobs(&b).unwrap()[0].id;
        o.retry_job(id).unwrap();
        assert_eq!(o.job(id).unwrap().state, JobState::Uncertain);
        assert_eq!(o.batch(&b).unwrap().pending, 1);
        // In a paused workspace a retried job waits for the owner with the rest.
        let other = o.jobs(&b).unwrap()[1].id;
        o.pause_workspace("ws", "owner").unwrap();
        o.retry_job(other).unwrap();
        assert_eq!(o.job(other).unwrap().state, JobState::Paused);
        o.resume_workspace("ws").unwrap();
        assert_eq!(o.job(other).unwrap().state, JobState::Queued);
    }

    #[test]
    fn sending_jobs_become_uncertain_after_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("outbox.sqlite3");
        let o = Outbox::open(&path).unwrap();
        let b = o.enqueue("ws", "Acme", &[req("a@x.io")]).unwrap();
        let id = o.jobs(&b).unwrap()[0].id;
        o.set_state(id, JobState::Sending, |_| Ok(())).unwrap();
        drop(o);
        let o = Outbox::open(&path).unwrap();
        assert_eq!(o.jobs(&b).unwrap()[0].state, JobState::Uncertain);
    }

    #[test]
    fn a_stop_or_pause_during_a_lookup_is_never_overwritten_by_sending() {
        let o = Outbox::open_in_memory().unwrap();
        let b = o
            .enqueue("ws", "Acme", &[req("a@x.io"), req("b@x.io")])
            .unwrap();
        let (a, bb) = (o.jobs(&b).unwrap()[0].id, o.jobs(&b).unwrap()[1].id);
        // The worker claims a (and would look it up); the owner clicks Stop meanwhile.
        let (claimed, _) = o.claim(a).unwrap().unwrap();
        assert_eq!(claimed.state, JobState::Queued);
        assert!(
            o.claim(a).unwrap().is_none(),
            "a held job is not claimed twice"
        );
        assert_eq!(o.cancel_batch(&b).unwrap(), 2);
        // The lookup ends: its move to `sending` finds the claim gone and changes nothing.
        assert!(o
            .transition(a, JobState::Sending, |_| Ok(()))
            .unwrap()
            .is_none());
        assert_eq!(o.job(a).unwrap().state, JobState::Cancelled);
        assert_eq!(o.job(a).unwrap().attempts, 0);
        assert!(o.claim(bb).unwrap().is_none(), "a cancelled job is not due");

        // The same with Pause on a job that may have arrived (uncertain).
        let c = o.enqueue("ws2", "Beta", &[req("c@x.io")]).unwrap();
        let id = o.jobs(&c).unwrap()[0].id;
        o.set_state(id, JobState::Uncertain, |_| Ok(())).unwrap();
        o.claim(id).unwrap().unwrap();
        assert_eq!(o.pause_workspace("ws2", "owner").unwrap(), 1);
        assert!(o
            .transition(id, JobState::Sending, |_| Ok(()))
            .unwrap()
            .is_none());
        assert!(o
            .transition(id, JobState::Done, |_| Ok(()))
            .unwrap()
            .is_none());
        assert_eq!(o.job(id).unwrap().state, JobState::Paused);
        // Resumed, it is claimed afresh and goes on.
        o.resume_workspace("ws2").unwrap();
        o.claim(id).unwrap().unwrap();
        let j = o
            .transition(id, JobState::Sending, |_| Ok(()))
            .unwrap()
            .unwrap();
        assert_eq!(j.state, JobState::Sending);
    }

    fn lease_of(o: &Outbox, id: i64) -> (Option<String>, Option<i64>) {
        o.lock()
            .unwrap()
            .query_row(
                "SELECT lease_owner, lease_until FROM jobs WHERE id=?1",
                params![id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap()
    }

    #[test]
    fn a_second_process_leaves_live_leases_alone_and_recovers_lapsed_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("outbox.sqlite3");
        let first = Outbox::open(&path).unwrap();
        let b = first
            .enqueue("ws", "Acme", &[req("live@x.io"), req("dead@x.io")])
            .unwrap();
        let ids: Vec<i64> = first.jobs(&b).unwrap().iter().map(|j| j.id).collect();
        for &id in &ids {
            first.claim(id).unwrap().unwrap();
            first
                .transition(id, JobState::Sending, |_| Ok(()))
                .unwrap()
                .unwrap();
        }
        // The first process keeps renewing one; the other's lease has lapsed (as when the
        // process died with the request in flight).
        assert!(first.renew(ids[0]).unwrap());
        first
            .lock()
            .unwrap()
            .execute(
                "UPDATE jobs SET lease_until=?2 WHERE id=?1",
                params![ids[1], now_ms() - 1],
            )
            .unwrap();

        let second = Outbox::open(&path).unwrap();
        assert_eq!(second.job(ids[0]).unwrap().state, JobState::Sending);
        assert_eq!(lease_of(&second, ids[0]).0.as_deref(), Some(&*first.owner));
        assert!(second.claim(ids[0]).unwrap().is_none());
        assert_eq!(second.job(ids[1]).unwrap().state, JobState::Uncertain);
        assert_eq!(lease_of(&second, ids[1]), (None, None));
        // The lapsed one is the second's to look up now; the first can no longer finish it.
        second.claim(ids[1]).unwrap().unwrap();
        assert!(first
            .transition(ids[1], JobState::Done, |_| Ok(()))
            .unwrap()
            .is_none());
        assert!(!first.renew(ids[1]).unwrap());
        // The live one ends normally in the first process, and frees its claim.
        let done = first
            .transition(ids[0], JobState::Done, |_| Ok(()))
            .unwrap()
            .unwrap();
        assert_eq!(done.state, JobState::Done);
        assert_eq!(lease_of(&first, ids[0]), (None, None));
    }

    #[test]
    fn the_claims_of_a_process_that_is_gone_are_recovered_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("outbox.sqlite3");
        let first = Outbox::open(&path).unwrap();
        let b = first.enqueue("ws", "Acme", &[req("a@x.io")]).unwrap();
        let id = first.jobs(&b).unwrap()[0].id;
        first.claim(id).unwrap().unwrap();
        first
            .transition(id, JobState::Sending, |_| Ok(()))
            .unwrap()
            .unwrap();
        // Its lease runs for a while yet, but the process is gone (its lock is released).
        drop(first);
        let second = Outbox::open(&path).unwrap();
        assert_eq!(second.job(id).unwrap().state, JobState::Uncertain);
        assert!(second.claim(id).unwrap().is_some());
    }

    fn version_of(path: &Path) -> i64 {
        Connection::open(path)
            .unwrap()
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn a_migration_that_fails_half_way_leaves_the_database_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("outbox.sqlite3");
        let b = {
            let o = Outbox::open(&path).unwrap();
            o.enqueue("ws", "Acme", &[req("a@x.io")]).unwrap()
        };
        // A next version whose step dies after its first statement (as a crash would).
        let mut steps: Vec<Migration> = MIGRATIONS.to_vec();
        steps.push(|tx| {
            tx.execute_batch("ALTER TABLE jobs ADD COLUMN half_done TEXT")?;
            tx.execute_batch("SELECT no_such_function()")
        });
        let mut conn = Connection::open(&path).unwrap();
        assert!(migrate(&mut conn, &steps).is_err());
        drop(conn);
        assert_eq!(version_of(&path), SCHEMA_VERSION);
        let has_column: bool = Connection::open(&path)
            .unwrap()
            .query_row(
                "SELECT EXISTS(SELECT 1 FROM pragma_table_info('jobs') WHERE name='half_done')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(!has_column, "the step was rolled back with its version");
        // The file opens as before, its job kept.
        let o = Outbox::open(&path).unwrap();
        assert_eq!(o.jobs(&b).unwrap().len(), 1);
    }

    #[test]
    fn a_step_applied_without_its_version_bump_by_an_older_build_still_opens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("outbox.sqlite3");
        {
            // Version 2, plus version 3's column: a build that died between the two.
            let c = Connection::open(&path).unwrap();
            c.execute_batch(SCHEMA).unwrap();
            c.execute_batch(SCHEMA_V2).unwrap();
            c.execute_batch("ALTER TABLE jobs ADD COLUMN first_sent_at TEXT")
                .unwrap();
            c.pragma_update(None, "user_version", 2).unwrap();
        }
        let o = Outbox::open(&path).unwrap();
        o.enqueue("ws", "Acme", &[req("a@x.io")]).unwrap();
        drop(o);
        assert_eq!(version_of(&path), SCHEMA_VERSION);
    }

    #[test]
    fn a_database_of_a_newer_version_is_refused_and_left_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("outbox.sqlite3");
        {
            let c = Connection::open(&path).unwrap();
            c.execute_batch("CREATE TABLE from_the_future(x); PRAGMA user_version=99;")
                .unwrap();
        }
        let before = std::fs::read(&path).unwrap();
        let e = Outbox::open(&path).unwrap_err();
        assert_eq!(e.kind(), "outbox_too_new");
        assert!(
            e.to_string().contains("newer version of Invite Desk"),
            "{e}"
        );
        assert!(e.to_string().contains("format 99"), "{e}");
        let e = Outbox::open_with_report(&path).unwrap_err();
        assert_eq!(e.kind(), "outbox_too_new");
        assert_eq!(
            std::fs::read(&path).unwrap(),
            before,
            "not one byte changed"
        );
        assert!(!dir.path().join("outbox.sqlite3-wal").exists());
        let files = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(files, 1, "nothing moved aside or added");
        let notice = OutboxNotice::unusable(&e, &path);
        assert!(notice.blocks_sending);
        assert_eq!(notice.kind, "outbox_too_new");
    }

    #[test]
    fn random_bytes_are_moved_aside_under_a_dated_name_and_a_fresh_outbox_starts() {
        use rand::RngCore;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("outbox.sqlite3");
        let mut junk = vec![0u8; 64 * 1024];
        rand::thread_rng().fill_bytes(&mut junk);
        std::fs::write(&path, &junk).unwrap();
        // The strict open says so, without a panic and without touching the file.
        assert_eq!(Outbox::open(&path).unwrap_err().kind(), "storage");
        assert_eq!(std::fs::read(&path).unwrap(), junk);

        let report = Outbox::open_with_report(&path).unwrap();
        let notice = report.notice.expect("the owner is told");
        assert_eq!(notice.kind, "outbox_moved_aside");
        assert!(!notice.blocks_sending);
        let moved = std::path::PathBuf::from(notice.path.unwrap());
        assert_eq!(moved.parent(), Some(dir.path()), "kept next to it");
        let name = moved.file_name().unwrap().to_string_lossy().into_owned();
        let today = Utc::now().format("%Y-%m-%d").to_string();
        assert!(
            name.starts_with(&format!("outbox.sqlite3.unreadable-{today}")),
            "{name}"
        );
        assert_eq!(std::fs::read(&moved).unwrap(), junk, "kept as it was");
        // The fresh outbox works, and the next start has nothing to say.
        let b = report
            .outbox
            .enqueue("ws", "Acme", &[req("a@x.io")])
            .unwrap();
        assert_eq!(report.outbox.jobs(&b).unwrap().len(), 1);
        drop(report.outbox);
        let again = Outbox::open_with_report(&path).unwrap();
        assert!(again.notice.is_none());
        assert_eq!(again.outbox.jobs(&b).unwrap().len(), 1);
    }

    #[test]
    fn expired_links_are_cleared_and_no_link_is_ever_in_history_or_export() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("outbox.sqlite3");
        let o = Outbox::open(&path).unwrap();
        let b = o
            .enqueue(
                "ws",
                "Acme",
                &[
                    InviteRequest {
                        send_email: false,
                        ..req("dead@x.io")
                    },
                    InviteRequest {
                        send_email: false,
                        ..req("live@x.io")
                    },
                ],
            )
            .unwrap();
        let ids: Vec<i64> = o.jobs(&b).unwrap().iter().map(|j| j.id).collect();
        let token = |i: usize| format!("tok{i}ZZsecretSIGNINtoken{i}");
        let expiry = [now_ms() - 1000, now_ms() + 3_600_000];
        for (i, &id) in ids.iter().enumerate() {
            o.set_state(id, JobState::Done, |c| {
                c.execute(
                    "UPDATE jobs SET outcome='link_created', link=?2, link_expires_at=?3 WHERE id=?1",
                    params![
                        id,
                        format!("https://x.io/verify?token={}", token(i)),
                        expiry[i]
                    ],
                )
                .map(|_| ())
            })
            .unwrap();
        }
        // While it lives, the link is the owner's to copy, but never in history or export.
        let page = o.history(&HistoryQuery::default()).unwrap();
        let csv = o.export_csv(&HistoryQuery::default()).unwrap();
        let shown = format!("{:?}{}", page, csv);
        assert!(
            csv.contains("live@x.io") && csv.contains(",linked,"),
            "{csv}"
        );
        for i in 0..2 {
            assert!(!shown.contains(&token(i)), "{shown}");
        }
        assert_eq!(o.clear_expired_links().unwrap(), 1);
        assert_eq!(o.job(ids[0]).unwrap().link, None);
        assert!(o.job(ids[1]).unwrap().link.unwrap().contains(&token(1)));
        assert_eq!(
            o.job(ids[0]).unwrap().result(),
            "linked",
            "the outcome stays"
        );
        // Nor is it left anywhere in the file once written out.
        o.lock()
            .unwrap()
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
            .unwrap();
        let mut on_disk = std::fs::read(&path).unwrap();
        on_disk.extend(std::fs::read(dir.path().join("outbox.sqlite3-wal")).unwrap_or_default());
        let hay = String::from_utf8_lossy(&on_disk);
        assert!(
            !hay.contains(&token(0)),
            "the expired token is still on disk"
        );
        assert!(hay.contains(&token(1)), "the check reads the right file");
        // A restart clears what expired meanwhile.
        o.lock()
            .unwrap()
            .execute(
                "UPDATE jobs SET link_expires_at=?2 WHERE id=?1",
                params![ids[1], now_ms() - 1],
            )
            .unwrap();
        drop(o);
        let o = Outbox::open(&path).unwrap();
        assert_eq!(o.job(ids[1]).unwrap().link, None);
    }

    #[test]
    fn batch_changes_answer_counts_and_only_the_rows_changed_since_the_cursor() {
        let o = Outbox::open_in_memory().unwrap();
        let reqs: Vec<InviteRequest> = (0..50).map(|i| req(&format!("p{i}@x.io"))).collect();
        let b = o.enqueue("ws", "Acme", &reqs).unwrap();
        let other = o.enqueue("ws", "Acme", &[req("other@x.io")]).unwrap();
        let first = o.batch_changes(&b, 0).unwrap();
        assert_eq!(first.total, 50);
        assert_eq!(first.changed.len(), 50, "a first call has every row");
        assert_eq!(first.counts.get("queued"), Some(&50));
        assert!(!first.finished && !first.more);
        // Nothing changed: nothing sent again.
        let idle = o.batch_changes(&b, first.cursor).unwrap();
        assert!(idle.changed.is_empty());
        assert_eq!(idle.cursor, first.cursor);
        // Two jobs move (one twice), and a job of another batch: only the two come back, once.
        let ids: Vec<i64> = first.changed.iter().map(|j| j.id).collect();
        o.set_state(ids[3], JobState::Sending, |_| Ok(())).unwrap();
        o.set_state(ids[7], JobState::Failed, |_| Ok(())).unwrap();
        o.set_state(ids[3], JobState::Done, |c| {
            c.execute(
                "UPDATE jobs SET outcome='link_created' WHERE id=?1",
                params![ids[3]],
            )
            .map(|_| ())
        })
        .unwrap();
        let oid = o.jobs(&other).unwrap()[0].id;
        o.set_state(oid, JobState::Done, |_| Ok(())).unwrap();
        let next = o.batch_changes(&b, idle.cursor).unwrap();
        let got: Vec<(i64, JobState)> = next.changed.iter().map(|j| (j.id, j.state)).collect();
        assert_eq!(got, [(ids[7], JobState::Failed), (ids[3], JobState::Done)]);
        assert!(next.cursor > idle.cursor);
        assert_eq!(next.counts.get("queued"), Some(&48));
        assert_eq!(next.counts.get("linked"), Some(&1));
        assert_eq!(next.counts.get("failed"), Some(&1));
        // A lease renewal is no change the owner sees.
        o.claim(ids[10]).unwrap().unwrap();
        o.renew(ids[10]).unwrap();
        assert!(o.batch_changes(&b, next.cursor).unwrap().changed.is_empty());
        // The rest finish: the batch says so.
        o.cancel_batch(&b).unwrap();
        let end = o.batch_changes(&b, next.cursor).unwrap();
        assert_eq!(end.changed.len(), 48);
        assert!(end.finished);
    }

    #[test]
    fn export_escapes_formula_cells() {
        for (cell, want) in [
            ("=HYPERLINK(1)", "'=HYPERLINK(1)"),
            ("+1+2", "'+1+2"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("a@x.io", "a@x.io"),
            ("", ""),
        ] {
            assert_eq!(escape_cell(cell), want);
        }
        let o = Outbox::open_in_memory().unwrap();
        o.enqueue("ws", "=cmd|' /C calc'!A0", &[req("a@x.io")])
            .unwrap();
        let csv = o.export_csv(&HistoryQuery::default()).unwrap();
        assert!(csv.contains("'=cmd"), "{csv}");
        assert!(csv.starts_with("sent_at,workspace,email,result,error\n"));
    }

    /// Three batches in two workspaces; a job done, one failed, the rest queued.
    fn history_fixture() -> Outbox {
        let o = Outbox::open_in_memory().unwrap();
        let a = o
            .enqueue("ws-a", "Acme", &[req("Ann@x.io"), req("bob@x.io")])
            .unwrap();
        o.enqueue("ws-b", "Beta Club", &[req("cat@y.io")]).unwrap();
        let jobs = o.jobs(&a).unwrap();
        o.set_state(jobs[0].id, JobState::Done, |c| {
            c.execute(
                "UPDATE jobs SET outcome='invited' WHERE id=?1",
                params![jobs[0].id],
            )
            .map(|_| ())
        })
        .unwrap();
        let e = Error::invalid_input("email", "not an address");
        o.set_state(jobs[1].id, JobState::Failed, |c| {
            record_error(c, jobs[1].id, &e, None)
        })
        .unwrap();
        o
    }

    #[test]
    fn history_filters_by_workspace_result_and_search() {
        let o = history_fixture();
        let q = |ws: Option<&str>, result: Option<&str>, search: Option<&str>| {
            let page = o
                .history(&HistoryQuery {
                    workspace_id: ws.map(Into::into),
                    result: result.map(Into::into),
                    search: search.map(Into::into),
                    ..Default::default()
                })
                .unwrap();
            let mut emails: Vec<String> = page.rows.into_iter().map(|r| r.email).collect();
            emails.sort();
            assert_eq!(page.total, emails.len());
            emails
        };
        assert_eq!(q(None, None, None), ["ann@x.io", "bob@x.io", "cat@y.io"]);
        assert_eq!(q(Some("ws-b"), None, None), ["cat@y.io"]);
        assert_eq!(
            q(Some(""), Some(""), Some("  ")).len(),
            3,
            "blank means every"
        );
        assert_eq!(q(None, Some("invited"), None), ["ann@x.io"]);
        assert_eq!(q(None, Some("failed"), None), ["bob@x.io"]);
        assert_eq!(q(None, Some("queued"), None), ["cat@y.io"]);
        assert_eq!(q(Some("ws-b"), Some("failed"), None), Vec::<String>::new());
        // Any case, address or workspace name.
        assert_eq!(q(None, None, Some("ANN")), ["ann@x.io"]);
        assert_eq!(q(None, None, Some("beta")), ["cat@y.io"]);
        assert_eq!(q(None, None, Some("x.io")), ["ann@x.io", "bob@x.io"]);
        // Paging keeps the total.
        let page = o
            .history(&HistoryQuery {
                offset: 1,
                limit: Some(1),
                ..Default::default()
            })
            .unwrap();
        assert_eq!((page.rows.len(), page.total), (1, 3));
        let failed = o
            .history(&HistoryQuery {
                result: Some("failed".into()),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(failed.rows[0].detail.as_deref(), Some(e_text().as_str()));
        // The export takes the same filter, and every page.
        let csv = o
            .export_csv(&HistoryQuery {
                workspace_id: Some("ws-a".into()),
                limit: Some(1),
                ..Default::default()
            })
            .unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 3, "{csv}");
        assert!(lines[1].contains(",Acme,ann@x.io,invited,"), "{csv}");
        assert!(lines[2].contains(",Acme,bob@x.io,failed,"), "{csv}");
        assert!(!csv.contains("cat@y.io"));
    }

    fn e_text() -> String {
        Error::invalid_input("email", "not an address").to_string()
    }

    #[test]
    fn a_found_invitation_counts_as_ours_only_if_not_older_than_our_first_request() {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let job = |sent: Option<&str>| Job {
            id: 1,
            batch_id: "b".into(),
            workspace_id: "ws".into(),
            email: "a@x.io".into(),
            state: JobState::Uncertain,
            outcome: None,
            link: None,
            invite_id: None,
            attempts: 1,
            last_error: None,
            next_attempt_at: None,
            first_sent_at: sent.map(t),
        };
        let found = |at: Option<&str>| crate::model::Invite {
            id: "i".into(),
            email: "a@x.io".into(),
            status: InviteStatus::Pending,
            invited_at: at.map(t),
            expires_at: None,
            accepted_at: None,
            name: None,
            message: None,
        };
        let sent = job(Some("2026-11-22T10:00:00Z"));
        assert!(sent.made_by_us(&found(Some("2026-11-22T10:00:01Z"))));
        // Server clock a little behind ours.
        assert!(sent.made_by_us(&found(Some("2026-11-22T09:57:00Z"))));
        // An invitation from yesterday is not the answer to today's request.
        assert!(!sent.made_by_us(&found(Some("2026-11-21T10:00:00Z"))));
        // No time on the record: take it as ours rather than risk inviting twice.
        assert!(sent.made_by_us(&found(None)));
        // Nothing was ever sent: nothing found can be ours.
        assert!(!job(None).made_by_us(&found(Some("2026-11-22T10:00:01Z"))));
    }

    #[test]
    fn a_version_2_database_is_migrated_and_keeps_its_jobs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("outbox.sqlite3");
        {
            let c = Connection::open(&path).unwrap();
            c.execute_batch(SCHEMA).unwrap();
            c.execute_batch(SCHEMA_V2).unwrap();
            c.pragma_update(None, "user_version", 2).unwrap();
            c.execute_batch(
                "INSERT INTO batches VALUES ('b','ws','Acme','2026-11-01T10:00:00+00:00');
                 INSERT INTO jobs(batch_id, workspace_id, email, send_email, state, attempts, updated_at)
                   VALUES ('b','ws','sent@x.io',1,'waiting',2,'2026-11-01T10:00:00+00:00'),
                          ('b','ws','new@x.io',1,'queued',0,'2026-11-01T10:00:00+00:00');",
            )
            .unwrap();
        }
        let o = Outbox::open(&path).unwrap();
        let jobs = o.jobs("b").unwrap();
        assert_eq!(jobs.len(), 2);
        // Sent before the migration: still looked up, and anything found counts, as before.
        assert!(jobs[0].first_sent_at.is_some());
        assert!(jobs[1].first_sent_at.is_none());
        let v: i64 = o
            .lock()
            .unwrap()
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v, SCHEMA_VERSION);
    }
}
