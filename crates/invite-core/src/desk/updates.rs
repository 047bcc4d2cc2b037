//! Updates, as the window offers them: is there a newer Invite Desk, is its package really the
//! one the release key signed for that version, and may it be installed now.
//!
//! A check reads the manifest, then downloads the package for this computer and verifies it
//! ([`crate::update`]) before the owner hears of it: an update signed with another key is
//! refused at the check, not after a click, and "Install and restart" has nothing left to wait
//! for. The verified package is kept in memory until it is installed or a later check replaces
//! it. Installing itself is the front end's job (the Tauri updater plugin, which checks the
//! signature once more); this module decides whether it may.

use std::sync::Arc;

use serde::Deserialize;

use super::{lock, Desk};
use crate::error::{Error, Result};
use crate::http::Http;
use crate::update::{self, Available};

/// Where updates come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateSource {
    /// Manifest (`latest.json`) addresses, tried in order until one answers.
    pub endpoints: Vec<String>,
    /// The release public key: base64 of minisign's public key file, as `tauri signer
    /// generate` writes it.
    pub pubkey: String,
    /// Manifest targets for this computer, most specific first
    /// ([`update::current_targets_for`]).
    pub targets: Vec<String>,
}

/// `plugins.updater` of tauri.conf.json, the parts the check needs.
#[derive(Deserialize)]
struct PluginConfig {
    pubkey: String,
    #[serde(default)]
    endpoints: Vec<String>,
}

impl UpdateSource {
    /// Reads `plugins.updater` of the app's configuration (`pubkey`, `endpoints`).
    pub fn from_plugin_config(config: &serde_json::Value, targets: Vec<String>) -> Result<Self> {
        let c: PluginConfig = serde_json::from_value(config.clone()).map_err(|e| {
            Error::storage(format!("plugins.updater in the app's configuration: {e}"))
        })?;
        Ok(Self {
            endpoints: c.endpoints,
            pubkey: c.pubkey,
            targets,
        })
    }
}

/// A newer version whose package was downloaded and verified, ready to install.
#[derive(Debug, Clone)]
pub struct ReadyUpdate {
    /// What the manifest said (version, notes, the manifest itself).
    pub available: Available,
    /// The package's bytes, verified against the release key for `available.version`.
    pub package: Arc<Vec<u8>>,
}

impl Desk {
    /// Checks for a newer version: reads the manifest at each endpoint in turn until one
    /// answers, then downloads this computer's package and verifies it with the release key.
    /// Returns the update (kept for [`Self::update_to_install`]) or `None` when this version is
    /// the newest.
    ///
    /// Errors: [`Error::UpdateNotTrusted`] when the package is not signed by the release key
    /// for the announced version (any update found earlier is forgotten too);
    /// [`Error::UpdateCheckFailed`] for everything else (offline, no manifest, unreadable
    /// manifest, a newer version without a package for this computer), the cause as detail.
    pub async fn check_for_update(&self, source: &UpdateSource) -> Result<Option<Available>> {
        let failed = |e: Error| Error::UpdateCheckFailed {
            detail: Some(e.detail().map_or_else(|| e.to_string(), str::to_string)),
        };
        let http = Http::for_updates().map_err(failed)?;
        let mut last = Error::UpdateCheckFailed {
            detail: Some("no update address is configured".into()),
        };
        let mut found = None;
        for endpoint in &source.endpoints {
            match update::check(
                http.client(),
                endpoint,
                &self.inner.app_version,
                &source.targets,
            )
            .await
            {
                Ok(answer) => {
                    found = Some(answer);
                    break;
                }
                Err(e) => {
                    tracing::info!(%endpoint, error = %e, detail = ?e.detail(), "update check failed");
                    last = failed(e);
                }
            }
        }
        let Some(answer) = found else {
            return Err(last);
        };
        let Some(available) = answer else {
            tracing::info!(version = %self.inner.app_version, "no newer version");
            *lock(&self.inner.update)? = None;
            return Ok(None);
        };
        let package = match update::download_verified(http.client(), &available, &source.pubkey)
            .await
        {
            Ok(bytes) => bytes,
            Err(e @ Error::UpdateNotTrusted { .. }) => {
                tracing::warn!(version = %available.version, detail = ?e.detail(), "update refused");
                *lock(&self.inner.update)? = None;
                return Err(e);
            }
            Err(e) => return Err(failed(e)),
        };
        tracing::info!(version = %available.version, target = %available.target, bytes = package.len(), "update downloaded and verified");
        *lock(&self.inner.update)? = Some(ReadyUpdate {
            available: available.clone(),
            package: Arc::new(package),
        });
        Ok(Some(available))
    }

    /// The update the last check found and verified, if it may be installed now. Refused with
    /// [`Error::UpdateWaits`] while invitations are being sent (installing restarts the app;
    /// the owner installs when the batch is done, and waiting or paused invitations resume
    /// after the restart anyway), and with an invalid-input error when no check found one.
    pub fn update_to_install(&self) -> Result<ReadyUpdate> {
        let ready = lock(&self.inner.update)?.clone().ok_or_else(|| {
            Error::invalid_input(
                "Update",
                "there is no downloaded update; check for updates first",
            )
        })?;
        update::may_install(&self.unfinished()?)?;
        Ok(ready)
    }
}
