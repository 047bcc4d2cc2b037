//! Sending through the outbox, the history, and the demo workspace's sandbox: commands over
//! the [`Desk`], plus the window's share of the work: the desk's events become `outbox` events
//! for the web view (and a desktop notification when a batch finishes), and the demo server is
//! the sandbox crate run in this process.

use std::sync::Arc;

use invite_core::desk::{
    BatchChangesView, BatchStatus, DemoLauncher, DemoMail, DemoMailbox, DemoServer, Desk,
    DeskEvent, HistoryFilter, HistoryPageView, Renewed, SecretsIn,
};
use invite_core::model::InviteRequest;
use invite_core::outbox::{BatchSummary, OutboxNotice};
use invite_core::secret::Sensitive;
use invite_core::workspace::Workspace;
use invite_sandbox::{Config, Flavor, Sandbox};
use serde_json::json;
use tauri::{AppHandle, Emitter, Manager, Runtime, State};

use crate::error::CmdResult;
use crate::state::AppState;

/// Starts the desk's worker (unfinished jobs resume by themselves) with its events going to the
/// web view, and restarts the demo servers.
pub fn init<R: Runtime>(app: &AppHandle<R>, desk: &Desk) -> invite_core::Result<()> {
    let emitter = app.clone();
    let events = Arc::new(move |ev: DeskEvent| {
        let _ = emitter.emit("outbox", &ev);
        if let DeskEvent::Batch {
            batch_id,
            by_worker: true,
            ..
        } = &ev
        {
            let state = emitter.state::<AppState>();
            crate::notice::batch_changed(&emitter, &state.desk, batch_id);
        }
    });
    {
        let rt = tauri::async_runtime::handle();
        let _guard = rt.inner().enter();
        desk.start_worker(events)?;
    }
    let desk = desk.clone();
    tauri::async_runtime::spawn(async move { desk.revive_demos().await });
    Ok(())
}

/// Writes one job per address (in one transaction) and wakes the worker.
#[tauri::command(async)]
pub fn enqueue_invites(
    state: State<'_, AppState>,
    workspace_id: String,
    requests: Vec<InviteRequest>,
) -> CmdResult<BatchStatus> {
    Ok(state.desk.enqueue(&workspace_id, &requests)?)
}

/// What opening the outbox had to do at start-up (a damaged file set aside, or a newer
/// version's file left alone), for the banner; `null` when there is nothing to say.
#[tauri::command(async)]
pub fn outbox_notice(state: State<'_, AppState>) -> Option<OutboxNotice> {
    state.desk.outbox_notice()
}

/// Where a batch stands since `cursor` (absent or 0: every job). `batch_status` answers every job.
#[tauri::command(async)]
pub fn batch_changes(
    state: State<'_, AppState>,
    batch_id: String,
    cursor: Option<i64>,
) -> CmdResult<BatchChangesView> {
    Ok(state.desk.batch_changes(&batch_id, cursor.unwrap_or(0))?)
}

/// Where a batch stands.
#[tauri::command(async)]
pub fn batch_status(state: State<'_, AppState>, batch_id: String) -> CmdResult<BatchStatus> {
    Ok(state.desk.batch_status(&batch_id)?)
}

/// Stops a batch: what has not been sent is not sent.
#[tauri::command(async)]
pub fn stop_batch(state: State<'_, AppState>, batch_id: String) -> CmdResult<u32> {
    Ok(state.desk.stop_batch(&batch_id)?)
}

/// Puts a failed or stopped job back in the queue.
#[tauri::command(async)]
pub fn retry_job(state: State<'_, AppState>, job_id: i64) -> CmdResult<()> {
    Ok(state.desk.retry_job(job_id)?)
}

/// Batches with work left, for the "Resuming…" banner.
#[tauri::command(async)]
pub fn unfinished(state: State<'_, AppState>) -> CmdResult<Vec<BatchSummary>> {
    Ok(state.desk.unfinished()?)
}

/// What this app sent, newest batch first, filtered and paged.
#[tauri::command(async)]
pub fn history(
    state: State<'_, AppState>,
    filter: Option<HistoryFilter>,
) -> CmdResult<HistoryPageView> {
    Ok(state.desk.history(&filter.unwrap_or_default())?)
}

/// Writes the history matching `filter` as CSV into the Downloads folder; returns the path.
#[tauri::command(async)]
pub fn export_history<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    filter: Option<HistoryFilter>,
    file_name: String,
) -> CmdResult<String> {
    let dir = crate::files::downloads(&app)?;
    let path = state
        .desk
        .export_history(&filter.unwrap_or_default(), &dir, &file_name)?;
    Ok(path.display().to_string())
}

/// Holds a workspace's unsent invitations until the owner resumes.
#[tauri::command(async)]
pub fn pause_workspace(state: State<'_, AppState>, workspace_id: String) -> CmdResult<u32> {
    Ok(state.desk.pause_workspace(&workspace_id)?)
}

/// Sends a paused workspace's invitations again.
#[tauri::command(async)]
pub fn resume_workspace(state: State<'_, AppState>, workspace_id: String) -> CmdResult<u32> {
    Ok(state.desk.resume_workspace(&workspace_id)?)
}

/// The way around an email limit: the batch's unsent invitations become links to copy.
#[tauri::command(async)]
pub fn switch_to_links(state: State<'_, AppState>, batch_id: String) -> CmdResult<u32> {
    Ok(state.desk.switch_to_links(&batch_id)?)
}

/// Replaces a workspace's key or signs in again, then lets its paused invitations go.
#[tauri::command]
pub async fn update_secrets(
    state: State<'_, AppState>,
    workspace_id: String,
    secrets: SecretsIn,
) -> CmdResult<Renewed> {
    Ok(state.desk.renew_secrets(&workspace_id, &secrets).await?)
}

/// Starts a local sandbox and adds "Demo (local sandbox)" for it.
#[tauri::command]
pub async fn start_demo(state: State<'_, AppState>) -> CmdResult<Workspace> {
    Ok(state.desk.start_demo().await?)
}

/// The demo's mailbox.
#[tauri::command]
pub async fn demo_mailbox(state: State<'_, AppState>, id: String) -> CmdResult<DemoMailbox> {
    Ok(state.desk.demo_mailbox(&id).await?)
}

/// Accepts an invitation as the invitee would, through the sandbox's public routes.
#[tauri::command]
pub async fn demo_accept(state: State<'_, AppState>, id: String, link: String) -> CmdResult<()> {
    Ok(state.desk.demo_accept(&id, &link).await?)
}

/// Runs the sandbox crate in this process for the demo workspace.
#[derive(Debug, Default)]
pub struct SandboxLauncher;

/// The demo's sandbox: its control routes (mailbox, keys, faults) answer only with a random
/// token this process holds, so no other program or web page can read or steer it. The
/// end-to-end tests, which drive the demo from outside, give their own in `INVITE_DESK_DEMO_TOKEN`.
fn demo_config() -> Config {
    let mut c = Config::new(Flavor::Supabase);
    c.control_token = Some(
        std::env::var("INVITE_DESK_DEMO_TOKEN")
            .ok()
            .filter(|t| t.len() >= 32)
            .unwrap_or_else(invite_sandbox::random_control_token),
    );
    c
}

#[async_trait::async_trait]
impl DemoLauncher for SandboxLauncher {
    async fn launch(
        &self,
        http: &invite_core::http::Http,
    ) -> invite_core::Result<Box<dyn DemoServer>> {
        let sandbox = Sandbox::start(demo_config())
            .await
            .map_err(|e| invite_core::Error::storage(format!("the demo server: {e}")))?;
        Ok(Box::new(DemoSandbox {
            sandbox,
            http: http.clone(),
        }))
    }
}

struct DemoSandbox {
    sandbox: Sandbox,
    http: invite_core::http::Http,
}

#[async_trait::async_trait]
impl DemoServer for DemoSandbox {
    fn url(&self) -> String {
        self.sandbox.url()
    }

    fn secret_key(&self) -> Sensitive<String> {
        Sensitive::new(self.sandbox.credentials().service_role_key.clone())
    }

    fn mail(&self) -> Vec<DemoMail> {
        self.sandbox
            .mail()
            .into_iter()
            .map(|m| DemoMail {
                to: m.to,
                kind: m.kind,
                subject: m.subject,
                link: m.link,
                at: m.sent_at.to_rfc3339(),
            })
            .collect()
    }

    async fn shutdown(self: Box<Self>) {
        self.sandbox.shutdown().await;
    }

    async fn accept(&self, link: &str) -> invite_core::Result<()> {
        let token = self.sandbox.control_token().unwrap_or_default().to_string();
        let resp = self
            .http
            .client()
            .post(format!("{}/__sandbox/accept", self.sandbox.url()))
            .header(invite_sandbox::CONTROL_TOKEN_HEADER, token)
            .json(&json!({ "link": link, "password": "demo-password-1234" }))
            .send()
            .await
            .map_err(|e| invite_core::http::send_error(&e, false))?;
        if !resp.status().is_success() {
            return Err(invite_core::Error::Server {
                status: resp.status().as_u16(),
                detail: Some("the demo server refused the acceptance".into()),
            });
        }
        Ok(())
    }
}
