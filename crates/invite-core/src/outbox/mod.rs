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

use crate::error::{Error, Result};
use crate::model::{InviteRequest, InviteStatus};
use crate::provider::Provider;

pub mod concurrency;
mod file;
mod history;
mod model;
#[cfg(test)]
mod tests;
mod worker;

use file::*;
pub use history::{escape_cell, HistoryPage, HistoryQuery, HistoryRow};
pub use model::*;
pub use worker::{EmailBudget, EventSink, ProviderSource, Worker, WorkerHandle};

/// Identifier of a batch (one click on "Invite N people").
pub type BatchId = String;

/// How long a link whose expiry the server does not tell is kept: GoTrue's default lifetime.
const LINK_KEPT: Duration = Duration::from_secs(24 * 3600);

/// How long a claim holds a job without being renewed. A process that dies leaves its jobs to
/// the others (and to its own next start) once this has passed.
const LEASE: Duration = Duration::from_secs(30);
/// How often a claim on a job with a request in flight is renewed: well inside [`LEASE`], so a
/// slow request never loses its job to another process.
const RENEW_EVERY: Duration = Duration::from_secs(10);

/// Clocks of the app and the server may disagree by this much when a found invitation's time is
/// compared with our first request: a record made up to this long before it still counts as ours.
const CLOCK_SKEW: Duration = Duration::from_secs(300);

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
        // FULL: a commit reaches the disk before the call returns. A batch the owner queued
        // and the move to `sending` must survive a power cut, or a job whose request went out
        // could come back as never sent and be sent again without a lookup (NORMAL in WAL mode
        // may lose the last commits on power loss). The writes that guard nothing are made
        // without their own sync ([`unsynced`]).
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
        let mut conn = self.lock()?;
        unsynced(&mut conn, |conn| Self::claim_in(conn, &self.owner, id))
    }

    fn claim_in(
        conn: &mut Connection,
        owner: &str,
        id: i64,
    ) -> Result<Option<(Job, InviteRequest)>> {
        let (ms, t) = (now_ms(), now());
        let n = conn.execute(
            "UPDATE jobs SET lease_owner=?2, lease_until=?3 WHERE id=?1
               AND (state IN ('queued','uncertain') OR (state='waiting' AND next_attempt_at <= ?4))
               AND (lease_owner IS NULL OR lease_until < ?5)",
            params![id, owner, lease_end(), t, ms],
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
        let mut conn = self.lock()?;
        unsynced(&mut conn, |conn| {
            let n = conn.execute(
                "UPDATE jobs SET lease_until=?3 WHERE id=?1 AND lease_owner=?2",
                params![id, &*self.owner, lease_end()],
            )?;
            Ok(n == 1)
        })
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
        if state == JobState::Sending {
            Self::transition_in(&mut conn, &self.owner, id, state, f)
        } else {
            unsynced(&mut conn, |conn| {
                Self::transition_in(conn, &self.owner, id, state, f)
            })
        }
    }

    fn transition_in(
        conn: &mut Connection,
        owner: &str,
        id: i64,
        state: JobState,
        f: impl FnOnce(&Connection) -> rusqlite::Result<()>,
    ) -> Result<Option<Job>> {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let keep = state == JobState::Sending;
        let n = tx.execute(
            "UPDATE jobs SET state=?3, updated_at=?4,
               lease_owner = CASE WHEN ?5 THEN lease_owner ELSE NULL END,
               lease_until = CASE WHEN ?5 THEN ?6 ELSE NULL END
             WHERE id=?1 AND lease_owner=?2",
            params![id, owner, state.as_str(), now(), keep, lease_end()],
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
    fn due(&self, limit: usize, skip: &[String]) -> Result<Vec<(Job, InviteRequest)>> {
        let conn = self.lock()?;
        let mut stmt = conn.prepare(&format!(
            "SELECT {JOB_COLS}, message, redirect_url, send_email FROM jobs
             WHERE (state IN ('queued','uncertain') OR (state='waiting' AND next_attempt_at <= ?1))
               AND (lease_owner IS NULL OR lease_until < ?3)
               AND workspace_id NOT IN (SELECT value FROM json_each(?4))
             ORDER BY id LIMIT ?2"
        ))?;
        let skip = serde_json::to_string(skip).map_err(Error::storage)?;
        let rows = stmt.query_map(
            params![
                now(),
                i64::try_from(limit).unwrap_or(i64::MAX),
                now_ms(),
                skip
            ],
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
}

const JOB_COLS: &str =
    "id, batch_id, workspace_id, email, state, outcome, link, invite_id, attempts,
  error_kind, error_message, error_detail, next_attempt_at, first_sent_at, error_email_limit";
const JOB_SELECT: &str =
    "SELECT id, batch_id, workspace_id, email, state, outcome, link, invite_id, attempts,
  error_kind, error_message, error_detail, next_attempt_at, first_sent_at, error_email_limit,
  change_seq FROM jobs";

/// Runs `f` with commits that do not wait for the disk: the writes that guard nothing on their
/// own. A claim lost to a power cut leaves a job that was never sent (the move to `sending`,
/// which is synced, writes the claim out with it, as WAL frames reach the disk in order); a
/// result lost to one leaves the job `sending`, which the next start turns `uncertain`, and the
/// server is asked before anything is sent again. So exactly-once holds while each job costs
/// one sync instead of three.
fn unsynced<T>(conn: &mut Connection, f: impl FnOnce(&mut Connection) -> Result<T>) -> Result<T> {
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    let out = f(conn);
    let restored = conn.pragma_update(None, "synchronous", "FULL");
    let out = out?;
    restored?;
    Ok(out)
}

fn to_chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or_else(|_| chrono::Duration::seconds(60))
}

fn parse_time(s: Option<String>) -> Option<DateTime<Utc>> {
    s.and_then(|s| DateTime::parse_from_rfc3339(&s).ok())
        .map(|d| d.with_timezone(&Utc))
}

/// A row of `SELECT {JOB_COLS}, message, redirect_url, send_email`.
fn job_and_request(r: &rusqlite::Row<'_>) -> rusqlite::Result<(Job, InviteRequest)> {
    let job = job_from_row(r)?;
    let req = InviteRequest {
        email: job.email.clone(),
        message: r.get(15)?,
        redirect_url: r.get(16)?,
        send_email: r.get(17)?,
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
                email_limit: r.get(14)?,
            }),
            None => None,
        },
        next_attempt_at: parse_time(next),
        first_sent_at: parse_time(r.get(13)?),
    })
}
