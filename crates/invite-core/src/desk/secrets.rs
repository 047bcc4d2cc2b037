//! Where the desk keeps secrets, and how secrets typed by the owner come in.

use std::sync::{Arc, RwLock};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::secret::{names, KeychainStatus, SecretStore, Sensitive};

/// The secret store in use now: the OS keychain, or, after the owner chose "use for this session
/// only", memory. Providers hold this one handle, so the switch reaches them at once.
#[derive(Debug)]
pub struct SwitchableSecrets {
    inner: RwLock<Arc<dyn SecretStore>>,
}

impl SwitchableSecrets {
    /// Starts with `store`.
    pub fn new(store: Arc<dyn SecretStore>) -> Self {
        Self {
            inner: RwLock::new(store),
        }
    }

    fn current(&self) -> Result<Arc<dyn SecretStore>> {
        self.inner
            .read()
            .map(|g| g.clone())
            .map_err(|e| Error::storage(format!("lock poisoned: {e}")))
    }

    /// Switches to `store` (no secret is copied: the old store could not hold any).
    pub fn replace(&self, store: Arc<dyn SecretStore>) -> Result<()> {
        *self
            .inner
            .write()
            .map_err(|e| Error::storage(format!("lock poisoned: {e}")))? = store;
        Ok(())
    }
}

impl SecretStore for SwitchableSecrets {
    fn get(&self, workspace: &str, name: &str) -> Result<Option<Sensitive<String>>> {
        self.current()?.get(workspace, name)
    }
    fn set(&self, workspace: &str, name: &str, value: &Sensitive<String>) -> Result<()> {
        self.current()?.set(workspace, name, value)
    }
    fn delete(&self, workspace: &str, name: &str) -> Result<()> {
        self.current()?.delete(workspace, name)
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
