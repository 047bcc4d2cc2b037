#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::worker::record_error;
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

#[test]
fn the_email_limit_is_kept_with_the_error_not_guessed_from_words() {
    let o = Outbox::open_in_memory().unwrap();
    let b = o
        .enqueue("ws", "Acme", &[req("a@x.io"), req("b@x.io")])
        .unwrap();
    let jobs = o.jobs(&b).unwrap();
    let quota = Error::RateLimited {
        retry_after: None,
        email_limit: true,
        detail: None,
    };
    // A request limit whose words happen to talk about emails is not the email limit.
    let requests = Error::RateLimited {
        retry_after: None,
        email_limit: false,
        detail: Some("too many requests; emails in the queue: 3".into()),
    };
    for (job, e) in [(&jobs[0], &quota), (&jobs[1], &requests)] {
        o.set_state(job.id, JobState::Waiting, |c| {
            record_error(c, job.id, e, None)
        })
        .unwrap();
    }
    let flags: Vec<bool> = o
        .jobs(&b)
        .unwrap()
        .iter()
        .map(|j| j.last_error.as_ref().unwrap().email_limit)
        .collect();
    assert_eq!(flags, [true, false]);
}
