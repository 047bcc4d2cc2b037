//! Updates: is there a newer Invite Desk, what is new in it, and is the downloaded package really
//! the one Invite Desk's release key signed for that version.
//!
//! The manifest (`latest.json`, written by the release workflow) is the Tauri updater's static
//! format: `{version, notes, pub_date, platforms: {"<os>-<arch>[-<installer>]": {url, signature}}}`.
//! Signatures are minisign signatures (base64 of the `.sig` file) over the installer's bytes; the
//! public key is base64 of minisign's public key file, as in `tauri.conf.json`. Verification
//! uses `minisign-verify`, as the updater plugin does, and also checks that the signed trusted
//! comment names the announced version, so an old signed installer can't be replayed as new.
//!
//! The window installs through the updater plugin, which checks the same signature again; this
//! module is what decides, and what the tests exercise without Tauri.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::outbox::BatchSummary;

/// One platform's package in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Package {
    /// Where the installer (or update archive) is downloaded from.
    pub url: String,
    /// Base64 of the minisign signature file of that download.
    pub signature: String,
}

/// The update manifest (`latest.json`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Manifest {
    /// The version on offer (`1.2.3` or `v1.2.3`).
    pub version: String,
    /// What is new, as the release notes say it.
    #[serde(default)]
    pub notes: Option<String>,
    /// When it was published (RFC 3339).
    #[serde(default)]
    pub pub_date: Option<String>,
    /// Packages by target (`linux-x86_64`, `windows-x86_64-nsis`, `darwin-aarch64`…).
    pub platforms: BTreeMap<String, Package>,
}

/// A newer version, found for this computer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Available {
    /// The version on offer, without a leading `v`.
    pub version: String,
    /// The running version.
    pub current_version: String,
    /// What is new (may be empty).
    pub notes: String,
    /// When it was published, if the manifest says.
    pub date: Option<String>,
    /// The manifest target whose package was chosen.
    pub target: String,
    /// The package to download and verify.
    #[serde(skip)]
    pub package: Package,
    /// The manifest as served (the updater plugin installs from it).
    #[serde(skip)]
    pub manifest: serde_json::Value,
}

fn parse_version(v: &str) -> Result<semver::Version> {
    semver::Version::parse(v.trim().trim_start_matches('v')).map_err(|e| Error::BadResponse {
        detail: Some(format!("update manifest version {v:?}: {e}")),
    })
}

/// The manifest targets for this computer, most specific first: `<os>-<arch>-<installer>` then
/// `<os>-<arch>` (the updater plugin's order). `installer` is `nsis`, `msi`, `deb`, `rpm`,
/// `appimage` or `app` when known.
pub fn targets(os: &str, arch: &str, installer: Option<&str>) -> Vec<String> {
    let os = match os {
        "macos" => "darwin",
        other => other,
    };
    let mut out = Vec::new();
    if let Some(i) = installer {
        out.push(format!("{os}-{arch}-{i}"));
    }
    out.push(format!("{os}-{arch}"));
    out
}

/// The targets of the running program (`std::env::consts`), without an installer suffix.
pub fn current_targets() -> Vec<String> {
    current_targets_for(None)
}

/// The targets of the running program installed from `installer` (`deb`, `nsis`…; `None` when
/// unknown), with the updater plugin's names for the architectures (`i686`, `armv7`).
pub fn current_targets_for(installer: Option<&str>) -> Vec<String> {
    let arch = match std::env::consts::ARCH {
        "x86" => "i686",
        "arm" => "armv7",
        other => other,
    };
    targets(std::env::consts::OS, arch, installer)
}

/// Reads a manifest and decides: `None` when it offers nothing newer than `current`, otherwise
/// the package for the first of `targets` it has. A newer version without a package for this
/// computer is an error (the release is incomplete), not "up to date".
pub fn evaluate(
    manifest_json: &[u8],
    current: &str,
    targets: &[String],
) -> Result<Option<Available>> {
    let raw: serde_json::Value =
        serde_json::from_slice(manifest_json).map_err(|e| Error::BadResponse {
            detail: Some(format!("update manifest: {e}")),
        })?;
    let manifest: Manifest =
        serde_json::from_value(raw.clone()).map_err(|e| Error::BadResponse {
            detail: Some(format!("update manifest: {e}")),
        })?;
    let offered = parse_version(&manifest.version)?;
    let running = parse_version(current)?;
    if offered <= running {
        return Ok(None);
    }
    let (target, package) = targets
        .iter()
        .find_map(|t| manifest.platforms.get(t).map(|p| (t.clone(), p.clone())))
        .ok_or_else(|| Error::BadResponse {
            detail: Some(format!(
                "version {offered} has no package for this computer ({})",
                targets.join(", ")
            )),
        })?;
    Ok(Some(Available {
        version: offered.to_string(),
        current_version: running.to_string(),
        notes: manifest.notes.unwrap_or_default(),
        date: manifest.pub_date,
        target,
        package,
        manifest: raw,
    }))
}

/// Fetches the manifest at `endpoint` and [`evaluate`]s it for this computer.
pub async fn check(
    client: &reqwest::Client,
    endpoint: &str,
    current: &str,
    targets: &[String],
) -> Result<Option<Available>> {
    let body = get(client, endpoint).await?;
    evaluate(&body, current, targets)
}

/// Downloads the package of `update` and [`verify`]s it against `pubkey`; only verified bytes
/// are returned.
pub async fn download_verified(
    client: &reqwest::Client,
    update: &Available,
    pubkey: &str,
) -> Result<Vec<u8>> {
    let bytes = get(client, &update.package.url).await?;
    verify(&bytes, &update.package.signature, pubkey, &update.version)?;
    Ok(bytes)
}

async fn get(client: &reqwest::Client, url: &str) -> Result<Vec<u8>> {
    let response = client.get(url).send().await.map_err(|e| Error::Network {
        detail: Some(format!("{url}: {e}")),
    })?;
    let status = response.status();
    if !status.is_success() {
        return Err(Error::Server {
            status: status.as_u16(),
            detail: Some(format!("{url} answered {status}")),
        });
    }
    let bytes = response.bytes().await.map_err(|e| Error::Network {
        detail: Some(format!("{url}: {e}")),
    })?;
    Ok(bytes.to_vec())
}

fn untrusted(detail: impl Into<String>) -> Error {
    Error::UpdateNotTrusted {
        detail: detail.into(),
    }
}

fn base64_text(what: &str, b64: &str) -> Result<String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .map_err(|e| untrusted(format!("{what} is not base64: {e}")))?;
    String::from_utf8(bytes).map_err(|_| untrusted(format!("{what} is not text")))
}

/// Checks that `bytes` carry a valid minisign signature by the key `pubkey` (both base64, as the
/// Tauri signer writes them), and that the signed trusted comment names `version` (the Tauri CLI
/// writes `version:<v>` there; a signature without one is refused).
pub fn verify(bytes: &[u8], signature_b64: &str, pubkey_b64: &str, version: &str) -> Result<()> {
    let key = minisign_verify::PublicKey::decode(&base64_text("the public key", pubkey_b64)?)
        .map_err(|e| untrusted(format!("the public key can't be read: {e}")))?;
    let signature =
        minisign_verify::Signature::decode(&base64_text("the signature", signature_b64)?)
            .map_err(|e| untrusted(format!("the signature can't be read: {e}")))?;
    key.verify(bytes, &signature, true)
        .map_err(|e| untrusted(format!("signature check failed: {e}")))?;
    // Only now is the trusted comment trustworthy: the global signature covers it.
    let signed = signature
        .trusted_comment()
        .split('\t')
        .find_map(|field| field.strip_prefix("version:"))
        .ok_or_else(|| untrusted("the signature does not say which version it is for"))?;
    if parse_version(signed).ok() != Some(parse_version(version)?) {
        return Err(untrusted(format!(
            "the signature is for version {signed}, the update claims {version}"
        )));
    }
    Ok(())
}

/// Invitations being worked on now: queued, sending, or with a lost answer being looked up.
/// Jobs waiting for an email limit or a connection, and paused workspaces, are not counted: the
/// outbox picks them up again after a restart exactly where they were.
pub fn in_flight(batches: &[BatchSummary]) -> usize {
    batches
        .iter()
        .map(|b| b.pending.saturating_sub(b.waiting + b.paused) as usize)
        .sum()
}

/// Refuses to install while invitations are being sent ([`Error::UpdateWaits`]); the owner
/// installs when the batch is done.
pub fn may_install(unfinished: &[BatchSummary]) -> Result<()> {
    match in_flight(unfinished) {
        0 => Ok(()),
        n => Err(Error::UpdateWaits { in_flight: n }),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn manifest(version: &str, platforms: &[&str]) -> Vec<u8> {
        let platforms: serde_json::Map<String, serde_json::Value> = platforms
            .iter()
            .map(|t| {
                (
                    t.to_string(),
                    serde_json::json!({"url": format!("https://example.invalid/{t}"), "signature": "c2ln"}),
                )
            })
            .collect();
        serde_json::to_vec(&serde_json::json!({
            "version": version, "notes": "Faster lists", "pub_date": "2026-12-01T10:00:00Z",
            "platforms": platforms,
        }))
        .unwrap()
    }

    #[test]
    fn only_newer_versions_are_offered() {
        let t = targets("linux", "x86_64", None);
        let m = manifest("v0.2.0", &["linux-x86_64"]);
        let a = evaluate(&m, "0.1.0", &t).unwrap().unwrap();
        assert_eq!(a.version, "0.2.0");
        assert_eq!(a.notes, "Faster lists");
        assert_eq!(a.target, "linux-x86_64");
        assert_eq!(evaluate(&m, "0.2.0", &t).unwrap(), None);
        assert_eq!(
            evaluate(&m, "0.10.0", &t).unwrap(),
            None,
            "semver, not text order"
        );
        assert!(
            evaluate(&manifest("0.1.1-beta.1", &["linux-x86_64"]), "0.1.0", &t)
                .unwrap()
                .is_some()
        );
    }

    #[test]
    fn the_most_specific_target_wins_and_a_missing_one_is_an_error() {
        let t = targets("windows", "x86_64", Some("nsis"));
        assert_eq!(t, ["windows-x86_64-nsis", "windows-x86_64"]);
        let m = manifest(
            "1.0.0",
            &["windows-x86_64", "windows-x86_64-nsis", "linux-x86_64"],
        );
        assert_eq!(
            evaluate(&m, "0.1.0", &t).unwrap().unwrap().target,
            "windows-x86_64-nsis"
        );
        assert_eq!(targets("macos", "aarch64", None), ["darwin-aarch64"]);
        let e = evaluate(&manifest("1.0.0", &["linux-x86_64"]), "0.1.0", &t).unwrap_err();
        assert_eq!(e.kind(), "bad_response");
    }

    #[test]
    fn unreadable_manifests_are_bad_responses() {
        let t = current_targets();
        for bad in [
            &b"<html>"[..],
            br#"{"version":"x","platforms":{}}"#,
            br#"{"platforms":{}}"#,
        ] {
            assert_eq!(
                evaluate(bad, "0.1.0", &t).unwrap_err().kind(),
                "bad_response"
            );
        }
    }

    fn summary(pending: u32, waiting: u32, paused: u32) -> BatchSummary {
        BatchSummary {
            id: "b".into(),
            workspace_id: "w".into(),
            workspace_name: "W".into(),
            created_at: String::new(),
            total: pending + 3,
            pending,
            paused,
            waiting,
            done: 3,
            failed: 0,
            cancelled: 0,
        }
    }

    #[test]
    fn a_running_batch_holds_the_install_but_waiting_and_paused_ones_do_not() {
        assert!(may_install(&[]).is_ok());
        assert!(may_install(&[summary(4, 4, 0), summary(2, 0, 2)]).is_ok());
        let e = may_install(&[summary(5, 1, 1), summary(0, 0, 0)]).unwrap_err();
        assert_eq!(e.kind(), "update_waits");
        assert!(e.to_string().contains("3 in progress"), "{e}");
    }
}
