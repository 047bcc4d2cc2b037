//! Invitations: the list fetched once per refresh and paged locally with
//! [`filter_invites`] (so 10,000 rows stay fast), resend, cancel and copy-link, which update the
//! cached row so a front end shows the change without a full refresh; and the paste parser,
//! which marks addresses already known.

use serde::{Deserialize, Serialize};

use super::{lock, Desk};
use crate::error::{Error, Result};
use crate::filter::{filter_invites, mark_known, FilteredInvites, InviteFilter, SortOrder};
use crate::model::{Invite, InviteRef, InviteStatus, ListQuery, ResendOptions, WorkspaceKind};
use crate::parse::{ParseCounts, ParseResult};

/// Most rows one page may ask for.
pub const MAX_PAGE: usize = 500;
/// Largest paste accepted (about 100,000 lines of addresses).
pub const MAX_PASTE_BYTES: usize = 8 * 1024 * 1024;
/// Largest file accepted.
pub const MAX_FILE_BYTES: usize = 16 * 1024 * 1024;

/// The invitation list last fetched for a workspace.
#[derive(Debug, Clone, Default)]
pub(crate) struct CachedInvites {
    invites: Vec<Invite>,
    fetched_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Which invitations to show.
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

/// One page of the list plus when it was fetched.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InvitationView {
    /// The page, counts by status, total matching.
    #[serde(flatten)]
    pub page: FilteredInvites,
    /// When the list was fetched from the server (`None`: never).
    pub fetched_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A parse result with its counts.
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

fn check_ref(r: &InviteRef) -> Result<()> {
    if r.id.trim().is_empty() || r.id.len() > 200 {
        return Err(Error::invalid_input(
            "Invitation",
            "no invitation was chosen",
        ));
    }
    if r.email.trim().is_empty() || r.email.len() > 320 {
        return Err(Error::invalid_input(
            "Invitation",
            "the invitation has no address",
        ));
    }
    Ok(())
}

impl Desk {
    /// Fetches every invitation of the workspace, keeps the list, and returns its first page.
    pub async fn refresh_invitations(&self, ws_id: &str) -> Result<InvitationView> {
        let provider = self.provider(ws_id)?;
        let invites = provider.list_all(&ListQuery::default()).await?;
        tracing::info!(workspace = %ws_id, count = invites.len(), "invitation list refreshed");
        lock(&self.inner.invites)?.insert(
            ws_id.to_string(),
            CachedInvites {
                invites,
                fetched_at: Some(chrono::Utc::now()),
            },
        );
        self.query_invitations(ws_id, &InvitationQuery::default())
    }

    /// A page of the list last fetched (empty, with `fetched_at: None`, before any refresh).
    pub fn query_invitations(&self, ws_id: &str, q: &InvitationQuery) -> Result<InvitationView> {
        self.workspace(ws_id)?;
        let limit = q.limit.unwrap_or(crate::filter::DEFAULT_LIMIT);
        if limit == 0 || limit > MAX_PAGE {
            return Err(Error::invalid_input(
                "Rows per page",
                format!("choose from 1 to {MAX_PAGE}"),
            ));
        }
        if q.search.len() > 500 {
            return Err(Error::invalid_input("Search", "use fewer words"));
        }
        let cached = lock(&self.inner.invites)?
            .get(ws_id)
            .cloned()
            .unwrap_or_default();
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

    /// Replaces (or adds, or with `None` removes) a row in the cache after an action.
    fn update_cached(&self, ws_id: &str, old_id: &str, row: Option<Invite>) -> Result<()> {
        let mut cache = lock(&self.inner.invites)?;
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

    /// Forgets a workspace's cached list (the next query shows it as never fetched).
    pub(crate) fn forget_invitations(&self, ws_id: &str) -> Result<()> {
        lock(&self.inner.invites)?.remove(ws_id);
        Ok(())
    }

    /// Sends a pending invitation again.
    pub async fn resend_invite(&self, ws_id: &str, r: &InviteRef) -> Result<Invite> {
        check_ref(r)?;
        let provider = self.provider(ws_id)?;
        let invite = provider.resend(r, &ResendOptions::default()).await?;
        tracing::info!(workspace = %ws_id, "invitation re-sent");
        self.update_cached(ws_id, &r.id, Some(invite.clone()))?;
        Ok(invite)
    }

    /// Cancels a pending invitation (the provider re-checks it is not accepted).
    pub async fn cancel_invite(&self, ws_id: &str, r: &InviteRef) -> Result<()> {
        check_ref(r)?;
        let provider = self.provider(ws_id)?;
        provider.cancel(r).await?;
        tracing::info!(workspace = %ws_id, "invitation cancelled");
        // Back ends that keep cancelled records show them under Cancelled; GoTrue deletes the user.
        let cancelled = lock(&self.inner.invites)?
            .get(ws_id)
            .and_then(|c| c.invites.iter().find(|i| i.id == r.id).cloned())
            .map(|mut i| {
                i.status = InviteStatus::Cancelled;
                i
            });
        let keep = !matches!(
            self.workspace(ws_id)?.kind(),
            WorkspaceKind::Supabase | WorkspaceKind::Gotrue | WorkspaceKind::Netlify
        );
        self.update_cached(ws_id, &r.id, if keep { cancelled } else { None })
    }

    /// The sign-up link of a pending invitation, to copy.
    pub async fn invite_link(&self, ws_id: &str, r: &InviteRef) -> Result<String> {
        check_ref(r)?;
        self.provider(ws_id)?.link(r, None).await
    }

    /// Parses a pasted list; addresses already invited or members are marked when the
    /// workspace's list is known.
    pub fn parse_text(&self, ws_id: Option<&str>, text: &str) -> Result<ParsedView> {
        if text.len() > MAX_PASTE_BYTES {
            return Err(Error::invalid_input(
                "Addresses",
                "this list is too long; split it into lists under 8 MB",
            ));
        }
        self.parsed(ws_id, crate::parse::parse_recipients(text))
    }

    /// Parses a CSV file, like [`Self::parse_text`].
    pub fn parse_csv(&self, ws_id: Option<&str>, bytes: &[u8]) -> Result<ParsedView> {
        if bytes.len() > MAX_FILE_BYTES {
            return Err(Error::invalid_input(
                "File",
                "this file is too large; use a file under 16 MB",
            ));
        }
        self.parsed(ws_id, crate::parse::parse_csv(bytes))
    }

    fn parsed(&self, ws_id: Option<&str>, mut result: ParseResult) -> Result<ParsedView> {
        let mut checked = false;
        if let Some(id) = ws_id.filter(|id| !id.is_empty()) {
            let cache = lock(&self.inner.invites)?;
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
}
