//! The desk (the service both front ends drive) against the sandbox over real HTTP: a changed
//! address never receives the old credentials, a damaged settings file comes back with every
//! workspace's keys reachable, the data folder is private, exports never overwrite, and the
//! outbox's states reach front ends as closed enums.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::common::MemStore;
use invite_core::desk::{
    Desk, DeskConfig, DeskEvent, JobResult, NoticeKind, SecretsIn, WorkspaceDraft,
};
use invite_core::model::{InviteRequest, WorkspaceKind};
use invite_core::providers::netlify::netlify_sign_in;
use invite_core::secret::{names, Sensitive};
use invite_core::workspace::{
    ConnectionSettings, NetlifyOptions, WorkspaceConfig, WorkspaceSettings,
};
use invite_sandbox::{Config, Flavor, Sandbox};

fn open(dir: &Path, store: &Arc<MemStore>) -> Desk {
    Desk::open(DeskConfig::new(dir, store.clone())).unwrap()
}

async fn sandbox(flavor: Flavor, seed: Option<u64>) -> Sandbox {
    let mut c = Config::new(flavor);
    if let Some(s) = seed {
        c.seed = s;
    }
    Sandbox::start(c).await.unwrap()
}

fn url(sb: &Sandbox) -> String {
    sb.url().trim_end_matches('/').to_string()
}

fn secret(name: &str, value: &str) -> SecretsIn {
    SecretsIn::none().with(name, Sensitive::new(value.to_string()))
}

/// Requests that would carry a credential, on any GoTrue-family sandbox.
fn credential_calls(sb: &Sandbox) -> u64 {
    [
        "POST /token",
        "GET /user",
        "GET /admin/users",
        "POST /invite",
        "GET /settings",
        "GET /.netlify/functions/invite-desk/users",
        "POST /.netlify/functions/invite-desk/invite",
    ]
    .iter()
    .map(|r| sb.calls(r))
    .sum()
}

async fn add_supabase(desk: &Desk, sb: &Sandbox) -> String {
    let draft = WorkspaceDraft {
        name: "Acme".into(),
        base_url: url(sb),
        config: WorkspaceConfig::default_for(WorkspaceKind::Supabase),
    };
    let key = sb.credentials().service_role_key.clone();
    desk.add_workspace(&draft, &secret(names::SECRET_KEY, &key), None)
        .await
        .unwrap()
        .id
}

fn moved_to(sb: &Sandbox) -> ConnectionSettings {
    ConnectionSettings {
        base_url: url(sb),
        ..Default::default()
    }
}

/// A copy of the first server (same keys, as a hostile server that learnt them would have)
/// at another port: the kept key is never sent there, and a refused edit changes nothing.
#[tokio::test]
async fn a_new_origin_never_gets_the_kept_key() {
    let seed = 0x5eed;
    let a = sandbox(Flavor::Supabase, Some(seed)).await;
    let copy = sandbox(Flavor::Supabase, Some(seed)).await;
    let other = sandbox(Flavor::Supabase, None).await;
    let dir = tempfile::tempdir().unwrap();
    let store = MemStore::new();
    let desk = open(dir.path(), &store);
    let id = add_supabase(&desk, &a).await;
    let kept = store.peek(&id, names::SECRET_KEY).unwrap();

    // No secret given: refused before any request, nothing changed.
    let e = desk
        .edit_connection(&id, &moved_to(&copy), &SecretsIn::none())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "secret_needed", "{e}");
    assert_eq!(
        credential_calls(&copy),
        0,
        "the kept key went to the new address"
    );
    assert_eq!(desk.workspace(&id).unwrap().base_url, url(&a));
    assert_eq!(store.peek(&id, names::SECRET_KEY).unwrap(), kept);

    // A key the new server refuses: checked in memory, so the keychain keeps the old one.
    let wrong = other.credentials().service_role_key.clone();
    let e = desk
        .edit_connection(&id, &moved_to(&copy), &secret(names::SECRET_KEY, &wrong))
        .await
        .unwrap_err();
    assert_ne!(e.kind(), "secret_needed");
    assert_eq!(store.peek(&id, names::SECRET_KEY).unwrap(), kept);
    assert_eq!(desk.workspace(&id).unwrap().base_url, url(&a));
    // Read back from disk too: nothing was saved.
    let again = open(dir.path(), &store);
    assert_eq!(again.workspace(&id).unwrap().base_url, url(&a));

    // The new server's own key: checked, then saved with the address.
    let right = other.credentials().service_role_key.clone();
    let saved = desk
        .edit_connection(&id, &moved_to(&other), &secret(names::SECRET_KEY, &right))
        .await
        .unwrap();
    assert_eq!(saved.base_url, url(&other));
    assert_eq!(store.peek(&id, names::SECRET_KEY).unwrap(), right);
    desk.refresh_invitations(&id).await.unwrap();
}

/// Netlify with "keep me signed in": neither the kept password nor the refresh token is
/// replayed to a new origin; signing in there replaces the old tokens.
#[tokio::test]
async fn a_kept_password_and_refresh_token_stay_with_their_origin() {
    let seed = 0x0a11;
    let a = sandbox(Flavor::Netlify, Some(seed)).await;
    let copy = sandbox(Flavor::Netlify, Some(seed)).await;
    let dir = tempfile::tempdir().unwrap();
    let store = MemStore::new();
    let desk = open(dir.path(), &store);
    let creds = a.credentials().clone();
    let draft = WorkspaceDraft {
        name: "Site".into(),
        base_url: url(&a),
        config: WorkspaceConfig::Netlify(NetlifyOptions {
            account_email: Some(creds.owner_email.clone()),
            keep_signed_in: true,
            ..Default::default()
        }),
    };
    let id = desk
        .add_workspace(
            &draft,
            &secret(names::PASSWORD, &creds.owner_password),
            None,
        )
        .await
        .unwrap()
        .id;
    let before: Vec<Option<String>> = names::ALL.iter().map(|n| store.peek(&id, n)).collect();
    assert!(store.peek(&id, names::PASSWORD).is_some());
    assert!(store.peek(&id, names::REFRESH_TOKEN).is_some());

    let e = desk
        .edit_connection(&id, &moved_to(&copy), &SecretsIn::none())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "secret_needed");
    assert_eq!(
        copy.calls("POST /token"),
        0,
        "password or refresh token replayed"
    );
    assert_eq!(credential_calls(&copy), 0);
    let after: Vec<Option<String>> = names::ALL.iter().map(|n| store.peek(&id, n)).collect();
    assert_eq!(before, after, "a refused edit changed the keychain");

    // A wrong password at the new address: refused, keychain unchanged.
    let e = desk
        .edit_connection(&id, &moved_to(&copy), &secret(names::PASSWORD, "not-it"))
        .await
        .unwrap_err();
    assert_ne!(e.kind(), "secret_needed");
    let after: Vec<Option<String>> = names::ALL.iter().map(|n| store.peek(&id, n)).collect();
    assert_eq!(before, after, "a refused edit changed the keychain");

    // The owner signs in at the new address: its own sign-in makes the tokens kept now (the
    // copy's seeded tokens may look the same, so count the sign-ins there).
    let sign_ins = copy.calls("POST /token");
    desk.edit_connection(
        &id,
        &moved_to(&copy),
        &secret(names::PASSWORD, &creds.owner_password),
    )
    .await
    .unwrap();
    assert_eq!(desk.workspace(&id).unwrap().base_url, url(&copy));
    assert!(store.peek(&id, names::REFRESH_TOKEN).is_some());
    assert_eq!(
        copy.calls("POST /token"),
        sign_ins + 1,
        "one sign-in with the typed password"
    );
}

/// A passed "Test connection" stands for the connection, not the whole form: renaming the
/// workspace or changing how invitations go out keeps it (Save needs no secret), while another
/// address or account needs the secret again and saves nothing without it.
#[tokio::test]
async fn a_passed_test_survives_a_rename_but_not_a_new_connection() {
    let sb = sandbox(Flavor::Supabase, None).await;
    let other = sandbox(Flavor::Supabase, None).await;
    let dir = tempfile::tempdir().unwrap();
    let store = MemStore::new();
    let desk = open(dir.path(), &store);
    let key = sb.credentials().service_role_key.clone();
    let tested = WorkspaceDraft {
        name: "Acme".into(),
        base_url: url(&sb),
        config: WorkspaceConfig::default_for(WorkspaceKind::Supabase),
    };
    let check = desk
        .test_workspace(&tested, &secret(names::SECRET_KEY, &key))
        .await
        .unwrap()
        .check_id;

    // The name, the default redirect, the link lifetime, the pace: not the connection.
    let mut renamed = tested.clone();
    renamed.name = "Acme HQ".into();
    let sending = renamed.config.sending_mut();
    sending.default_redirect_url = Some("https://app.example.com/welcome".into());
    sending.concurrency = Some(2);
    sending.emails_per_hour = Some(30);
    renamed.config.set_link_lifetime_hours(Some(48)).unwrap();
    // The same address typed with a trailing slash is the same server.
    renamed.base_url = format!("{}/", url(&sb));
    assert!(desk.check_covers(&check, &renamed).unwrap());

    // Another address or another back end: the check no longer stands.
    let mut moved = tested.clone();
    moved.base_url = url(&other);
    assert!(!desk.check_covers(&check, &moved).unwrap());
    let mut keep = tested.clone();
    keep.config = WorkspaceConfig::default_for(WorkspaceKind::Gotrue);
    assert!(!desk.check_covers(&check, &keep).unwrap());
    assert!(!desk.check_covers("not-a-check", &renamed).unwrap());

    let saved = desk
        .add_workspace(&renamed, &SecretsIn::none(), Some(&check))
        .await
        .unwrap();
    assert_eq!(saved.name, "Acme HQ");
    assert_eq!(saved.sending().concurrency, Some(2));
    assert_eq!(store.peek(&saved.id, names::SECRET_KEY).unwrap(), key);

    // A check used for a draft whose address changed: refused without the key, nothing saved,
    // and the new address heard nothing.
    let check = desk
        .test_workspace(&tested, &secret(names::SECRET_KEY, &key))
        .await
        .unwrap()
        .check_id;
    let e = desk
        .add_workspace(&moved, &SecretsIn::none(), Some(&check))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "invalid_input", "{e}");
    assert_eq!(credential_calls(&other), 0, "the tested key went elsewhere");
    assert_eq!(desk.workspaces().unwrap().workspaces.len(), 1);
}

/// Truncated, empty, random bytes, a JSON array: the last good copy comes back and every
/// workspace still finds its key in the keychain (its id survived).
#[tokio::test]
async fn a_damaged_settings_file_keeps_every_workspace_and_its_keys() {
    let a = sandbox(Flavor::Supabase, None).await;
    type Damage = Box<dyn Fn(&[u8]) -> Vec<u8>>;
    let damages: Vec<(&str, Damage)> = vec![
        ("truncated", Box::new(|b: &[u8]| b[..b.len() / 3].to_vec())),
        ("empty", Box::new(|_: &[u8]| Vec::new())),
        (
            "random bytes",
            Box::new(|_: &[u8]| {
                (0..4096u32)
                    .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
                    .collect()
            }),
        ),
        ("a JSON array", Box::new(|_: &[u8]| b"[]".to_vec())),
    ];
    for (what, damage) in damages {
        let dir = tempfile::tempdir().unwrap();
        let store = MemStore::new();
        let desk = open(dir.path(), &store);
        let id = add_supabase(&desk, &a).await;
        desk.edit_workspace(
            &id,
            &WorkspaceSettings {
                concurrency: Some(2),
                ..Default::default()
            },
        )
        .unwrap();
        drop(desk);
        let path = dir.path().join("settings.json");
        let good = std::fs::read(&path).unwrap();
        std::fs::write(&path, damage(&good)).unwrap();

        let desk = open(dir.path(), &store);
        let list = desk.workspaces().unwrap();
        assert_eq!(list.workspaces.len(), 1, "{what}");
        assert_eq!(list.workspaces[0].id, id, "{what}");
        assert_eq!(list.workspaces[0].sending().concurrency, Some(2), "{what}");
        let notices = desk.notices();
        assert_eq!(notices.len(), 1, "{what}");
        assert_eq!(notices[0].kind, NoticeKind::Restored, "{what}");
        assert_eq!(
            std::fs::read(notices[0].kept_copy.as_ref().unwrap()).unwrap(),
            damage(&good),
            "{what}"
        );
        // The key is found by the restored id: the workspace works.
        desk.refresh_invitations(&id).await.unwrap();
    }
}

/// A settings file as the previous format (1) wrote it, one workspace of each kind: every
/// workspace keeps its id, so it finds its keychain entries and works against its server; the
/// file is left as it is until the first save, which writes format 2, read back the same.
#[tokio::test]
async fn a_version_1_settings_file_keeps_every_workspace_and_its_keys() {
    let supabase = sandbox(Flavor::Supabase, None).await;
    let gotrue = sandbox(Flavor::Supabase, None).await;
    let netlify = sandbox(Flavor::Netlify, None).await;
    let royalti = sandbox(Flavor::Royalti, None).await;
    let owner = netlify.credentials().clone();
    let text = include_str!("../fixtures/settings/v1-every-kind.json")
        .replace("http://127.0.0.1:41001", &url(&supabase))
        .replace("http://127.0.0.1:41002", &url(&gotrue))
        .replace("http://127.0.0.1:41003", &url(&netlify))
        .replace("http://127.0.0.1:41004", &url(&royalti))
        .replace("owner@example.com", &owner.owner_email);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("settings.json");
    std::fs::write(&path, &text).unwrap();
    let id = |n: u8| format!("0b5e7c1a-3f0e-4d8a-9c61-5a2d7e9f1b0{n}");
    // The keychain as the earlier version left it, keyed by the workspaces' ids.
    let store = MemStore::new();
    store.put(
        &id(1),
        names::SECRET_KEY,
        &supabase.credentials().service_role_key,
    );
    store.put(&id(2), names::JWT_SECRET, &gotrue.credentials().jwt_secret);
    netlify_sign_in(
        &crate::common::http(),
        &url(&netlify),
        &owner.owner_email,
        &Sensitive::new(owner.owner_password.clone()),
        store.as_ref(),
        &id(3),
    )
    .await
    .unwrap();
    store.put(&id(4), names::API_KEY, &royalti.credentials().api_key);

    let desk = open(dir.path(), &store);
    let before = desk.workspaces().unwrap();
    assert_eq!(before.workspaces.len(), 6);
    assert_eq!(before.current_id.as_deref(), Some(id(3).as_str()));
    assert!(desk.notices().is_empty(), "{:?}", desk.notices());
    for n in 1..=4 {
        desk.refresh_invitations(&id(n)).await.unwrap();
    }
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        text,
        "reading changes nothing"
    );

    desk.rename_workspace(&id(1), "Acme HQ").unwrap();
    let saved: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(saved["workspaces"]["version"], 2);
    let netlify_saved = &saved["workspaces"]["workspaces"][2];
    assert_eq!(netlify_saved["kind"], "netlify");
    assert!(netlify_saved["options"].get("adminRole").is_none());
    assert_eq!(netlify_saved["options"]["keepSignedIn"], true);
    drop(desk);

    let desk = open(dir.path(), &store);
    let after = desk.workspaces().unwrap();
    assert_eq!(after.workspaces.len(), 6);
    for (a, b) in after.workspaces.iter().zip(&before.workspaces) {
        assert_eq!(
            (&a.id, &a.config, &a.base_url),
            (&b.id, &b.config, &b.base_url)
        );
    }
    assert_eq!(after.workspaces[0].name, "Acme HQ");
    assert!(desk.notices().is_empty(), "{:?}", desk.notices());
    for n in 1..=4 {
        desk.refresh_invitations(&id(n)).await.unwrap();
    }
}

#[cfg(unix)]
#[tokio::test]
async fn the_data_folder_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let a = sandbox(Flavor::Supabase, None).await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    let store = MemStore::new();
    let desk = open(&data, &store);
    add_supabase(&desk, &a).await;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700);
    for f in std::fs::read_dir(&data).unwrap() {
        let p = f.unwrap().path();
        let want = if p.is_dir() { 0o700 } else { 0o600 };
        assert_eq!(mode(&p), want, "{}", p.display());
    }
}

/// The typed wire: results and counts are closed enums, a waiting job says it waits for the
/// email limit, and the worker's events arrive through the callback.
#[tokio::test]
async fn batches_reach_front_ends_typed() {
    let a = sandbox(Flavor::Supabase, None).await;
    let dir = tempfile::tempdir().unwrap();
    let store = MemStore::new();
    let desk = open(dir.path(), &store);
    let id = add_supabase(&desk, &a).await;
    desk.edit_workspace(
        &id,
        &WorkspaceSettings {
            emails_per_hour: Some(1),
            ..Default::default()
        },
    )
    .unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    desk.start_worker(Arc::new(move |ev| {
        let _ = tx.send(ev);
    }))
    .unwrap();
    let reqs: Vec<InviteRequest> = ["one@example.com", "two@example.com"]
        .iter()
        .map(|e| InviteRequest {
            email: (*e).into(),
            message: None,
            redirect_url: None,
            send_email: true,
        })
        .collect();
    let batch = desk.enqueue(&id, &reqs).unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let status = loop {
        let s = desk.batch_status(&batch.batch_id).unwrap();
        if s.counts.invited == 1 && s.counts.waiting == 1 {
            break s;
        }
        assert!(tokio::time::Instant::now() < deadline, "{s:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    // The cursor answer agrees with the full one on everything the progress bar shows, and
    // then carries only what changed.
    let changes = desk.batch_changes(&batch.batch_id, 0).unwrap();
    assert_eq!(changes.total as usize, status.total);
    assert_eq!(changes.settled as usize, status.settled);
    assert_eq!(changes.stoppable, status.stoppable);
    assert_eq!(changes.finished, status.finished);
    assert_eq!(changes.counts.get("waiting"), Some(&1));
    assert_eq!(changes.jobs.len(), 2);
    let v = serde_json::to_value(&changes).unwrap();
    assert_eq!(v["settled"], 1, "{v}");
    assert_eq!(v["stoppable"], true, "{v}");
    let idle = desk.batch_changes(&batch.batch_id, changes.cursor).unwrap();
    assert!(idle.jobs.is_empty(), "{idle:?}");
    assert_eq!(idle.settled, changes.settled);
    let waiting = status
        .jobs
        .iter()
        .find(|j| j.state == JobResult::Waiting)
        .unwrap();
    assert!(waiting.error.as_ref().unwrap().email_limit, "{waiting:?}");
    let v = serde_json::to_value(&status).unwrap();
    assert_eq!(v["counts"]["alreadyMember"], 0);
    assert!(v["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .any(|j| j["state"] == "waiting" && j["error"]["emailLimit"] == true));
    // The events: the new batch, then the worker's changes, each naming batch and workspace.
    let mut seen_worker = false;
    while let Ok(Some(ev)) = tokio::time::timeout(Duration::from_secs(2), rx.recv()).await {
        if let DeskEvent::Batch {
            batch_id,
            by_worker,
            workspace_id,
        } = &ev
        {
            assert_eq!(batch_id, &batch.batch_id);
            assert_eq!(workspace_id, &id);
            seen_worker |= *by_worker;
        }
        let j = serde_json::to_value(&ev).unwrap();
        assert!(j.get("workspaceId").is_some(), "{j}");
    }
    assert!(seen_worker);
    desk.stop_worker().await.unwrap();

    // History speaks the same enum, and filters by it.
    let page = desk
        .history(&invite_core::desk::HistoryFilter {
            result: Some(JobResult::Invited),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(page.rows[0].result, JobResult::Invited);
}

/// A finished batch is announced once, however many changes ask after its last job (two
/// desktop notifications for one batch were seen after a restart and a resume).
#[tokio::test]
async fn a_finished_batch_is_announced_once() {
    let a = sandbox(Flavor::Supabase, None).await;
    let dir = tempfile::tempdir().unwrap();
    let store = MemStore::new();
    let desk = open(dir.path(), &store);
    let id = add_supabase(&desk, &a).await;
    desk.start_worker(Arc::new(|_| {})).unwrap();
    let req = InviteRequest {
        email: "once@example.com".into(),
        message: None,
        redirect_url: None,
        send_email: true,
    };
    let batch = desk.enqueue(&id, &[req]).unwrap().batch_id;
    // Nothing is asked of the window before the end.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !desk.batch_summary(&batch).unwrap().is_finished() {
        assert!(desk
            .finished_batch_notice(&batch, || panic!("asked before the end"))
            .unwrap()
            .is_none());
        assert!(tokio::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The owner is looking and the batch was quick: no notice, and nothing is used up.
    assert!(desk
        .finished_batch_notice(&batch, || true)
        .unwrap()
        .is_none());
    let (summary, notice) = desk
        .finished_batch_notice(&batch, || false)
        .unwrap()
        .unwrap();
    assert_eq!(summary.done, 1);
    assert_eq!(notice.title, "Invitations sent for Acme");
    assert!(desk
        .finished_batch_notice(&batch, || false)
        .unwrap()
        .is_none());
    assert!(desk
        .finished_batch_notice(&batch, || false)
        .unwrap()
        .is_none());
}

#[test]
fn exports_never_overwrite_or_follow_a_link() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let store = MemStore::new();
    let desk = open(&data, &store);
    let victim = dir.path().join("victim");
    std::fs::write(&victim, b"mine").unwrap();
    let taken = out.join("history.csv");
    // On Unix the name is taken by a link to another file, which must not be followed either.
    // Making a link on Windows needs administrator rights (or Developer Mode), so there a plain
    // file takes the name.
    #[cfg(unix)]
    std::os::unix::fs::symlink(&victim, &taken).unwrap();
    #[cfg(not(unix))]
    std::fs::write(&taken, b"mine").unwrap();
    let p = desk
        .export_history(&Default::default(), &out, "history")
        .unwrap();
    assert!(p.ends_with("history (2).csv"));
    assert_eq!(std::fs::read(&victim).unwrap(), b"mine");
    assert_eq!(std::fs::read(&taken).unwrap(), b"mine");
    assert!(std::fs::read_to_string(&p).unwrap().starts_with("sent_at"));
}

/// The list carries what each back end can do, as the workspace's details do, so the Invite
/// screen draws its options with the list at start-up instead of asking once more.
#[tokio::test]
async fn the_list_says_what_each_workspace_can_do() {
    let dir = tempfile::tempdir().unwrap();
    let store = MemStore::new();
    let desk = open(dir.path(), &store);
    assert!(desk.workspaces().unwrap().capabilities.is_empty());
    let sb = sandbox(Flavor::Supabase, None).await;
    let id = add_supabase(&desk, &sb).await;
    let list = desk.workspaces().unwrap();
    let caps = &list.capabilities[&id];
    let details = desk.workspace_details(&id).unwrap().capabilities;
    assert_eq!(*caps, details);
    assert!(caps.copy_link && caps.redirect && caps.send_email_toggle);
}
