//! Invitation, paste, send and history commands: arguments checked, a parse kept in Rust.

use super::*;

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
