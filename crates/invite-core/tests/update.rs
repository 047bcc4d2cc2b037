//! The update check end to end over real HTTP on 127.0.0.1: a release server serving a
//! `latest.json` for a newer version and its package, signed with a key pair made here as the
//! Tauri signer makes them (minisign, base64 of the key and `.sig` files, `version:` in the trusted
//! comment). The check finds the update, the download verifies, and a package signed by another
//! key, for another version, or tampered with, is refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::io::Cursor;
use std::sync::Arc;

use base64::Engine as _;
use invite_core::update::{self, Available};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const TARGET: &str = "linux-x86_64";

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// A key pair as `tauri signer generate` writes it: the public key file, base64.
struct Signer {
    pk: minisign::PublicKey,
    sk: minisign::SecretKey,
}

impl Signer {
    fn new() -> Self {
        let kp = minisign::KeyPair::generate_unencrypted_keypair().unwrap();
        Self {
            pk: kp.pk,
            sk: kp.sk,
        }
    }

    /// `pubkey` as it goes into tauri.conf.json.
    fn pubkey(&self) -> String {
        b64(&self.pk.to_box().unwrap().to_string())
    }

    /// The `.sig` file's content, base64, with the trusted comment the Tauri CLI writes.
    fn sign(&self, bytes: &[u8], version: &str) -> String {
        let trusted = format!(
            "timestamp:1764583200\tfile:Invite Desk_{version}_amd64.AppImage\tversion:{version}"
        );
        let sig = minisign::sign(
            Some(&self.pk),
            &self.sk,
            Cursor::new(bytes),
            Some(&trusted),
            Some("signature from tauri secret key"),
        )
        .unwrap();
        b64(&sig.to_string())
    }
}

/// A release server on 127.0.0.1 offering `version`: `/latest.json` names `/pkg` (which serves
/// `package`) with `signature`. Returns the manifest's URL.
async fn release(version: &str, package: &[u8], signature: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let manifest = serde_json::json!({
        "version": version,
        "notes": "Invitations resend faster.\nA new Settings page.",
        "pub_date": "2026-12-01T10:00:00Z",
        "platforms": {
            TARGET: {"url": format!("{base}/pkg"), "signature": signature},
            "windows-x86_64": {"url": format!("{base}/pkg"), "signature": signature},
        }
    });
    let mut routes = HashMap::new();
    routes.insert("/pkg".to_string(), package.to_vec());
    routes.insert(
        "/latest.json".to_string(),
        serde_json::to_vec(&manifest).unwrap(),
    );
    let routes = Arc::new(routes);
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let routes = routes.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let mut got = 0;
                while !buf[..got].windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut buf[got..]).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => got += n,
                    }
                }
                let head = String::from_utf8_lossy(&buf[..got]).to_string();
                let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
                let (status, body) = match routes.get(&path) {
                    Some(b) => ("200 OK", b.clone()),
                    None => ("404 Not Found", b"not found".to_vec()),
                };
                let reply = format!(
                    "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = sock.write_all(reply.as_bytes()).await;
                let _ = sock.write_all(&body).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    format!("{base}/latest.json")
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .unwrap()
}

async fn found(endpoint: &str) -> Available {
    update::check(&client(), endpoint, "0.1.0", &[TARGET.to_string()])
        .await
        .unwrap()
        .expect("a newer version is offered")
}

const PACKAGE: &[u8] = b"\x7fELF pretend AppImage of Invite Desk 0.2.0";

#[tokio::test]
async fn a_newer_signed_version_is_found_downloaded_and_verified() {
    let signer = Signer::new();
    let endpoint = release("0.2.0", PACKAGE, signer.sign(PACKAGE, "0.2.0")).await;
    let update = found(&endpoint).await;
    assert_eq!(update.version, "0.2.0");
    assert_eq!(update.current_version, "0.1.0");
    assert!(update.notes.contains("resend faster"), "{}", update.notes);
    assert_eq!(update.target, TARGET);
    let bytes = update::download_verified(&client(), &update, &signer.pubkey())
        .await
        .unwrap();
    assert_eq!(bytes, PACKAGE);
    // Up to date: nothing offered.
    assert_eq!(
        update::check(&client(), &endpoint, "0.2.0", &[TARGET.to_string()])
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn a_package_signed_with_another_key_is_refused() {
    let ours = Signer::new();
    let theirs = Signer::new();
    let endpoint = release("0.2.0", PACKAGE, theirs.sign(PACKAGE, "0.2.0")).await;
    let update = found(&endpoint).await;
    let e = update::download_verified(&client(), &update, &ours.pubkey())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "update_not_trusted");
    assert!(e.to_string().contains("not installed"), "{e}");
}

#[tokio::test]
async fn a_tampered_package_is_refused() {
    let signer = Signer::new();
    let signature = signer.sign(PACKAGE, "0.2.0");
    let mut tampered = PACKAGE.to_vec();
    tampered.extend_from_slice(b" + something else");
    let endpoint = release("0.2.0", &tampered, signature).await;
    let update = found(&endpoint).await;
    let e = update::download_verified(&client(), &update, &signer.pubkey())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "update_not_trusted");
}

#[tokio::test]
async fn an_old_signed_package_offered_as_a_new_version_is_refused() {
    let signer = Signer::new();
    // Correctly signed, but for 0.1.5: replaying it as "0.2.0" must not work.
    let endpoint = release("0.2.0", PACKAGE, signer.sign(PACKAGE, "0.1.5")).await;
    let update = found(&endpoint).await;
    let e = update::download_verified(&client(), &update, &signer.pubkey())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "update_not_trusted");
    assert!(
        format!("{:?}", e.detail()).contains("0.1.5"),
        "{:?}",
        e.detail()
    );
}

#[tokio::test]
async fn a_missing_manifest_is_a_server_error_not_an_update() {
    let signer = Signer::new();
    let endpoint = release("0.2.0", PACKAGE, signer.sign(PACKAGE, "0.2.0")).await;
    let missing = endpoint.replace("latest.json", "nope.json");
    let e = update::check(&client(), &missing, "0.1.0", &[TARGET.to_string()])
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "server");
}

#[test]
fn the_key_in_tauri_conf_json_reads_as_a_minisign_public_key() {
    let conf: serde_json::Value =
        serde_json::from_str(include_str!("../../../tauri.conf.json")).unwrap();
    let pubkey = conf["plugins"]["updater"]["pubkey"]
        .as_str()
        .expect("plugins.updater.pubkey");
    // A signature by a throwaway key must be refused by the configured key, for the right reason:
    // the key is readable and the check ran.
    let other = Signer::new();
    let e = update::verify(PACKAGE, &other.sign(PACKAGE, "0.2.0"), pubkey, "0.2.0").unwrap_err();
    assert!(
        format!("{:?}", e.detail()).contains("signature check failed"),
        "{:?}",
        e.detail()
    );
}
