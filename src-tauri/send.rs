//! Sending through the outbox, the history, and the demo workspace's sandbox.
//!
//! Every invitation goes through `invite_core::outbox`: the command writes the jobs, the worker
//! sends them, and the web view hears `outbox` events and reads the batch back.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use invite_core::model::{InviteRequest, WorkspaceKind};
use invite_core::outbox::{
    EmailBudget, HistoryPage, HistoryQuery, Job, Outbox, OutboxEvent, OutboxNotice, ProviderSource,
    Worker, WorkerHandle,
};
use invite_core::provider::Provider;
use invite_core::secret::{names, MemoryStore, SecretStore, Sensitive};
use invite_core::workspace::{Workspace, WorkspaceOptions};
use invite_sandbox::{Config, Flavor, Sandbox};
use serde::Serialize;
use serde_json::json;
use tauri::{AppHandle, Emitter, Manager, Runtime, State};

use crate::error::{CmdError, CmdResult};
use crate::state::{lock, AppState};

/// The outbox, its worker and the running demo sandboxes.
pub struct SendState {
    outbox: Outbox,
    worker: Mutex<Option<WorkerHandle>>,
    demos: tokio::sync::Mutex<HashMap<String, Sandbox>>,
    /// What opening the outbox had to do at start-up, for the banner.
    notice: Option<OutboxNotice>,
}

impl SendState {
    /// The outbox, for commands outside this module (the Save-dialog export).
    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }
}

impl std::fmt::Debug for SendState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SendState").finish_non_exhaustive()
    }
}

struct Source<R: Runtime>(AppHandle<R>);

impl<R: Runtime> ProviderSource for Source<R> {
    fn provider(&self, workspace_id: &str) -> invite_core::Result<Arc<dyn Provider>> {
        let state = self.0.state::<AppState>();
        state
            .provider(workspace_id)
            .map_err(|e| invite_core::Error::Rejected {
                status: 0,
                message: e.message,
            })
    }

    fn concurrency(&self, workspace_id: &str) -> usize {
        let state = self.0.state::<AppState>();
        state
            .workspace(workspace_id)
            .ok()
            .and_then(|w| w.options.concurrency)
            .map_or(4, |c| c as usize)
    }

    fn email_budget(&self, workspace_id: &str) -> Option<EmailBudget> {
        let state = self.0.state::<AppState>();
        state
            .workspace(workspace_id)
            .ok()
            .and_then(|w| w.options.emails_per_hour)
            .map(EmailBudget::per_hour)
    }
}

/// How often progress is announced to the web view (a few times a second is enough for a bar).
const EVENT_INTERVAL: std::time::Duration = std::time::Duration::from_millis(250);

/// Opens the outbox in the data folder and starts the worker; unfinished jobs resume by themselves.
pub fn init<R: Runtime>(app: &AppHandle<R>) -> Result<(), Box<dyn std::error::Error>> {
    let data_dir = app.state::<AppState>().paths.data_dir.clone();
    let path = data_dir.join("outbox.sqlite3");
    // A damaged file is set aside (and the owner told); one the app cannot use at all (a newer
    // version's) is left alone and the app starts without sending, rather than not at all.
    let (outbox, notice) = match Outbox::open_with_report(&path) {
        Ok(r) => (r.outbox, r.notice),
        Err(e) => {
            tracing::error!(error = %e, "the outbox could not be opened");
            let notice = OutboxNotice::unusable(&e, &path);
            (Outbox::open_in_memory()?, Some(notice))
        }
    };
    // Job changes come by the hundred in a big batch: they are gathered and announced once per
    // batch every quarter second. A paused workspace is announced at once.
    let changed: Arc<Mutex<HashMap<String, String>>> = Arc::default();
    let emitter = app.clone();
    let gathered = changed.clone();
    let events = Arc::new(move |ev: OutboxEvent| match &ev {
        OutboxEvent::JobChanged { job } => {
            if let Ok(mut c) = gathered.lock() {
                c.insert(job.batch_id.clone(), job.workspace_id.clone());
            }
        }
        OutboxEvent::WorkspacePaused {
            workspace_id,
            reason,
        } => {
            let _ = emitter.emit(
                "outbox",
                json!({ "workspaceId": workspace_id, "paused": reason }),
            );
        }
    });
    let emitter = app.clone();
    let finished = outbox.clone();
    tauri::async_runtime::spawn(async move {
        let mut tick = tokio::time::interval(EVENT_INTERVAL);
        loop {
            tick.tick().await;
            let batches = match changed.lock() {
                Ok(mut c) => std::mem::take(&mut *c),
                Err(_) => break,
            };
            for (batch_id, workspace_id) in batches {
                let _ = emitter.emit(
                    "outbox",
                    json!({ "batchId": batch_id, "workspaceId": workspace_id }),
                );
                crate::notice::batch_changed(&emitter, &finished, &batch_id);
            }
        }
    });
    let source = Arc::new(Source(app.clone()));
    let handle = {
        let rt = tauri::async_runtime::handle();
        let _guard = rt.inner().enter();
        Worker::spawn(outbox.clone(), source, events)
    };
    app.manage(SendState {
        outbox,
        worker: Mutex::new(Some(handle)),
        demos: Default::default(),
        notice,
    });
    tauri::async_runtime::spawn(revive_demos(app.clone()));
    Ok(())
}

fn wake(send: &SendState) {
    if let Ok(w) = send.worker.lock() {
        if let Some(w) = w.as_ref() {
            w.wake();
        }
    }
}

/// A job as the Invite screen shows it: `state` is the outcome once done.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobView {
    id: i64,
    email: String,
    state: String,
    link: Option<String>,
    error: Option<invite_core::outbox::JobError>,
    next_attempt_at: Option<String>,
}

impl From<Job> for JobView {
    fn from(j: Job) -> Self {
        Self {
            id: j.id,
            state: j.result().to_string(),
            email: j.email,
            link: j.link,
            error: j.last_error,
            next_attempt_at: j.next_attempt_at.map(|t| t.to_rfc3339()),
        }
    }
}

/// A batch as the Invite screen shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchStatus {
    batch_id: String,
    total: usize,
    counts: HashMap<String, usize>,
    finished: bool,
    jobs: Vec<JobView>,
}

fn status(send: &SendState, batch: &str) -> CmdResult<BatchStatus> {
    let jobs: Vec<JobView> = send
        .outbox
        .jobs(batch)?
        .into_iter()
        .map(JobView::from)
        .collect();
    let mut counts: HashMap<String, usize> =
        ["queued", "sending", "waiting", "uncertain", "paused"]
            .iter()
            .map(|k| (k.to_string(), 0))
            .collect();
    for j in &jobs {
        *counts.entry(j.state.clone()).or_default() += 1;
    }
    let open = ["queued", "sending", "waiting", "uncertain"];
    let finished = !jobs.iter().any(|j| open.contains(&j.state.as_str()));
    Ok(BatchStatus {
        batch_id: batch.to_string(),
        total: jobs.len(),
        counts,
        finished,
        jobs,
    })
}

/// Writes one job per address (in one transaction) and wakes the worker.
#[tauri::command]
pub fn enqueue_invites<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    send: State<'_, SendState>,
    workspace_id: String,
    requests: Vec<InviteRequest>,
) -> CmdResult<BatchStatus> {
    if requests.is_empty() {
        return Err(CmdError::invalid(
            "Addresses",
            "there is no address to invite",
        ));
    }
    let mut clean = Vec::with_capacity(requests.len());
    for r in requests {
        let email = invite_core::parse::normalize_email(&r.email)?;
        clean.push(InviteRequest { email, ..r });
    }
    if let Some(n) = send.notice.as_ref().filter(|n| n.blocks_sending) {
        return Err(CmdError {
            kind: n.kind.clone(),
            message: n.message.clone(),
            detail: n.detail.clone(),
        });
    }
    let ws = state.workspace(&workspace_id)?;
    let batch = send.outbox.enqueue(&ws.id, &ws.name, &clean)?;
    wake(&send);
    // Jobs of a paused workspace change no state, so say there is a new batch.
    let _ = app.emit("outbox", json!({ "batchId": batch, "workspaceId": ws.id }));
    status(&send, &batch)
}

/// What opening the outbox had to do at start-up (a damaged file set aside, or a newer
/// version's file left alone), for the banner; `null` when there is nothing to say.
#[tauri::command]
pub fn outbox_notice(send: State<'_, SendState>) -> CmdResult<Option<OutboxNotice>> {
    Ok(send.notice.clone())
}

/// A batch's progress for a page that holds a cursor: counts of the whole batch plus only the
/// jobs changed since the cursor (so an update costs what changed, not the batch).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchChangesView {
    batch_id: String,
    total: u32,
    counts: std::collections::BTreeMap<String, u32>,
    finished: bool,
    /// Give it back as `cursor` next time.
    cursor: i64,
    /// More changes wait: ask again at once.
    more: bool,
    /// The jobs changed since the cursor given.
    jobs: Vec<JobView>,
}

/// Where a batch stands since `cursor` (absent or 0: every job). `batch_status` answers every job.
#[tauri::command]
pub fn batch_changes(
    send: State<'_, SendState>,
    batch_id: String,
    cursor: Option<i64>,
) -> CmdResult<BatchChangesView> {
    let c = send.outbox.batch_changes(&batch_id, cursor.unwrap_or(0))?;
    Ok(BatchChangesView {
        batch_id: c.batch_id,
        total: c.total,
        counts: c.counts,
        finished: c.finished,
        cursor: c.cursor,
        more: c.more,
        jobs: c.changed.into_iter().map(JobView::from).collect(),
    })
}

/// Where a batch stands.
#[tauri::command]
pub fn batch_status(send: State<'_, SendState>, batch_id: String) -> CmdResult<BatchStatus> {
    status(&send, &batch_id)
}

/// Tells the web view a batch changed outside the worker (a stop, a retry).
fn batch_changed<R: Runtime>(app: &AppHandle<R>, send: &SendState, batch_id: &str) {
    if let Ok(b) = send.outbox.batch(batch_id) {
        let _ = app.emit(
            "outbox",
            json!({ "batchId": batch_id, "workspaceId": b.workspace_id }),
        );
    }
}

/// Stops a batch: what has not been sent is not sent.
#[tauri::command]
pub fn stop_batch<R: Runtime>(
    app: AppHandle<R>,
    send: State<'_, SendState>,
    batch_id: String,
) -> CmdResult<u32> {
    let n = send.outbox.cancel_batch(&batch_id)?;
    batch_changed(&app, &send, &batch_id);
    Ok(n)
}

/// Puts a failed or stopped job back in the queue (looked up on the server first when a
/// request of it went out).
#[tauri::command]
pub fn retry_job<R: Runtime>(
    app: AppHandle<R>,
    send: State<'_, SendState>,
    job_id: i64,
) -> CmdResult<()> {
    send.outbox.retry_job(job_id)?;
    wake(&send);
    batch_changed(&app, &send, &send.outbox.job(job_id)?.batch_id);
    Ok(())
}

/// Batches with work left, for the "Resuming…" banner.
#[tauri::command]
pub fn unfinished(send: State<'_, SendState>) -> CmdResult<Vec<invite_core::outbox::BatchSummary>> {
    Ok(send.outbox.unfinished()?)
}

/// What this app sent, newest batch first, filtered and paged.
#[tauri::command]
pub fn history(send: State<'_, SendState>, filter: Option<HistoryQuery>) -> CmdResult<HistoryPage> {
    Ok(send.outbox.history(&filter.unwrap_or_default())?)
}

/// Writes the history matching `filter` as CSV into the Downloads folder; returns the path.
#[tauri::command]
pub fn export_history<R: Runtime>(
    app: AppHandle<R>,
    send: State<'_, SendState>,
    filter: Option<HistoryQuery>,
    file_name: String,
) -> CmdResult<String> {
    let name = crate::files::clean_file_name(&file_name, "csv")?;
    let dir = crate::commands::downloads(&app)?;
    let csv = send.outbox.export_csv(&filter.unwrap_or_default())?;
    let path = crate::files::save_into(&dir, &name, csv.as_bytes())?;
    Ok(path.display().to_string())
}

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

/// Stops the demo server of workspace `id`, if it has one (the workspace was removed).
pub async fn stop_demo(send: &SendState, id: &str) {
    let sandbox = send.demos.lock().await.remove(id);
    if let Some(sandbox) = sandbox {
        sandbox.shutdown().await;
    }
}

/// Starts a local sandbox and adds "Demo (local sandbox)" for it.
#[tauri::command]
pub async fn start_demo(
    state: State<'_, AppState>,
    send: State<'_, SendState>,
) -> CmdResult<Workspace> {
    let sandbox = Sandbox::start(demo_config())
        .await
        .map_err(CmdError::internal)?;
    let ws = Workspace {
        id: uuid::Uuid::new_v4().to_string(),
        name: "Demo (local sandbox)".into(),
        kind: WorkspaceKind::Supabase,
        base_url: sandbox.url(),
        options: WorkspaceOptions::default(),
        demo: true,
    };
    let staged = MemoryStore::new();
    staged.set(
        &ws.id,
        names::SECRET_KEY,
        &Sensitive::new(sandbox.credentials().service_role_key.clone()),
    )?;
    let saved = crate::workspaces::save_with_secrets(&state, ws, &staged)?;
    send.demos.lock().await.insert(saved.id.clone(), sandbox);
    Ok(saved)
}

/// The demo's server lives in the app, so a new run starts a fresh one for each demo workspace
/// (on a new port, with an empty mailbox) instead of leaving the workspace pointing nowhere.
async fn revive_demos<R: Runtime>(app: AppHandle<R>) {
    let state = app.state::<AppState>();
    let send = app.state::<SendState>();
    let demos: Vec<Workspace> = match lock(&state.workspaces) {
        Ok(list) => list.workspaces.iter().filter(|w| w.demo).cloned().collect(),
        Err(_) => return,
    };
    for mut ws in demos {
        let revived = async {
            let sandbox = Sandbox::start(demo_config())
                .await
                .map_err(CmdError::internal)?;
            state.secret_store().set(
                &ws.id,
                names::SECRET_KEY,
                &Sensitive::new(sandbox.credentials().service_role_key.clone()),
            )?;
            ws.base_url = sandbox.url();
            let id = ws.id.clone();
            state.edit_workspaces(|list| list.update(ws))?;
            state.forget(&id)?;
            send.demos.lock().await.insert(id, sandbox);
            Ok::<_, CmdError>(())
        };
        if let Err(e) = revived.await {
            tracing::warn!(error = %e.message, "the demo server could not be restarted");
        }
    }
}

/// The demo's mailbox.
#[tauri::command]
pub async fn demo_mailbox(send: State<'_, SendState>, id: String) -> CmdResult<serde_json::Value> {
    let demos = send.demos.lock().await;
    let Some(sandbox) = demos.get(&id) else {
        return Ok(json!({ "restarted": true, "mail": [] }));
    };
    let mail: Vec<_> = sandbox
        .mail()
        .into_iter()
        .map(|m| json!({ "to": m.to, "kind": m.kind, "subject": m.subject, "link": m.link, "at": m.sent_at.to_rfc3339() }))
        .collect();
    Ok(json!({ "restarted": false, "mail": mail }))
}

/// Accepts an invitation as the invitee would, through the sandbox's public routes.
#[tauri::command]
pub async fn demo_accept(
    state: State<'_, AppState>,
    send: State<'_, SendState>,
    id: String,
    link: String,
) -> CmdResult<()> {
    let (url, token) = {
        let demos = send.demos.lock().await;
        demos
            .get(&id)
            .map(|s| (s.url(), s.control_token().unwrap_or_default().to_string()))
            .ok_or_else(|| CmdError::invalid("Workspace", "the demo server is not running"))?
    };
    let resp = state
        .http
        .client()
        .post(format!("{url}/__sandbox/accept"))
        .header(invite_sandbox::CONTROL_TOKEN_HEADER, token)
        .json(&json!({ "link": link, "password": "demo-password-1234" }))
        .send()
        .await
        .map_err(|e| invite_core::http::send_error(&e, false))?;
    if !resp.status().is_success() {
        return Err(CmdError::internal(format!(
            "the demo server answered {}",
            resp.status()
        )));
    }
    lock(&state.invites)?.remove(&id);
    Ok(())
}

/// Announces a change of a workspace's queue to the web view.
fn announce<R: Runtime>(app: &AppHandle<R>, workspace_id: &str, paused: Option<&str>) {
    let _ = app.emit(
        "outbox",
        json!({ "workspaceId": workspace_id, "paused": paused }),
    );
}

/// Holds a workspace's unsent invitations until the owner resumes.
#[tauri::command]
pub fn pause_workspace<R: Runtime>(
    app: AppHandle<R>,
    send: State<'_, SendState>,
    workspace_id: String,
) -> CmdResult<u32> {
    let n = send.outbox.pause_workspace(&workspace_id, "owner")?;
    announce(&app, &workspace_id, Some("owner"));
    Ok(n)
}

/// Sends a paused workspace's invitations again (each one looked up first if it may have arrived).
#[tauri::command]
pub fn resume_workspace<R: Runtime>(
    app: AppHandle<R>,
    send: State<'_, SendState>,
    workspace_id: String,
) -> CmdResult<u32> {
    let n = send.outbox.resume_workspace(&workspace_id)?;
    wake(&send);
    announce(&app, &workspace_id, None);
    Ok(n)
}

/// The way around an email limit: the batch's unsent invitations become links to copy, which
/// the server does not rate-limit. Refused where the back end cannot make links.
#[tauri::command]
pub fn switch_to_links(
    state: State<'_, AppState>,
    send: State<'_, SendState>,
    batch_id: String,
) -> CmdResult<u32> {
    let batch = send.outbox.batch(&batch_id)?;
    let provider = state.provider(&batch.workspace_id)?;
    if !provider.capabilities().copy_link {
        return Err(invite_core::Error::Unsupported {
            what: "Creating links to copy".into(),
        }
        .into());
    }
    let n = send.outbox.switch_to_links(&batch_id)?;
    wake(&send);
    Ok(n)
}

/// What "Sign in again" / "Replace key" did.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Renewed {
    /// Invitations that were waiting for it and now go out.
    resumed: u32,
}

/// Replaces a workspace's key or signs in again, then lets its paused invitations go.
#[tauri::command]
pub async fn update_secrets<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    send: State<'_, SendState>,
    workspace_id: String,
    secrets: crate::workspaces::SecretsIn,
) -> CmdResult<Renewed> {
    crate::workspaces::renew(&state, &workspace_id, &secrets).await?;
    let resumed = send.outbox.resume_workspace(&workspace_id)?;
    wake(&send);
    announce(&app, &workspace_id, None);
    Ok(Renewed { resumed })
}
