//! Royalti workspaces (`docs/wire/royalti.md`): sign in with email and password, pick the
//! workspaces, then invite, list, resend and cancel through `/auth/invite` and `/user/invites`.
//!
//! Tokens: `POST /auth/login` gives a refresh token (1 day) and the account's workspaces;
//! `GET /auth/authtoken?currentWorkspace=` turns it into a workspace access token (6 hours).
//! There is no documented way to extend the refresh token, so when it is gone the provider signs
//! in again with the kept password ("keep me signed in") or asks the owner to. A workspace API
//! key (`RWAK…`, sent as Bearer) is the alternative that never expires.
//!
//! Facts the shared doc marks unverified each live in ONE place (a constant or a small function
//! below, or a field of a body in [`wire`]) with the doc section named, so a correction is a
//! one-line change.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reqwest::header::HeaderMap;
use reqwest::{Method, RequestBuilder, StatusCode};
use serde::Serialize;

use self::sign_in::{base, mint_access};
pub use self::sign_in::{
    can_invite, royalti_connect_workspace, royalti_sign_in, RoyaltiAccount, RoyaltiSession,
    RoyaltiWorkspace,
};
use self::wire::{
    AuthTokenAnswer, ErrorAnswer, InviteBody, InviteExtras, InviteRecord, InvitesAnswer,
    LoginAnswer, LoginBody,
};

mod sign_in;
pub mod wire;

use super::lenient;
use super::session::{Renewal, Sent, TokenSession};
use crate::error::{Error, Result};
use crate::http::{body_text, rate_limited, Http};
use crate::model::{
    Capabilities, ConnectionReport, Invite, InvitePage, InviteRef, InviteRequest, InviteStatus,
    Invited, ListQuery, ResendOptions, WorkspaceKind,
};
use crate::provider::Provider;
use crate::secret::{names, SecretStore, Sensitive};
use crate::workspace::{RoyaltiSignIn, Workspace, WorkspaceConfig};

// ---------------------------------------------------------------------------------------------
// Wire facts. Verified ones are plain; unverified ones say so and name the doc section.

const LOGIN_PATH: &str = "/auth/login";
const AUTHTOKEN_PATH: &str = "/auth/authtoken";
const INVITE_PATH: &str = "/auth/invite";
const INVITES_PATH: &str = "/user/invites";

/// A request without a body.
const NO_BODY: Option<&()> = None;

/// Unverified (docs/wire/royalti.md §A.6): the cancel route comes from the vendor's SKILL.md only.
fn cancel_path(id: &str) -> String {
    format!("{INVITES_PATH}/{id}/cancel")
}

fn resend_path(id: &str) -> String {
    format!("{INVITES_PATH}/{id}/resend")
}

/// Unverified (docs/wire/royalti.md §A.2/§A.4): page size parameter `size`, at most 100.
const PAGE_SIZE_PARAM: &str = "size";
const PAGE_SIZE: u32 = 100;

/// Unverified (docs/wire/royalti.md §A.2/§A.4): `q` searches lists (global convention).
const SEARCH_PARAM: &str = "q";

/// Roles that may invite (docs/wire/royalti.md §A.1 role ladder; §A.3 "owners or admins").
const INVITER_ROLES: [&str; 4] = ["owner", "admin", "super_admin", "main_super_admin"];

/// Unverified (docs/wire/royalti.md §A.3): the invite response has no id, so a re-invite ("creates or
/// updates") is recognised on the record: an updated invitation's `updatedAt` is later than its
/// `createdAt`.
fn was_updated(created: Option<DateTime<Utc>>, updated: Option<DateTime<Utc>>) -> bool {
    matches!((created, updated), (Some(c), Some(u)) if u > c)
}

/// Unverified (docs/wire/royalti.md §A.2): the error body. Tolerant: `error.message`, then `message`,
/// then nothing (the caller falls back to the HTTP reason).
fn server_words(body: &str) -> Option<String> {
    lenient::parse_object::<ErrorAnswer>(body)?
        .words()
        // Kept (stored, shown, exported) only once redacted and clipped.
        .map(|w| crate::redact::clean(&w, &[]))
}

/// Renew an access token this long before it expires, so it does not expire in flight.
const EXPIRY_MARGIN_SECS: i64 = 120;

const ROLE_HINT: &str = "Only owners and admins of a Royalti workspace can invite people. Ask an \
     owner to make you an admin, or add a workspace where you are one.";
const KEY_HINT: &str = "Royalti did not accept this API key (it may have been revoked). Create a \
     workspace API key in Royalti and use Replace key in Workspaces.";
const RWAK_NOTE: &str = "Royalti's docs do not say whether workspace API keys may send \
     invitations; if an invite is refused, sign in with your password instead.";

// ---------------------------------------------------------------------------------------------
// Reading the wire

fn time_of(text: Option<String>) -> Option<DateTime<Utc>> {
    text.and_then(|s| DateTime::parse_from_rfc3339(&s).ok())
        .map(|d| d.with_timezone(&Utc))
}

/// Maps a server status (docs/wire/royalti.md §A.4: `invited` / `joined` / `cancelled`).
fn status_from(s: &str) -> InviteStatus {
    match s.trim().to_ascii_lowercase().as_str() {
        "joined" | "accepted" | "active" => InviteStatus::Accepted,
        "cancelled" | "canceled" | "revoked" => InviteStatus::Cancelled,
        _ => InviteStatus::Pending,
    }
}

fn status_param(s: InviteStatus) -> Option<&'static str> {
    match s {
        InviteStatus::Pending => Some("invited"),
        InviteStatus::Accepted => Some("joined"),
        InviteStatus::Cancelled => Some("cancelled"),
        // Royalti has no expiry (docs/wire/royalti.md §A.4): nothing is ever expired.
        InviteStatus::Expired => None,
    }
}

/// An invitation with the record's `createdAt` and `updatedAt` (see [`was_updated`]).
type Record = (Invite, Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// One record of `GET /user/invites`, read tolerantly (PascalCase fields, nested email).
fn parse_invite(v: InviteRecord) -> Option<Record> {
    let id = v.id?;
    let tu = v.tenant_user.or(v.tenant_user_camel);
    let email = tu
        .as_ref()
        .and_then(|t| t.user.as_ref().or(t.user_lower.as_ref()))
        .and_then(|u| u.email.clone())
        .or_else(|| tu.as_ref().and_then(|t| t.email.clone()))
        .or(v.email)?
        .to_lowercase();
    let name = tu.and_then(|t| {
        let n = format!(
            "{} {}",
            t.first_name.unwrap_or_default(),
            t.last_name.unwrap_or_default()
        );
        Some(n.trim().to_string()).filter(|n| !n.is_empty())
    });
    let created = time_of(v.created_at.or(v.created_at_snake));
    let updated = time_of(v.updated_at.or(v.updated_at_snake));
    let (sent, message) = v.meta.map(|m| (m.date, m.message)).unwrap_or_default();
    let invite = Invite {
        id,
        email,
        status: status_from(&v.status.unwrap_or_default()),
        invited_at: time_of(sent).or(updated).or(created),
        expires_at: None,
        accepted_at: time_of(v.joined_at.or(v.joined_at_camel)),
        name,
        message,
    };
    Some((invite, created, updated))
}

#[derive(Clone, Copy)]
enum Ctx<'a> {
    SignIn,
    Token,
    Read,
    Invite(&'a str),
    Write,
}

fn map_status(status: StatusCode, headers: &HeaderMap, body: &str, ctx: Ctx<'_>) -> Error {
    let words = server_words(body).or_else(|| status.canonical_reason().map(str::to_string));
    let detail = Some(format!(
        "{}: {}",
        status.as_u16(),
        words.clone().unwrap_or_default()
    ));
    match status.as_u16() {
        401 => Error::SignedOut { detail },
        403 => Error::NotAdmin {
            hint: ROLE_HINT.into(),
            detail,
        },
        404 => Error::NotFound { detail },
        // Unverified (docs/wire/royalti.md §A.2, "Could not verify"): SKILL.md lists 409 as "duplicate".
        // An invite to someone with an open invitation updates it (§A.3), so a duplicate is
        // taken to be a member who already joined.
        409 => match ctx {
            Ctx::Invite(email) => Error::AlreadyMember {
                email: email.to_string(),
                detail,
            },
            _ => Error::Rejected {
                status: 409,
                message: words.unwrap_or_default(),
            },
        },
        // Unverified (docs/wire/royalti.md §A.2): 400/422 are "validation"; one that talks about the email
        // is taken to be about the address, so the owner sees which one to fix.
        400 | 422 => match ctx {
            Ctx::Invite(email)
                if words
                    .as_deref()
                    .is_some_and(|w| w.to_ascii_lowercase().contains("email")) =>
            {
                Error::InvalidEmail {
                    email: email.to_string(),
                    reason: words.unwrap_or_default(),
                }
            }
            _ => Error::Rejected {
                status: status.as_u16(),
                message: words.unwrap_or_default(),
            },
        },
        429 => rate_limited(headers, false, detail),
        // A write that met a gateway failure may have been carried out behind it.
        502 | 504 if matches!(ctx, Ctx::Invite(_) | Ctx::Write) => Error::Uncertain { detail },
        500..=599 => Error::Server {
            status: status.as_u16(),
            detail,
        },
        _ => match ctx {
            Ctx::SignIn | Ctx::Token => Error::WrongServer {
                hint: "This address does not answer like Royalti's API.".into(),
                detail,
            },
            _ => Error::Rejected {
                status: status.as_u16(),
                message: words.unwrap_or_default(),
            },
        },
    }
}

// ---------------------------------------------------------------------------------------------
// The provider

/// One Royalti workspace, as the signed-in owner or through a workspace API key.
#[derive(Debug)]
pub struct RoyaltiProvider {
    http: Http,
    ws_id: String,
    base: String,
    remote_id: Option<String>,
    account_email: Option<String>,
    role: Option<String>,
    keep_signed_in: bool,
    api_key_mode: bool,
    secrets: Arc<dyn SecretStore>,
    /// The owner's tokens (unused with an API key). Renewals are one at a time: two racing
    /// renewals would sign in twice (and count twice against the login limit).
    session: TokenSession,
}

impl RoyaltiProvider {
    /// A provider for `ws`. Tokens are read from `secrets` on every call and renewed there.
    pub fn new(http: Http, ws: &Workspace, secrets: Arc<dyn SecretStore>) -> Result<Self> {
        let WorkspaceConfig::Royalti(options) = &ws.config else {
            return Err(Error::invalid_input(
                "Workspace",
                "is not a Royalti workspace",
            ));
        };
        let base = base(&ws.base_url);
        url::Url::parse(&base).map_err(|e| Error::InvalidUrl {
            reason: e.to_string(),
        })?;
        let api_key_mode = options.auth_mode == RoyaltiSignIn::ApiKey;
        let remote_id = options
            .remote_workspace_id
            .clone()
            .filter(|s| !s.trim().is_empty());
        if remote_id.is_none() && !api_key_mode {
            return Err(Error::invalid_input(
                "Royalti workspace",
                "sign in again and pick the workspace",
            ));
        }
        Ok(Self {
            http,
            ws_id: ws.id.clone(),
            base,
            remote_id,
            account_email: options.account_email.clone(),
            role: options.role.clone(),
            keep_signed_in: options.keep_signed_in,
            api_key_mode,
            session: TokenSession::new(
                &ws.id,
                secrets.clone(),
                EXPIRY_MARGIN_SECS,
                options.keep_signed_in,
                options.account_email.clone(),
            ),
            secrets,
        })
    }

    /// Sends one request with the bearer; on 401 renews once and sends again. A 401 means the
    /// server refused before acting, so sending a write again is safe. An API key is never
    /// renewed: a 401 means it was revoked.
    async fn call<B: Serialize + Sync>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&B>,
        ctx: Ctx<'_>,
    ) -> Result<String> {
        let write = method != Method::GET;
        let attempt = |token: Sensitive<String>| {
            let mut rb: RequestBuilder = self
                .http
                .client()
                .request(method.clone(), format!("{}{path}", self.base))
                .query(query)
                .bearer_auth(token.expose());
            if let Some(b) = body {
                rb = rb.json(b);
            }
            async move {
                let resp = if write {
                    self.http.send_write(rb).await?
                } else {
                    self.http.send_read(rb).await?
                };
                let status = resp.status();
                let headers = resp.headers().clone();
                let text = body_text(resp).await.map_err(|e| match (write, e) {
                    (false, Error::Uncertain { detail }) => Error::Network { detail },
                    (_, e) => e,
                })?;
                let answer = (status, headers, text);
                Ok(if status == StatusCode::UNAUTHORIZED {
                    Sent::Unauthorized(answer)
                } else {
                    Sent::Answer(answer)
                })
            }
        };
        let ((status, headers, text), token) = if self.api_key_mode {
            let key = self.secrets.require(&self.ws_id, names::API_KEY)?;
            (attempt(key.clone()).await?.into_inner(), key)
        } else {
            self.session.send(self, attempt).await?
        };
        if status.is_success() {
            return Ok(text);
        }
        if status == StatusCode::UNAUTHORIZED && self.api_key_mode {
            return Err(Error::NotAdmin {
                hint: KEY_HINT.into(),
                detail: server_words(&text),
            });
        }
        Err(map_status(status, &headers, &text, ctx).redact(&[token.expose()]))
    }

    /// Lists one page; returns the records with their created/updated times.
    async fn page(
        &self,
        query: &ListQuery,
        page: u32,
    ) -> Result<(
        Vec<(Invite, Option<DateTime<Utc>>, Option<DateTime<Utc>>)>,
        InvitePage,
    )> {
        let mut q = vec![
            ("page", page.to_string()),
            (PAGE_SIZE_PARAM, PAGE_SIZE.to_string()),
        ];
        if let Some(s) = query.status {
            match status_param(s) {
                Some(p) => q.push(("status", p.to_string())),
                None => return Ok((Vec::new(), InvitePage::default())),
            }
        }
        if let Some(s) = query
            .search
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            q.push((SEARCH_PARAM, s.to_string()));
        }
        let text = self
            .call(Method::GET, INVITES_PATH, &q, NO_BODY, Ctx::Read)
            .await?;
        let answer = lenient::parse_object::<InvitesAnswer>(&text).unwrap_or_default();
        let Some(rows) = answer.invites else {
            return Err(Error::BadResponse {
                detail: Some("no invites list in the answer".into()),
            });
        };
        let row_count = rows.len();
        let records: Vec<_> = rows
            .into_iter()
            .filter_map(|r| r.0.and_then(parse_invite))
            .collect();
        let more = match answer.total_pages {
            Some(t) => u64::from(page) < t,
            None => row_count >= PAGE_SIZE as usize,
        };
        let out = InvitePage {
            invites: records.iter().map(|r| r.0.clone()).collect(),
            total: answer.filtered_items.or(answer.total_items),
            next_page: more.then_some(page + 1),
        };
        Ok((records, out))
    }

    /// The record of `email` with its times, open invitations first.
    async fn record(&self, email: &str) -> Result<Option<Record>> {
        let wanted = email.trim().to_lowercase();
        let query = ListQuery {
            status: None,
            search: Some(wanted.clone()),
        };
        let mut hits = Vec::new();
        let mut page = 1;
        loop {
            let (records, p) = self.page(&query, page).await?;
            hits.extend(records.into_iter().filter(|r| r.0.email == wanted));
            match p.next_page {
                Some(n) if n <= crate::provider::MAX_PAGES => page = n,
                _ => break,
            }
        }
        hits.sort_by_key(|r| {
            (
                r.0.status == InviteStatus::Cancelled,
                std::cmp::Reverse(r.2),
            )
        });
        Ok(hits.into_iter().next())
    }

    /// The invitation as the server has it now, refusing unless it is still `invited`.
    async fn open_invite(&self, invite: &InviteRef, action: &str) -> Result<Invite> {
        let found = self
            .record(&invite.email)
            .await?
            .map(|r| r.0)
            .filter(|i| i.id == invite.id || invite.id.is_empty());
        match found {
            None => Err(Error::NotFound {
                detail: Some(format!("no invitation for {} on the server", invite.email)),
            }),
            Some(i) if i.status == InviteStatus::Pending => Ok(i),
            Some(i) => Err(Error::NotPending {
                reason: format!(
                    "Can't {action} the invitation to {}: {}.",
                    i.email,
                    match i.status {
                        InviteStatus::Accepted => "they already joined",
                        _ => "it was cancelled",
                    }
                ),
            }),
        }
    }

    /// Invites `req.email`, attached to an existing tenant user when `user_id` is given
    /// (docs/wire/royalti.md §A.3 query `userId`).
    pub async fn invite_tenant_user(
        &self,
        req: &InviteRequest,
        user_id: Option<&str>,
    ) -> Result<Invited> {
        let body = InviteBody {
            email: req.email.trim(),
            send_email: req.send_email,
            extras: InviteExtras {
                message: req.message.as_deref().filter(|m| !m.trim().is_empty()),
                redirect_url: req.redirect_url.as_deref().filter(|r| !r.trim().is_empty()),
            },
        };
        let query: Vec<(&str, String)> = user_id
            .map(|u| vec![("userId", u.to_string())])
            .unwrap_or_default();
        self.call(
            Method::POST,
            INVITE_PATH,
            &query,
            Some(&body),
            Ctx::Invite(&req.email),
        )
        .await?;
        // The answer has no id: the record is found by listing, so the UI shows the row at once.
        let found = self.record(&req.email).await.ok().flatten();
        let (invite, replaced_existing) = match found {
            Some((i, created, updated)) => {
                let updated_existing = was_updated(created, updated);
                (i, updated_existing)
            }
            None => (
                Invite {
                    id: String::new(),
                    email: req.email.trim().to_lowercase(),
                    status: InviteStatus::Pending,
                    invited_at: Some(Utc::now()),
                    expires_at: None,
                    accepted_at: None,
                    name: None,
                    message: req.message.clone(),
                },
                false,
            ),
        };
        Ok(Invited {
            invite,
            link: None,
            replaced_existing,
        })
    }
}

/// Renewing the owner's session: a new access token from the refresh token, then the kept
/// password (the refresh token lasts a day and cannot itself be renewed).
#[async_trait]
impl Renewal for RoyaltiProvider {
    async fn refresh(&self, refresh_token: &Sensitive<String>) -> Result<Sensitive<String>> {
        if self.session.expiring(refresh_token.expose()) {
            return Err(Error::SignedOut {
                detail: Some("the refresh token expired".into()),
            });
        }
        let remote = self.remote_id.as_deref().unwrap_or_default();
        let t = mint_access(&self.http, &self.base, refresh_token, remote).await?;
        self.secrets.set(&self.ws_id, names::ACCESS_TOKEN, &t)?;
        Ok(t)
    }

    async fn sign_in_again(&self, email: &str, password: &Sensitive<String>) -> Result<()> {
        let remote = self.remote_id.as_deref().unwrap_or_default();
        let (_, session) = royalti_sign_in(&self.http, &self.base, email, password).await?;
        royalti_connect_workspace(
            &self.http,
            &self.base,
            &session,
            remote,
            self.secrets.as_ref(),
            &self.ws_id,
        )
        .await
    }

    fn session_ended(&self, _: Error) -> Error {
        Error::SignedOut {
            detail: Some("the Royalti session ended (it lasts a day)".into()),
        }
    }
}

#[async_trait]
impl Provider for RoyaltiProvider {
    fn kind(&self) -> WorkspaceKind {
        WorkspaceKind::Royalti
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            message: true,
            redirect: true,
            send_email_toggle: true,
            // The activation link is only ever emailed (docs/wire/royalti.md §A.4: no invite URL).
            copy_link: false,
            resend: true,
            cancel: true,
            expiry: false,
        }
    }

    async fn check_connection(&self) -> Result<ConnectionReport> {
        if let Some(role) = self.role.as_deref().filter(|r| !can_invite(r)) {
            return Err(Error::NotAdmin {
                hint: ROLE_HINT.into(),
                detail: Some(format!("your role in this workspace is {role}")),
            });
        }
        let q = ListQuery::default();
        let (_, page) = self.page(&q, 1).await?;
        let count = page.total.unwrap_or(page.invites.len() as u64);
        let mut notes = Vec::new();
        let summary = if self.api_key_mode {
            notes.push(RWAK_NOTE.to_string());
            format!("The workspace API key works; the workspace has {count} invitation records.")
        } else {
            if !self.keep_signed_in {
                notes.push("Royalti ends a session after a day; Invite Desk will ask for your password then. Tick \"Keep me signed in\" to avoid that.".into());
            }
            format!(
                "Signed in as {} ({}); the workspace has {count} invitation records.",
                self.account_email.as_deref().unwrap_or("you"),
                self.role.as_deref().unwrap_or("admin")
            )
        };
        Ok(ConnectionReport { summary, notes })
    }

    async fn invite(&self, req: &InviteRequest) -> Result<Invited> {
        self.invite_tenant_user(req, None).await
    }

    async fn list_page(&self, query: &ListQuery, page: u32) -> Result<InvitePage> {
        Ok(self.page(query, page.max(1)).await?.1)
    }

    async fn find(&self, email: &str) -> Result<Option<Invite>> {
        Ok(self.record(email).await?.map(|r| r.0))
    }

    async fn resend(&self, invite: &InviteRef, opts: &ResendOptions) -> Result<Invite> {
        let current = self.open_invite(invite, "resend").await?;
        let body = InviteExtras {
            message: opts.message.as_deref().filter(|m| !m.trim().is_empty()),
            redirect_url: opts
                .redirect_url
                .as_deref()
                .filter(|r| !r.trim().is_empty()),
        };
        self.call(
            Method::POST,
            &resend_path(&current.id),
            &[],
            Some(&body),
            Ctx::Write,
        )
        .await?;
        Ok(self
            .record(&invite.email)
            .await
            .ok()
            .flatten()
            .map(|r| r.0)
            .unwrap_or(Invite {
                invited_at: Some(Utc::now()),
                ..current
            }))
    }

    async fn cancel(&self, invite: &InviteRef) -> Result<()> {
        let current = self.open_invite(invite, "cancel").await?;
        self.call(
            Method::POST,
            &cancel_path(&current.id),
            &[],
            NO_BODY,
            Ctx::Write,
        )
        .await?;
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    #[test]
    fn hostile_exp_values_never_overflow() {
        use base64::Engine as _;
        let token = |exp: &str| {
            let b = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
            format!(
                "{}.{}.sig",
                b(r#"{"alg":"HS256"}"#),
                b(&format!(r#"{{"exp":{exp}}}"#))
            )
        };
        let expiring = |t: &str| super::super::session::expiring(t, EXPIRY_MARGIN_SECS);
        assert!(expiring(&token(&i64::MIN.to_string())));
        assert!(!expiring(&token(&i64::MAX.to_string())));
        assert!(expiring(&token(
            &(Utc::now().timestamp() + 100).to_string()
        )));
        assert!(!expiring(&token("1e300")));
    }

    fn record(v: Value) -> InviteRecord {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn records_are_read_tolerantly() {
        let v = json!({"id": "i1", "TenantUserId": "t", "TenantId": 101, "status": "joined",
            "meta": {"message": "hi", "date": "2026-01-02T03:04:05.000Z"}, "JoinedAt": "2026-01-03T00:00:00Z",
            "createdAt": "2026-01-01T00:00:00Z", "updatedAt": "2026-01-02T03:04:05Z",
            "TenantUser": {"firstName": "Jane", "lastName": "Doe", "User": {"email": "Jane@X.io"}}});
        let (i, c, u) = parse_invite(record(v)).unwrap();
        assert_eq!((i.id.as_str(), i.email.as_str()), ("i1", "jane@x.io"));
        assert_eq!(i.status, InviteStatus::Accepted);
        assert_eq!(i.name.as_deref(), Some("Jane Doe"));
        assert_eq!(i.message.as_deref(), Some("hi"));
        assert!(i.accepted_at.is_some());
        assert!(was_updated(c, u));
        // Missing fields are tolerated; a record without any address is skipped.
        let bare = json!({"id": 7, "email": "a@b.io"});
        let (i, c, u) = parse_invite(record(bare)).unwrap();
        assert_eq!((i.id.as_str(), i.status), ("7", InviteStatus::Pending));
        assert!(!was_updated(c, u));
        assert!(parse_invite(record(json!({"id": "x", "TenantUser": null}))).is_none());
    }

    #[test]
    fn error_bodies_are_read_in_either_shape() {
        assert_eq!(
            server_words(r#"{"success":false,"error":{"code":"X","message":"Nope"}}"#).as_deref(),
            Some("Nope")
        );
        assert_eq!(server_words(r#"{"message":"Top"}"#).as_deref(), Some("Top"));
        assert_eq!(server_words("<html>"), None);
        let e = map_status(StatusCode::FORBIDDEN, &HeaderMap::new(), "{}", Ctx::Read);
        assert_eq!(e.kind(), "not_admin");
        let e = map_status(
            StatusCode::BAD_GATEWAY,
            &HeaderMap::new(),
            "",
            Ctx::Invite("a@b.io"),
        );
        assert_eq!(e.kind(), "uncertain");
        let e = map_status(StatusCode::BAD_GATEWAY, &HeaderMap::new(), "", Ctx::Read);
        assert_eq!(e.kind(), "server");
    }

    #[test]
    fn roles_that_can_invite() {
        for r in ["owner", "admin", "Admin", "super_admin"] {
            assert!(can_invite(r), "{r}");
        }
        for r in ["user", "guest", ""] {
            assert!(!can_invite(r), "{r}");
        }
    }
}
