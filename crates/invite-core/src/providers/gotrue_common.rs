//! GoTrue wire details shared by the Supabase, self-hosted GoTrue and Netlify Identity providers.
//!
//! - [`GotrueUser`] and [`to_invite`]: the user JSON of both forks, and when it counts as
//!   pending, accepted or expired (see `docs/wire/gotrue.md` §3 "Pending vs accepted").
//! - [`parse_error`] and [`map_error`]: every error body these servers send (Supabase's two shapes,
//!   Netlify's `{code,msg}`, OAuth's `{error,error_description}` and the Invite Desk Netlify
//!   Function's `{error:{code,message}}`) turned into the core's [`Error`] kinds.
//! - [`next_page_from_link`] and [`total_count`]: `Link` / `X-Total-Count` paging.
//! - The operations whose rules are the same for every back end (cancel only while pending, after
//!   re-reading the user; resend; copy a link), written once over the small [`AdminApi`] trait.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, RequestBuilder, Response};
use serde::{Deserialize, Deserializer};
use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::http::{body_text, rate_limited, Http};
use crate::model::{
    Invite, InvitePage, InviteRef, InviteRequest, InviteStatus, Invited, ListQuery, ResendOptions,
};

/// Users asked for per page. GoTrue has no maximum; 100 keeps answers small and pages few.
pub const PER_PAGE: u32 = 100;

/// The key in `user_metadata` (GoTrue's invite `data`) that carries the owner's message, so an
/// email template can show it as `{{ .Data.invite_message }}`.
pub const MESSAGE_KEY: &str = "invite_message";

/// Which GoTrue fork a server runs: they differ in error shapes, redirects, re-invites and links.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// supabase/auth: re-invite of a pending user re-sends, `generate_link` exists, `redirect_to` works.
    Supabase,
    /// netlify/gotrue: any existing address is refused (422), no links, no redirect.
    Netlify,
}

/// A user as GoTrue returns it from `/invite`, `/admin/users` and `/admin/generate_link`.
/// Only the fields Invite Desk reads; unknown fields are ignored and odd timestamps read as absent.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct GotrueUser {
    /// The user id (a UUID).
    #[serde(default)]
    pub id: String,
    /// The address (lower-cased by the server).
    #[serde(default)]
    pub email: Option<String>,
    /// When the user was (last) invited.
    #[serde(default, deserialize_with = "lenient_time")]
    pub invited_at: Option<DateTime<Utc>>,
    /// When the last confirmation/invite token was sent (Supabase; the link lifetime counts from it).
    #[serde(default, deserialize_with = "lenient_time")]
    pub confirmation_sent_at: Option<DateTime<Utc>>,
    /// When the address was confirmed (Supabase).
    #[serde(default, deserialize_with = "lenient_time")]
    pub email_confirmed_at: Option<DateTime<Utc>>,
    /// When the user confirmed (both forks; Supabase derives it).
    #[serde(default, deserialize_with = "lenient_time")]
    pub confirmed_at: Option<DateTime<Utc>>,
    /// When the user row was created.
    #[serde(default, deserialize_with = "lenient_time")]
    pub created_at: Option<DateTime<Utc>>,
    /// Supabase soft delete.
    #[serde(default, deserialize_with = "lenient_time")]
    pub deleted_at: Option<DateTime<Utc>>,
    /// The invite `data` (`invite_message`, `full_name`…).
    #[serde(default)]
    pub user_metadata: Value,
    /// The person's name, as the Invite Desk Netlify Function gives it instead of the metadata.
    #[serde(default)]
    pub name: Option<String>,
    /// The invitation's message, as the Invite Desk Netlify Function gives it for one user.
    #[serde(default)]
    pub message: Option<String>,
}

fn lenient_time<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<DateTime<Utc>>, D::Error> {
    let v = Option::<Value>::deserialize(d)?;
    Ok(v.as_ref()
        .and_then(Value::as_str)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc)))
}

impl GotrueUser {
    /// The address, lower-cased.
    pub fn email_lower(&self) -> String {
        self.email
            .as_deref()
            .unwrap_or_default()
            .trim()
            .to_lowercase()
    }

    /// True when this user was invited (users who signed up by themselves are not invitations).
    pub fn is_invitation(&self) -> bool {
        self.invited_at.is_some()
    }

    fn metadata_str(&self, key: &str) -> Option<String> {
        self.user_metadata
            .get(key)
            .and_then(Value::as_str)
            .map(str::to_string)
            .filter(|s| !s.trim().is_empty())
    }

    /// The person's name: `full_name` or `name` of the metadata, else the function's `name`.
    pub fn display_name(&self) -> Option<String> {
        self.metadata_str("full_name")
            .or_else(|| self.metadata_str("name"))
            .or_else(|| self.name.clone().filter(|s| !s.trim().is_empty()))
    }

    /// The invitation's message: the metadata's, else the function's `message`.
    pub fn invite_message(&self) -> Option<String> {
        self.metadata_str(MESSAGE_KEY)
            .or_else(|| self.message.clone().filter(|s| !s.trim().is_empty()))
    }
}

/// Maps a GoTrue user to an [`Invite`].
///
/// Accepted when `email_confirmed_at` or `confirmed_at` is set (a person who clicked the link but
/// never chose a password also reads as accepted: the server confirmed them). Otherwise pending,
/// or expired once `confirmation_sent_at` (else `invited_at`) plus `lifetime` has passed;
/// `lifetime` is `None` where links do not expire (Netlify: `/invite` never sets
/// `confirmation_sent_at`, which its expiry check keys off). Soft-deleted users are cancelled.
pub fn to_invite(user: &GotrueUser, lifetime: Option<Duration>, now: DateTime<Utc>) -> Invite {
    let accepted_at = user.email_confirmed_at.or(user.confirmed_at);
    let sent = user.confirmation_sent_at.or(user.invited_at);
    let expires_at = match (accepted_at, sent, lifetime) {
        (None, Some(sent), Some(life)) => chrono::Duration::from_std(life)
            .ok()
            .and_then(|l| sent.checked_add_signed(l)),
        _ => None,
    };
    let status = if user.deleted_at.is_some() {
        InviteStatus::Cancelled
    } else if accepted_at.is_some() {
        InviteStatus::Accepted
    } else if expires_at.is_some_and(|e| e <= now) {
        InviteStatus::Expired
    } else {
        InviteStatus::Pending
    };
    Invite {
        id: user.id.clone(),
        email: user.email_lower(),
        status,
        invited_at: user.invited_at,
        expires_at,
        accepted_at,
        name: user.display_name(),
        message: user.invite_message(),
    }
}

/// Parses a user body, saying plainly when the answer is not one.
pub fn parse_user(body: &str) -> Result<GotrueUser> {
    let user: GotrueUser = crate::http::parse_json(body)?;
    if user.id.is_empty() {
        return Err(Error::BadResponse {
            detail: Some(format!("no user id in: {}", clip(body))),
        });
    }
    Ok(user)
}

/// The `rel="next"` page number of a GoTrue `Link` header
/// (`</admin/users?page=2&per_page=50>; rel="next", <…>; rel="last"`).
pub fn next_page_from_link(headers: &HeaderMap) -> Option<u32> {
    let link = headers.get(reqwest::header::LINK)?.to_str().ok()?;
    link.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let is_next = params.split(';').any(|p| {
            let p = p.trim().replace(' ', "");
            p.eq_ignore_ascii_case("rel=\"next\"") || p.eq_ignore_ascii_case("rel=next")
        });
        if !is_next {
            return None;
        }
        let target = target.trim().trim_start_matches('<').trim_end_matches('>');
        let base = url::Url::parse("http://link.invalid/").ok()?;
        let url = base.join(target).ok()?;
        url.query_pairs()
            .find(|(k, _)| k == "page")
            .and_then(|(_, v)| v.parse().ok())
    })
}

/// `X-Total-Count`: how many users the server has for the query (all users, not only invited ones).
pub fn total_count(headers: &HeaderMap) -> Option<u64> {
    headers
        .get("x-total-count")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// What a GoTrue server (or the Invite Desk Netlify Function) said in an error response.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ApiError {
    /// HTTP status (for a function `identity_error`, Identity's own status).
    pub status: u16,
    /// The machine code: Supabase `error_code` / `code`, OAuth `error`, the function's `code`.
    pub code: Option<String>,
    /// The server's words.
    pub message: String,
    /// True when the body had one of the known JSON error shapes (false: a proxy's HTML page, a
    /// 404 from a static site…).
    pub recognised: bool,
}

impl ApiError {
    /// The server's words plus status and code, for [`Error::detail`].
    pub fn detail(&self) -> String {
        match &self.code {
            Some(c) => format!("{} {c}: {}", self.status, self.message),
            None => format!("{}: {}", self.status, self.message),
        }
    }

    fn code_is(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }

    fn says(&self, words: &str) -> bool {
        self.message.to_lowercase().contains(words)
    }
}

/// Server text for a detail: secret-shaped parts redacted, then cut to 200 characters.
fn clip(s: &str) -> String {
    crate::redact::clip(&crate::redact::redact(s, &[]), 200)
}

fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// Reads any of the GoTrue error shapes:
/// Supabase `{"code":"<error_code>","message"}` (API version 2024-01-01) and
/// `{"code":<status>,"error_code","msg"}`; Netlify `{"code":<status>,"msg"}`;
/// OAuth `{"error","error_description"}`; the Invite Desk function
/// `{"error":{"code","status"?,"message"}}` (an `identity_error` carries Identity's status and
/// words, read as if Identity had answered); a gateway's `{"message"}`.
pub fn parse_error(status: u16, headers: &HeaderMap, body: &str) -> ApiError {
    let mut e = parse_error_words(status, headers, body);
    // The server's words are kept (stored, shown, exported) only once redacted and clipped.
    e.message = crate::redact::clean(&e.message, &[]);
    e
}

fn parse_error_words(status: u16, headers: &HeaderMap, body: &str) -> ApiError {
    let header_code = headers
        .get("x-sb-error-code")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let mut out = ApiError {
        status,
        code: header_code,
        message: clip(body.trim()),
        recognised: false,
    };
    let Ok(v) = serde_json::from_str::<Value>(body) else {
        return out;
    };
    if let Some(inner) = v.get("error").filter(|e| e.is_object()) {
        out.recognised = true;
        out.code = str_of(inner, "code").map(str::to_string);
        out.message = str_of(inner, "message").unwrap_or_default().to_string();
        if out.code_is("identity_error") {
            out.code = None;
            if let Some(s) = inner
                .get("status")
                .and_then(Value::as_u64)
                .and_then(|s| u16::try_from(s).ok())
            {
                out.status = s;
            }
        }
    } else if let Some(err) = str_of(&v, "error") {
        out.recognised = true;
        out.code = Some(err.to_string());
        out.message = str_of(&v, "error_description").unwrap_or(err).to_string();
    } else if let Some(code) = str_of(&v, "error_code").or_else(|| str_of(&v, "code")) {
        out.recognised = true;
        out.code = Some(code.to_string());
        out.message = str_of(&v, "msg")
            .or_else(|| str_of(&v, "message"))
            .unwrap_or_default()
            .to_string();
    } else if let Some(msg) = str_of(&v, "msg").or_else(|| str_of(&v, "message")) {
        out.recognised = true;
        out.message = msg.to_string();
    }
    out
}

/// What a failure means depends on who asks: these are the per-back-end words.
#[derive(Debug, Clone)]
pub struct Hints {
    /// Shown when the credentials work but are not an admin's.
    pub not_admin: String,
    /// Shown when the token or key itself is rejected. `None`: the owner's session ended
    /// ([`Error::SignedOut`]); `Some`: a key that is wrong, reported as [`Error::NotAdmin`].
    pub bad_token: Option<String>,
    /// Shown when the URL answers but not as the expected service.
    pub wrong_server: String,
}

/// The circumstances of one request, for [`map_error`].
#[derive(Debug, Clone, Copy)]
pub struct ErrCtx<'a> {
    /// The address the request was about, if any.
    pub email: Option<&'a str>,
    /// True for a write: a 502/504 then means it may have been carried out.
    pub write: bool,
    /// The back end's hints.
    pub hints: &'a Hints,
}

/// Maps an error answer to the core's kinds, following the error tables of `docs/wire/gotrue.md`
/// (§1a, §1b, §4, §6) and the Invite Desk function's contract. The server's words stay in the
/// error's detail.
pub fn map_error(e: &ApiError, headers: &HeaderMap, ctx: &ErrCtx<'_>) -> Error {
    let detail = Some(e.detail());
    let status = e.status;
    if status == 429 {
        let email_limit = e.code_is("over_email_send_rate_limit") || e.says("email rate limit");
        return rate_limited(headers, email_limit, detail);
    }
    if status >= 500 {
        // A gateway that lost the answer may have passed the write on: look it up before re-sending.
        if ctx.write && matches!(status, 502 | 504) {
            return Error::Uncertain { detail };
        }
        return Error::Server { status, detail };
    }
    if !e.recognised && matches!(status, 404 | 405 | 200..=299) {
        return Error::WrongServer {
            hint: ctx.hints.wrong_server.clone(),
            detail,
        };
    }
    match status {
        401 | 403 => {
            let not_admin =
                e.code_is("not_admin") || e.code_is("forbidden") || e.says("user not allowed");
            if not_admin {
                Error::NotAdmin {
                    hint: ctx.hints.not_admin.clone(),
                    detail,
                }
            } else if let Some(hint) = &ctx.hints.bad_token {
                Error::NotAdmin {
                    hint: hint.clone(),
                    detail,
                }
            } else {
                Error::SignedOut { detail }
            }
        }
        404 => Error::NotFound { detail },
        // The Invite Desk Netlify Function refuses to delete anyone but a pending invitation.
        409 if e.code_is("not_pending") => Error::NotPending {
            reason: e.message.clone(),
        },
        400 | 422 => {
            let email = ctx.email.unwrap_or_default().to_string();
            if e.code_is("email_exists")
                || e.says("already been registered")
                || e.says("already registered")
            {
                Error::AlreadyMember { email, detail }
            } else if e.code_is("email_address_not_authorized") {
                Error::InvalidEmail {
                    email,
                    reason: format!(
                        "the server only sends email to authorized addresses (Supabase's built-in email service \
                         only emails your project's team; set up custom SMTP to invite anyone). Server said: {}",
                        e.message
                    ),
                }
            } else if ctx.email.is_some()
                && (e.code_is("email_address_invalid")
                    || e.says("email address is required")
                    || e.says("email address is too long")
                    || e.says("unable to validate email")
                    || (e.says("email address") && e.says("invalid")))
            {
                Error::InvalidEmail {
                    email,
                    reason: e.message.clone(),
                }
            } else {
                Error::Rejected {
                    status,
                    message: e.message.clone(),
                }
            }
        }
        _ => Error::Rejected {
            status,
            message: e.message.clone(),
        },
    }
}

/// Reads a response: the headers and body of a 2xx, or the mapped error.
pub async fn read_ok(resp: Response, ctx: &ErrCtx<'_>) -> Result<(HeaderMap, String)> {
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = body_text(resp).await?;
    if status.is_success() {
        return Ok((headers, body));
    }
    Err(map_error(
        &parse_error(status.as_u16(), &headers, &body),
        &headers,
        ctx,
    ))
}

/// True when `body` is GoTrue's `/health` answer (`{"name":"GoTrue","version":…}`); gives the version.
pub fn health_version(body: &str) -> Option<String> {
    let v: Value = serde_json::from_str(body).ok()?;
    if !str_of(&v, "name").is_some_and(|n| n.eq_ignore_ascii_case("gotrue")) {
        return None;
    }
    Some(
        str_of(&v, "version")
            .unwrap_or("unknown version")
            .to_string(),
    )
}

/// A user id as it may appear in a path: GoTrue ids are UUIDs; anything else is refused before it
/// can change the path.
pub fn checked_id(id: &str) -> Result<&str> {
    if !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        Ok(id)
    } else {
        Err(Error::NotFound {
            detail: Some(format!("not a user id: {}", clip(id))),
        })
    }
}

/// One page of users as the server listed them.
#[derive(Debug, Clone, Default)]
pub struct UserPage {
    /// The users on the page (invited or not).
    pub users: Vec<GotrueUser>,
    /// `X-Total-Count` (all users matching the filter).
    pub total: Option<u64>,
    /// The next page, from `Link` (or the function's `next_page`).
    pub next_page: Option<u32>,
}

/// The admin calls the shared operations need; implemented over GoTrue's REST API
/// ([`RestAdmin`]) and over the Invite Desk Netlify Function.
#[async_trait]
pub trait AdminApi: Send + Sync + std::fmt::Debug {
    /// Which fork's rules apply.
    fn dialect(&self) -> Dialect;
    /// `POST /invite`.
    async fn create_invite(
        &self,
        email: &str,
        data: Option<&Value>,
        redirect: Option<&str>,
    ) -> Result<GotrueUser>;
    /// `POST /admin/generate_link` type `invite`: the user and the `action_link`. Sends no email.
    async fn generate_invite_link(
        &self,
        email: &str,
        data: Option<&Value>,
        redirect: Option<&str>,
    ) -> Result<(GotrueUser, String)>;
    /// `GET /admin/users`.
    async fn list_users(&self, page: u32, per_page: u32, filter: Option<&str>) -> Result<UserPage>;
    /// `GET /admin/users/{id}`.
    async fn get_user(&self, id: &str) -> Result<GotrueUser>;
    /// `DELETE /admin/users/{id}` (hard delete).
    async fn delete_user(&self, id: &str) -> Result<()>;
    /// `PUT /admin/users/{id}` with `user_metadata` (merged by the server).
    async fn update_user_metadata(&self, id: &str, data: &Value) -> Result<()>;
}

/// GoTrue's admin REST API at `base` (`<project>/auth/v1` or a self-hosted root), with the
/// headers that authorise this one call (built per call: keys are read from the keychain each
/// time, minted tokens are short-lived).
#[derive(Debug)]
pub struct RestAdmin {
    http: Http,
    base: String,
    dialect: Dialect,
    headers: Vec<(HeaderName, HeaderValue)>,
    hints: Hints,
}

impl RestAdmin {
    /// An API client for one call (or a few). `headers` are marked sensitive.
    pub fn new(
        http: Http,
        base: &str,
        dialect: Dialect,
        headers: Vec<(HeaderName, HeaderValue)>,
        hints: Hints,
    ) -> Self {
        let headers = headers
            .into_iter()
            .map(|(n, mut v)| {
                v.set_sensitive(true);
                (n, v)
            })
            .collect();
        Self {
            http,
            base: base.trim_end_matches('/').to_string(),
            dialect,
            headers,
            hints,
        }
    }

    /// The hints this client maps errors with.
    pub fn hints(&self) -> &Hints {
        &self.hints
    }

    /// A request to `<base><path>` with the authorising headers.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let mut rb = self
            .http
            .client()
            .request(method, format!("{}{path}", self.base));
        for (n, v) in &self.headers {
            rb = rb.header(n.clone(), v.clone());
        }
        rb
    }

    fn ctx<'a>(&'a self, email: Option<&'a str>, write: bool) -> ErrCtx<'a> {
        ErrCtx {
            email,
            write,
            hints: &self.hints,
        }
    }

    /// Sends a read (retried when safe) and returns the 2xx body or the mapped error.
    pub async fn read(&self, rb: RequestBuilder) -> Result<(HeaderMap, String)> {
        let out = match self.http.send_read(rb).await {
            Ok(resp) => read_ok(resp, &self.ctx(None, false)).await,
            Err(e) => Err(e),
        };
        out.map_err(|e| self.redact(e))
    }

    async fn write(&self, rb: RequestBuilder, email: Option<&str>) -> Result<(HeaderMap, String)> {
        let out = match self.http.send_write(rb).await {
            Ok(resp) => read_ok(resp, &self.ctx(email, true)).await,
            Err(e) => Err(e),
        };
        out.map_err(|e| self.redact(e))
    }

    /// The error with this client's own key or token (from its authorising headers) redacted,
    /// should a server have echoed it.
    fn redact(&self, e: Error) -> Error {
        let values: Vec<&str> = self
            .headers
            .iter()
            .filter_map(|(_, v)| v.to_str().ok())
            .map(|v| v.strip_prefix("Bearer ").unwrap_or(v).trim())
            .collect();
        e.redact(&values)
    }

    fn with_redirect(&self, rb: RequestBuilder, redirect: Option<&str>) -> RequestBuilder {
        match redirect {
            // GoTrue takes the redirect from the query (a body field is ignored), as supabase-js sends it.
            Some(r) if self.dialect == Dialect::Supabase => rb.query(&[("redirect_to", r)]),
            _ => rb,
        }
    }
}

#[async_trait]
impl AdminApi for RestAdmin {
    fn dialect(&self) -> Dialect {
        self.dialect
    }

    async fn create_invite(
        &self,
        email: &str,
        data: Option<&Value>,
        redirect: Option<&str>,
    ) -> Result<GotrueUser> {
        let mut body = json!({ "email": email });
        if let Some(d) = data {
            body["data"] = d.clone();
        }
        let rb = self
            .with_redirect(self.request(Method::POST, "/invite"), redirect)
            .json(&body);
        let (_, text) = self.write(rb, Some(email)).await?;
        parse_user(&text)
    }

    async fn generate_invite_link(
        &self,
        email: &str,
        data: Option<&Value>,
        redirect: Option<&str>,
    ) -> Result<(GotrueUser, String)> {
        if self.dialect == Dialect::Netlify {
            return Err(Error::Unsupported {
                what: "Creating an invitation link without an email".into(),
            });
        }
        let mut body = json!({ "type": "invite", "email": email });
        if let Some(d) = data {
            body["data"] = d.clone();
        }
        if let Some(r) = redirect {
            body["redirect_to"] = Value::String(r.to_string());
        }
        let rb = self
            .with_redirect(self.request(Method::POST, "/admin/generate_link"), redirect)
            .json(&body);
        let (_, text) = self.write(rb, Some(email)).await?;
        parse_link_answer(&text)
    }

    async fn list_users(&self, page: u32, per_page: u32, filter: Option<&str>) -> Result<UserPage> {
        let mut q = vec![
            ("page", page.to_string()),
            ("per_page", per_page.to_string()),
        ];
        if let Some(f) = filter {
            q.push(("filter", f.to_string()));
        }
        let (headers, text) = self
            .read(self.request(Method::GET, "/admin/users").query(&q))
            .await?;
        #[derive(Deserialize)]
        struct Users {
            #[serde(default)]
            users: Option<Vec<GotrueUser>>,
        }
        let users = crate::http::parse_json::<Users>(&text)?
            .users
            .ok_or_else(|| Error::BadResponse {
                detail: Some(format!("no users in: {}", clip(&text))),
            })?;
        Ok(UserPage {
            users,
            total: total_count(&headers),
            next_page: next_page_from_link(&headers),
        })
    }

    async fn get_user(&self, id: &str) -> Result<GotrueUser> {
        let path = format!("/admin/users/{}", checked_id(id)?);
        let (_, text) = self.read(self.request(Method::GET, &path)).await?;
        parse_user(&text)
    }

    async fn delete_user(&self, id: &str) -> Result<()> {
        let path = format!("/admin/users/{}", checked_id(id)?);
        let mut rb = self.request(Method::DELETE, &path);
        if self.dialect == Dialect::Supabase {
            rb = rb.json(&json!({ "should_soft_delete": false }));
        }
        self.write(rb, None).await.map(|_| ())
    }

    async fn update_user_metadata(&self, id: &str, data: &Value) -> Result<()> {
        let path = format!("/admin/users/{}", checked_id(id)?);
        let rb = self
            .request(Method::PUT, &path)
            .json(&json!({ "user_metadata": data }));
        self.write(rb, None).await.map(|_| ())
    }
}

/// `generate_link` answers with the user's fields at the top level plus `action_link`; older
/// servers nest `{user, properties:{action_link}}`. Both are read.
pub fn parse_link_answer(text: &str) -> Result<(GotrueUser, String)> {
    let v: Value = crate::http::parse_json(text)?;
    let link = str_of(&v, "action_link")
        .or_else(|| v.get("properties").and_then(|p| str_of(p, "action_link")))
        .map(str::to_string)
        .ok_or_else(|| Error::BadResponse {
            detail: Some(format!("no action_link in: {}", clip(text))),
        })?;
    let user_v = v
        .get("user")
        .filter(|u| u.is_object())
        .cloned()
        .unwrap_or(v);
    let user: GotrueUser = serde_json::from_value(user_v).map_err(|e| Error::BadResponse {
        detail: Some(format!("{e}: {}", clip(text))),
    })?;
    Ok((user, link))
}

// ---------------------------------------------------------------------------------------------
// The operations, the same rules for every back end.

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

/// Decodes a JWT's payload without verifying it (to recognise a key, or to read `exp`).
pub fn jwt_payload(token: &str) -> Option<Value> {
    use base64::Engine as _;
    let mut parts = token.trim().split('.');
    let (_, payload, _) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn hints(bad_token: Option<&str>) -> Hints {
        Hints {
            not_admin: "use the admin key".into(),
            bad_token: bad_token.map(str::to_string),
            wrong_server: "not GoTrue".into(),
        }
    }

    #[test]
    fn authorising_headers_are_marked_sensitive_and_never_printed() {
        let key = "sb_secret_never-print-me-0123456789";
        let admin = RestAdmin::new(
            Http::new().unwrap(),
            "https://abc.supabase.co/auth/v1",
            Dialect::Supabase,
            vec![
                (
                    HeaderName::from_static("apikey"),
                    HeaderValue::from_str(key).unwrap(),
                ),
                (
                    reqwest::header::AUTHORIZATION,
                    HeaderValue::from_str(&format!("Bearer {key}")).unwrap(),
                ),
            ],
            hints(None),
        );
        let req = admin.request(Method::GET, "/admin/users").build().unwrap();
        for name in ["apikey", "authorization"] {
            assert!(req.headers()[name].is_sensitive(), "{name}");
        }
        // What a log line or a panic would show of the request.
        let shown = format!("{req:?} {:?}", req.headers());
        assert!(!shown.contains("never-print-me"), "{shown}");
    }

    fn map(status: u16, body: &str, email: Option<&str>, write: bool) -> Error {
        let h = hints(None);
        let headers = HeaderMap::new();
        map_error(
            &parse_error(status, &headers, body),
            &headers,
            &ErrCtx {
                email,
                write,
                hints: &h,
            },
        )
    }

    #[test]
    fn every_shape_is_read() {
        let h = HeaderMap::new();
        let e = parse_error(
            403,
            &h,
            r#"{"code":"not_admin","message":"User not allowed"}"#,
        );
        assert_eq!(
            (e.code.as_deref(), e.message.as_str()),
            (Some("not_admin"), "User not allowed")
        );
        let e = parse_error(
            403,
            &h,
            r#"{"code":403,"error_code":"bad_jwt","msg":"invalid JWT"}"#,
        );
        assert_eq!(
            (e.code.as_deref(), e.message.as_str()),
            (Some("bad_jwt"), "invalid JWT")
        );
        let e = parse_error(401, &h, r#"{"code":401,"msg":"User not allowed"}"#);
        assert_eq!(
            (e.code, e.message.as_str(), e.recognised),
            (None, "User not allowed", true)
        );
        let e = parse_error(
            400,
            &h,
            r#"{"error":"invalid_grant","error_description":"Email not confirmed"}"#,
        );
        assert_eq!(
            (e.code.as_deref(), e.message.as_str()),
            (Some("invalid_grant"), "Email not confirmed")
        );
        let e = parse_error(
            422,
            &h,
            r#"{"error":{"code":"identity_error","status":422,"message":"Email address already registered by another user"}}"#,
        );
        assert_eq!((e.status, e.code), (422, None));
        let e = parse_error(404, &h, "<html>Not found</html>");
        assert!(!e.recognised);
    }

    #[test]
    fn supabase_rows_map_to_kinds() {
        let rows: &[(u16, &str, &str)] = &[
            (
                401,
                r#"{"code":"no_authorization","message":"This endpoint requires a valid Bearer token"}"#,
                "signed_out",
            ),
            (
                403,
                r#"{"code":"bad_jwt","message":"invalid JWT: unable to parse or verify signature, token has invalid claims: token is expired"}"#,
                "signed_out",
            ),
            (
                403,
                r#"{"code":"not_admin","message":"User not allowed"}"#,
                "not_admin",
            ),
            (401, r#"{"code":401,"msg":"User not allowed"}"#, "not_admin"),
            (
                403,
                r#"{"code":"session_not_found","message":"Session from session_id claim in JWT does not exist"}"#,
                "signed_out",
            ),
            (
                403,
                r#"{"code":"session_expired","message":"Session is no longer valid"}"#,
                "signed_out",
            ),
            (
                400,
                r#"{"code":"bad_json","message":"Could not parse request body as JSON: x"}"#,
                "rejected",
            ),
            (
                400,
                r#"{"code":"validation_failed","message":"An email address is required"}"#,
                "invalid_email",
            ),
            (
                400,
                r#"{"code":"validation_failed","message":"An email address is too long"}"#,
                "invalid_email",
            ),
            (
                400,
                r#"{"code":"validation_failed","message":"Unable to validate email address: invalid format"}"#,
                "invalid_email",
            ),
            (
                400,
                r#"{"code":"email_address_invalid","message":"Email address \"a@b.c\" is invalid"}"#,
                "invalid_email",
            ),
            (
                400,
                r#"{"code":"email_address_not_authorized","message":"Email address \"a@b.c\" cannot be used as it is not authorized"}"#,
                "invalid_email",
            ),
            (
                422,
                r#"{"code":"email_exists","message":"A user with this email address has already been registered"}"#,
                "already_member",
            ),
            (
                429,
                r#"{"code":"over_email_send_rate_limit","message":"email rate limit exceeded"}"#,
                "rate_limited",
            ),
            (
                500,
                r#"{"code":"unexpected_failure","message":"Error sending invite email"}"#,
                "server",
            ),
            (
                404,
                r#"{"code":"user_not_found","message":"User not found"}"#,
                "not_found",
            ),
            (
                404,
                r#"{"code":"validation_failed","message":"user_id must be an UUID"}"#,
                "not_found",
            ),
        ];
        for (status, body, kind) in rows {
            let e = map(*status, body, Some("a@b.c"), true);
            assert_eq!(e.kind(), *kind, "{status} {body} -> {e:?}");
            assert!(
                e.detail().is_some() || matches!(e, Error::InvalidEmail { .. }),
                "{e:?} keeps the server's words"
            );
        }
        let e = map(
            429,
            r#"{"code":"over_email_send_rate_limit","message":"email rate limit exceeded"}"#,
            None,
            true,
        );
        assert!(matches!(
            e,
            Error::RateLimited {
                email_limit: true,
                ..
            }
        ));
    }

    #[test]
    fn netlify_rows_map_to_kinds() {
        let rows: &[(u16, &str, &str)] = &[
            (
                401,
                r#"{"code":401,"msg":"This endpoint requires a Bearer token"}"#,
                "signed_out",
            ),
            (
                401,
                r#"{"code":401,"msg":"Invalid token: token is expired"}"#,
                "signed_out",
            ),
            (
                401,
                r#"{"code":401,"msg":"Invalid admin user"}"#,
                "signed_out",
            ),
            (401, r#"{"code":401,"msg":"User not allowed"}"#, "not_admin"),
            (
                400,
                r#"{"code":400,"msg":"Could not read Invite params: EOF"}"#,
                "rejected",
            ),
            (
                422,
                r#"{"code":422,"msg":"An email address is required"}"#,
                "invalid_email",
            ),
            (
                422,
                r#"{"code":422,"msg":"Unable to validate email address: mail: no angle-addr"}"#,
                "invalid_email",
            ),
            (
                422,
                r#"{"code":422,"msg":"Email address already registered by another user"}"#,
                "already_member",
            ),
            (
                500,
                r#"{"code":500,"msg":"Error inviting user","error_id":"x"}"#,
                "server",
            ),
            (404, r#"{"code":404,"msg":"User not found"}"#, "not_found"),
            (
                400,
                r#"{"code":400,"msg":"user_id must be an UUID"}"#,
                "rejected",
            ),
            (
                429,
                r#"{"code":429,"msg":"Rate limit exceeded"}"#,
                "rate_limited",
            ),
            (
                401,
                r#"{"error":{"code":"unauthorized","message":"Sign in first"}}"#,
                "signed_out",
            ),
            (
                403,
                r#"{"error":{"code":"forbidden","message":"needs role admin"}}"#,
                "not_admin",
            ),
            (
                404,
                r#"{"error":{"code":"not_found","message":"no such user"}}"#,
                "not_found",
            ),
            (404, "Function not found", "wrong_server"),
            (
                409,
                r#"{"error":{"code":"not_pending","message":"a@b.c has accepted the invitation and is a member."}}"#,
                "not_pending",
            ),
        ];
        for (status, body, kind) in rows {
            assert_eq!(
                map(*status, body, Some("a@b.c"), true).kind(),
                *kind,
                "{status} {body}"
            );
        }
    }

    #[test]
    fn lost_answers_on_writes_are_uncertain_and_reads_are_server_errors() {
        assert_eq!(map(502, "bad gateway", None, true).kind(), "uncertain");
        assert_eq!(map(504, "", None, true).kind(), "uncertain");
        assert_eq!(map(503, "", None, true).kind(), "server");
        assert_eq!(map(502, "", None, false).kind(), "server");
    }

    #[test]
    fn key_workspaces_report_a_rejected_key_as_not_admin() {
        let h = hints(Some("check the JWT secret"));
        let headers = HeaderMap::new();
        let e = map_error(
            &parse_error(
                403,
                &headers,
                r#"{"code":"bad_jwt","message":"invalid JWT"}"#,
            ),
            &headers,
            &ErrCtx {
                email: None,
                write: false,
                hints: &h,
            },
        );
        assert!(
            matches!(&e, Error::NotAdmin { hint, .. } if hint == "check the JWT secret"),
            "{e:?}"
        );
    }

    #[test]
    fn retry_after_is_kept() {
        let h = hints(None);
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", HeaderValue::from_static("42"));
        let e = map_error(
            &parse_error(429, &headers, "{}"),
            &headers,
            &ErrCtx {
                email: None,
                write: true,
                hints: &h,
            },
        );
        assert_eq!(e.retry_after(), Some(Duration::from_secs(42)));
        assert!(matches!(
            e,
            Error::RateLimited {
                email_limit: false,
                ..
            }
        ));
    }

    fn user(v: Value) -> GotrueUser {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn status_follows_the_timestamps() {
        let now = Utc::now();
        let day = Some(Duration::from_secs(86_400));
        let ago = |h: i64| (now - chrono::Duration::hours(h)).to_rfc3339();
        let pending = user(
            json!({"id":"1","email":"A@x.io","invited_at":ago(1),"confirmation_sent_at":ago(1),
            "user_metadata":{"invite_message":"hi","full_name":"Ann"}}),
        );
        let i = to_invite(&pending, day, now);
        assert_eq!(
            (
                i.status,
                i.email.as_str(),
                i.message.as_deref(),
                i.name.as_deref()
            ),
            (InviteStatus::Pending, "a@x.io", Some("hi"), Some("Ann"))
        );
        assert!(i.expires_at.unwrap() > now);
        let expired = user(
            json!({"id":"2","email":"b@x.io","invited_at":ago(30),"confirmation_sent_at":ago(25)}),
        );
        assert_eq!(to_invite(&expired, day, now).status, InviteStatus::Expired);
        // Netlify: no lifetime, never expires.
        assert_eq!(to_invite(&expired, None, now).status, InviteStatus::Pending);
        let accepted = user(
            json!({"id":"3","email":"c@x.io","invited_at":ago(30),"email_confirmed_at":ago(2)}),
        );
        assert_eq!(
            to_invite(&accepted, day, now).status,
            InviteStatus::Accepted
        );
        let netlify_accepted =
            user(json!({"id":"4","email":"d@x.io","invited_at":ago(30),"confirmed_at":ago(2)}));
        assert_eq!(
            to_invite(&netlify_accepted, None, now).status,
            InviteStatus::Accepted
        );
        let odd = user(
            json!({"id":"5","email":"e@x.io","invited_at":"yesterday","confirmed_at":null,"user_metadata":null}),
        );
        assert!(!odd.is_invitation());
    }

    #[test]
    fn link_header_gives_the_next_page() {
        let mut h = HeaderMap::new();
        h.insert(
            "link",
            HeaderValue::from_static(r#"</admin/users?page=12&per_page=50>; rel="next", </admin/users?page=40&per_page=50>; rel="last""#),
        );
        h.insert("x-total-count", HeaderValue::from_static("1999"));
        assert_eq!(next_page_from_link(&h), Some(12));
        assert_eq!(total_count(&h), Some(1999));
        h.insert("link", HeaderValue::from_static(r#"</admin/users?page=1&per_page=50>; rel="prev", </admin/users?page=3&per_page=50>; rel="last""#));
        assert_eq!(next_page_from_link(&h), None);
    }

    #[test]
    fn link_answers_of_both_shapes_are_read() {
        let (u, l) = parse_link_answer(
            r#"{"id":"u1","email":"a@b.c","action_link":"https://x/verify?token=t&type=invite"}"#,
        )
        .unwrap();
        assert_eq!(
            (u.id.as_str(), l.as_str()),
            ("u1", "https://x/verify?token=t&type=invite")
        );
        let (u, l) =
            parse_link_answer(r#"{"user":{"id":"u2"},"properties":{"action_link":"L"}}"#).unwrap();
        assert_eq!((u.id.as_str(), l.as_str()), ("u2", "L"));
        assert!(parse_link_answer(r#"{"id":"u3"}"#).is_err());
    }

    #[test]
    fn ids_cannot_change_the_path() {
        assert!(checked_id("0b3c3d6e-9f1a-4b7e-8a7c-1e2d3f4a5b6c").is_ok());
        assert!(checked_id("../settings").is_err());
        assert!(checked_id("").is_err());
    }

    #[test]
    fn jwt_payloads_are_read_without_verifying() {
        let p = jwt_payload("eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiYW5vbiJ9.sig").unwrap();
        assert_eq!(p["role"], "anon");
        assert!(jwt_payload("sb_secret_abc").is_none());
    }
}
