//! The operations whose rules are the same for every GoTrue back end (cancel only while
//! pending, after re-reading the user; resend; copy a link), written once over [`AdminApi`].

use std::time::Duration;

use chrono::Utc;
use serde_json::{json, Value};

use super::admin::AdminApi;
use super::wire::{to_invite, Dialect, GotrueUser, MESSAGE_KEY, PER_PAGE};
use crate::error::{Error, Result};
use crate::model::{
    Invite, InvitePage, InviteRef, InviteRequest, InviteStatus, Invited, ListQuery, ResendOptions,
};

fn message_data(message: Option<&str>) -> Option<Value> {
    message
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .map(|m| json!({ MESSAGE_KEY: m }))
}

/// Supabase's `/invite` answers the same for a new user and a re-invited pending one; a user
/// created well before this invitation was already there.
fn existed_before(user: &GotrueUser) -> bool {
    match (
        user.created_at,
        user.invited_at.or(user.confirmation_sent_at),
    ) {
        (Some(created), Some(sent)) => sent - created > chrono::Duration::seconds(2),
        _ => false,
    }
}

/// Looks one address up among the server's users (any status, invited or not).
pub async fn find_user(api: &dyn AdminApi, email: &str) -> Result<Option<GotrueUser>> {
    let wanted = email.trim().to_lowercase();
    let mut page = 1;
    loop {
        let p = api.list_users(page, PER_PAGE, Some(&wanted)).await?;
        if let Some(u) = p
            .users
            .into_iter()
            .find(|u| u.email_lower() == wanted && u.deleted_at.is_none())
        {
            return Ok(Some(u));
        }
        match p.next_page {
            Some(n) if n > page && n <= crate::provider::MAX_PAGES => page = n,
            _ => return Ok(None),
        }
    }
}

/// Invites one address: an email (`/invite`), or on Supabase with `send_email` off a link to copy
/// (`generate_link`, no email, not email-rate-limited). The message goes in `data.invite_message`.
pub async fn invite(
    api: &dyn AdminApi,
    req: &InviteRequest,
    lifetime: Option<Duration>,
) -> Result<Invited> {
    let email = req.email.trim().to_lowercase();
    let data = message_data(req.message.as_deref());
    let redirect = req
        .redirect_url
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    let dialect = api.dialect();
    if dialect == Dialect::Netlify && !req.send_email {
        return Err(Error::Unsupported {
            what: "Inviting without sending an email".into(),
        });
    }
    let result = if req.send_email {
        api.create_invite(&email, data.as_ref(), redirect)
            .await
            .map(|u| (u, None))
    } else {
        api.generate_invite_link(&email, data.as_ref(), redirect)
            .await
            .map(|(u, l)| (u, Some(l)))
    };
    match result {
        Ok((user, link)) => Ok(Invited {
            replaced_existing: existed_before(&user),
            invite: to_invite(&user, lifetime, Utc::now()),
            link,
        }),
        // Netlify refuses any existing address with the same words; tell a member from a pending
        // invitation so the owner knows whether Resend helps.
        Err(Error::AlreadyMember { email: _, detail }) if dialect == Dialect::Netlify => {
            match find_user(api, &email).await {
                Ok(Some(u)) if to_invite(&u, lifetime, Utc::now()).status.is_open() => Err(Error::Rejected {
                    status: 422,
                    message: format!("{email} already has a pending invitation. Use Resend to send it again."),
                }),
                _ => Err(Error::AlreadyMember { email, detail }),
            }
        }
        Err(e) => Err(e),
    }
}

/// One page of invitations: users with `invited_at`, searched by address on the server, filtered
/// by status here (GoTrue cannot).
pub async fn list_page(
    api: &dyn AdminApi,
    query: &ListQuery,
    page: u32,
    lifetime: Option<Duration>,
) -> Result<InvitePage> {
    let search = query
        .search
        .as_deref()
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty());
    let p = api
        .list_users(page.max(1), PER_PAGE, search.as_deref())
        .await?;
    let now = Utc::now();
    let invites = p
        .users
        .iter()
        .filter(|u| u.is_invitation())
        .map(|u| to_invite(u, lifetime, now))
        .filter(|i| query.status.is_none_or(|s| s == i.status))
        .filter(|i| search.as_deref().is_none_or(|s| i.email.contains(s)))
        .collect();
    Ok(InvitePage {
        invites,
        total: p.total,
        next_page: p.next_page.filter(|n| *n > page),
    })
}

/// Re-reads the invitation on the server and refuses unless it is still open.
async fn open_invitation(
    api: &dyn AdminApi,
    r: &InviteRef,
    lifetime: Option<Duration>,
    action: &str,
) -> Result<GotrueUser> {
    let user = api.get_user(&r.id).await?;
    if !r.email.trim().is_empty() && !user.email_lower().eq_ignore_ascii_case(r.email.trim()) {
        return Err(Error::NotFound {
            detail: Some(format!(
                "user {} now belongs to another address, not {}",
                r.id, r.email
            )),
        });
    }
    // A user who signed up by themselves was never invited: nothing here is theirs to touch,
    // confirmed or not (a re-invite would even turn their account into an invitation).
    if !user.is_invitation() {
        return Err(Error::NotPending {
            reason: format!(
                "{} signed up by themselves and was never invited, so there is no invitation to {action}.",
                user.email_lower()
            ),
        });
    }
    let inv = to_invite(&user, lifetime, Utc::now());
    match inv.status {
        InviteStatus::Accepted if action == "cancel" => Err(Error::NotPending {
            reason: format!(
                "{} has already accepted the invitation and is a member. Invite Desk does not remove members; \
                 do that in the dashboard if you really mean to.",
                inv.email
            ),
        }),
        InviteStatus::Accepted => Err(Error::NotPending {
            reason: format!(
                "{} has already accepted the invitation, so there is nothing to {action}.",
                inv.email
            ),
        }),
        InviteStatus::Cancelled => Err(Error::NotFound {
            detail: Some("the user was deleted".into()),
        }),
        InviteStatus::Pending | InviteStatus::Expired => Ok(user),
    }
}

/// Sends a pending invitation again. Supabase: a fresh `/invite` (new link; the old one dies).
/// Netlify, which refuses any existing address: delete the still-pending user, then invite again
/// with the same data (the id changes; the returned invitation has the new one).
pub async fn resend(
    api: &dyn AdminApi,
    r: &InviteRef,
    opts: &ResendOptions,
    lifetime: Option<Duration>,
) -> Result<Invite> {
    let user = open_invitation(api, r, lifetime, "resend").await?;
    let email = user.email_lower();
    let redirect = opts
        .redirect_url
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let new_message = message_data(opts.message.as_deref());
    let fresh = match api.dialect() {
        Dialect::Supabase => {
            // A re-invite ignores `data`, so a new message goes into the metadata first.
            if let Some(m) = &new_message {
                api.update_user_metadata(&user.id, m).await?;
            }
            api.create_invite(&email, None, redirect).await?
        }
        Dialect::Netlify => {
            let mut data = match &user.user_metadata {
                Value::Object(m) if !m.is_empty() => Value::Object(m.clone()),
                _ => json!({}),
            };
            // Through the function only the name and message come back, not the metadata.
            if let Value::Object(d) = &mut data {
                if let Some(m) = user.invite_message() {
                    d.entry(MESSAGE_KEY).or_insert(Value::String(m));
                }
                if let Some(n) = user.display_name() {
                    if !d.contains_key("full_name") && !d.contains_key("name") {
                        d.insert("full_name".into(), Value::String(n));
                    }
                }
            }
            if let (Some(Value::Object(new)), Value::Object(d)) = (&new_message, &mut data) {
                d.extend(new.clone());
            }
            let data = data
                .as_object()
                .is_some_and(|d| !d.is_empty())
                .then_some(data);
            api.delete_user(&user.id).await?;
            api.create_invite(&email, data.as_ref(), None)
                .await
                .inspect_err(|e| {
                    tracing::warn!(
                        kind = e.kind(),
                        "re-invite after delete failed; the invitation is gone until sent again"
                    );
                })?
        }
    };
    Ok(to_invite(&fresh, lifetime, Utc::now()))
}

/// Cancels a pending invitation: re-reads the user right before deleting and never deletes one
/// who accepted.
pub async fn cancel(api: &dyn AdminApi, r: &InviteRef, lifetime: Option<Duration>) -> Result<()> {
    let user = open_invitation(api, r, lifetime, "cancel").await?;
    api.delete_user(&user.id).await
}

/// A fresh link for a pending invitation (Supabase `generate_link`). This issues a new token: a
/// link sent earlier by email stops working.
pub async fn link(
    api: &dyn AdminApi,
    r: &InviteRef,
    redirect: Option<&str>,
    lifetime: Option<Duration>,
) -> Result<String> {
    if api.dialect() == Dialect::Netlify {
        return Err(Error::Unsupported {
            what: "Copying an invitation link".into(),
        });
    }
    let user = open_invitation(api, r, lifetime, "link to").await?;
    let redirect = redirect.map(str::trim).filter(|s| !s.is_empty());
    let (_, link) = api
        .generate_invite_link(&user.email_lower(), None, redirect)
        .await?;
    Ok(link)
}
