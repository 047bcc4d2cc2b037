//! The Invitations screen's data: the list fetched once per refresh and paged locally with
//! `filter_invites` (so 10,000 rows stay fast), plus resend and cancel, which update the cached
//! row so the screen shows the change without a full refresh.

use invite_core::filter::{filter_invites, mark_known, FilteredInvites, InviteFilter, SortOrder};
use invite_core::model::{Invite, InviteRef, InviteStatus, ListQuery, ResendOptions};
use invite_core::parse::ParseResult;
use serde::{Deserialize, Serialize};

use crate::commands::ParsedView;
use crate::error::{CmdError, CmdResult};
use crate::state::{lock, AppState, CachedInvites};

/// Most rows one page may ask for.
pub const MAX_PAGE: usize = 500;

/// What the Invitations screen asks for.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct InvitationQuery {
    /// Only this status.
    pub status: Option<InviteStatus>,
    /// Words to find in the address or name.
    pub search: String,
    /// Order.
    pub sort: SortOrder,
    /// Rows to skip.
    pub offset: usize,
    /// Rows per page (default 100, at most [`MAX_PAGE`]).
    pub limit: Option<usize>,
}

/// One page of the list plus what the screen shows around it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InvitationView {
    /// The page, counts by status, total matching.
    #[serde(flatten)]
    pub page: FilteredInvites,
    /// When the list was fetched from the server (`None`: never).
    pub fetched_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Fetches every invitation of the workspace and keeps it.
pub async fn refresh(state: &AppState, ws_id: &str) -> CmdResult<()> {
    let provider = state.provider(ws_id)?;
    let invites = provider.list_all(&ListQuery::default()).await?;
    tracing::info!(workspace = %ws_id, count = invites.len(), "invitation list refreshed");
    lock(&state.invites)?.insert(
        ws_id.to_string(),
        CachedInvites {
            invites,
            fetched_at: Some(chrono::Utc::now()),
        },
    );
    Ok(())
}

/// A page of the cached list.
pub fn query(state: &AppState, ws_id: &str, q: &InvitationQuery) -> CmdResult<InvitationView> {
    state.workspace(ws_id)?;
    let limit = q.limit.unwrap_or(invite_core::filter::DEFAULT_LIMIT);
    if limit == 0 || limit > MAX_PAGE {
        return Err(CmdError::invalid(
            "Rows per page",
            format!("choose from 1 to {MAX_PAGE}"),
        ));
    }
    if q.search.len() > 500 {
        return Err(CmdError::invalid("Search", "use fewer words"));
    }
    let cache = lock(&state.invites)?;
    let cached = cache.get(ws_id).cloned().unwrap_or_default();
    drop(cache);
    let filter = InviteFilter {
        status: q.status,
        search: q.search.clone(),
        sort: q.sort,
        offset: q.offset,
        limit,
    };
    Ok(InvitationView {
        page: filter_invites(&cached.invites, &filter),
        fetched_at: cached.fetched_at,
    })
}

/// Replaces (or adds) a row in the cache after an action.
fn update_cached(
    state: &AppState,
    ws_id: &str,
    old_id: &str,
    row: Option<Invite>,
) -> CmdResult<()> {
    let mut cache = lock(&state.invites)?;
    if let Some(c) = cache.get_mut(ws_id) {
        match row {
            Some(new) => match c.invites.iter_mut().find(|i| i.id == old_id) {
                Some(slot) => *slot = new,
                None => c.invites.push(new),
            },
            None => c.invites.retain(|i| i.id != old_id),
        }
    }
    Ok(())
}

/// Adds the rows the outbox just created, so the list and the chips know them before a refresh.
pub fn remember(state: &AppState, ws_id: &str, invite: Invite) -> CmdResult<()> {
    let mut cache = lock(&state.invites)?;
    let c = cache.entry(ws_id.to_string()).or_default();
    match c
        .invites
        .iter_mut()
        .find(|i| i.email.eq_ignore_ascii_case(&invite.email))
    {
        Some(slot) => *slot = invite,
        None => c.invites.push(invite),
    }
    Ok(())
}

/// Sends a pending invitation again.
pub async fn resend(state: &AppState, ws_id: &str, r: &InviteRef) -> CmdResult<Invite> {
    let provider = state.provider(ws_id)?;
    let invite = provider.resend(r, &ResendOptions::default()).await?;
    tracing::info!(workspace = %ws_id, "invitation re-sent");
    update_cached(state, ws_id, &r.id, Some(invite.clone()))?;
    Ok(invite)
}

/// Cancels a pending invitation (the provider re-checks it is not accepted).
pub async fn cancel(state: &AppState, ws_id: &str, r: &InviteRef) -> CmdResult<()> {
    let provider = state.provider(ws_id)?;
    provider.cancel(r).await?;
    tracing::info!(workspace = %ws_id, "invitation cancelled");
    // Back ends that keep cancelled records show them under Cancelled; GoTrue deletes the user.
    let cancelled = lock(&state.invites)?
        .get(ws_id)
        .and_then(|c| c.invites.iter().find(|i| i.id == r.id).cloned())
        .map(|mut i| {
            i.status = InviteStatus::Cancelled;
            i
        });
    let keep = !matches!(
        state.workspace(ws_id)?.kind,
        invite_core::model::WorkspaceKind::Supabase
            | invite_core::model::WorkspaceKind::Gotrue
            | invite_core::model::WorkspaceKind::Netlify
    );
    update_cached(state, ws_id, &r.id, if keep { cancelled } else { None })
}

/// Marks pasted addresses already invited or members, when the workspace's list is known.
pub fn parsed(
    state: &AppState,
    ws_id: Option<&str>,
    mut result: ParseResult,
) -> CmdResult<ParsedView> {
    let mut checked = false;
    if let Some(id) = ws_id.filter(|id| !id.is_empty()) {
        let cache = lock(&state.invites)?;
        if let Some(c) = cache.get(id).filter(|c| c.fetched_at.is_some()) {
            mark_known(&mut result, &c.invites);
            checked = true;
        }
    }
    let counts = result.counts();
    Ok(ParsedView {
        result,
        counts,
        checked_against_list: checked,
    })
}
