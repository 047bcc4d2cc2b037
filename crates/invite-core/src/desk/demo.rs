//! The demo workspace: a sandbox server run inside the process, added as "Demo (local sandbox)".
//!
//! The sandbox (an HTTP server with a mailbox) is behind [`DemoLauncher`] rather than a
//! dependency of the core: the window links it and passes a launcher; the command-line tool
//! passes none and stays free of the server stack (axum, hyper's server side) it would never
//! run. A demo workspace is then refused in plain words.

use serde::Serialize;

use super::{lock, Desk};
use crate::error::{Error, Result};
use crate::model::WorkspaceKind;
use crate::secret::{names, MemoryStore, SecretStore, Sensitive};
use crate::workspace::{Workspace, WorkspaceConfig};

/// Starts demo servers.
#[async_trait::async_trait]
pub trait DemoLauncher: Send + Sync + std::fmt::Debug {
    /// Starts a fresh server (loopback, new port, empty mailbox). `http` is the desk's one
    /// client, for the demo's own calls (accepting an invitation).
    async fn launch(&self, http: &crate::http::Http) -> Result<Box<dyn DemoServer>>;
}

/// A running demo server; dropping it stops it, [`DemoServer::shutdown`] waits until it has.
#[async_trait::async_trait]
pub trait DemoServer: Send + Sync {
    /// Stops the server and returns once its port is closed (a removed demo must not keep
    /// listening). The default just drops it.
    async fn shutdown(self: Box<Self>) {}
    /// Its address (`http://127.0.0.1:port`).
    fn url(&self) -> String;
    /// The secret key a Supabase workspace uses with it.
    fn secret_key(&self) -> Sensitive<String>;
    /// The emails it "sent", oldest first.
    fn mail(&self) -> Vec<DemoMail>;
    /// Accepts an invitation as the invitee would, from the link in its email.
    async fn accept(&self, link: &str) -> Result<()>;
}

/// One email in the demo's mailbox.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DemoMail {
    /// The address.
    pub to: String,
    /// What kind of email (`invite`, …).
    pub kind: String,
    /// Its subject.
    pub subject: String,
    /// The link in it.
    pub link: String,
    /// When it was sent (RFC 3339).
    pub at: String,
}

/// The demo's mailbox as the window shows it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DemoMailbox {
    /// True when this process has no server for it (it was restarted elsewhere or removed).
    pub restarted: bool,
    /// The emails.
    pub mail: Vec<DemoMail>,
}

const DEMO_NAME: &str = "Demo (local sandbox)";

impl Desk {
    fn launcher(&self) -> Result<&dyn super::DemoLauncher> {
        self.inner
            .demo
            .as_deref()
            .ok_or_else(|| Error::Unsupported {
                what: "The demo workspace outside the app".into(),
            })
    }

    /// Starts a local sandbox and adds "Demo (local sandbox)" for it.
    pub async fn start_demo(&self) -> Result<Workspace> {
        // Held from launch to insert: `revive_demos`, running at start-up, must find this
        // workspace either absent from the list or already served, never in between (it would
        // start a second server and swap the key under the first one).
        let mut demos = self.inner.demos.lock().await;
        let server = self.launcher()?.launch(self.http()).await?;
        let key = server.secret_key();
        self.inner.known.add(&key);
        let ws = Workspace {
            id: uuid::Uuid::new_v4().to_string(),
            name: DEMO_NAME.into(),
            base_url: server.url(),
            config: WorkspaceConfig::default_for(WorkspaceKind::Supabase),
            demo: true,
        };
        let staged = MemoryStore::new();
        staged.set(&ws.id, names::SECRET_KEY, &key)?;
        let saved = self.save_with_secrets(ws, &staged)?;
        demos.insert(saved.id.clone(), server);
        Ok(saved)
    }

    /// The demo's server lives in the process, so a new run starts a fresh one for each demo
    /// workspace (on a new port, with an empty mailbox) instead of leaving it pointing nowhere.
    /// Does nothing without a launcher.
    pub async fn revive_demos(&self) {
        let Ok(launcher) = self.launcher() else {
            return;
        };
        // The list this process loaded at start, not the file: reading the file could repair
        // it here, in a background task, and take the owner's notice of the repair with it.
        let demos: Vec<Workspace> = match lock(&self.inner.list) {
            Ok(list) => list.workspaces.iter().filter(|w| w.demo).cloned().collect(),
            Err(_) => return,
        };
        for ws in demos {
            let revived = async {
                let mut served = self.inner.demos.lock().await;
                if served.contains_key(&ws.id) {
                    return Ok(());
                }
                let server = launcher.launch(self.http()).await?;
                let key = server.secret_key();
                self.inner.known.add(&key);
                let url = server.url();
                // Only the address changes, on the workspace as it is now: it may have been
                // renamed, or removed, since the list was read.
                let still_there = self.edit_workspaces(|list| match list.get(&ws.id) {
                    Some(now) => list
                        .update(Workspace {
                            base_url: url,
                            ..now.clone()
                        })
                        .map(|()| true),
                    None => Ok(false),
                })?;
                if !still_there {
                    server.shutdown().await;
                    return Ok(());
                }
                self.secret_store().set(&ws.id, names::SECRET_KEY, &key)?;
                self.forget(&ws.id)?;
                served.insert(ws.id.clone(), server);
                Ok::<_, Error>(())
            };
            if let Err(e) = revived.await {
                tracing::warn!(error = %e, "the demo server could not be restarted");
            }
        }
    }

    /// The demo's mailbox.
    pub async fn demo_mailbox(&self, id: &str) -> Result<DemoMailbox> {
        let demos = self.inner.demos.lock().await;
        Ok(match demos.get(id) {
            Some(server) => DemoMailbox {
                restarted: false,
                mail: server.mail(),
            },
            None => DemoMailbox {
                restarted: true,
                mail: Vec::new(),
            },
        })
    }

    /// Stops the demo server of workspace `id`, if this process runs one.
    pub(crate) async fn stop_demo(&self, id: &str) {
        let server = self.inner.demos.lock().await.remove(id);
        if let Some(server) = server {
            server.shutdown().await;
        }
    }

    /// Accepts an invitation as the invitee would, through the sandbox's own routes.
    pub async fn demo_accept(&self, id: &str, link: &str) -> Result<()> {
        {
            let demos = self.inner.demos.lock().await;
            let server = demos.get(id).ok_or_else(|| {
                Error::invalid_input("Workspace", "the demo server is not running")
            })?;
            server.accept(link).await?;
        }
        self.forget_invitations(id)
    }
}
