//! The `updates` flow: a release server on 127.0.0.1 offering Invite Desk 0.2.0, signed with a
//! key pair made here as `tauri signer generate` makes them (minisign; base64 of the key and of
//! the `.sig` file; `version:` in the signed comment). The debug build is pointed at it through
//! its test seam (`INVITE_DESK_TEST_UPDATE_URL` and `INVITE_DESK_TEST_UPDATE_KEY`, read by debug
//! builds only). Install is never clicked: it would replace the binary under test.

use std::collections::HashMap;
use std::io::Cursor;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::driver::{Ctx, Res};
use crate::flows::{no_page_errors, open};
use crate::Env;

const NOTES: &str = "Invitations resend faster.\nA new Settings page for each workspace.";
const PACKAGE: &[u8] = b"\x7fELF pretend package of Invite Desk 0.2.0";

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// A release key pair, as the Tauri signer writes it.
struct Signer {
    pk: minisign::PublicKey,
    sk: minisign::SecretKey,
}

impl Signer {
    fn new() -> Res<Self> {
        let kp = minisign::KeyPair::generate_unencrypted_keypair().ctx("making a key pair")?;
        Ok(Self {
            pk: kp.pk,
            sk: kp.sk,
        })
    }

    /// The public key as it goes into tauri.conf.json.
    fn pubkey(&self) -> Res<String> {
        Ok(b64(&self.pk.to_box().ctx("the public key")?.to_string()))
    }

    /// The `.sig` file of `bytes`, base64, bound to `version` as the Tauri CLI binds it.
    fn sign(&self, bytes: &[u8], version: &str) -> Res<String> {
        let trusted = format!(
            "timestamp:1764583200\tfile:invite-desk_{version}_amd64.deb\tversion:{version}"
        );
        let sig = minisign::sign(
            Some(&self.pk),
            &self.sk,
            Cursor::new(bytes),
            Some(&trusted),
            Some("signature from tauri secret key"),
        )
        .ctx("signing")?;
        Ok(b64(&sig.to_string()))
    }
}

/// What the release server serves (path → body); the flow changes it between checks.
#[derive(Clone, Default)]
struct Release {
    files: Arc<Mutex<HashMap<String, Vec<u8>>>>,
    package_downloads: Arc<AtomicU32>,
    base: String,
}

impl Release {
    async fn start() -> Res<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .ctx("binding the release server")?;
        let me = Release {
            base: format!("http://{}", listener.local_addr().ctx("its address")?),
            ..Default::default()
        };
        let served = me.clone();
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                tokio::spawn(served.clone().answer(sock));
            }
        });
        Ok(me)
    }

    fn manifest_url(&self) -> String {
        format!("{}/latest.json", self.base)
    }

    /// `latest.json` for `version` (with the package for every desktop target) and the package.
    fn offer(&self, version: &str, signature: &str) -> Res<()> {
        let package =
            serde_json::json!({"url": format!("{}/pkg", self.base), "signature": signature});
        let manifest = serde_json::json!({
            "version": version,
            "notes": NOTES,
            "pub_date": "2026-12-01T10:00:00Z",
            "platforms": {
                "linux-x86_64": package, "linux-x86_64-deb": package, "linux-aarch64": package,
                "windows-x86_64": package, "darwin-aarch64": package, "darwin-x86_64": package,
            }
        });
        let mut files = self.files.lock().map_err(|e| e.to_string())?;
        files.clear();
        files.insert(
            "/latest.json".into(),
            serde_json::to_vec(&manifest).ctx("manifest")?,
        );
        files.insert("/pkg".into(), PACKAGE.to_vec());
        Ok(())
    }

    /// The release server answers 404 to everything (a release removed, a wrong address).
    fn withdraw(&self) -> Res<()> {
        self.files.lock().map_err(|e| e.to_string())?.clear();
        Ok(())
    }

    async fn answer(self, mut sock: tokio::net::TcpStream) {
        let mut buf = vec![0u8; 8192];
        let mut got = 0;
        while !buf[..got].windows(4).any(|w| w == b"\r\n\r\n") {
            match sock.read(&mut buf[got..]).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got += n,
            }
            if got == buf.len() {
                return;
            }
        }
        let head = String::from_utf8_lossy(&buf[..got]).to_string();
        let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
        if path == "/pkg" {
            self.package_downloads.fetch_add(1, Ordering::SeqCst);
        }
        let body = self.files.lock().ok().and_then(|f| f.get(&path).cloned());
        let (status, body) = match body {
            Some(b) => ("200 OK", b),
            None => ("404 Not Found", b"not found".to_vec()),
        };
        let reply = format!(
            "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        );
        let _ = sock.write_all(reply.as_bytes()).await;
        let _ = sock.write_all(&body).await;
        let _ = sock.shutdown().await;
    }
}

/// Issue 16: the check at start, "Check for updates", what is new, and the refusals.
pub async fn updates(env: &Env) -> Res<()> {
    let ours = Signer::new()?;
    let theirs = Signer::new()?;
    let release = Release::start().await?;
    release.offer("0.2.0", &ours.sign(PACKAGE, "0.2.0")?)?;
    let (_driver, s) = open(
        env,
        "updates",
        &[
            ("INVITE_DESK_TEST_UPDATE_URL", release.manifest_url()),
            ("INVITE_DESK_TEST_UPDATE_KEY", ours.pubkey()?),
        ],
    )
    .await?;

    // The check a few seconds after start finds 0.2.0, downloads and verifies it, then offers it.
    s.wait_text(
        "#update-banner",
        "Invite Desk 0.2.0 is ready to install",
        30,
    )
    .await?;
    s.wait_text("#update-banner", "You have 0.1.0", 2).await?;
    s.wait_text("#update-notes", "Invitations resend faster.", 2)
        .await?;
    s.wait_text("#update-notes", "A new Settings page", 2)
        .await?;
    s.wait_text("#update-install", "Install and restart", 2)
        .await?;
    if release.package_downloads.load(Ordering::SeqCst) != 1 {
        return Err("the package was not downloaded (and verified) before it was offered".into());
    }
    s.shot("update-at-start").await?;
    s.click("#update-later").await?;
    s.wait_js("return !document.getElementById('update-banner')", 3)
        .await?;

    // The release server now offers a package signed with another key: refused, plainly.
    release.offer("0.2.0", &theirs.sign(PACKAGE, "0.2.0")?)?;
    s.click("#nav-workspaces").await?;
    s.click("#ws-check-update").await?;
    s.wait_text(
        "#ws-status",
        "The update could not be verified as coming from Invite Desk, so it was not installed.",
        20,
    )
    .await?;
    s.wait_text(
        "#ws-status",
        "Download Invite Desk from its release page",
        2,
    )
    .await?;
    if s.js("return !!document.getElementById('update-banner')")
        .await?
        .as_bool()
        .unwrap_or(true)
    {
        return Err("an update signed with another key was offered".into());
    }
    s.shot("update-other-key-refused").await?;

    // The release is gone (or the computer is offline): one plain sentence and what to do.
    release.withdraw()?;
    s.click("#ws-check-update").await?;
    s.wait_text(
        "#ws-status",
        "Invite Desk could not check for a new version right now.",
        20,
    )
    .await?;
    s.wait_text("#ws-status", "Check the internet connection", 2)
        .await?;
    s.shot("update-check-failed").await?;

    // Signed with the release key again: the owner's click finds it, with what is new.
    release.offer("0.2.0", &ours.sign(PACKAGE, "0.2.0")?)?;
    s.click("#ws-check-update").await?;
    s.wait_text("#ws-status", "Invite Desk 0.2.0 is available", 20)
        .await?;
    s.wait_text("#update-banner", "Invite Desk 0.2.0 is ready to install", 2)
        .await?;
    s.wait_text("#update-notes", "A new Settings page", 2)
        .await?;
    s.shot("update-available").await?;

    // The newest version already: said so, and no banner.
    release.offer("0.1.0", &ours.sign(PACKAGE, "0.1.0")?)?;
    s.click("#ws-check-update").await?;
    s.wait_text(
        "#ws-status",
        "You have the newest version of Invite Desk (0.1.0)",
        20,
    )
    .await?;
    s.wait_js("return !document.getElementById('update-banner')", 3)
        .await?;
    no_page_errors(&s).await?;
    s.close().await
}
