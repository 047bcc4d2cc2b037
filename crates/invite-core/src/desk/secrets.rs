//! Where the desk keeps secrets, and how secrets typed by the owner come in.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::secret::{names, KeychainStatus, SecretStore, Sensitive};

/// How long a secret read from the store is reused. A keychain read is a D-Bus round trip to
/// the Secret Service on Linux (and a call into the Credential Manager or Keychain Services
/// elsewhere), and each operation reads its key afresh: a 2,000-address batch made 2,000 reads
/// and ran 10× slower in the window than headless. A key changed by another process (the
/// command-line tool) is seen this long after at most; one changed here, at once.
pub const SECRET_READ_TTL: Duration = Duration::from_secs(10);

type Cached = HashMap<(String, String), (Instant, Option<Sensitive<String>>)>;

/// The secret store in use now: the OS keychain, or, after the owner chose "use for this session
/// only", memory. Providers hold this one handle, so the switch reaches them at once. Reads are
/// reused for [`SECRET_READ_TTL`]; writes and deletes go through at once and update what is
/// reused.
#[derive(Debug)]
pub struct SwitchableSecrets {
    inner: RwLock<Arc<dyn SecretStore>>,
    ttl: Duration,
    cache: Mutex<Cached>,
}

fn poisoned<E: std::fmt::Display>(e: E) -> Error {
    Error::storage(format!("lock poisoned: {e}"))
}

impl SwitchableSecrets {
    /// Starts with `store`.
    pub fn new(store: Arc<dyn SecretStore>) -> Self {
        Self::with_read_ttl(store, SECRET_READ_TTL)
    }

    /// Starts with `store`, reusing a read for `ttl` (zero: never).
    pub fn with_read_ttl(store: Arc<dyn SecretStore>, ttl: Duration) -> Self {
        Self {
            inner: RwLock::new(store),
            ttl,
            cache: Mutex::default(),
        }
    }

    fn current(&self) -> Result<Arc<dyn SecretStore>> {
        self.inner.read().map(|g| g.clone()).map_err(poisoned)
    }

    fn remember(
        &self,
        workspace: &str,
        name: &str,
        value: Option<Sensitive<String>>,
    ) -> Result<()> {
        let mut cache = self.cache.lock().map_err(poisoned)?;
        // Forgets what has expired, so secrets don't linger in memory past their use.
        let ttl = self.ttl;
        cache.retain(|_, (at, _)| at.elapsed() < ttl);
        if !ttl.is_zero() {
            cache.insert(
                (workspace.to_string(), name.to_string()),
                (Instant::now(), value),
            );
        }
        Ok(())
    }

    fn forget(&self, workspace: &str, name: &str) -> Result<()> {
        self.cache
            .lock()
            .map_err(poisoned)?
            .remove(&(workspace.to_string(), name.to_string()));
        Ok(())
    }

    /// Switches to `store` (no secret is copied: the old store could not hold any).
    pub fn replace(&self, store: Arc<dyn SecretStore>) -> Result<()> {
        *self.inner.write().map_err(poisoned)? = store;
        self.cache.lock().map_err(poisoned)?.clear();
        Ok(())
    }
}

impl SecretStore for SwitchableSecrets {
    fn get(&self, workspace: &str, name: &str) -> Result<Option<Sensitive<String>>> {
        let key = (workspace.to_string(), name.to_string());
        if let Some((at, value)) = self.cache.lock().map_err(poisoned)?.get(&key) {
            if at.elapsed() < self.ttl {
                return Ok(value.clone());
            }
        }
        // Errors are not kept: the next read asks the store again.
        let value = self.current()?.get(workspace, name)?;
        self.remember(workspace, name, value.clone())?;
        Ok(value)
    }
    fn set(&self, workspace: &str, name: &str, value: &Sensitive<String>) -> Result<()> {
        let stored = self.current()?.set(workspace, name, value);
        // On a failed write the store may hold either value: ask it next time.
        match &stored {
            Ok(()) => self.remember(workspace, name, Some(value.clone()))?,
            Err(_) => self.forget(workspace, name)?,
        }
        stored
    }
    fn delete(&self, workspace: &str, name: &str) -> Result<()> {
        let deleted = self.current()?.delete(workspace, name);
        self.forget(workspace, name)?;
        deleted
    }
}

/// Stands in for the keychain when there is none: every read, write and delete explains what
/// is missing. Never a silent fallback to a file, and never "deleted" when nothing was.
#[derive(Debug)]
pub struct NoKeychain {
    hint: String,
    detail: String,
}

impl NoKeychain {
    /// From the probe's answer.
    pub fn new(hint: String, detail: String) -> Self {
        Self { hint, detail }
    }

    fn refuse<T>(&self) -> Result<T> {
        Err(Error::KeychainUnavailable {
            hint: self.hint.clone(),
            detail: Some(self.detail.clone()),
        })
    }
}

impl SecretStore for NoKeychain {
    fn get(&self, _: &str, _: &str) -> Result<Option<Sensitive<String>>> {
        self.refuse()
    }
    fn set(&self, _: &str, _: &str, _: &Sensitive<String>) -> Result<()> {
        self.refuse()
    }
    fn delete(&self, _: &str, _: &str) -> Result<()> {
        self.refuse()
    }
}

/// Where secrets are kept now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum KeychainState {
    /// The OS keychain works.
    Available,
    /// There is no usable keychain.
    Unavailable,
    /// The owner chose to keep secrets in memory for this session.
    Session,
    /// The keychain is being probed (the window starts before the probe answers: see
    /// [`super::Desk::keychain_probe_started`]); the keychain is assumed meanwhile.
    Checking,
}

/// Where secrets are kept, for the window's banner and the diagnostics.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeychainView {
    /// Available, unavailable or session-only.
    pub status: KeychainState,
    /// The plain fix when unavailable.
    pub hint: Option<String>,
    /// What the keychain said.
    pub detail: Option<String>,
}

impl From<KeychainStatus> for KeychainView {
    fn from(k: KeychainStatus) -> Self {
        match k {
            KeychainStatus::Available => KeychainView {
                status: KeychainState::Available,
                hint: None,
                detail: None,
            },
            KeychainStatus::Unavailable { hint, detail } => KeychainView {
                status: KeychainState::Unavailable,
                hint: Some(hint),
                detail: Some(detail),
            },
        }
    }
}

/// Secrets typed in a form (or at a prompt), wrapped in [`Sensitive`] the moment they are read.
/// Names not in [`names::ALL`] are refused when used.
#[derive(Default, Clone)]
pub struct SecretsIn(Vec<(String, Sensitive<String>)>);

impl std::fmt::Debug for SecretsIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.0.iter().map(|(n, _)| n.as_str()).collect();
        write!(f, "SecretsIn({names:?}, values redacted)")
    }
}

impl<'de> Deserialize<'de> for SecretsIn {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let map = std::collections::BTreeMap::<String, String>::deserialize(d)?;
        Ok(SecretsIn(
            map.into_iter()
                .map(|(k, v)| (k, Sensitive::new(v)))
                .collect(),
        ))
    }
}

impl SecretsIn {
    /// No secret.
    pub fn none() -> Self {
        Self::default()
    }

    /// Adds the secret `name` (one of [`names::ALL`]).
    pub fn with(mut self, name: &str, value: Sensitive<String>) -> Self {
        self.0.push((name.to_string(), value));
        self
    }

    /// The secret named `name`, trimmed, when given and not blank.
    pub fn get(&self, name: &str) -> Option<Sensitive<String>> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| Sensitive::new(v.expose().trim().to_string()))
            .filter(|v| !v.expose().is_empty())
    }

    /// Every non-blank value (for the log redactor).
    pub(crate) fn values(&self) -> impl Iterator<Item = Sensitive<String>> + '_ {
        self.0.iter().filter_map(|(n, _)| self.get(n))
    }

    pub(crate) fn require(&self, name: &str, label: &str) -> Result<Sensitive<String>> {
        self.get(name)
            .ok_or_else(|| Error::invalid_input(label, "is required"))
    }

    /// True when no secret was given (Save after a passed test).
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|(_, v)| v.expose().trim().is_empty())
    }

    pub(crate) fn check_names(&self) -> Result<()> {
        for (n, _) in &self.0 {
            if !names::ALL.contains(&n.as_str()) {
                return Err(Error::invalid_input(
                    "Secret",
                    format!("unknown secret {n:?}"),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::secret::MemoryStore;

    /// A store that counts its reads, as the keychain's round trips.
    #[derive(Debug, Default)]
    struct Counting {
        reads: AtomicUsize,
        store: MemoryStore,
    }

    impl SecretStore for Counting {
        fn get(&self, workspace: &str, name: &str) -> Result<Option<Sensitive<String>>> {
            self.reads.fetch_add(1, Ordering::SeqCst);
            self.store.get(workspace, name)
        }
        fn set(&self, workspace: &str, name: &str, value: &Sensitive<String>) -> Result<()> {
            self.store.set(workspace, name, value)
        }
        fn delete(&self, workspace: &str, name: &str) -> Result<()> {
            self.store.delete(workspace, name)
        }
    }

    /// A keychain holding `value` as the workspace's key.
    fn keychain_with(value: &str) -> Arc<Counting> {
        let keychain = Arc::new(Counting::default());
        keychain
            .set("ws", names::SECRET_KEY, &Sensitive::new(value.into()))
            .unwrap();
        keychain
    }

    fn read(s: &SwitchableSecrets) -> Option<String> {
        s.get("ws", names::SECRET_KEY)
            .unwrap()
            .map(|v| v.expose().clone())
    }

    #[test]
    fn a_batch_reads_the_keychain_once_not_once_per_invitation() {
        let keychain = keychain_with("k1");
        let secrets = SwitchableSecrets::new(keychain.clone());
        for _ in 0..2000 {
            assert_eq!(read(&secrets).as_deref(), Some("k1"));
        }
        assert_eq!(keychain.reads.load(Ordering::SeqCst), 1);

        // Changed or removed here: seen at once, without another read.
        secrets
            .set("ws", names::SECRET_KEY, &Sensitive::new("k2".into()))
            .unwrap();
        assert_eq!(read(&secrets).as_deref(), Some("k2"));
        assert_eq!(
            keychain
                .store
                .get("ws", names::SECRET_KEY)
                .unwrap()
                .map(|v| v.expose().clone())
                .as_deref(),
            Some("k2")
        );
        secrets.delete("ws", names::SECRET_KEY).unwrap();
        assert_eq!(read(&secrets), None);
        assert_eq!(keychain.reads.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn a_key_changed_by_another_process_is_seen_once_the_read_expires() {
        let keychain = keychain_with("old");
        let secrets =
            SwitchableSecrets::with_read_ttl(keychain.clone(), Duration::from_millis(200));
        assert_eq!(read(&secrets).as_deref(), Some("old"));
        // The command-line tool writes the keychain directly.
        keychain
            .set("ws", names::SECRET_KEY, &Sensitive::new("new".into()))
            .unwrap();
        std::thread::sleep(Duration::from_millis(250));
        assert_eq!(read(&secrets).as_deref(), Some("new"));
        assert_eq!(keychain.reads.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn switching_stores_forgets_what_was_read() {
        let keychain = keychain_with("k");
        let secrets = SwitchableSecrets::new(keychain);
        assert_eq!(read(&secrets).as_deref(), Some("k"));
        secrets.replace(Arc::new(MemoryStore::new())).unwrap();
        assert_eq!(read(&secrets), None);
    }
}
