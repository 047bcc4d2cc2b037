//! The commands the web view calls. Each one checks its arguments, calls the core (or a shell
//! module that strings core calls together) and maps the error. Commands take a workspace id
//! and never return a secret.

use serde::Serialize;
use tauri::State;

use invite_core::model::{Invite, InviteRef};
use invite_core::parse::{ParseCounts, ParseResult};
use invite_core::workspace::{ConnectionSettings, Workspace, WorkspaceSettings};

use crate::error::{CmdError, CmdResult};
use crate::invitations::{self, InvitationQuery, InvitationView};
use crate::state::{lock, AppState, KeychainView};
use crate::workspaces::{self, SecretsIn, WorkspaceDraft};

/// Largest paste accepted (about 100,000 lines of addresses).
pub const MAX_PASTE_BYTES: usize = 8 * 1024 * 1024;
/// Largest file accepted.
pub const MAX_FILE_BYTES: usize = 16 * 1024 * 1024;

fn check_id(id: &str) -> CmdResult<()> {
    if id.trim().is_empty() {
        return Err(CmdError::invalid("Workspace", "no workspace was chosen"));
    }
    if id.len() > 100 || id.chars().any(|c| c.is_control() || c == '/') {
        return Err(CmdError::invalid("Workspace", "this is not a workspace id"));
    }
    Ok(())
}

fn check_invite_ref(r: &InviteRef) -> CmdResult<()> {
    if r.id.trim().is_empty() || r.id.len() > 200 {
        return Err(CmdError::invalid("Invitation", "no invitation was chosen"));
    }
    if r.email.trim().is_empty() || r.email.len() > 320 {
        return Err(CmdError::invalid(
            "Invitation",
            "the invitation has no address",
        ));
    }
    Ok(())
}

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
    pub load_error: Option<CmdError>,
}

#[tauri::command]
pub fn app_info(state: State<'_, AppState>) -> CmdResult<AppInfo> {
    Ok(AppInfo {
        version: env!("CARGO_PKG_VERSION").to_string(),
        theme: state.config.theme.clone(),
        record_ipc: state.config.record_ipc,
        keychain: lock(&state.keychain)?.clone(),
        load_error: state.load_error.clone(),
    })
}

/// "Use for this session only" on the no-keychain banner.
#[tauri::command]
pub fn use_session_store(state: State<'_, AppState>) -> CmdResult<KeychainView> {
    state.use_session_store()?;
    Ok(lock(&state.keychain)?.clone())
}

/// The support bundle for "Copy diagnostics" (no secret in it).
#[tauri::command]
pub fn diagnostics(state: State<'_, AppState>) -> CmdResult<String> {
    crate::logging::support_text(&state)
}

// ---------------------------------------------------------------- workspaces

/// The workspace list for the UI.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceListView {
    /// Every workspace (no secrets: [`Workspace`] has none).
    pub workspaces: Vec<Workspace>,
    /// The current one.
    pub current_id: Option<String>,
}

#[tauri::command]
pub fn list_workspaces(state: State<'_, AppState>) -> CmdResult<WorkspaceListView> {
    let list = lock(&state.workspaces)?;
    Ok(WorkspaceListView {
        workspaces: list.workspaces.clone(),
        current_id: list.current.clone(),
    })
}

/// What the Invite and Invitations screens need to know about a workspace.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceDetails {
    /// The workspace.
    pub workspace: Workspace,
    /// What its back end can do (options not offered are not shown).
    pub capabilities: invite_core::model::Capabilities,
}

#[tauri::command]
pub fn workspace_details(state: State<'_, AppState>, id: String) -> CmdResult<WorkspaceDetails> {
    check_id(&id)?;
    let workspace = state.workspace(&id)?;
    let capabilities = state.provider(&id)?.capabilities();
    Ok(WorkspaceDetails {
        workspace,
        capabilities,
    })
}

#[tauri::command]
pub fn set_current_workspace(state: State<'_, AppState>, id: String) -> CmdResult<()> {
    check_id(&id)?;
    state.edit_workspaces(|list| list.set_current(&id))
}

#[tauri::command]
pub fn rename_workspace(
    state: State<'_, AppState>,
    id: String,
    name: String,
) -> CmdResult<Workspace> {
    check_id(&id)?;
    state.edit_workspaces(|list| list.rename(&id, &name))?;
    state.workspace(&id)
}

/// Changes a workspace's settings (default redirect, link lifetime, requests at once).
#[tauri::command]
pub fn edit_workspace(
    state: State<'_, AppState>,
    id: String,
    settings: WorkspaceSettings,
) -> CmdResult<Workspace> {
    check_id(&id)?;
    state.edit_workspaces(|list| {
        let mut ws = list
            .get(&id)
            .cloned()
            .ok_or_else(|| invite_core::Error::UnknownWorkspace { id: id.clone() })?;
        ws.apply_settings(&settings)?;
        list.update(ws)
    })?;
    state.forget(&id)?;
    state.workspace(&id)
}

/// Corrects where and how a saved workspace reaches its server. The change is checked against
/// the server with the keys already in the keychain, and saved only if they can still invite.
#[tauri::command]
pub async fn edit_connection(
    state: State<'_, AppState>,
    id: String,
    settings: ConnectionSettings,
) -> CmdResult<Workspace> {
    check_id(&id)?;
    workspaces::edit_connection(&state, &id, &settings).await
}

#[tauri::command]
pub async fn remove_workspace(
    state: State<'_, AppState>,
    send: State<'_, crate::send::SendState>,
    id: String,
) -> CmdResult<()> {
    check_id(&id)?;
    workspaces::remove(&state, &id)?;
    // A removed demo's server must not keep listening.
    crate::send::stop_demo(&send, &id).await;
    Ok(())
}

#[tauri::command]
pub async fn test_connection(
    state: State<'_, AppState>,
    draft: WorkspaceDraft,
    secrets: SecretsIn,
) -> CmdResult<workspaces::Tested> {
    workspaces::test_connection(&state, &draft, &secrets).await
}

#[tauri::command]
pub async fn add_workspace(
    state: State<'_, AppState>,
    draft: WorkspaceDraft,
    secrets: SecretsIn,
    check_id: Option<String>,
) -> CmdResult<Workspace> {
    workspaces::add(&state, &draft, &secrets, check_id.as_deref()).await
}

/// The Netlify function's source, shown in the add flow.
#[tauri::command]
pub fn netlify_function() -> &'static str {
    crate::files::NETLIFY_FUNCTION
}

/// Saves the Netlify function into the Downloads folder; returns where.
#[tauri::command]
pub fn save_netlify_function<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    file_name: String,
) -> CmdResult<String> {
    let name = crate::files::clean_file_name(&file_name, "mjs")?;
    let dir = downloads(&app)?;
    let path = crate::files::save_into(&dir, &name, crate::files::NETLIFY_FUNCTION.as_bytes())?;
    Ok(path.display().to_string())
}

/// The Downloads folder (or the home folder where there is none).
pub fn downloads<R: tauri::Runtime>(app: &tauri::AppHandle<R>) -> CmdResult<std::path::PathBuf> {
    use tauri::Manager;
    app.path()
        .download_dir()
        .or_else(|_| app.path().home_dir())
        .map_err(CmdError::internal)
}

// ---------------------------------------------------------------- parsing

/// A parse result with its counts, for the chips.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ParsedView {
    /// Every piece, in order.
    #[serde(flatten)]
    pub result: ParseResult,
    /// How many of each.
    pub counts: ParseCounts,
    /// True when the workspace's invitation list was known and used to mark addresses.
    pub checked_against_list: bool,
}

/// Parses a paste; the result stays in Rust (see [`crate::paste`]): the page gets the counts and
/// the first `limit` rows.
#[tauri::command]
pub fn parse_recipients(
    state: State<'_, AppState>,
    parses: State<'_, crate::paste::Parses>,
    workspace_id: Option<String>,
    text: String,
    limit: Option<usize>,
) -> CmdResult<crate::paste::ParsedPage> {
    if text.len() > MAX_PASTE_BYTES {
        return Err(CmdError::invalid(
            "Addresses",
            "this list is too long; split it into lists under 8 MB",
        ));
    }
    let view = invitations::parsed(
        &state,
        workspace_id.as_deref(),
        invite_core::parse::parse_recipients(&text),
    )?;
    Ok(parses.keep(view, limit, false))
}

/// Reads a CSV or TXT file; like [`parse_recipients`], plus the entries as paste-box lines.
#[tauri::command]
pub fn parse_csv(
    state: State<'_, AppState>,
    parses: State<'_, crate::paste::Parses>,
    workspace_id: Option<String>,
    bytes: Vec<u8>,
    limit: Option<usize>,
) -> CmdResult<crate::paste::ParsedPage> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(CmdError::invalid(
            "File",
            "this file is too large; use a file under 16 MB",
        ));
    }
    let view = invitations::parsed(
        &state,
        workspace_id.as_deref(),
        invite_core::parse::parse_csv(&bytes),
    )?;
    Ok(parses.keep(view, limit, true))
}

// ---------------------------------------------------------------- invitations

#[tauri::command]
pub async fn refresh_invitations(
    state: State<'_, AppState>,
    workspace_id: String,
) -> CmdResult<InvitationView> {
    check_id(&workspace_id)?;
    invitations::refresh(&state, &workspace_id).await?;
    invitations::query(&state, &workspace_id, &InvitationQuery::default())
}

#[tauri::command]
pub fn query_invitations(
    state: State<'_, AppState>,
    workspace_id: String,
    query: InvitationQuery,
) -> CmdResult<InvitationView> {
    check_id(&workspace_id)?;
    invitations::query(&state, &workspace_id, &query)
}

#[tauri::command]
pub async fn resend_invite(
    state: State<'_, AppState>,
    workspace_id: String,
    invite: InviteRef,
) -> CmdResult<Invite> {
    check_id(&workspace_id)?;
    check_invite_ref(&invite)?;
    invitations::resend(&state, &workspace_id, &invite).await
}

#[tauri::command]
pub async fn cancel_invite(
    state: State<'_, AppState>,
    workspace_id: String,
    invite: InviteRef,
) -> CmdResult<()> {
    check_id(&workspace_id)?;
    check_invite_ref(&invite)?;
    invitations::cancel(&state, &workspace_id, &invite).await
}

#[tauri::command]
pub async fn invite_link(
    state: State<'_, AppState>,
    workspace_id: String,
    invite: InviteRef,
) -> CmdResult<String> {
    check_id(&workspace_id)?;
    check_invite_ref(&invite)?;
    let provider = state.provider(&workspace_id)?;
    Ok(provider.link(&invite, None).await?)
}
