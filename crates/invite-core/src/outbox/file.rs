//! The database file: its schema, the steps that bring an older file up to date, and what to do
//! with a damaged one.

use super::*;

pub(super) const SCHEMA: &str = "
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
pub(super) const SCHEMA_V2: &str = "
CREATE TABLE IF NOT EXISTS paused_workspaces (
  workspace_id TEXT PRIMARY KEY, reason TEXT NOT NULL, since TEXT NOT NULL);
";
/// Version 3: when a job's first request went out, so that a lost answer is matched only with an
/// invitation the server made after it (an older pending invitation is not proof of ours).
/// Jobs sent before it get the earliest time, so that any record found for them still counts,
/// as it did then.
pub(super) fn schema_v3(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<()> {
    add_column(tx, "jobs", "first_sent_at", "TEXT")?;
    tx.execute_batch(
        "UPDATE jobs SET first_sent_at='1970-01-01T00:00:00+00:00' WHERE attempts > 0 AND first_sent_at IS NULL",
    )
}
/// Version 4: claims with a lease, so that more than one process (the window and the command
/// line) can work on one database: a job is held by `lease_owner` until `lease_until`
/// (milliseconds since 1970, UTC), renewed while a request is in flight. A lapsed lease is free.
pub(super) fn schema_v4(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<()> {
    add_column(tx, "jobs", "lease_owner", "TEXT")?;
    add_column(tx, "jobs", "lease_until", "INTEGER")
}

/// Version 5: when a job's invitation link stops working (milliseconds since 1970, UTC). The link
/// is a sign-in token for the invitee: it is cleared from the outbox once it has expired. Links
/// kept before this version get the default lifetime from now.
pub(super) fn schema_v5(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<()> {
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
pub(super) fn schema_v6(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<()> {
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

/// Version 7: whether a job's error is the email limit, kept with the error so that front ends
/// never guess it from the server's words. Errors recorded before get the reading those builds
/// made of them, once.
pub(super) fn schema_v7(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<()> {
    add_column(
        tx,
        "jobs",
        "error_email_limit",
        "INTEGER NOT NULL DEFAULT 0",
    )?;
    tx.execute_batch(
        "UPDATE jobs SET error_email_limit = 1
           WHERE error_kind = 'rate_limited'
             AND (lower(error_detail) LIKE '%over_email_send_rate_limit%'
               OR lower(error_detail) LIKE '%email rate limit%'
               OR lower(error_detail) LIKE '%emails in%');",
    )
}

/// One step of the schema. Each runs in one transaction together with its `user_version`
/// bump, so a crash (or a power cut) leaves the database at the step before or after it.
pub(super) type Migration = fn(&rusqlite::Transaction<'_>) -> rusqlite::Result<()>;

/// Every step, in order: step `i` takes the database from version `i` to `i + 1`.
pub(super) const MIGRATIONS: &[Migration] = &[
    |tx| tx.execute_batch(SCHEMA),
    |tx| tx.execute_batch(SCHEMA_V2),
    schema_v3,
    schema_v4,
    schema_v5,
    schema_v6,
    schema_v7,
];

/// Adds a column unless it is there. Builds before migrations ran in one transaction could die
/// between a step and its version bump, leaving the column without the version: such a file
/// still opens.
pub(super) fn add_column(
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
pub(super) fn migrate(conn: &mut Connection, steps: &[Migration]) -> Result<()> {
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
pub(super) const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Why the database at `path` cannot be used, if it is damaged: not a database at all, or
/// failing SQLite's quick integrity check. `None` for a healthy (or missing) file, and for
/// failures that are not damage (a lock, a permission), which must not move a file away.
pub(super) fn damage(path: &Path) -> Option<String> {
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

pub(super) fn is_damage(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if matches!(f.code, rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt))
}

/// Renames the database (and its `-wal` and `-shm` companions) to
/// `<name>.unreadable-<date and time>` next to it; returns the new path.
pub(super) fn move_aside(path: &Path) -> Result<std::path::PathBuf> {
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
