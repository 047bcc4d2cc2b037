//! The demo workspace's server: reachable by the app only, stopped with it, restarted once.

use super::*;

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
