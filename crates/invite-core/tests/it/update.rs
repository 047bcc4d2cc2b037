//! The update check end to end over real HTTP on 127.0.0.1: a release server serving a
//! `latest.json` for a newer version and its package, signed with a key pair made here as the
//! Tauri signer makes them (minisign, base64 of the key and `.sig` files, `version:` in the trusted
//! comment). The check finds the update, the download verifies, and a package signed by another
//! key, for another version, or tampered with, is refused. Then the same through the desk (what
//! the window's "Check for updates" and "Install and restart" call): only a verified update is
//! offered and kept, a failed check says so plainly, and installing waits for a batch being sent.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;
use std::collections::HashMap;
use std::io::Cursor;
use std::sync::Arc;

use base64::Engine as _;
use invite_core::desk::{Desk, DeskConfig, SecretsIn, UpdateSource, WorkspaceDraft};
use invite_core::model::{InviteRequest, WorkspaceKind};
use invite_core::secret::{names, Sensitive};
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
        serde_json::from_str(include_str!("../../../../tauri.conf.json")).unwrap();
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

// ---------------------------------------------------------------- through the desk

fn desk(dir: &std::path::Path) -> Desk {
    let mut config = DeskConfig::new(dir, common::MemStore::new());
    config.app_version = "0.1.0".into();
    Desk::open(config).unwrap()
}

fn source(endpoints: &[&str], signer: &Signer) -> UpdateSource {
    UpdateSource {
        endpoints: endpoints.iter().map(|e| e.to_string()).collect(),
        pubkey: signer.pubkey(),
        targets: vec![TARGET.to_string()],
    }
}

#[tokio::test]
async fn the_desk_offers_only_a_verified_update_and_forgets_a_refused_one() {
    let dir = tempfile::tempdir().unwrap();
    let desk = desk(dir.path());
    let ours = Signer::new();
    let e = desk.update_to_install().unwrap_err();
    assert_eq!(e.kind(), "invalid_input", "nothing checked yet: {e}");

    let good = release("0.2.0", PACKAGE, ours.sign(PACKAGE, "0.2.0")).await;
    let found = desk
        .check_for_update(&source(&[&good], &ours))
        .await
        .unwrap()
        .expect("0.2.0 is offered");
    assert_eq!(
        (found.version.as_str(), found.current_version.as_str()),
        ("0.2.0", "0.1.0")
    );
    assert!(found.notes.contains("resend faster"), "{}", found.notes);
    let ready = desk.update_to_install().unwrap();
    assert_eq!(
        ready.package.as_slice(),
        PACKAGE,
        "the verified bytes are kept"
    );
    assert_eq!(ready.available.version, "0.2.0");
    // What the window receives: version and notes, never the package or its address.
    let view = serde_json::to_value(&found).unwrap();
    assert_eq!(view["currentVersion"], "0.1.0");
    assert!(
        view.get("package").is_none() && view.get("manifest").is_none(),
        "{view}"
    );

    // The same release server, now signed with another key: refused, and the earlier update is
    // forgotten too (nothing from that server is installed on the owner's next click).
    let theirs = Signer::new();
    let forged = release("0.2.0", PACKAGE, theirs.sign(PACKAGE, "0.2.0")).await;
    let e = desk
        .check_for_update(&source(&[&forged], &ours))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "update_not_trusted");
    assert_eq!(
        e.to_string(),
        "The update could not be verified as coming from Invite Desk, so it was not installed."
    );
    assert_eq!(
        desk.update_to_install().unwrap_err().kind(),
        "invalid_input"
    );
}

#[tokio::test]
async fn a_failed_check_is_one_plain_error_and_the_next_address_is_tried() {
    let dir = tempfile::tempdir().unwrap();
    let desk = desk(dir.path());
    let signer = Signer::new();
    // Nothing listens there: the owner reads one plain sentence, the cause is in the detail.
    let closed = format!("http://{}/latest.json", common::NOTHING_LISTENS);
    let e = desk
        .check_for_update(&source(&[&closed], &signer))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "update_check_failed");
    assert_eq!(
        e.to_string(),
        "Invite Desk could not check for a new version right now."
    );
    assert!(e.detail().unwrap().contains(&closed), "{:?}", e.detail());

    let good = release("0.2.0", PACKAGE, signer.sign(PACKAGE, "0.2.0")).await;
    let missing = good.replace("latest.json", "nope.json");
    let e = desk
        .check_for_update(&source(&[&missing], &signer))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "update_check_failed");
    assert!(e.detail().unwrap().contains("404"), "{:?}", e.detail());

    // The first address fails, the second answers.
    let found = desk
        .check_for_update(&source(&[&closed, &good], &signer))
        .await
        .unwrap();
    assert_eq!(found.unwrap().version, "0.2.0");

    // Up to date: nothing offered, nothing kept.
    let current = release("0.1.0", PACKAGE, signer.sign(PACKAGE, "0.1.0")).await;
    assert_eq!(
        desk.check_for_update(&source(&[&current], &signer))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        desk.update_to_install().unwrap_err().kind(),
        "invalid_input"
    );
}

#[tokio::test]
async fn installing_waits_while_invitations_are_being_sent() {
    let sb = invite_sandbox::Sandbox::start(invite_sandbox::Config::new(
        invite_sandbox::Flavor::Supabase,
    ))
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let desk = desk(dir.path());
    let draft = WorkspaceDraft {
        name: "Acme".into(),
        base_url: sb.url().trim_end_matches('/').to_string(),
        config: invite_core::workspace::WorkspaceConfig::default_for(WorkspaceKind::Supabase),
    };
    let key = sb.credentials().service_role_key.clone();
    let id = desk
        .add_workspace(
            &draft,
            &SecretsIn::none().with(names::SECRET_KEY, Sensitive::new(key)),
            None,
        )
        .await
        .unwrap()
        .id;
    let signer = Signer::new();
    let endpoint = release("0.2.0", PACKAGE, signer.sign(PACKAGE, "0.2.0")).await;
    desk.check_for_update(&source(&[&endpoint], &signer))
        .await
        .unwrap()
        .unwrap();
    assert!(desk.update_to_install().is_ok(), "no batch: may install");

    // A batch queued (the worker not started, so it stays in progress).
    let reqs: Vec<InviteRequest> = ["one@example.com", "two@example.com"]
        .iter()
        .map(|e| InviteRequest {
            email: (*e).into(),
            message: None,
            redirect_url: None,
            send_email: true,
        })
        .collect();
    desk.enqueue(&id, &reqs).unwrap();
    let e = desk.update_to_install().unwrap_err();
    assert_eq!(e.kind(), "update_waits");
    assert_eq!(
        e.to_string(),
        "Invitations are being sent (2 in progress). Install the update when the batch is done; nothing is lost by waiting."
    );
}

/// A server that answers every request with `302 Found` to `location`, as GitHub's
/// `releases/latest/download/latest.json` answers with its storage host's address.
async fn redirecting_to(location: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let mut buf = vec![0u8; 4096];
            let _ = sock.read(&mut buf).await;
            let reply = format!(
                "HTTP/1.1 302 Found\r\nlocation: {location}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            );
            let _ = sock.write_all(reply.as_bytes()).await;
            let _ = sock.shutdown().await;
        }
    });
    format!("{base}/releases/latest/download/latest.json")
}

#[tokio::test]
async fn the_release_servers_redirect_is_followed() {
    let dir = tempfile::tempdir().unwrap();
    let desk = desk(dir.path());
    let signer = Signer::new();
    let endpoint = release("0.2.0", PACKAGE, signer.sign(PACKAGE, "0.2.0")).await;
    let github = redirecting_to(endpoint).await;
    let found = desk
        .check_for_update(&source(&[&github], &signer))
        .await
        .unwrap();
    assert_eq!(found.unwrap().version, "0.2.0");
    assert_eq!(
        desk.update_to_install().unwrap().package.as_slice(),
        PACKAGE
    );
}
