//! What GoTrue servers send that Invite Desk reads: users and when they count as pending,
//! accepted or expired (`docs/wire/gotrue.md` §3), user pages (`Link`, `X-Total-Count`), link
//! answers, health answers, and JWT payloads.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::HeaderMap;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::bodies::{HealthAnswer, LinkAnswer};
use crate::error::{Error, Result};
use crate::model::{Invite, InviteStatus};
use crate::providers::lenient;

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

/// Server text for a detail: secret-shaped parts redacted, then cut to 200 characters.
pub(super) fn clip(s: &str) -> String {
    crate::redact::clip(&crate::redact::redact(s, &[]), 200)
}

/// True when `body` is GoTrue's `/health` answer (`{"name":"GoTrue","version":…}`); gives the version.
pub fn health_version(body: &str) -> Option<String> {
    let h: HealthAnswer = lenient::parse_object(body)?;
    if !h.name.is_some_and(|n| n.eq_ignore_ascii_case("gotrue")) {
        return None;
    }
    Some(h.version.unwrap_or_else(|| "unknown version".into()))
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

/// `generate_link` answers with the user's fields at the top level plus `action_link`; older
/// servers nest `{user, properties:{action_link}}`. Both are read.
pub fn parse_link_answer(text: &str) -> Result<(GotrueUser, String)> {
    let answer: LinkAnswer = crate::http::parse_json(text)?;
    let link = answer
        .action_link
        .or_else(|| answer.properties.and_then(|p| p.action_link))
        .ok_or_else(|| Error::BadResponse {
            detail: Some(format!("no action_link in: {}", clip(text))),
        })?;
    let user = match answer.user {
        Some(user) => user,
        None => serde_json::from_str(text).map_err(|e| Error::BadResponse {
            detail: Some(format!("{e}: {}", clip(text))),
        })?,
    };
    Ok((user, link))
}

/// The claims Invite Desk reads from a JWT it did not mint (a pasted key, an access token).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct JwtClaims {
    /// Expiry, Unix seconds (a non-integer reads as absent).
    #[serde(deserialize_with = "lenient::opt")]
    pub exp: Option<i64>,
    /// Supabase's role: `anon`, `authenticated`, `service_role`…
    #[serde(deserialize_with = "lenient::opt")]
    pub role: Option<String>,
}

/// The claims of a JWT, unverified: `None` when `token` is not a JWT; a payload that is not an
/// object has no claims.
pub fn jwt_claims(token: &str) -> Option<JwtClaims> {
    jwt_payload(token).map(|p| lenient::object(p).unwrap_or_default())
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
    use reqwest::header::HeaderValue;
    use serde_json::json;

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
