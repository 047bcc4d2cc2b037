//! The shell's commands through Tauri's IPC, with `tauri::test::mock_builder()` (no display):
//! every command's argument checks answer with a clear error and never panic.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use invite_core::secret::{MemoryStore, SecretStore};
use serde_json::{json, Value};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{
    get_ipc_response, mock_builder, mock_context, noop_assets, MockRuntime, INVOKE_KEY,
};
use tauri::webview::InvokeRequest;
use tauri::WebviewWindow;

use crate::state::AppConfig;

pub(crate) struct TestApp {
    _app: tauri::App<MockRuntime>,
    pub webview: WebviewWindow<MockRuntime>,
    pub secrets: MemoryStore,
    pub dir: tempfile::TempDir,
}

pub(crate) fn app() -> TestApp {
    let secrets = MemoryStore::new();
    app_with(secrets.clone(), Arc::new(secrets))
}

/// An app whose secrets go to `store` (`secrets` is what the test reads back, when it can).
pub(crate) fn app_with(secrets: MemoryStore, store: Arc<dyn SecretStore>) -> TestApp {
    app_at(tempfile::tempdir().unwrap(), secrets, store)
}

/// An app on an existing data folder (as a restart finds it).
pub(crate) fn app_at(
    dir: tempfile::TempDir,
    secrets: MemoryStore,
    store: Arc<dyn SecretStore>,
) -> TestApp {
    let config = AppConfig {
        data_dir: Some(dir.path().to_path_buf()),
        theme: None,
        record_ipc: false,
        secrets: Some(store),
    };
    let app = crate::build(mock_builder(), config.clone())
        .build(mock_context(noop_assets()))
        .unwrap();
    crate::init_state(app.handle(), &config).unwrap();
    let webview = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .unwrap();
    TestApp {
        _app: app,
        webview,
        secrets,
        dir,
    }
}

impl TestApp {
    /// Calls a command as the web view does; `Err` holds the error value.
    pub fn call(&self, cmd: &str, args: Value) -> Result<Value, Value> {
        let req = InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        };
        get_ipc_response(&self.webview, req).map(|b| b.deserialize::<Value>().unwrap())
    }

    /// Calls a command that must fail with our error shape; returns its kind.
    pub fn kind_of(&self, cmd: &str, args: Value) -> String {
        let e = self.call(cmd, args).expect_err(cmd);
        assert!(
            e["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{cmd}: no message in {e}"
        );
        e["kind"]
            .as_str()
            .unwrap_or_else(|| panic!("{cmd}: not our error shape: {e}"))
            .to_string()
    }
}

#[test]
fn app_info_and_an_empty_list() {
    let t = app();
    let info = t.call("app_info", json!({})).unwrap();
    // The version the window shows is the one the installers carry (tauri.conf.json), not only
    // the crate's: the two are kept in step by hand.
    let conf: Value = serde_json::from_str(include_str!("../tauri.conf.json")).unwrap();
    assert_eq!(info["version"], conf["version"]);
    assert_eq!(info["loadError"], Value::Null);
    // The test's store stands in for the keychain, so "available" says nothing on its own; what
    // app_info must report is the state as it is now: after the owner's "this session only",
    // the banner's answer changes with it.
    assert_eq!(info["keychain"]["status"], "available");
    t.call("use_session_store", json!({})).unwrap();
    let info = t.call("app_info", json!({})).unwrap();
    assert_eq!(info["keychain"]["status"], "session", "{info}");
    // A fresh data folder: nothing listed, nothing current, and no demo slipped in.
    let list = t.call("list_workspaces", json!({})).unwrap();
    assert_eq!(list["workspaces"], json!([]));
    assert_eq!(list["currentId"], Value::Null);
}

#[test]
fn workspace_commands_check_their_arguments() {
    let t = app();
    assert_eq!(
        t.kind_of("set_current_workspace", json!({"id": ""})),
        "invalid_input"
    );
    assert_eq!(
        t.kind_of("set_current_workspace", json!({"id": "a/b"})),
        "invalid_input"
    );
    assert_eq!(
        t.kind_of("set_current_workspace", json!({"id": "nope"})),
        "unknown_workspace"
    );
    assert_eq!(
        t.kind_of("rename_workspace", json!({"id": "nope", "name": "x"})),
        "unknown_workspace"
    );
    assert_eq!(
        t.kind_of("remove_workspace", json!({"id": "nope"})),
        "unknown_workspace"
    );
    assert_eq!(
        t.kind_of("workspace_details", json!({"id": "nope"})),
        "unknown_workspace"
    );
    // Missing or mistyped arguments are refused by Tauri before the command runs: no panic.
    assert!(t.call("rename_workspace", json!({"id": 5})).is_err());
    assert!(t.call("set_current_workspace", json!({})).is_err());
}

fn draft(kind: &str, url: &str) -> Value {
    json!({"name": "Acme", "kind": kind, "baseUrl": url, "options": {}})
}

#[test]
fn add_and_test_refuse_bad_drafts_without_saving_anything() {
    let t = app();
    let key = json!({"secret_key": "sb_secret_0123456789abcdefghijklmnopqrstuv"});
    assert_eq!(
        t.kind_of(
            "test_connection",
            json!({"draft": draft("supabase", "ftp://x"), "secrets": key})
        ),
        "invalid_url"
    );
    assert_eq!(
        t.kind_of(
            "test_connection",
            json!({"draft": draft("supabase", ""), "secrets": key})
        ),
        "invalid_url"
    );
    let mut no_name = draft("supabase", "https://abc.supabase.co");
    no_name["name"] = json!("  ");
    assert_eq!(
        t.kind_of("add_workspace", json!({"draft": no_name, "secrets": key})),
        "invalid_input"
    );
    assert_eq!(
        t.kind_of(
            "add_workspace",
            json!({"draft": draft("supabase", "https://abc.supabase.co"), "secrets": {}})
        ),
        "invalid_input"
    );
    assert_eq!(
        t.kind_of(
            "add_workspace",
            json!({"draft": draft("supabase", "https://abc.supabase.co"), "secrets": {"password_plain": "x"}})
        ),
        "invalid_input"
    );
    // A publishable/anon key is recognised before any request: the plain "wrong key" answer.
    let anon = json!({"secret_key": "sb_publishable_0123456789abcdefghijklmnop"});
    assert_eq!(
        t.kind_of(
            "test_connection",
            json!({"draft": draft("supabase", "https://abc.supabase.co"), "secrets": anon})
        ),
        "wrong_key"
    );
    assert_eq!(
        t.kind_of(
            "test_connection",
            json!({"draft": draft("gotrue", "https://auth.example.com"), "secrets": {}})
        ),
        "invalid_input"
    );
    assert_eq!(
        t.kind_of("test_connection", json!({"draft": draft("netlify", "https://x.netlify.app"), "secrets": {"password": "p"}})),
        "invalid_input",
        "Netlify needs the Identity email"
    );
    // Unknown kinds and unknown fields are refused by deserialisation.
    assert!(t
        .call(
            "test_connection",
            json!({"draft": draft("clerk", "https://x.io"), "secrets": {}})
        )
        .is_err());
    let mut extra = draft("supabase", "https://abc.supabase.co");
    extra["apiKey"] = json!("oops");
    assert!(t
        .call("add_workspace", json!({"draft": extra, "secrets": key}))
        .is_err());
    // A kind takes its own options only: another kind's is refused, never stored.
    let mut foreign = draft("supabase", "https://abc.supabase.co");
    foreign["options"]["functionPath"] = json!("/.netlify/functions/invite-desk");
    assert!(t
        .call("add_workspace", json!({"draft": foreign, "secrets": key}))
        .is_err());
    assert_eq!(
        t.call("list_workspaces", json!({})).unwrap()["workspaces"],
        json!([])
    );
    assert!(
        t.secrets.is_empty(),
        "nothing may be stored when nothing was saved"
    );
}

#[test]
fn an_unreachable_server_is_a_network_error() {
    let t = app();
    // Port 9 (discard) on loopback: nothing listens.
    let e = t
        .call(
            "test_connection",
            json!({"draft": draft("supabase", "http://127.0.0.1:9"), "secrets": {"secret_key": "sb_secret_0123456789abcdefghijklmnopqrstuv"}}),
        )
        .unwrap_err();
    assert_eq!(e["kind"], "network", "{e}");
    assert!(t.secrets.is_empty());
}

#[test]
fn parse_commands_check_size_and_mark_nothing_without_a_list() {
    let t = app();
    let r = t
        .call(
            "parse_recipients",
            json!({"workspaceId": null, "text": "a@example.com, a@example.com; nope"}),
        )
        .unwrap();
    assert_eq!(r["counts"]["valid"], 1);
    assert_eq!(r["counts"]["duplicate"], 1);
    assert_eq!(r["counts"]["invalid"], 1);
    assert_eq!(r["checkedAgainstList"], false);
    let big = "x".repeat(invite_core::desk::invitations::MAX_PASTE_BYTES + 1);
    assert_eq!(
        t.kind_of(
            "parse_recipients",
            json!({"workspaceId": null, "text": big})
        ),
        "invalid_input"
    );
    let csv = b"\xEF\xBB\xBFname;email\nAnn;ann@example.com\n".to_vec();
    let r = t
        .call("parse_csv", json!({"workspaceId": null, "bytes": csv}))
        .unwrap();
    assert_eq!(r["counts"]["valid"], 1, "{r}");
    assert!(t
        .call(
            "parse_csv",
            json!({"workspaceId": null, "bytes": "not bytes"})
        )
        .is_err());
}

#[test]
fn invitation_commands_check_their_arguments() {
    let t = app();
    let inv = json!({"id": "1", "email": "a@example.com"});
    assert_eq!(
        t.kind_of("refresh_invitations", json!({"workspaceId": ""})),
        "invalid_input"
    );
    assert_eq!(
        t.kind_of(
            "query_invitations",
            json!({"workspaceId": "nope", "query": {}})
        ),
        "unknown_workspace"
    );
    assert_eq!(
        t.kind_of(
            "resend_invite",
            json!({"workspaceId": "w", "invite": {"id": "", "email": "a@b.c"}})
        ),
        "invalid_input"
    );
    assert_eq!(
        t.kind_of(
            "cancel_invite",
            json!({"workspaceId": "w", "invite": {"id": "1", "email": ""}})
        ),
        "invalid_input"
    );
    assert_eq!(
        t.kind_of("invite_link", json!({"workspaceId": "nope", "invite": inv})),
        "unknown_workspace"
    );
    assert!(t
        .call(
            "query_invitations",
            json!({"workspaceId": "w", "query": {"status": "maybe"}})
        )
        .is_err());
}

#[test]
fn session_store_switch_is_reported() {
    let t = app();
    let k = t.call("use_session_store", json!({})).unwrap();
    assert_eq!(k["status"], "session");
    let info = t.call("app_info", json!({})).unwrap();
    assert_eq!(info["keychain"]["status"], "session");
}

#[test]
fn the_forms_describe_every_back_end_and_what_they_send_is_accepted() {
    let t = app();
    let forms = t.call("workspace_forms", json!({})).unwrap();
    let forms = forms.as_array().unwrap();
    let kinds: Vec<&str> = forms.iter().map(|f| f["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["supabase", "gotrue", "netlify", "royalti"]);
    assert_eq!(forms[2]["panel"], "netlifyFunction");
    let mut tested = 0;
    for form in forms {
        for mode in form["modes"].as_array().unwrap() {
            // Royalti's password mode signs in and lists workspaces (royalti_sign_in) instead.
            if mode["signIn"] == true {
                continue;
            }
            // The draft the window builds from this form in this mode, with every field shown
            // filled in: Rust takes it and goes to the (unreachable) server, so each option key,
            // value and secret name the form uses is one the core reads.
            let shown = |f: &Value| {
                f["modes"]
                    .as_array()
                    .is_none_or(|m| m.contains(&mode["mode"]))
            };
            let mut draft = json!({"name": "Acme", "kind": form["kind"], "baseUrl": "http://127.0.0.1:9", "options": {}});
            let mut secrets = serde_json::Map::new();
            for f in form["fields"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|f| shown(f))
            {
                let key = f["key"].as_str().unwrap();
                assert!(f["default"].is_null() || f["target"] != "secret", "{f}");
                match (f["target"].as_str().unwrap(), f["input"].as_str().unwrap()) {
                    ("secret", _) => {
                        let value = if key == "secret_key" {
                            "sb_secret_0123456789abcdefghijklmnopqrstuv"
                        } else {
                            "a-long-enough-test-secret-0123456789abcdef"
                        };
                        secrets.insert(key.into(), json!(value));
                    }
                    ("option", "radio") => {
                        draft["options"][key] = mode["mode"].clone();
                    }
                    ("option", "email") => draft["options"][key] = json!("owner@example.com"),
                    ("option", _) if !f["default"].is_null() => {
                        draft["options"][key] = f["default"].clone();
                    }
                    _ => {}
                }
            }
            let names: Vec<&str> = secrets.keys().map(String::as_str).collect();
            let wanted: Vec<&str> = mode["secrets"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap())
                .collect();
            assert_eq!(
                names, wanted,
                "{}: the fields shown are the secrets needed",
                form["kind"]
            );
            let e = t
                .call(
                    "test_connection",
                    json!({"draft": draft, "secrets": secrets}),
                )
                .unwrap_err();
            assert_eq!(e["kind"], "network", "{draft}: {e}");
            tested += 1;
        }
    }
    assert_eq!(
        tested, 5,
        "supabase, gotrue twice, netlify, royalti's API key"
    );
    assert!(t.secrets.is_empty());
}

#[test]
fn the_function_file_is_served_and_saved_only_under_a_plain_name() {
    let t = app();
    let code = t.call("netlify_function", json!({})).unwrap();
    assert!(code.as_str().unwrap().len() > 100);
    assert_eq!(
        t.kind_of("save_netlify_function", json!({"fileName": "../evil.mjs"})),
        "invalid_input"
    );
    assert_eq!(
        t.kind_of("save_netlify_function", json!({"fileName": ""})),
        "invalid_input"
    );
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

#[test]
fn send_and_royalti_commands_check_their_arguments() {
    let t = app();
    assert_eq!(
        t.kind_of(
            "enqueue_invites",
            json!({"workspaceId": "nope", "requests": []})
        ),
        "invalid_input"
    );
    assert_eq!(
        t.kind_of(
            "enqueue_invites",
            json!({"workspaceId": "nope", "requests": [{"email": "not an address"}]})
        ),
        "invalid_email"
    );
    assert_eq!(
        t.kind_of(
            "enqueue_invites",
            json!({"workspaceId": "nope", "requests": [{"email": "a@example.com"}]})
        ),
        "unknown_workspace"
    );
    assert_eq!(
        t.kind_of("switch_to_links", json!({"batchId": "nope"})),
        "invalid_input"
    );
    assert_eq!(
        t.kind_of(
            "update_secrets",
            json!({"workspaceId": "nope", "secrets": {"secret_key": "x"}})
        ),
        "unknown_workspace"
    );
    // Pausing and resuming a workspace with nothing queued is harmless.
    assert_eq!(
        t.call("pause_workspace", json!({"workspaceId": "w"}))
            .unwrap(),
        json!(0)
    );
    assert_eq!(
        t.call("resume_workspace", json!({"workspaceId": "w"}))
            .unwrap(),
        json!(0)
    );
    assert_eq!(
        t.kind_of(
            "royalti_sign_in",
            json!({"baseUrl": "", "email": "owner@example.com", "password": ""})
        ),
        "invalid_input"
    );
    assert_eq!(
        t.kind_of(
            "royalti_sign_in",
            json!({"baseUrl": "http://example.com", "email": "a@b.co", "password": "pw"})
        ),
        "invalid_url"
    );
    assert_eq!(
        t.kind_of(
            "royalti_add",
            json!({"signInId": "nope", "picks": ["w"], "keepSignedIn": false})
        ),
        "invalid_input"
    );
}

#[test]
fn edit_workspace_checks_its_settings() {
    let t = app();
    assert_eq!(
        t.kind_of(
            "edit_workspace",
            json!({"id": "nope", "settings": {"concurrency": 4}})
        ),
        "unknown_workspace"
    );
    // Unknown fields are refused before the command runs.
    assert!(t
        .call(
            "edit_workspace",
            json!({"id": "nope", "settings": {"baseUrl": "https://evil.example"}})
        )
        .is_err());
}

/// Lists a workspace directly, as a save in an earlier run left it.
fn saved_workspace(t: &TestApp, id: &str) {
    use invite_core::model::WorkspaceKind;
    use invite_core::workspace::Workspace;
    use tauri::Manager;
    let state = t.webview.state::<crate::state::AppState>();
    state
        .desk
        .edit_workspaces(|list| {
            list.add(Workspace {
                id: id.into(),
                name: format!("Acme {id}"),
                base_url: "https://abc.supabase.co".into(),
                config: invite_core::workspace::WorkspaceConfig::default_for(
                    WorkspaceKind::Supabase,
                ),
                demo: false,
            })
        })
        .unwrap();
}

fn listed(t: &TestApp) -> Vec<String> {
    let r = t.call("list_workspaces", json!({})).unwrap();
    r["workspaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["id"].as_str().unwrap().to_string())
        .collect()
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
fn history_commands_filter_and_check_their_arguments() {
    let t = app();
    let page = t
        .call(
            "history",
            json!({"filter": {"workspaceId": "nope", "result": "failed", "search": "a", "offset": 0, "limit": 10}}),
        )
        .unwrap();
    assert_eq!(page["total"], 0);
    assert!(t.call("history", json!({})).is_ok());
    assert!(t
        .call("history", json!({"filter": {"offset": -1}}))
        .is_err());
    assert_eq!(
        t.kind_of("export_history", json!({"fileName": "../x.csv"})),
        "invalid_input"
    );
}

#[test]
fn the_keychain_service_is_the_app_identifier() {
    // The release build keeps secrets under the identifier the installers carry; a debug build
    // under its own name, so development never touches an owner's real keys.
    let conf: Value = serde_json::from_str(include_str!("../tauri.conf.json")).unwrap();
    let id = conf["identifier"].as_str().unwrap();
    let want = if cfg!(debug_assertions) {
        format!("{id}.dev")
    } else {
        id.to_string()
    };
    assert_eq!(invite_core::secret::SERVICE, want);
}

#[test]
fn a_passed_test_lets_save_go_without_the_secret_sent_again() {
    use invite_sandbox::{Config, Flavor, Sandbox};
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sb = rt
        .block_on(Sandbox::start(Config::new(Flavor::Supabase)))
        .unwrap();
    let key = sb.credentials().secret_key.clone();
    let t = app();
    let d = draft("supabase", &sb.url());
    let tested = t
        .call(
            "test_connection",
            json!({"draft": d, "secrets": {"secret_key": key}}),
        )
        .unwrap();
    let check = tested["checkId"].as_str().unwrap().to_string();
    assert!(tested["summary"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(t.secrets.is_empty(), "a test saves nothing");
    // A renamed draft keeps the check; another address does not.
    let mut renamed = d.clone();
    renamed["name"] = json!("Someone else");
    assert_eq!(
        t.call("check_covers", json!({"checkId": check, "draft": renamed}))
            .unwrap(),
        json!(true)
    );
    let mut other = d.clone();
    other["baseUrl"] = json!("https://elsewhere.supabase.co");
    assert_eq!(
        t.call("check_covers", json!({"checkId": check, "draft": other}))
            .unwrap(),
        json!(false)
    );
    // Another connection cannot use this check: without a key it is refused, nothing saved.
    assert_eq!(
        t.kind_of(
            "add_workspace",
            json!({"draft": other, "secrets": {}, "checkId": check})
        ),
        "invalid_input"
    );
    assert!(t.secrets.is_empty(), "a refused save keeps nothing");
    // The check is spent by any Save: test again, then save with the id alone.
    let tested = t
        .call(
            "test_connection",
            json!({"draft": d, "secrets": {"secret_key": key}}),
        )
        .unwrap();
    let check = tested["checkId"].as_str().unwrap().to_string();
    let ws = t
        .call(
            "add_workspace",
            json!({"draft": d, "secrets": {}, "checkId": check}),
        )
        .unwrap();
    let id = ws["id"].as_str().unwrap();
    assert_eq!(
        t.secrets
            .get(id, invite_core::secret::names::SECRET_KEY)
            .unwrap()
            .unwrap()
            .expose(),
        &key
    );
    assert_eq!(
        t.kind_of(
            "add_workspace",
            json!({"draft": d, "secrets": {}, "checkId": check})
        ),
        "invalid_input",
        "a check is used once"
    );
    drop(rt);
}

#[test]
fn edit_connection_checks_before_it_saves() {
    let t = app();
    assert_eq!(
        t.kind_of(
            "edit_connection",
            json!({"id": "nope", "settings": {"baseUrl": "https://x.supabase.co"}})
        ),
        "unknown_workspace"
    );
    saved_workspace(&t, "w1");
    for (settings, kind) in [
        (json!({"baseUrl": "http://example.com"}), "invalid_url"),
        (
            json!({"baseUrl": "https://abc.supabase.co", "functionPath": "/x"}),
            "invalid_input",
        ),
    ] {
        let e = t
            .call("edit_connection", json!({"id": "w1", "settings": settings}))
            .unwrap_err();
        assert_eq!(e["kind"], kind, "{settings}: {e}");
    }
    // An unknown field is refused by the argument parser, naming it.
    let e = t
        .call(
            "edit_connection",
            json!({"id": "w1", "settings": {"baseUrl": "https://abc.supabase.co", "apiKey": "x"}}),
        )
        .unwrap_err();
    assert!(e.to_string().contains("apiKey"), "{e}");
    // A server that does not answer: refused, the saved address stays.
    t.secrets
        .set(
            "w1",
            "secret_key",
            &invite_core::secret::Sensitive::new(
                "sb_secret_0123456789abcdefghijklmnopqrstuv".into(),
            ),
        )
        .unwrap();
    // Another server (new origin): the kept key is not sent there; it must be typed again.
    assert_eq!(
        t.kind_of(
            "edit_connection",
            json!({"id": "w1", "settings": {"baseUrl": "http://127.0.0.1:9"}})
        ),
        "secret_needed"
    );
    assert_eq!(
        t.kind_of(
            "edit_connection",
            json!({"id": "w1", "settings": {"baseUrl": "http://127.0.0.1:9"},
                   "secrets": {"secret_key": "sb_secret_zyxwvutsrqponmlkjihgfedcba9876"}})
        ),
        "network"
    );
    // Refused: the kept key is the one it was.
    assert_eq!(
        t.secrets.get("w1", "secret_key").unwrap().unwrap().expose(),
        "sb_secret_0123456789abcdefghijklmnopqrstuv"
    );
    let r = t.call("list_workspaces", json!({})).unwrap();
    assert_eq!(r["workspaces"][0]["baseUrl"], "https://abc.supabase.co");
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

/// An outbox file whose format version is beyond this build's: one written by this build, with
/// the version in its header (`user_version`, bytes 60..64, big-endian) raised as a newer
/// build's migration would.
fn newer_outbox(path: &std::path::Path) {
    drop(invite_core::outbox::Outbox::open(path).unwrap());
    let mut bytes = std::fs::read(path).unwrap();
    bytes[60..64].copy_from_slice(&999u32.to_be_bytes());
    std::fs::write(path, bytes).unwrap();
}

/// Sends one raw HTTP/1.1 request to `addr` and returns the status (0 when nothing answers).
fn raw_status(addr: &str, method: &str, path: &str, headers: &str, body: &str) -> u16 {
    use std::io::{Read, Write};
    let Ok(mut c) = std::net::TcpStream::connect(addr) else {
        return 0;
    };
    c.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    if c.write_all(req.as_bytes()).is_err() {
        return 0;
    }
    let mut out = String::new();
    let _ = c.read_to_string(&mut out);
    out.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

#[test]
fn the_demo_answers_only_the_app_and_stops_when_removed() {
    let t = app();
    let ws = t.call("start_demo", json!({})).unwrap();
    let id = ws["id"].as_str().unwrap().to_string();
    let addr = ws["baseUrl"]
        .as_str()
        .unwrap()
        .trim_start_matches("http://")
        .to_string();
    assert_eq!(raw_status(&addr, "GET", "/health", "", ""), 200);
    // Its control routes (keys, mailbox, faults) refuse a caller without the app's token.
    for path in ["/__sandbox/credentials", "/__sandbox/mail"] {
        assert_eq!(raw_status(&addr, "GET", path, "", ""), 401, "{path}");
    }
    // The app's own control call carries the token: an invitation is accepted through it.
    let key = t
        .secrets
        .get(&id, invite_core::secret::names::SECRET_KEY)
        .unwrap()
        .unwrap();
    let auth = format!(
        "Authorization: Bearer {}\r\nContent-Type: application/json\r\n",
        key.expose()
    );
    let invited = raw_status(
        &addr,
        "POST",
        "/invite",
        &auth,
        r#"{"email":"demo-guest@example.com"}"#,
    );
    assert_eq!(invited, 200);
    let mail = t.call("demo_mailbox", json!({"id": id})).unwrap();
    let link = mail["mail"][0]["link"].as_str().unwrap().to_string();
    t.call("demo_accept", json!({"id": id, "link": link}))
        .unwrap();
    // Removing the workspace stops its server: the port no longer answers.
    t.call("remove_workspace", json!({"id": id})).unwrap();
    assert_eq!(raw_status(&addr, "GET", "/health", "", ""), 0);
    assert!(std::net::TcpStream::connect(&addr).is_err());
}

/// The start-up restart of demo servers runs while the owner may already be starting a demo.
/// It must leave a served demo alone: restarting it would swap the key under the running
/// server (the key in the keychain then opens nothing) and move the address.
#[test]
fn restarting_demos_leaves_a_served_demo_alone() {
    use tauri::Manager;
    let t = app();
    let desk = t._app.state::<crate::state::AppState>().desk.clone();
    let first = t.call("start_demo", json!({})).unwrap();
    let (second, ()) = tauri::async_runtime::block_on(async {
        tokio::join!(desk.start_demo(), desk.revive_demos())
    });
    let second = second.unwrap();
    let list = t.call("list_workspaces", json!({})).unwrap();
    let listed = list["workspaces"].as_array().unwrap();
    assert_eq!(listed.len(), 2, "{list}");
    let first_now = listed.iter().find(|w| w["id"] == first["id"]).unwrap();
    assert_eq!(
        first_now["baseUrl"], first["baseUrl"],
        "the running demo was moved"
    );
    for (id, url) in [
        (
            first["id"].as_str().unwrap(),
            first["baseUrl"].as_str().unwrap(),
        ),
        (second.id.as_str(), second.base_url.as_str()),
    ] {
        let key = t
            .secrets
            .get(id, invite_core::secret::names::SECRET_KEY)
            .unwrap()
            .unwrap();
        let auth = format!(
            "Authorization: Bearer {}\r\nContent-Type: application/json\r\n",
            key.expose()
        );
        let addr = url.trim_start_matches("http://");
        let body = r#"{"email":"demo-guest@example.com"}"#;
        assert_eq!(
            raw_status(addr, "POST", "/invite", &auth, body),
            200,
            "{id}"
        );
    }
}

#[test]
fn a_parse_stays_in_rust_and_is_paged_and_invited_by_id() {
    let t = app();
    let text: String = (0..5_000).map(|i| format!("p{i}@example.com\n")).collect();
    let r = t
        .call(
            "parse_recipients",
            json!({"workspaceId": null, "text": text, "limit": 50}),
        )
        .unwrap();
    assert_eq!(r["total"], 5_000);
    assert_eq!(r["counts"]["valid"], 5_000);
    assert_eq!(r["entries"].as_array().unwrap().len(), 50);
    let id = r["parseId"].as_u64().unwrap();
    let more = t
        .call(
            "parsed_entries",
            json!({"parseId": id, "offset": 4_998, "limit": 10}),
        )
        .unwrap();
    let more: Vec<&str> = more
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["email"].as_str().unwrap())
        .collect();
    assert_eq!(more, ["p4998@example.com", "p4999@example.com"]);
    // Inviting names the parse; an unknown parse or workspace is refused in plain words.
    assert_eq!(
        t.kind_of(
            "enqueue_parsed",
            json!({"workspaceId": "nope", "parseId": id, "options": {}})
        ),
        "unknown_workspace"
    );
    assert_eq!(
        t.kind_of(
            "enqueue_parsed",
            json!({"workspaceId": "nope", "parseId": 999_999, "options": {}})
        ),
        "invalid_input"
    );
    // A file comes back as paste-box lines as well.
    let csv = b"name,email\n\"Smith, Ann\",ann@example.com\n".to_vec();
    let r = t
        .call("parse_csv", json!({"workspaceId": null, "bytes": csv}))
        .unwrap();
    assert_eq!(r["lines"], "\"Smith, Ann\" <ann@example.com>");
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
