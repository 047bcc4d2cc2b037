//! The secret store against the REAL keychain (Linux Secret Service), checked from a second
//! process with `secret-tool`, and the "no keychain" path. These tests change system state, so
//! they only run when `scripts/keychain-test.sh` sets them up:
//!
//! - `INVITE_DESK_REAL_KEYCHAIN=1`: an unlocked gnome-keyring on a private session bus;
//! - `INVITE_DESK_EXPECT_NO_KEYCHAIN=1`: no session bus at all (or a dead one);
//! - `INVITE_DESK_EXPECT_LOCKED_KEYCHAIN=1`: gnome-keyring running but never unlocked.
//!
//! Linux only: the Windows Credential Manager's tests are `tests/it/keychain_windows.rs`.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::process::{Command, Stdio};

use invite_core::secret::{
    account, names, probe_keychain, KeychainStatus, KeyringStore, SecretStore, Sensitive,
    SessionStore, HINT_LOCKED, HINT_NO_SERVICE, SERVICE,
};

fn enabled(var: &str) -> bool {
    let on = std::env::var(var).as_deref() == Ok("1");
    // Under the script a test that skips would pass without checking anything.
    assert!(
        on || std::env::var("INVITE_DESK_KEYCHAIN_SCRIPT").is_err(),
        "scripts/keychain-test.sh ran this test without {var}=1"
    );
    if !on {
        eprintln!("skipped: {var} is not 1 (run scripts/keychain-test.sh)");
    }
    on
}

/// What a second process (`secret-tool`) finds in the keychain. keyring 3 stores the account
/// in the `username` attribute.
fn lookup(account: &str) -> Option<String> {
    let out = Command::new("secret-tool")
        .args(["lookup", "service", SERVICE, "username", account])
        .output()
        .expect("secret-tool (libsecret-tools) is installed");
    out.status
        .success()
        .then(|| String::from_utf8(out.stdout).unwrap())
}

fn store_with_secret_tool(account: &str, value: &str) {
    let mut child = Command::new("secret-tool")
        .args([
            "store",
            "--label=Invite Desk test",
            "service",
            SERVICE,
            "username",
            account,
            "target",
            "default",
        ])
        .stdin(Stdio::piped())
        .spawn()
        .expect("secret-tool runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(value.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
}

#[test]
#[ignore = "needs a real Secret Service: scripts/keychain-test.sh"]
fn real_keychain_holds_secrets_that_a_second_process_sees_and_removal_deletes_them() {
    if !enabled("INVITE_DESK_REAL_KEYCHAIN") {
        return;
    }
    assert_eq!(probe_keychain(), KeychainStatus::Available);
    let store = KeyringStore::new();
    assert_eq!(
        store.service(),
        "io.invitedesk.desktop.dev",
        "tests and debug builds never touch real keys"
    );

    let workspace = format!("ws-{}", uuid::Uuid::new_v4());
    let secret = format!("sb_secret_{}", uuid::Uuid::new_v4().simple());
    let acct = account(&workspace, names::SECRET_KEY);
    assert_eq!(lookup(&acct), None);
    store
        .set(
            &workspace,
            names::SECRET_KEY,
            &Sensitive::new(secret.clone()),
        )
        .unwrap();
    assert_eq!(
        lookup(&acct).as_deref(),
        Some(secret.as_str()),
        "secret-tool finds the entry we wrote"
    );
    assert_eq!(
        KeyringStore::new()
            .get(&workspace, names::SECRET_KEY)
            .unwrap()
            .unwrap()
            .expose(),
        &secret
    );

    // Replacing a value keeps one entry.
    let replaced = format!("{secret}-2");
    store
        .set(
            &workspace,
            names::SECRET_KEY,
            &Sensitive::new(replaced.clone()),
        )
        .unwrap();
    assert_eq!(lookup(&acct).as_deref(), Some(replaced.as_str()));

    // And the other way: what another process stored, we read.
    let password = format!("pw-{}", uuid::Uuid::new_v4().simple());
    store_with_secret_tool(&account(&workspace, names::PASSWORD), &password);
    assert_eq!(
        store
            .get(&workspace, names::PASSWORD)
            .unwrap()
            .unwrap()
            .expose(),
        &password
    );

    // Removing the workspace removes every secret it has.
    store.delete_all(&workspace).unwrap();
    assert_eq!(lookup(&acct), None, "secret-tool no longer finds the entry");
    assert_eq!(lookup(&account(&workspace, names::PASSWORD)), None);
    assert_eq!(store.get(&workspace, names::SECRET_KEY).unwrap(), None);
    store.delete(&workspace, names::SECRET_KEY).unwrap();
    // The probe leaves nothing behind either.
    let probe_items = Command::new("secret-tool")
        .args(["search", "--all", "service", SERVICE])
        .output()
        .unwrap();
    let listed =
        String::from_utf8_lossy(&probe_items.stdout) + String::from_utf8_lossy(&probe_items.stderr);
    assert!(!listed.contains("invite-desk-probe"), "{listed}");
}

#[test]
#[ignore = "needs a machine without a session bus: scripts/keychain-test.sh"]
fn without_a_keychain_the_owner_gets_plain_words_and_the_session_store_works() {
    if !enabled("INVITE_DESK_EXPECT_NO_KEYCHAIN") {
        return;
    }
    match probe_keychain() {
        KeychainStatus::Unavailable { hint, detail } => {
            assert_eq!(hint, HINT_NO_SERVICE);
            assert!(!detail.is_empty());
        }
        KeychainStatus::Available => panic!("a keychain answered; this run expects none"),
    }
    let secret = "sb_secret_never_written_anywhere";
    let err = KeyringStore::new()
        .set("ws", names::SECRET_KEY, &Sensitive::from(secret))
        .unwrap_err();
    assert_eq!(err.kind(), "keychain_unavailable");
    assert!(
        err.to_string().contains("No keychain service is running"),
        "{err}"
    );
    assert!(!format!("{err} {err:?}").contains(secret));
    assert_eq!(
        KeyringStore::new()
            .get("ws", names::SECRET_KEY)
            .unwrap_err()
            .kind(),
        "keychain_unavailable"
    );

    // "Use for this session only".
    let session = SessionStore::new();
    session
        .set("ws", names::SECRET_KEY, &Sensitive::from(secret))
        .unwrap();
    assert_eq!(
        session
            .clone()
            .get("ws", names::SECRET_KEY)
            .unwrap()
            .unwrap()
            .expose(),
        secret
    );
    session.delete_all("ws").unwrap();
    assert!(session.is_empty());
}

#[test]
#[ignore = "needs a locked gnome-keyring: scripts/keychain-test.sh"]
fn a_locked_keychain_says_unlock_it() {
    if !enabled("INVITE_DESK_EXPECT_LOCKED_KEYCHAIN") {
        return;
    }
    match probe_keychain() {
        KeychainStatus::Unavailable { hint, .. } => assert_eq!(hint, HINT_LOCKED),
        KeychainStatus::Available => panic!("the keychain was usable; this run expects it locked"),
    }
}
