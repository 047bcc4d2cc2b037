//! Workspace commands: listing, adding (the drafts the forms send), testing, editing the
//! settings and the connection.

use super::*;

#[test]
fn app_info_and_an_empty_list() {
    let t = app();
    let info = t.call("app_info", json!({})).unwrap();
    // The version the window shows is the one the installers carry (tauri.conf.json), not only
    // the crate's: the two are kept in step by hand.
    let conf: Value = serde_json::from_str(include_str!("../../tauri.conf.json")).unwrap();
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
