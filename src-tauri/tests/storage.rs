//! What the app keeps: the keychain (or the session store without one), the settings file,
//! the outbox, and the diagnostics bundle that must hold no secret.

use super::*;

#[test]
fn session_store_switch_is_reported() {
    let t = app();
    let k = t.call("use_session_store", json!({})).unwrap();
    assert_eq!(k["status"], "session");
    let info = t.call("app_info", json!({})).unwrap();
    assert_eq!(info["keychain"]["status"], "session");
}

#[test]
fn without_a_keychain_nothing_claims_keys_were_read_or_deleted() {
    use invite_core::secret::Sensitive;
    let t = app_with(
        MemoryStore::new(),
        Arc::new(crate::state::NoKeychain::new(
            "Install GNOME Keyring".into(),
            "no bus".into(),
        )),
    );
    saved_workspace(&t, "w1");
    // Its key can't be read: the owner hears why, not "the key is missing".
    assert_eq!(
        t.kind_of("refresh_invitations", json!({"workspaceId": "w1"})),
        "keychain_unavailable"
    );
    // Removing it would leave its key behind: refused, and it stays listed.
    assert_eq!(
        t.kind_of("remove_workspace", json!({"id": "w1"})),
        "keychain_unavailable"
    );
    assert_eq!(listed(&t), ["w1"]);

    // Session only: a workspace of this session is removed with its keys; one whose keys are in
    // the keychain (saved in an earlier run) is not.
    t.call("use_session_store", json!({})).unwrap();
    saved_workspace(&t, "w2");
    use tauri::Manager;
    let store = t
        .webview
        .state::<crate::state::AppState>()
        .desk
        .secret_store();
    store
        .set("w2", "secret_key", &Sensitive::new("sb_secret_x".into()))
        .unwrap();
    t.call("remove_workspace", json!({"id": "w2"})).unwrap();
    assert!(store.get("w2", "secret_key").unwrap().is_none());
    assert_eq!(
        t.kind_of("remove_workspace", json!({"id": "w1"})),
        "keychain_unavailable"
    );
    assert_eq!(listed(&t), ["w1"]);
}

#[test]
fn the_keychain_service_is_the_app_identifier() {
    // The release build keeps secrets under the identifier the installers carry; a debug build
    // under its own name, so development never touches an owner's real keys.
    let conf: Value = serde_json::from_str(include_str!("../../tauri.conf.json")).unwrap();
    let id = conf["identifier"].as_str().unwrap();
    let want = if cfg!(debug_assertions) {
        format!("{id}.dev")
    } else {
        id.to_string()
    };
    assert_eq!(invite_core::secret::SERVICE, want);
}

#[test]
fn a_damaged_outbox_is_set_aside_and_the_banner_says_where() {
    let dir = tempfile::tempdir().unwrap();
    let junk: Vec<u8> = (0..40_000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    std::fs::write(dir.path().join("outbox.sqlite3"), &junk).unwrap();
    let secrets = MemoryStore::new();
    let t = app_at(dir, secrets.clone(), Arc::new(secrets));
    let n = t.call("outbox_notice", json!({})).unwrap();
    assert_eq!(n["kind"], "outbox_moved_aside", "{n}");
    assert_eq!(n["blocksSending"], false);
    let moved = std::path::PathBuf::from(n["path"].as_str().unwrap());
    assert_eq!(std::fs::read(&moved).unwrap(), junk, "the old file is kept");
    assert_eq!(moved.parent(), Some(t.dir.path()));
}

#[test]
fn an_outbox_of_a_newer_version_is_left_alone_and_nothing_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outbox.sqlite3");
    newer_outbox(&path);
    let before = std::fs::read(&path).unwrap();
    let secrets = MemoryStore::new();
    let t = app_at(dir, secrets.clone(), Arc::new(secrets));
    let n = t.call("outbox_notice", json!({})).unwrap();
    assert_eq!(n["kind"], "outbox_too_new", "{n}");
    assert_eq!(n["blocksSending"], true);
    assert_eq!(std::fs::read(&path).unwrap(), before);
    let e = t
        .call(
            "enqueue_invites",
            json!({ "workspaceId": "any", "requests": [{ "email": "a@example.com" }] }),
        )
        .unwrap_err();
    assert_eq!(e["kind"], "outbox_too_new", "{e}");
    // A healthy start has nothing to say.
    assert_eq!(app().call("outbox_notice", json!({})).unwrap(), Value::Null);
}

/// A settings file damaged between two runs: the app starts with the last good copy, the same
/// workspace ids (so their keys are found), and tells the owner through `app_info`.
#[test]
fn a_damaged_settings_file_is_restored_and_reported() {
    let t = app();
    saved_workspace(&t, "w1");
    let secrets = t.secrets.clone();
    // The first app's worker lives on the process-wide async runtime and reads the settings as
    // it goes: stopped first, so that the damaged file is found by the restarted app, not by it.
    {
        use tauri::Manager;
        let desk = t._app.state::<crate::state::AppState>().desk.clone();
        tauri::async_runtime::block_on(desk.stop_worker()).unwrap();
    }
    let TestApp { dir, _app, .. } = t;
    drop(_app);
    let path = dir.path().join("settings.json");
    let good = std::fs::read(&path).unwrap();
    std::fs::write(&path, &good[..good.len() / 2]).unwrap();
    let t = app_at(dir, secrets.clone(), Arc::new(secrets));
    assert_eq!(listed(&t), ["w1"]);
    let info = t.call("app_info", json!({})).unwrap();
    assert_eq!(info["notices"][0]["kind"], "restored", "{info}");
    let kept = info["notices"][0]["keptCopy"].as_str().unwrap();
    assert_eq!(std::fs::read(kept).unwrap(), &good[..good.len() / 2]);
}

#[test]
fn diagnostics_hold_no_secret() {
    let t = app();
    // Put secrets exactly where the support text looks: the newest log file in the app's log
    // folder (a key the app was told about, an unregistered Supabase key, a JWT, a header) and
    // the workspace list (a key pasted into a workspace name; addresses are refused with one).
    let known = "correct-horse-battery-diagnostics-42";
    crate::logging::forget_in_logs(&known.into());
    let logs = t.dir.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.c2lnbmF0dXJl";
    std::fs::write(
        logs.join("invite-desk.2099-01-01.log"),
        format!(
            "INFO marker-the-log-tail-is-read\n\
             WARN typed password {known}\n\
             WARN key sb_secret_diagnostics_must_not_show_this in a server answer\n\
             WARN token {jwt}\n\
             WARN Authorization: Bearer opaque-bearer-diagnostics-0123\n"
        ),
    )
    .unwrap();
    {
        use invite_core::model::WorkspaceKind;
        use invite_core::workspace::Workspace;
        use tauri::Manager;
        t.webview
            .state::<crate::state::AppState>()
            .desk
            .edit_workspaces(|list| {
                list.add(Workspace {
                    id: "w".into(),
                    name: "Acme sb_secret_pasted_into_the_name_0123".into(),
                    base_url: "https://abc.supabase.co".into(),
                    config: invite_core::workspace::WorkspaceConfig::default_for(
                        WorkspaceKind::Supabase,
                    ),
                    demo: false,
                })
            })
            .unwrap();
    }
    t.secrets
        .set(
            "w",
            "secret_key",
            &"sb_secret_diagnostics_keychain_value".into(),
        )
        .unwrap();
    let text = t.call("diagnostics", json!({})).unwrap();
    let text = text.as_str().unwrap();
    // The places were really read: the log tail and the workspace are in the text.
    assert!(text.contains("marker-the-log-tail-is-read"), "{text}");
    assert!(text.contains("- Acme"), "{text}");
    assert!(text.contains("abc.supabase.co"), "{text}");
    for secret in [
        known,
        "diagnostics_must_not_show_this",
        "eyJhbGciOiJIUzI1NiJ9",
        "opaque-bearer-diagnostics",
        "pasted_into_the_name",
        "diagnostics_keychain_value",
    ] {
        assert!(!text.contains(secret), "{secret} in:\n{text}");
    }
}
