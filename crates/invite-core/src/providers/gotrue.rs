//! A self-hosted GoTrue server at its root URL, either fork.
//!
//! Authorised by the server's JWT secret, from which a short-lived HS256 admin token is minted
//! for every call (Supabase fork: a `role` among `GOTRUE_JWT_ADMIN_ROLES`; Netlify fork:
//! `sub: "0"`, the system super-admin), or by an operator token given as is. The secret stays in
//! the keychain; this is the app's answer to "how do I generate the JWT token".

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use reqwest::header::{HeaderValue, AUTHORIZATION};
use reqwest::Method;
use serde::Serialize;

use super::gotrue_common::bodies::{ErrorKeys, SettingsAnswer};
use super::gotrue_common::{
    self as common, health_version, parse_error, AdminApi, Dialect, Hints, RestAdmin,
};
use super::lenient;
use crate::error::{Error, Result};
use crate::http::{body_text, Http};
use crate::model::{
    Capabilities, ConnectionReport, Invite, InvitePage, InviteRef, InviteRequest, Invited,
    ListQuery, ResendOptions, WorkspaceKind,
};
use crate::provider::Provider;
use crate::secret::{names, SecretStore, Sensitive};
use crate::workspace::{GotrueFork, GotrueSignIn, Workspace, WorkspaceConfig};

/// How long a minted admin token lives: long enough for one call and its retries, short enough
/// that a leaked one is soon useless.
pub const TOKEN_TTL: Duration = Duration::from_secs(300);

/// The admin role put in minted tokens for Supabase's fork unless the workspace names another.
pub const DEFAULT_ADMIN_ROLE: &str = "service_role";

const WRONG_SERVER_HINT: &str =
    "This address does not answer as a GoTrue server. Use the server's root URL \
     (the one that answers /health with {\"name\":\"GoTrue\"}).";

/// How far back a minted token's `iat` is put. netlify/gotrue refuses a token "used before
/// issued" (its `iat` after the server's clock, no leeway), so a desktop clock running a little
/// fast would otherwise lock the owner out; a minute covers ordinary drift.
pub const CLOCK_SKEW_SECS: i64 = 60;

/// The claims of a minted admin token (docs/wire/gotrue.md §2): Supabase's fork reads `role`,
/// Netlify's `sub`.
#[derive(Debug, Serialize)]
struct AdminClaims<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sub: Option<&'a str>,
    iat: i64,
    exp: i64,
}

/// Mints an HS256 admin token from the server's JWT secret.
///
/// Supabase fork: `{"role": <role>, "iat", "exp"}` (only the role decides, see
/// `GOTRUE_JWT_ADMIN_ROLES`). Netlify fork: `{"sub": "0", "iat", "exp"}`, which that fork treats
/// as the system super-admin. `iat` is [`CLOCK_SKEW_SECS`] in the past, `exp` `ttl_secs` from now.
/// `ttl` may be negative in tests to make an expired token.
pub fn mint_admin_token(
    jwt_secret: &Sensitive<String>,
    dialect: Dialect,
    role: &str,
    ttl_secs: i64,
) -> Result<Sensitive<String>> {
    mint_admin_token_at(jwt_secret, dialect, role, ttl_secs, Utc::now().timestamp())
}

/// [`mint_admin_token`] as a clock reading `now` (Unix seconds) would mint it; tests use a
/// shifted clock. The arithmetic saturates, so no `now` or `ttl` overflows.
pub fn mint_admin_token_at(
    jwt_secret: &Sensitive<String>,
    dialect: Dialect,
    role: &str,
    ttl_secs: i64,
    now: i64,
) -> Result<Sensitive<String>> {
    let iat = now.saturating_sub(CLOCK_SKEW_SECS);
    let exp = now.saturating_add(ttl_secs);
    let claims = match dialect {
        Dialect::Supabase => AdminClaims {
            role: Some(role),
            sub: None,
            iat,
            exp,
        },
        Dialect::Netlify => AdminClaims {
            role: None,
            sub: Some("0"),
            iat,
            exp,
        },
    };
    let key = jsonwebtoken::EncodingKey::from_secret(jwt_secret.expose().as_bytes());
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &key,
    )
    .map(Sensitive::new)
    .map_err(|e| Error::invalid_input("JWT secret", format!("could not make an admin token: {e}")))
}

/// Self-hosted GoTrue (Supabase's or Netlify's fork) at its root URL.
#[derive(Debug)]
pub struct GotrueProvider {
    http: Http,
    ws_id: String,
    base: String,
    auth_mode: GotrueSignIn,
    fork: GotrueFork,
    admin_role: String,
    lifetime_hours: u32,
    secrets: Arc<dyn SecretStore>,
    detected: Mutex<Option<Dialect>>,
}

impl GotrueProvider {
    /// A provider for `ws` (a self-hosted GoTrue workspace). Secrets (`jwt_secret`, or
    /// `operator_token` when it signs in with [`GotrueSignIn::OperatorToken`]) are read on
    /// every call.
    pub fn new(http: Http, ws: &Workspace, secrets: Arc<dyn SecretStore>) -> Result<Self> {
        let WorkspaceConfig::Gotrue(options) = &ws.config else {
            return Err(Error::invalid_input(
                "Workspace",
                "is not a self-hosted GoTrue workspace",
            ));
        };
        let base = ws.base_url.trim().trim_end_matches('/').to_string();
        url::Url::parse(&base).map_err(|e| Error::InvalidUrl {
            reason: e.to_string(),
        })?;
        let admin_role = options
            .admin_role
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .unwrap_or(DEFAULT_ADMIN_ROLE)
            .to_string();
        Ok(Self {
            http,
            ws_id: ws.id.clone(),
            base,
            auth_mode: options.auth_mode,
            fork: options.gotrue_fork,
            admin_role,
            lifetime_hours: options.link_lifetime_hours.unwrap_or(24).max(1),
            secrets,
            detected: Mutex::new(None),
        })
    }

    /// The fork this server runs: the workspace's choice, else detected once from `/health`,
    /// `/settings` and, failing those, the shape of an error answer; the result is cached.
    pub async fn dialect(&self) -> Result<Dialect> {
        match self.fork {
            GotrueFork::Supabase => return Ok(Dialect::Supabase),
            GotrueFork::Netlify => return Ok(Dialect::Netlify),
            GotrueFork::Auto => {}
        }
        if let Some(d) = self.cached() {
            return Ok(d);
        }
        let d = self.detect().await?;
        if let Ok(mut g) = self.detected.lock() {
            *g = Some(d);
        }
        Ok(d)
    }

    fn cached(&self) -> Option<Dialect> {
        self.detected.lock().ok().and_then(|g| *g)
    }

    async fn get(&self, path: &str) -> Result<(u16, String)> {
        let resp = self
            .http
            .send_read(self.http.client().get(format!("{}{path}", self.base)))
            .await?;
        let status = resp.status().as_u16();
        Ok((status, body_text(resp).await?))
    }

    /// GoTrue's `/health` version, or [`Error::WrongServer`].
    async fn health(&self) -> Result<String> {
        let (status, body) = self.get("/health").await?;
        health_version(&body).ok_or_else(|| Error::WrongServer {
            hint: WRONG_SERVER_HINT.into(),
            detail: Some(format!(
                "/health answered {status}: {}",
                crate::redact::clip(&crate::redact::redact(&body, &[]), 200)
            )),
        })
    }

    async fn detect(&self) -> Result<Dialect> {
        self.health().await?;
        let (_, settings) = self.get("/settings").await?;
        if let Some(s) = lenient::parse_object::<SettingsAnswer>(&settings) {
            // Keys only one fork has (docs/wire/gotrue.md §6).
            if s.is_supabase() {
                return Ok(Dialect::Supabase);
            }
            if s.is_netlify() {
                return Ok(Dialect::Netlify);
            }
        }
        // No telling settings: an unauthorised admin call answers in each fork's error shape.
        let (status, body) = self.get("/admin/users?per_page=1").await?;
        let e = parse_error(status, &reqwest::header::HeaderMap::new(), &body);
        let keys = lenient::parse_object::<ErrorKeys>(&body).unwrap_or_default();
        if e.code.is_some() || keys.error_code {
            Ok(Dialect::Supabase)
        } else if keys.msg {
            Ok(Dialect::Netlify)
        } else {
            Err(Error::WrongServer {
                hint: "Invite Desk could not tell which GoTrue this is. Choose Supabase or Netlify under the \
                       workspace's advanced settings."
                    .into(),
                detail: Some(format!("/admin/users answered {status}")),
            })
        }
    }

    fn hints(&self, dialect: Dialect) -> Hints {
        let (not_admin, bad_token) = match (self.auth_mode, dialect) {
            (GotrueSignIn::OperatorToken, _) => (
                "The server does not treat this token as an admin's. Use the value of GOTRUE_OPERATOR_TOKEN, \
                 or switch to the JWT secret."
                    .to_string(),
                "The server did not accept the operator token. Check it matches GOTRUE_OPERATOR_TOKEN.".to_string(),
            ),
            (_, Dialect::Supabase) => (
                format!(
                    "The role \"{}\" is not an admin role on this server. Use a role listed in \
                     GOTRUE_JWT_ADMIN_ROLES (default service_role).",
                    self.admin_role
                ),
                "The server did not accept the admin token made from this JWT secret. Check it matches the \
                 server's GOTRUE_JWT_SECRET."
                    .to_string(),
            ),
            (_, Dialect::Netlify) => (
                "The server did not accept the admin token. Check the JWT secret and that the fork is right."
                    .to_string(),
                "The server did not accept the admin token made from this JWT secret. Check it matches the \
                 server's GOTRUE_JWT_SECRET."
                    .to_string(),
            ),
        };
        Hints {
            not_admin,
            bad_token: Some(bad_token),
            wrong_server: WRONG_SERVER_HINT.into(),
        }
    }

    /// The admin API for one operation, with a freshly minted token (or the operator token).
    async fn api(&self) -> Result<RestAdmin> {
        let dialect = self.dialect().await?;
        let token = match self.auth_mode {
            GotrueSignIn::OperatorToken => {
                self.secrets.require(&self.ws_id, names::OPERATOR_TOKEN)?
            }
            _ => {
                let secret = self.secrets.require(&self.ws_id, names::JWT_SECRET)?;
                let ttl = i64::try_from(TOKEN_TTL.as_secs()).unwrap_or(300);
                mint_admin_token(&secret, dialect, &self.admin_role, ttl)?
            }
        };
        let bearer =
            HeaderValue::from_str(&format!("Bearer {}", token.expose().trim())).map_err(|_| {
                Error::invalid_input(
                    "Token",
                    "contains characters a token never has; paste it again",
                )
            })?;
        Ok(RestAdmin::new(
            self.http.clone(),
            &self.base,
            dialect,
            vec![(AUTHORIZATION, bearer)],
            self.hints(dialect),
        ))
    }

    fn lifetime(&self, dialect: Dialect) -> Option<Duration> {
        // Netlify's /invite never sets confirmation_sent_at, which its expiry check reads.
        (dialect == Dialect::Supabase)
            .then(|| Duration::from_secs(u64::from(self.lifetime_hours) * 3600))
    }
}

#[async_trait]
impl Provider for GotrueProvider {
    fn kind(&self) -> WorkspaceKind {
        WorkspaceKind::Gotrue
    }

    /// Until the fork is known (chosen, or detected by any call), only what both forks can do.
    fn capabilities(&self) -> Capabilities {
        let supabase = match self.fork {
            GotrueFork::Supabase => true,
            GotrueFork::Netlify => false,
            GotrueFork::Auto => self.cached() == Some(Dialect::Supabase),
        };
        Capabilities {
            message: true,
            redirect: supabase,
            send_email_toggle: supabase,
            copy_link: supabase,
            resend: true,
            cancel: true,
            expiry: supabase,
        }
    }

    async fn check_connection(&self) -> Result<ConnectionReport> {
        let version = self.health().await?;
        let api = self.api().await?;
        let dialect = api.dialect();
        let probe = api
            .read(
                api.request(Method::GET, "/admin/users")
                    .query(&[("page", "1"), ("per_page", "1")]),
            )
            .await?;
        let fork = match dialect {
            Dialect::Supabase => "Supabase's fork",
            Dialect::Netlify => "Netlify's fork",
        };
        let how = match self.auth_mode {
            GotrueSignIn::OperatorToken => "the operator token",
            _ => "admin tokens made from the JWT secret",
        };
        let mut summary = format!(
            "Connected to GoTrue {version} ({fork}) at {}: {how} can invite.",
            self.base
        );
        if let Some(total) = common::total_count(&probe.0) {
            summary.push_str(&format!(" The server has {total} user(s)."));
        }
        let notes = match dialect {
            Dialect::Supabase => vec![
                "Redirect URLs must match GOTRUE_SITE_URL or GOTRUE_URI_ALLOW_LIST; otherwise GoTrue silently sends \
                 people to the Site URL instead."
                    .to_string(),
                "GoTrue sends at most GOTRUE_RATE_LIMIT_EMAIL_SENT emails an hour (default 30), shared by every \
                 email it sends. Copying links instead sends no email."
                    .to_string(),
            ],
            Dialect::Netlify => vec![
                "Netlify's GoTrue has no redirect option: the invitation links to the site URL.".to_string(),
                "Resending deletes the pending user and invites again, because this GoTrue refuses to re-invite an \
                 existing address."
                    .to_string(),
            ],
        };
        Ok(ConnectionReport { summary, notes })
    }

    async fn invite(&self, req: &InviteRequest) -> Result<Invited> {
        let api = self.api().await?;
        common::invite(&api, req, self.lifetime(api.dialect())).await
    }

    async fn list_page(&self, query: &ListQuery, page: u32) -> Result<InvitePage> {
        let api = self.api().await?;
        common::list_page(&api, query, page, self.lifetime(api.dialect())).await
    }

    async fn resend(&self, invite: &InviteRef, opts: &ResendOptions) -> Result<Invite> {
        let api = self.api().await?;
        common::resend(&api, invite, opts, self.lifetime(api.dialect())).await
    }

    async fn cancel(&self, invite: &InviteRef) -> Result<()> {
        let api = self.api().await?;
        common::cancel(&api, invite, self.lifetime(api.dialect())).await
    }

    /// A fresh invitation link (Supabase fork only, `generate_link` type `invite`). This re-issues
    /// the token: the link in any invitation email sent earlier stops working.
    async fn link(&self, invite: &InviteRef, redirect_url: Option<&str>) -> Result<String> {
        let api = self.api().await?;
        common::link(&api, invite, redirect_url, self.lifetime(api.dialect())).await
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use jsonwebtoken::{decode, DecodingKey, Validation};
    use serde_json::Value;

    #[test]
    fn minted_tokens_carry_the_fork_s_admin_claims() {
        let secret =
            Sensitive::new("super-secret-jwt-token-with-at-least-32-characters".to_string());
        let key = DecodingKey::from_secret(secret.expose().as_bytes());
        let mut v = Validation::new(jsonwebtoken::Algorithm::HS256);
        v.required_spec_claims.clear();
        v.validate_aud = false;
        let t = mint_admin_token(&secret, Dialect::Supabase, "supabase_admin", 300).unwrap();
        let c = decode::<Value>(t.expose(), &key, &v).unwrap().claims;
        assert_eq!(c["role"], "supabase_admin");
        assert!(c["exp"].as_i64().unwrap() > Utc::now().timestamp());
        let t = mint_admin_token(&secret, Dialect::Netlify, "ignored", 300).unwrap();
        let c = decode::<Value>(t.expose(), &key, &v).unwrap().claims;
        assert_eq!(c["sub"], "0");
        assert!(c.get("role").is_none());
        let expired = mint_admin_token(&secret, Dialect::Netlify, "", -3600).unwrap();
        assert!(decode::<Value>(
            expired.expose(),
            &key,
            &Validation::new(jsonwebtoken::Algorithm::HS256)
        )
        .is_err());
    }

    #[test]
    fn minted_tokens_are_backdated_a_minute_and_live_five() {
        let secret = Sensitive::new("s".repeat(40));
        let key = DecodingKey::from_secret(secret.expose().as_bytes());
        let mut v = Validation::new(jsonwebtoken::Algorithm::HS256);
        v.required_spec_claims.clear();
        v.validate_exp = false;
        let now = 1_800_000_000;
        let t = mint_admin_token_at(&secret, Dialect::Netlify, "", 300, now).unwrap();
        let c = decode::<Value>(t.expose(), &key, &v).unwrap().claims;
        assert_eq!(
            (c["iat"].as_i64(), c["exp"].as_i64()),
            (Some(now - 60), Some(now + 300))
        );
        // Hostile clocks or lifetimes saturate instead of overflowing.
        let t = mint_admin_token_at(&secret, Dialect::Supabase, "r", i64::MAX, i64::MAX).unwrap();
        let c = decode::<Value>(t.expose(), &key, &v).unwrap().claims;
        assert_eq!(c["exp"].as_i64(), Some(i64::MAX));
        let t = mint_admin_token_at(&secret, Dialect::Supabase, "r", i64::MIN, i64::MIN).unwrap();
        let c = decode::<Value>(t.expose(), &key, &v).unwrap().claims;
        assert_eq!(
            (c["iat"].as_i64(), c["exp"].as_i64()),
            (Some(i64::MIN), Some(i64::MIN))
        );
    }
}
