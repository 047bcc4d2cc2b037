//! The commands the web view calls. Each one is a line over [`invite_core::desk::Desk`]: take
//! the arguments, call the desk, map the error. Commands take a workspace id and never return
//! a secret.
//!
//! A plain `fn` command runs on the window's main thread, the thread that also paints and answers
//! the page. Every command that reads the outbox, the settings file or the keychain is therefore
//! `#[tauri::command(async)]`, which runs it on the async runtime's threads instead: in a big
//! batch the page polls progress several times a second while the worker writes, and a query
//! waiting there must not freeze typing and scrolling.

use serde::Serialize;
use tauri::State;

use invite_core::desk::{
    BatchStatus, ErrorView, InvitationQuery, InvitationView, InviteOptions, KeychainView,
    ParsedPage, SecretsIn, SettingsNotice, Tested, WorkspaceDetails, WorkspaceDraft,
    WorkspaceListView,
};
use invite_core::model::{Invite, InviteRef};
use invite_core::parse::Entry;
use invite_core::workspace::{ConnectionSettings, Workspace, WorkspaceSettings};

use crate::error::CmdResult;
use crate::state::AppState;

// ---------------------------------------------------------------- app

/// What the UI needs at start.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    /// App version.
    pub version: String,
    /// Forced theme, if any.
    pub theme: Option<String>,
    /// Record IPC answers for the leak test.
    pub record_ipc: bool,
    /// Where secrets are kept.
    pub keychain: KeychainView,
    /// Why the saved workspace list could not be read, if it could not.
    pub load_error: Option<ErrorView>,
    /// What happened to the settings file (repaired, newer, a workspace that fails checks).
    pub notices: Vec<SettingsNotice>,
}

#[tauri::command(async)]
pub fn app_info(state: State<'_, AppState>) -> CmdResult<AppInfo> {
    Ok(AppInfo {
        version: env!("CARGO_PKG_VERSION").to_string(),
        theme: state.config.theme.clone(),
        record_ipc: state.config.record_ipc,
        keychain: state.desk.keychain()?,
        load_error: state.desk.load_error(),
        notices: state.desk.notices(),
    })
}

/// "Use for this session only" on the no-keychain banner.
#[tauri::command(async)]
pub fn use_session_store(state: State<'_, AppState>) -> CmdResult<KeychainView> {
    Ok(state.desk.use_session_store()?)
}

/// The support bundle for "Copy diagnostics" (no secret in it).
#[tauri::command(async)]
pub fn diagnostics(state: State<'_, AppState>) -> CmdResult<String> {
    Ok(state.desk.diagnostics()?)
}

// ---------------------------------------------------------------- workspaces

#[tauri::command(async)]
pub fn list_workspaces(state: State<'_, AppState>) -> CmdResult<WorkspaceListView> {
    Ok(state.desk.workspaces()?)
}

#[tauri::command(async)]
pub fn workspace_details(state: State<'_, AppState>, id: String) -> CmdResult<WorkspaceDetails> {
    Ok(state.desk.workspace_details(&id)?)
}

#[tauri::command(async)]
pub fn set_current_workspace(state: State<'_, AppState>, id: String) -> CmdResult<()> {
    Ok(state.desk.set_current_workspace(&id)?)
}

#[tauri::command(async)]
pub fn rename_workspace(
    state: State<'_, AppState>,
    id: String,
    name: String,
) -> CmdResult<Workspace> {
    Ok(state.desk.rename_workspace(&id, &name)?)
}

/// Changes a workspace's settings (default redirect, link lifetime, requests at once).
#[tauri::command(async)]
pub fn edit_workspace(
    state: State<'_, AppState>,
    id: String,
    settings: WorkspaceSettings,
) -> CmdResult<Workspace> {
    Ok(state.desk.edit_workspace(&id, &settings)?)
}

/// Corrects where and how a saved workspace reaches its server: checked before it is saved;
/// a new server (scheme, host, port) needs `secrets` again.
#[tauri::command]
pub async fn edit_connection(
    state: State<'_, AppState>,
    id: String,
    settings: ConnectionSettings,
    secrets: Option<SecretsIn>,
) -> CmdResult<Workspace> {
    let secrets = secrets.unwrap_or_default();
    Ok(state.desk.edit_connection(&id, &settings, &secrets).await?)
}

#[tauri::command]
pub async fn remove_workspace(state: State<'_, AppState>, id: String) -> CmdResult<()> {
    state.desk.remove_workspace(&id).await?;
    Ok(())
}

#[tauri::command]
pub async fn test_connection(
    state: State<'_, AppState>,
    draft: WorkspaceDraft,
    secrets: SecretsIn,
) -> CmdResult<Tested> {
    Ok(state.desk.test_workspace(&draft, &secrets).await?)
}

#[tauri::command]
pub async fn add_workspace(
    state: State<'_, AppState>,
    draft: WorkspaceDraft,
    secrets: SecretsIn,
    check_id: Option<String>,
) -> CmdResult<Workspace> {
    Ok(state
        .desk
        .add_workspace(&draft, &secrets, check_id.as_deref())
        .await?)
}

/// Whether a passed "Test connection" still stands for the edited draft (only its name or
/// sending settings changed), so Save needs no secret.
#[tauri::command(async)]
pub fn check_covers(
    state: State<'_, AppState>,
    check_id: String,
    draft: WorkspaceDraft,
) -> CmdResult<bool> {
    Ok(state.desk.check_covers(&check_id, &draft)?)
}

/// Every back end's forms, in order: the "Add workspace" form and the settings dialog are drawn
/// from them (no secret in them: they say which secrets a back end needs, never hold one).
#[tauri::command]
pub fn workspace_forms() -> Vec<invite_core::providers::form::BackendForm> {
    invite_core::providers::form::all()
}

/// The Netlify function's source, shown in the add flow.
#[tauri::command]
pub fn netlify_function() -> &'static str {
    crate::files::NETLIFY_FUNCTION
}

/// Saves the Netlify function into the Downloads folder; returns where.
#[tauri::command(async)]
pub fn save_netlify_function<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    file_name: String,
) -> CmdResult<String> {
    use invite_core::desk::files;
    let name = files::clean_file_name(&file_name, "mjs")?;
    let dir = crate::files::downloads(&app)?;
    let path = files::save_new(&dir, &name, crate::files::NETLIFY_FUNCTION.as_bytes())?;
    Ok(path.display().to_string())
}

// ---------------------------------------------------------------- parsing

/// Parses a paste; the result stays in Rust (see `invite_core::desk::paste`): the page gets
/// the counts and the first `limit` rows.
#[tauri::command(async)]
pub fn parse_recipients(
    state: State<'_, AppState>,
    workspace_id: Option<String>,
    text: String,
    limit: Option<usize>,
) -> CmdResult<ParsedPage> {
    Ok(state
        .desk
        .parse_text_kept(workspace_id.as_deref(), &text, limit)?)
}

/// Reads a CSV or TXT file; like [`parse_recipients`], plus the entries as paste-box lines.
#[tauri::command(async)]
pub fn parse_csv(
    state: State<'_, AppState>,
    workspace_id: Option<String>,
    bytes: Vec<u8>,
    limit: Option<usize>,
) -> CmdResult<ParsedPage> {
    Ok(state
        .desk
        .parse_csv_kept(workspace_id.as_deref(), &bytes, limit)?)
}

/// Entries `offset..offset + limit` of parse `parse_id`.
#[tauri::command(async)]
pub fn parsed_entries(
    state: State<'_, AppState>,
    parse_id: u64,
    offset: usize,
    limit: usize,
) -> CmdResult<Vec<Entry>> {
    Ok(state.desk.parsed_entries(parse_id, offset, limit)?)
}

/// Invites every valid address of parse `parse_id` with `options`.
#[tauri::command(async)]
pub fn enqueue_parsed(
    state: State<'_, AppState>,
    workspace_id: String,
    parse_id: u64,
    options: InviteOptions,
) -> CmdResult<BatchStatus> {
    Ok(state
        .desk
        .enqueue_parsed(&workspace_id, parse_id, &options)?)
}

// ---------------------------------------------------------------- invitations

#[tauri::command]
pub async fn refresh_invitations(
    state: State<'_, AppState>,
    workspace_id: String,
) -> CmdResult<InvitationView> {
    Ok(state.desk.refresh_invitations(&workspace_id).await?)
}

#[tauri::command(async)]
pub fn query_invitations(
    state: State<'_, AppState>,
    workspace_id: String,
    query: InvitationQuery,
) -> CmdResult<InvitationView> {
    Ok(state.desk.query_invitations(&workspace_id, &query)?)
}

#[tauri::command]
pub async fn resend_invite(
    state: State<'_, AppState>,
    workspace_id: String,
    invite: InviteRef,
) -> CmdResult<Invite> {
    Ok(state.desk.resend_invite(&workspace_id, &invite).await?)
}

#[tauri::command]
pub async fn cancel_invite(
    state: State<'_, AppState>,
    workspace_id: String,
    invite: InviteRef,
) -> CmdResult<()> {
    Ok(state.desk.cancel_invite(&workspace_id, &invite).await?)
}

#[tauri::command]
pub async fn invite_link(
    state: State<'_, AppState>,
    workspace_id: String,
    invite: InviteRef,
) -> CmdResult<String> {
    Ok(state.desk.invite_link(&workspace_id, &invite).await?)
}
