//! The one trait every back end implements.

use async_trait::async_trait;

use crate::error::{Error, Result};
use crate::model::{
    Capabilities, ConnectionReport, Invite, InvitePage, InviteRef, InviteRequest, Invited,
    ListQuery, ResendOptions, WorkspaceKind,
};

/// Upper bound on pages fetched by [`Provider::list_all`], so a misbehaving server that always
/// says "next" cannot loop forever.
pub const MAX_PAGES: u32 = 10_000;

/// A back end that can invite people to one workspace.
///
/// Implementations make every HTTP call themselves, retry only what is safe (reads, and writes
/// that provably never reached the server) and report a write whose answer was lost as
/// [`Error::Uncertain`], so that the outbox can [`Provider::find`] before sending again.
#[async_trait]
pub trait Provider: Send + Sync + std::fmt::Debug {
    /// Which service this is.
    fn kind(&self) -> WorkspaceKind;

    /// What this back end supports.
    fn capabilities(&self) -> Capabilities;

    /// Proves the credentials can invite (not only that the URL answers).
    async fn check_connection(&self) -> Result<ConnectionReport>;

    /// Invites one address. Not retried internally once the request may have been sent.
    async fn invite(&self, req: &InviteRequest) -> Result<Invited>;

    /// One page of invitations (pages start at 1).
    async fn list_page(&self, query: &ListQuery, page: u32) -> Result<InvitePage>;

    /// Every invitation matching `query`, all pages.
    async fn list_all(&self, query: &ListQuery) -> Result<Vec<Invite>> {
        let mut out = Vec::new();
        let mut page = 1;
        loop {
            let p = self.list_page(query, page).await?;
            out.extend(p.invites);
            match p.next_page {
                Some(n) if n > page && n <= MAX_PAGES => page = n,
                _ => break,
            }
        }
        Ok(out)
    }

    /// Looks an address up on the server: the invitation (any status) or `None`.
    /// The outbox calls this before re-sending anything whose answer was lost.
    async fn find(&self, email: &str) -> Result<Option<Invite>> {
        let wanted = email.trim().to_lowercase();
        let query = ListQuery {
            status: None,
            search: Some(wanted.clone()),
        };
        let all = self.list_all(&query).await?;
        // Prefer an open invitation over a cancelled record of the same address.
        let mut hits: Vec<Invite> = all
            .into_iter()
            .filter(|i| i.email.eq_ignore_ascii_case(&wanted))
            .collect();
        hits.sort_by_key(|i| i.status == crate::model::InviteStatus::Cancelled);
        Ok(hits.into_iter().next())
    }

    /// Sends a pending invitation again. Returns the invitation as it now stands (its id may
    /// change: Netlify re-creates it).
    async fn resend(&self, invite: &InviteRef, opts: &ResendOptions) -> Result<Invite>;

    /// Cancels a pending invitation. Refuses ([`Error::NotPending`]) for accepted ones, after
    /// re-checking the status on the server.
    async fn cancel(&self, invite: &InviteRef) -> Result<()>;

    /// A fresh link to copy for a pending invitation, where the back end can make one.
    async fn link(&self, invite: &InviteRef, redirect_url: Option<&str>) -> Result<String> {
        let _ = (invite, redirect_url);
        Err(Error::Unsupported {
            what: "Copying an invitation link".into(),
        })
    }
}
