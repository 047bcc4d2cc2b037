//! Royalti: one sign-in, then the owner ticks the workspaces to add. The sign-in's tokens (and
//! the password, when "keep me signed in" is ticked) stay in the desk, in memory, between the
//! two steps; the web view only gets an id for the sign-in.

use invite_core::desk::RoyaltiSignInView;
use invite_core::secret::Sensitive;
use invite_core::workspace::Workspace;
use tauri::State;

use crate::error::CmdResult;
use crate::state::AppState;

/// Signs in to Royalti and lists the account's workspaces with the owner's role in each.
#[tauri::command]
pub async fn royalti_sign_in(
    state: State<'_, AppState>,
    base_url: String,
    email: String,
    password: String,
) -> CmdResult<RoyaltiSignInView> {
    Ok(state
        .desk
        .royalti_sign_in(&base_url, &email, Sensitive::new(password))
        .await?)
}

/// Adds the picked workspaces of a sign-in: each gets its own token, is checked, then saved.
#[tauri::command]
pub async fn royalti_add(
    state: State<'_, AppState>,
    sign_in_id: String,
    picks: Vec<String>,
    keep_signed_in: bool,
) -> CmdResult<Vec<Workspace>> {
    Ok(state
        .desk
        .royalti_add(&sign_in_id, &picks, keep_signed_in)
        .await?)
}
