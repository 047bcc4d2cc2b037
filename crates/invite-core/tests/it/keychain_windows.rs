//! The secret store against Windows' Credential Manager (run as a Windows program: on Windows,
//! or under Wine through `scripts/test-windows.sh`). Elsewhere this file compiles to nothing.
//!
//! A credential holds at most 2,560 bytes (1,280 UTF-16 characters); longer access tokens are
//! split across entries and must come back whole.
#![cfg(windows)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use invite_core::secret::{
    account, names, probe_keychain, KeychainStatus, KeyringStore, SecretStore, Sensitive, SERVICE,
};

/// A workspace id of its own per test, so parallel tests and earlier runs never meet.
fn workspace() -> String {
    format!("wintest-{}", uuid::Uuid::new_v4().simple())
}

/// A JWT-shaped token of `len` ASCII characters.
fn token(len: usize) -> String {
    let body: String = (0..len).map(|i| (b'A' + (i % 26) as u8) as char).collect();
    format!("eyJ{}", &body[3..])
}

#[test]
fn the_credential_manager_is_available() {
    assert_eq!(probe_keychain(), KeychainStatus::Available);
}

#[test]
fn a_secret_is_written_read_replaced_and_deleted() {
    let store = KeyringStore::new();
    let ws = workspace();
    let v = Sensitive::from("sb_secret_windows");
    store.set(&ws, names::SECRET_KEY, &v).unwrap();
    assert_eq!(store.get(&ws, names::SECRET_KEY).unwrap(), Some(v));
    // A second store object (a fresh keyring Entry) reads the same credential.
    let again = KeyringStore::new();
    let w = Sensitive::from("sb_secret_rotated");
    again.set(&ws, names::SECRET_KEY, &w).unwrap();
    assert_eq!(store.get(&ws, names::SECRET_KEY).unwrap(), Some(w));
    store.delete_all(&ws).unwrap();
    assert_eq!(store.get(&ws, names::SECRET_KEY).unwrap(), None);
}

#[test]
fn one_credential_refuses_more_than_2560_bytes() {
    // What keyring (and Windows) do with a long value in ONE credential: refused. This is why the
    // store splits; if this ever passes unsplit the limit is gone and splitting can go too.
    let entry = keyring::Entry::new(SERVICE, &account(&workspace(), "raw")).unwrap();
    let e = entry.set_password(&token(1281)).unwrap_err();
    assert!(matches!(e, keyring::Error::TooLong(..)), "{e:?}");
    entry.set_password(&token(1280)).unwrap();
    assert_eq!(entry.get_password().unwrap(), token(1280));
    entry.delete_credential().unwrap();
}

#[test]
fn a_long_access_token_is_kept_whole_and_removed_whole() {
    let store = KeyringStore::new();
    let ws = workspace();
    for len in [1281, 2560, 4000, 12_000] {
        let v = Sensitive::new(token(len));
        store.set(&ws, names::ACCESS_TOKEN, &v).unwrap();
        assert_eq!(
            KeyringStore::new().get(&ws, names::ACCESS_TOKEN).unwrap(),
            Some(v),
            "{len} characters"
        );
    }
    let short = Sensitive::from("short");
    store.set(&ws, names::ACCESS_TOKEN, &short).unwrap();
    assert_eq!(store.get(&ws, names::ACCESS_TOKEN).unwrap(), Some(short));
    store
        .set(&ws, names::ACCESS_TOKEN, &Sensitive::new(token(5000)))
        .unwrap();
    store.delete_all(&ws).unwrap();
    assert_eq!(store.get(&ws, names::ACCESS_TOKEN).unwrap(), None);
    // (That no part is left behind is checked against a store with the same limit in the
    // core's unit tests, which can list every entry.)
}

#[test]
fn hints_name_windows_not_gnome() {
    use invite_core::secret::{HINT_LOCKED, HINT_NO_SERVICE};
    for hint in [HINT_LOCKED, HINT_NO_SERVICE] {
        assert!(hint.contains("Windows"), "{hint}");
        assert!(!hint.contains("GNOME"), "{hint}");
    }
}
