//! Secrets: the OS keychain and nothing else.
//!
//! Every secret in the code is a [`Sensitive`], which prints `<redacted>` and cannot be
//! serialized, so it cannot end up in a log, an error text, a settings file or an IPC answer.

use std::fmt;

use crate::error::Result;

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
    pub const ALL: [&str; 7] = [SECRET_KEY, JWT_SECRET, OPERATOR_TOKEN, PASSWORD, REFRESH_TOKEN, ACCESS_TOKEN, API_KEY];
}

/// A value that must never be shown, logged or serialized.
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
            .ok_or_else(|| crate::error::Error::SecretMissing { name: name.to_string() })
    }
}
