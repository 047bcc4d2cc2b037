//! Secrets: the OS keychain and nothing else.
//!
//! Every secret in the code is a [`Sensitive`], which prints `<redacted>` and cannot be
//! serialized, so it cannot end up in a log, an error text, a settings file or an IPC answer.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use serde::Serialize;

use crate::error::{Error, Result};

mod split;
pub use split::{CREDENTIAL_BLOB_LIMIT, ENTRY_LIMIT};

/// Names of the secrets a workspace may hold (the keychain account is `<workspace id>/<name>`).
pub mod names {
    /// Supabase secret / service_role key.
    pub const SECRET_KEY: &str = "secret_key";
    /// Self-hosted GoTrue JWT secret (admin tokens are minted from it).
    pub const JWT_SECRET: &str = "jwt_secret";
    /// GoTrue operator token.
    pub const OPERATOR_TOKEN: &str = "operator_token";
    /// Account password (Royalti / Netlify "keep me signed in" only).
    pub const PASSWORD: &str = "password";
    /// Refresh token (Royalti, Netlify Identity).
    pub const REFRESH_TOKEN: &str = "refresh_token";
    /// Short-lived access token (Royalti, Netlify Identity).
    pub const ACCESS_TOKEN: &str = "access_token";
    /// Royalti workspace API key (`RWAK…`).
    pub const API_KEY: &str = "api_key";
    /// Every name, so removing a workspace removes all of its secrets.
    pub const ALL: [&str; 7] = [
        SECRET_KEY,
        JWT_SECRET,
        OPERATOR_TOKEN,
        PASSWORD,
        REFRESH_TOKEN,
        ACCESS_TOKEN,
        API_KEY,
    ];
}

/// A value that must never be shown, logged or serialized.
///
/// It deliberately implements neither `Serialize` nor `Deserialize`: a struct holding one cannot
/// derive them, so a secret can't reach a settings file, a log line or an IPC answer by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Sensitive<T>(T);

impl<T> Sensitive<T> {
    /// Wraps a secret.
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// The secret itself, for the one place that sends it (a header, the keychain).
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl From<String> for Sensitive<String> {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl<T> fmt::Debug for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl<T> fmt::Display for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Where secrets are kept. A missing entry is `Ok(None)`; deleting a missing entry succeeds.
pub trait SecretStore: Send + Sync + fmt::Debug {
    /// Reads a secret.
    fn get(&self, workspace: &str, name: &str) -> Result<Option<Sensitive<String>>>;
    /// Writes (or replaces) a secret.
    fn set(&self, workspace: &str, name: &str, value: &Sensitive<String>) -> Result<()>;
    /// Deletes a secret.
    fn delete(&self, workspace: &str, name: &str) -> Result<()>;

    /// Deletes every secret of a workspace.
    fn delete_all(&self, workspace: &str) -> Result<()> {
        for name in names::ALL {
            self.delete(workspace, name)?;
        }
        Ok(())
    }

    /// Reads a secret that must be there.
    fn require(&self, workspace: &str, name: &str) -> Result<Sensitive<String>> {
        self.get(workspace, name)?
            .ok_or_else(|| Error::SecretMissing {
                name: name.to_string(),
            })
    }
}

impl From<&str> for Sensitive<String> {
    fn from(value: &str) -> Self {
        Self(value.to_string())
    }
}

/// The keychain service name: the app identifier, with a separate one for debug builds so that
/// development and tests never read or overwrite an owner's real keys.
#[cfg(debug_assertions)]
pub const SERVICE: &str = "io.invitedesk.desktop.dev";
/// The keychain service name: the app identifier, with a separate one for debug builds so that
/// development and tests never read or overwrite an owner's real keys.
#[cfg(not(debug_assertions))]
pub const SERVICE: &str = "io.invitedesk.desktop";

/// The keychain account of one secret: `<workspace id>/<name>`.
pub fn account(workspace: &str, name: &str) -> String {
    format!("{workspace}/{name}")
}

/// Shown when no Secret Service / keychain answers at all.
#[cfg(not(any(windows, target_os = "macos")))]
pub const HINT_NO_SERVICE: &str =
    "No keychain service is running. Install and start GNOME Keyring (or KWallet), then restart Invite Desk";
/// Shown when the keychain answers but refuses access (usually locked).
#[cfg(not(any(windows, target_os = "macos")))]
pub const HINT_LOCKED: &str =
    "Your keychain is locked. Unlock it (log in again or open Passwords and Keys) and retry";
/// Shown when the keychain gives back something else than what was saved.
#[cfg(not(any(windows, target_os = "macos")))]
pub const HINT_RESTART: &str =
    "Restart the keychain service (GNOME Keyring or KWallet), then restart Invite Desk";

/// Shown when Windows' Credential Manager does not answer at all.
#[cfg(windows)]
pub const HINT_NO_SERVICE: &str =
    "Windows Credential Manager is not answering. Restart Windows, then open Invite Desk again";
/// Shown when Windows' Credential Manager refuses access.
#[cfg(windows)]
pub const HINT_LOCKED: &str =
    "Windows Credential Manager refused access. Sign in to Windows with your own account (not a guest or temporary profile) and retry";
/// Shown when the Credential Manager gives back something else than what was saved.
#[cfg(windows)]
pub const HINT_RESTART: &str = "Restart Windows, then open Invite Desk again";

/// Shown when the macOS Keychain does not answer at all.
#[cfg(target_os = "macos")]
pub const HINT_NO_SERVICE: &str =
    "The macOS Keychain is not answering. Open Keychain Access, check that the login keychain exists, then restart Invite Desk";
/// Shown when the macOS Keychain refuses access (locked, or the owner clicked Deny).
#[cfg(target_os = "macos")]
pub const HINT_LOCKED: &str =
    "The macOS Keychain refused access. Unlock the login keychain in Keychain Access, then retry and click Allow (or Always Allow) when macOS asks";
/// Shown when the Keychain gives back something else than what was saved.
#[cfg(target_os = "macos")]
pub const HINT_RESTART: &str =
    "Open Keychain Access, unlock the login keychain, then restart Invite Desk";

/// Whether the OS keychain can be used, as found by [`probe_keychain`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "status")]
pub enum KeychainStatus {
    /// A probe entry could be written, read back and deleted.
    Available,
    /// The keychain can't be used; `hint` says in plain words how to fix it.
    Unavailable {
        /// What the owner can do (one of [`HINT_NO_SERVICE`] / [`HINT_LOCKED`] or similar).
        hint: String,
        /// What the keychain library said (never contains a secret).
        detail: String,
    },
}

impl KeychainStatus {
    /// True when secrets can be kept in the keychain.
    pub fn is_available(&self) -> bool {
        matches!(self, KeychainStatus::Available)
    }
}

/// Checks the OS keychain once (at start-up): writes, reads back and deletes a probe entry.
///
/// An unusable keychain is not an error of the app: the caller shows the hint and may offer
/// [`SessionStore`] ("use for this session only").
pub fn probe_keychain() -> KeychainStatus {
    KeyringStore::new().probe()
}

/// The OS keychain (macOS Keychain, Windows Credential Manager, Linux Secret Service).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyringStore {
    service: String,
}

impl Default for KeyringStore {
    fn default() -> Self {
        Self::new()
    }
}

impl KeyringStore {
    /// The store under the app's [`SERVICE`] name.
    pub fn new() -> Self {
        Self::with_service(SERVICE)
    }

    /// A store under another service name (tests keep their entries apart with this).
    pub fn with_service(service: impl Into<String>) -> Self {
        Self {
            service: service.into(),
        }
    }

    /// The service name entries are written under.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// Writes, reads back and deletes a probe entry under this store's service name.
    pub fn probe(&self) -> KeychainStatus {
        let workspace = "invite-desk-probe";
        let name = format!("probe-{}", uuid::Uuid::new_v4().simple());
        let value = Sensitive::new(uuid::Uuid::new_v4().to_string());
        let unavailable = |e: Error| match e {
            Error::KeychainUnavailable { hint, detail } => KeychainStatus::Unavailable {
                hint,
                detail: detail.unwrap_or_default(),
            },
            other => KeychainStatus::Unavailable {
                hint: HINT_NO_SERVICE.to_string(),
                detail: other.to_string(),
            },
        };
        if let Err(e) = self.set(workspace, &name, &value) {
            return unavailable(e);
        }
        let read = self.get(workspace, &name);
        // Delete before judging the read, so a failed probe leaves nothing behind.
        let deleted = self.delete(workspace, &name);
        match read {
            Ok(Some(back)) if back == value => {}
            Ok(_) => {
                return KeychainStatus::Unavailable {
                    hint: format!(
                    "The keychain did not give back what Invite Desk saved in it. {HINT_RESTART}"
                ),
                    detail: "probe entry missing or different after writing it".to_string(),
                }
            }
            Err(e) => return unavailable(e),
        }
        match deleted {
            Ok(()) => KeychainStatus::Available,
            Err(e) => unavailable(e),
        }
    }

    fn entry(&self, workspace: &str, name: &str) -> Result<keyring::Entry> {
        if let Some(detail) = session_bus_missing() {
            return Err(Error::KeychainUnavailable {
                hint: HINT_NO_SERVICE.to_string(),
                detail: Some(detail),
            });
        }
        keyring::Entry::new(&self.service, &account(workspace, name)).map_err(map_keyring_error)
    }
}

/// The keychain's entries one to one, without splitting long values (see [`split`]).
#[derive(Debug)]
struct Entries<'a>(&'a KeyringStore);

impl SecretStore for KeyringStore {
    fn get(&self, workspace: &str, name: &str) -> Result<Option<Sensitive<String>>> {
        split::get(&Entries(self), workspace, name)
    }

    fn set(&self, workspace: &str, name: &str, value: &Sensitive<String>) -> Result<()> {
        check_value(name, value)?;
        split::set(&Entries(self), ENTRY_LIMIT, workspace, name, value)
    }

    fn delete(&self, workspace: &str, name: &str) -> Result<()> {
        split::delete(&Entries(self), ENTRY_LIMIT, workspace, name)
    }
}

impl SecretStore for Entries<'_> {
    fn get(&self, workspace: &str, name: &str) -> Result<Option<Sensitive<String>>> {
        match self.0.entry(workspace, name)?.get_password() {
            Ok(value) => Ok(Some(Sensitive::new(value))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(map_keyring_error(e)),
        }
    }

    fn set(&self, workspace: &str, name: &str, value: &Sensitive<String>) -> Result<()> {
        check_value(name, value)?;
        self.0
            .entry(workspace, name)?
            .set_password(value.expose())
            .map_err(map_keyring_error)
    }

    fn delete(&self, workspace: &str, name: &str) -> Result<()> {
        match self.0.entry(workspace, name)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(map_keyring_error(e)),
        }
    }
}

/// On Linux, libdbus "autolaunches" a bus when none is configured, which leaves stray
/// dbus-daemon and gnome-keyring processes behind and still fails; say "no keychain" up front.
fn session_bus_missing() -> Option<String> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some_and(|v| !v.is_empty()) {
        return None;
    }
    let default_bus =
        std::env::var_os("XDG_RUNTIME_DIR").map(|dir| std::path::PathBuf::from(dir).join("bus"));
    if default_bus.is_some_and(|p| p.exists()) {
        return None;
    }
    Some("no D-Bus session bus: DBUS_SESSION_BUS_ADDRESS is not set and $XDG_RUNTIME_DIR/bus does not exist".to_string())
}

/// Maps keyring's errors to ours without ever copying a secret (`BadEncoding` carries the bytes).
fn map_keyring_error(e: keyring::Error) -> Error {
    match e {
        keyring::Error::NoStorageAccess(inner) => Error::KeychainUnavailable {
            hint: HINT_LOCKED.to_string(),
            detail: Some(inner.to_string()),
        },
        keyring::Error::PlatformFailure(inner) => Error::KeychainUnavailable {
            hint: HINT_NO_SERVICE.to_string(),
            detail: Some(inner.to_string()),
        },
        keyring::Error::NoEntry => Error::storage("the keychain entry is missing"),
        keyring::Error::BadEncoding(_) => {
            Error::storage("the keychain holds a value that is not text")
        }
        keyring::Error::TooLong(attr, limit) => Error::storage(format!(
            "keychain attribute {attr} is longer than the limit of {limit}"
        )),
        keyring::Error::Invalid(attr, reason) => {
            Error::storage(format!("keychain attribute {attr} is invalid: {reason}"))
        }
        keyring::Error::Ambiguous(items) => Error::storage(format!(
            "the keychain holds {} entries for the same secret",
            items.len()
        )),
        other => Error::storage(format!("keychain error: {other}")),
    }
}

/// An empty secret is always a mistake in a form; refuse it rather than store nothing.
fn check_value(name: &str, value: &Sensitive<String>) -> Result<()> {
    if value.expose().trim().is_empty() {
        return Err(Error::invalid_input(name, "is empty"));
    }
    Ok(())
}

type Map = HashMap<(String, String), Sensitive<String>>;

/// Secrets in memory, shared by every clone of the store (tests, and the add-workspace flow,
/// which holds a secret here until the connection test passes and the workspace is saved).
#[derive(Clone, Default)]
pub struct MemoryStore {
    map: Arc<Mutex<Map>>,
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MemoryStore({} entries)", self.len())
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Map> {
        // A panic elsewhere while holding the lock leaves the map itself intact.
        self.map
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// How many secrets are held.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// True when no secret is held.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// The names of the secrets held for `workspace`, sorted.
    pub fn names(&self, workspace: &str) -> Vec<String> {
        let mut names: Vec<String> = self
            .lock()
            .keys()
            .filter(|(w, _)| w == workspace)
            .map(|(_, n)| n.clone())
            .collect();
        names.sort();
        names
    }

    /// Copies every secret of `workspace` into `target` under `as_workspace` (saving a staged
    /// workspace into the keychain); returns how many were copied.
    pub fn copy_to(
        &self,
        workspace: &str,
        target: &dyn SecretStore,
        as_workspace: &str,
    ) -> Result<usize> {
        let items: Vec<(String, Sensitive<String>)> = self
            .lock()
            .iter()
            .filter(|((w, _), _)| w == workspace)
            .map(|((_, n), v)| (n.clone(), v.clone()))
            .collect();
        for (name, value) in &items {
            target.set(as_workspace, name, value)?;
        }
        Ok(items.len())
    }

    /// Forgets every secret.
    pub fn clear(&self) {
        self.lock().clear();
    }
}

impl SecretStore for MemoryStore {
    fn get(&self, workspace: &str, name: &str) -> Result<Option<Sensitive<String>>> {
        Ok(self
            .lock()
            .get(&(workspace.to_string(), name.to_string()))
            .cloned())
    }

    fn set(&self, workspace: &str, name: &str, value: &Sensitive<String>) -> Result<()> {
        check_value(name, value)?;
        self.lock()
            .insert((workspace.to_string(), name.to_string()), value.clone());
        Ok(())
    }

    fn delete(&self, workspace: &str, name: &str) -> Result<()> {
        self.lock()
            .remove(&(workspace.to_string(), name.to_string()));
        Ok(())
    }
}

/// "Use for this session only": secrets live in memory until the app quits. The app chooses it
/// when the keychain is unavailable and the owner agreed; it is its own type so that choice is
/// visible in the code and never happens silently.
#[derive(Clone, Default)]
pub struct SessionStore {
    inner: MemoryStore,
}

impl fmt::Debug for SessionStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionStore({} entries)", self.inner.len())
    }
}

impl SessionStore {
    /// An empty session store.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many secrets are held.
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    /// True when no secret is held.
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }
}

impl SecretStore for SessionStore {
    fn get(&self, workspace: &str, name: &str) -> Result<Option<Sensitive<String>>> {
        self.inner.get(workspace, name)
    }

    fn set(&self, workspace: &str, name: &str, value: &Sensitive<String>) -> Result<()> {
        self.inner.set(workspace, name, value)
    }

    fn delete(&self, workspace: &str, name: &str) -> Result<()> {
        self.inner.delete(workspace, name)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn s(v: &str) -> Sensitive<String> {
        Sensitive::from(v)
    }

    fn exercise(store: &dyn SecretStore) {
        assert_eq!(store.get("w1", names::SECRET_KEY).unwrap(), None);
        store
            .set("w1", names::SECRET_KEY, &s("sb_secret_one"))
            .unwrap();
        store.set("w1", names::PASSWORD, &s("pw")).unwrap();
        store
            .set("w2", names::SECRET_KEY, &s("sb_secret_two"))
            .unwrap();
        assert_eq!(
            store
                .get("w1", names::SECRET_KEY)
                .unwrap()
                .unwrap()
                .expose(),
            "sb_secret_one"
        );
        assert_eq!(
            store
                .get("w2", names::SECRET_KEY)
                .unwrap()
                .unwrap()
                .expose(),
            "sb_secret_two"
        );
        store
            .set("w1", names::SECRET_KEY, &s("sb_secret_three"))
            .unwrap();
        assert_eq!(
            store.require("w1", names::SECRET_KEY).unwrap().expose(),
            "sb_secret_three"
        );
        store.delete("w1", names::SECRET_KEY).unwrap();
        assert_eq!(store.get("w1", names::SECRET_KEY).unwrap(), None);
        // Deleting a missing entry succeeds.
        store.delete("w1", names::SECRET_KEY).unwrap();
        let missing = store.require("w1", names::SECRET_KEY).unwrap_err();
        assert_eq!(missing.kind(), "secret_missing");
        store.delete_all("w1").unwrap();
        assert_eq!(store.get("w1", names::PASSWORD).unwrap(), None);
        assert!(
            store.get("w2", names::SECRET_KEY).unwrap().is_some(),
            "other workspaces are kept"
        );
        let empty = store.set("w1", names::API_KEY, &s("  ")).unwrap_err();
        assert_eq!(empty.kind(), "invalid_input");
    }

    #[test]
    fn memory_store_behaves_and_clones_share_one_map() {
        let store = MemoryStore::new();
        exercise(&store);
        let other = store.clone();
        other.set("w3", names::API_KEY, &s("RWAK123")).unwrap();
        assert_eq!(
            store.get("w3", names::API_KEY).unwrap().unwrap().expose(),
            "RWAK123"
        );
        assert_eq!(store.names("w3"), vec![names::API_KEY.to_string()]);
        let fresh = MemoryStore::new();
        assert_eq!(
            fresh.get("w3", names::API_KEY).unwrap(),
            None,
            "separate stores are separate"
        );
        assert!(!format!("{store:?}").contains("RWAK123"));
    }

    #[test]
    fn session_store_behaves_and_is_separate_from_memory_store() {
        let store = SessionStore::new();
        exercise(&store);
        let handle = store.clone();
        handle.set("w9", names::PASSWORD, &s("hunter2")).unwrap();
        assert_eq!(
            store.get("w9", names::PASSWORD).unwrap().unwrap().expose(),
            "hunter2"
        );
        assert!(!format!("{store:?}").contains("hunter2"));
        assert_eq!(store.len(), 2);
    }

    #[test]
    fn staged_secrets_copy_into_another_store() {
        let staging = MemoryStore::new();
        staging.set("draft", names::SECRET_KEY, &s("k1")).unwrap();
        staging.set("draft", names::JWT_SECRET, &s("k2")).unwrap();
        staging.set("other", names::SECRET_KEY, &s("k3")).unwrap();
        let target = SessionStore::new();
        assert_eq!(staging.copy_to("draft", &target, "ws-1").unwrap(), 2);
        assert_eq!(
            target
                .get("ws-1", names::JWT_SECRET)
                .unwrap()
                .unwrap()
                .expose(),
            "k2"
        );
        assert_eq!(
            target
                .get("ws-1", names::SECRET_KEY)
                .unwrap()
                .unwrap()
                .expose(),
            "k1"
        );
        assert_eq!(target.len(), 2);
    }

    /// Fails to compile if `Sensitive<String>` ever gains `Serialize` or `Deserialize`: with both
    /// impls below applying, the type parameter of `check` could not be inferred.
    #[allow(dead_code)]
    mod never_serialized {
        use super::Sensitive;

        trait AmbiguousIfImpl<A> {
            fn check() {}
        }
        impl<T: ?Sized> AmbiguousIfImpl<()> for T {}
        struct Ser;
        impl<T: ?Sized + serde::Serialize> AmbiguousIfImpl<Ser> for T {}
        struct De;
        impl<T: serde::de::DeserializeOwned> AmbiguousIfImpl<De> for T {}

        const _: fn() = || {
            <Sensitive<String> as AmbiguousIfImpl<_>>::check();
        };
    }

    #[test]
    fn sensitive_never_prints_its_value() {
        // `Sensitive` has no `Serialize` impl on purpose: a struct holding one cannot derive
        // Serialize, so a secret cannot reach a settings file or an IPC answer by accident.
        let secret = Sensitive::new("sb_secret_abcdef".to_string());
        assert_eq!(format!("{secret:?}"), "<redacted>");
        assert_eq!(format!("{secret}"), "<redacted>");
        assert_eq!(format!("{:#?}", Some(&secret)), "Some(\n    <redacted>,\n)");
        assert_eq!(secret.expose(), "sb_secret_abcdef");
        #[derive(Debug)]
        #[allow(dead_code)]
        struct Holder {
            key: Sensitive<String>,
        }
        let shown = format!("{:?}", Holder { key: secret });
        assert!(!shown.contains("abcdef"), "{shown}");
    }

    #[test]
    fn keyring_errors_keep_secrets_out_and_give_plain_hints() {
        let e = map_keyring_error(keyring::Error::BadEncoding(b"sb_secret_leak\xff".to_vec()));
        assert!(!format!("{e} {:?} {e:?}", e.detail()).contains("leak"));
        let e = map_keyring_error(keyring::Error::NoStorageAccess("locked collection".into()));
        assert_eq!(e.kind(), "keychain_unavailable");
        assert!(e.to_string().contains(HINT_LOCKED), "{e}");
        assert_eq!(e.detail(), Some("locked collection"));
        let e = map_keyring_error(keyring::Error::PlatformFailure("no bus".into()));
        assert!(e.to_string().contains(HINT_NO_SERVICE), "{e}");
    }

    #[test]
    fn accounts_and_service_names() {
        assert_eq!(account("0b7c", names::SECRET_KEY), "0b7c/secret_key");
        if cfg!(debug_assertions) {
            assert_eq!(SERVICE, "io.invitedesk.desktop.dev");
        } else {
            assert_eq!(SERVICE, "io.invitedesk.desktop");
        }
        assert_eq!(KeyringStore::new().service(), SERVICE);
        let status = KeychainStatus::Unavailable {
            hint: HINT_LOCKED.into(),
            detail: "x".into(),
        };
        assert_eq!(
            serde_json::to_value(&status).unwrap(),
            serde_json::json!({"status": "unavailable", "hint": HINT_LOCKED, "detail": "x"})
        );
        assert!(!status.is_available());
    }
}
