//! Supabase Auth (hosted, or self-hosted behind its gateway): `<project>/auth/v1/…` with the
//! project's secret key, sent as supabase-js sends it (`apikey` + `Authorization: Bearer`, and
//! `X-Supabase-Api-Version: 2024-01-01` so errors come back as `{"code","message"}`).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use reqwest::header::{HeaderName, HeaderValue, AUTHORIZATION};
use reqwest::Method;

use super::gotrue_common::{
    self as common, health_version, jwt_claims, AdminApi, Dialect, Hints, RestAdmin,
};
use crate::error::{Error, Result};
use crate::http::Http;
use crate::model::{
    Capabilities, ConnectionReport, Invite, InvitePage, InviteRef, InviteRequest, Invited,
    ListQuery, ResendOptions, WorkspaceKind,
};
use crate::provider::Provider;
use crate::secret::{names, SecretStore};
use crate::workspace::{Workspace, WorkspaceConfig};

/// The API version header value: errors then carry the machine code in `code`.
pub const API_VERSION: &str = "2024-01-01";

const NOT_ADMIN_HINT: &str = "Use the secret key (sb_secret_…) or the legacy service_role key from Project Settings → API Keys, \
     not the anon or publishable key.";
const BAD_KEY_HINT: &str =
    "Supabase did not accept this key (it may have been rotated or belong to another project). \
     Copy the secret key again from Project Settings → API Keys.";
const WRONG_SERVER_HINT: &str =
    "This address does not answer as a Supabase project. Use the Project URL from \
     Project Settings → API (https://<project-ref>.supabase.co).";

/// Recognises keys that cannot invite before they are used: the anon key (a JWT with
/// `role: anon`), a user's sign-in token (`role: authenticated`), a publishable key
/// (`sb_publishable_…`) and a personal access token (`sbp_…`) all give [`Error::WrongKey`]. The
/// JWT payload is decoded without verifying; the server has the last word on anything else.
pub fn classify_supabase_key(key: &str) -> Result<()> {
    let key = key.trim();
    if key.is_empty() {
        return Err(Error::invalid_input("Secret key", "is empty"));
    }
    if key.starts_with("sb_publishable_") {
        return Err(Error::WrongKey {
            hint: "This is the publishable key, which anyone may see and which can't invite. Use the secret key \
                   (sb_secret_…) from Project Settings → API Keys."
                .into(),
        });
    }
    if key.starts_with("sbp_") {
        return Err(Error::WrongKey {
            hint: "This is a personal access token for your Supabase account, not the project's key. Use the \
                   secret key (sb_secret_…) from Project Settings → API Keys."
                .into(),
        });
    }
    if let Some(claims) = jwt_claims(key) {
        match claims.role.as_deref() {
            Some("anon") => {
                return Err(Error::WrongKey {
                    hint: "This is the anon (public) key, which can't invite. Use the service_role key (or the \
                           secret key, sb_secret_…) from Project Settings → API Keys."
                        .into(),
                })
            }
            Some("authenticated") => {
                return Err(Error::WrongKey {
                    hint: "This is a signed-in user's token, not a project key. Use the secret key (sb_secret_…) \
                           from Project Settings → API Keys."
                        .into(),
                })
            }
            _ => {}
        }
    }
    Ok(())
}

/// Supabase Auth behind the project's gateway, authorised by the secret key.
#[derive(Debug)]
pub struct SupabaseProvider {
    http: Http,
    ws_id: String,
    project_url: String,
    lifetime: Duration,
    secrets: Arc<dyn SecretStore>,
}

impl SupabaseProvider {
    /// A provider for `ws`. The key is read from `secrets` (`secret_key`) on every call, so a key
    /// edited in the keychain takes effect at once.
    pub fn new(http: Http, ws: &Workspace, secrets: Arc<dyn SecretStore>) -> Result<Self> {
        let WorkspaceConfig::Supabase(options) = &ws.config else {
            return Err(Error::invalid_input(
                "Workspace",
                "is not a Supabase project",
            ));
        };
        let project_url = project_url(&ws.base_url)?;
        let hours = options.link_lifetime_hours.unwrap_or(24).max(1);
        Ok(Self {
            http,
            ws_id: ws.id.clone(),
            project_url,
            lifetime: Duration::from_secs(u64::from(hours) * 3600),
            secrets,
        })
    }

    fn base(&self) -> String {
        format!("{}/auth/v1", self.project_url)
    }

    fn hints() -> Hints {
        Hints {
            not_admin: NOT_ADMIN_HINT.into(),
            bad_token: Some(BAD_KEY_HINT.into()),
            wrong_server: WRONG_SERVER_HINT.into(),
        }
    }

    /// The admin API for one operation, with the key the secret store holds now.
    fn api(&self) -> Result<RestAdmin> {
        let key = self.secrets.require(&self.ws_id, names::SECRET_KEY)?;
        classify_supabase_key(key.expose())?;
        let value = HeaderValue::from_str(key.expose().trim()).map_err(|_| {
            Error::invalid_input(
                "Secret key",
                "contains characters a key never has; paste it again",
            )
        })?;
        let bearer =
            HeaderValue::from_str(&format!("Bearer {}", key.expose().trim())).map_err(|_| {
                Error::invalid_input(
                    "Secret key",
                    "contains characters a key never has; paste it again",
                )
            })?;
        let headers = vec![
            (HeaderName::from_static("apikey"), value),
            (AUTHORIZATION, bearer),
            (
                HeaderName::from_static("x-supabase-api-version"),
                HeaderValue::from_static(API_VERSION),
            ),
        ];
        Ok(RestAdmin::new(
            self.http.clone(),
            &self.base(),
            Dialect::Supabase,
            headers,
            Self::hints(),
        ))
    }

    fn is_hosted(&self) -> bool {
        url::Url::parse(&self.project_url)
            .ok()
            .and_then(|u| {
                u.host_str()
                    .map(|h| h.ends_with(".supabase.co") || h.ends_with(".supabase.in"))
            })
            .unwrap_or(false)
    }
}

/// The project URL without a pasted `/auth/v1` or `/rest/v1` suffix.
fn project_url(base: &str) -> Result<String> {
    let mut s = base.trim().trim_end_matches('/').to_string();
    for suffix in ["/auth/v1", "/rest/v1"] {
        if let Some(stripped) = s.strip_suffix(suffix) {
            s = stripped.to_string();
        }
    }
    url::Url::parse(&s).map_err(|e| Error::InvalidUrl {
        reason: e.to_string(),
    })?;
    Ok(s)
}

#[async_trait]
impl Provider for SupabaseProvider {
    fn kind(&self) -> WorkspaceKind {
        WorkspaceKind::Supabase
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            message: true,
            redirect: true,
            send_email_toggle: true,
            copy_link: true,
            resend: true,
            cancel: true,
            expiry: true,
        }
    }

    async fn check_connection(&self) -> Result<ConnectionReport> {
        let api = self.api()?;
        // /health first: it tells a wrong URL from a wrong key. The gateway answers 401 to a bad
        // key even here, which the admin call below explains better.
        let resp = self
            .http
            .send_read(api.request(Method::GET, "/health"))
            .await?;
        let status = resp.status();
        let body = crate::http::body_text(resp).await?;
        let version = health_version(&body);
        if version.is_none() && !matches!(status.as_u16(), 401 | 403) {
            return Err(Error::WrongServer {
                hint: WRONG_SERVER_HINT.into(),
                detail: Some(format!(
                    "/auth/v1/health answered {status}: {}",
                    crate::redact::clip(&crate::redact::redact(&body, &[]), 200)
                )),
            });
        }
        let page = api.list_users(1, 1, None).await?;
        let mut summary = format!(
            "Connected to the Supabase project at {}: the key is an admin key and can invite.",
            self.project_url
        );
        if let Some(total) = page.total {
            summary.push_str(&format!(" The project has {total} user(s)."));
        }
        let mut notes = vec![
            "Redirect URLs must be on the project's allow list (Authentication → URL Configuration → Redirect URLs); \
             otherwise Supabase silently sends people to the Site URL instead."
                .to_string(),
            "A personal message is stored in the user's data as invite_message; add {{ .Data.invite_message }} to \
             the Invite user email template to show it."
                .to_string(),
        ];
        if self.is_hosted() {
            notes.push(
                "Supabase's built-in email service sends at most 2 emails an hour, and only to your project's team. \
                 Set up custom SMTP (Project Settings → Authentication → SMTP) to invite more people, or turn off \
                 \"send email\" and copy the links instead."
                    .to_string(),
            );
        }
        Ok(ConnectionReport { summary, notes })
    }

    async fn invite(&self, req: &InviteRequest) -> Result<Invited> {
        common::invite(&self.api()?, req, Some(self.lifetime)).await
    }

    async fn list_page(&self, query: &ListQuery, page: u32) -> Result<InvitePage> {
        common::list_page(&self.api()?, query, page, Some(self.lifetime)).await
    }

    async fn resend(&self, invite: &InviteRef, opts: &ResendOptions) -> Result<Invite> {
        common::resend(&self.api()?, invite, opts, Some(self.lifetime)).await
    }

    async fn cancel(&self, invite: &InviteRef) -> Result<()> {
        common::cancel(&self.api()?, invite, Some(self.lifetime)).await
    }

    /// A fresh invitation link (`generate_link` type `invite`). This re-issues the token: the link
    /// in any invitation email sent earlier stops working. No email is sent.
    async fn link(&self, invite: &InviteRef, redirect_url: Option<&str>) -> Result<String> {
        common::link(&self.api()?, invite, redirect_url, Some(self.lifetime)).await
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use base64::Engine as _;

    fn jwt(payload: &str) -> String {
        let b = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        format!("{}.{}.sig", b(r#"{"alg":"HS256","typ":"JWT"}"#), b(payload))
    }

    #[test]
    fn public_keys_are_recognised() {
        assert_eq!(
            classify_supabase_key(&jwt(r#"{"role":"anon","iss":"supabase"}"#))
                .unwrap_err()
                .kind(),
            "wrong_key"
        );
        assert_eq!(
            classify_supabase_key("sb_publishable_abc123")
                .unwrap_err()
                .kind(),
            "wrong_key"
        );
        assert_eq!(
            classify_supabase_key("sbp_0123456789").unwrap_err().kind(),
            "wrong_key"
        );
        assert_eq!(
            classify_supabase_key(&jwt(r#"{"role":"authenticated"}"#))
                .unwrap_err()
                .kind(),
            "wrong_key"
        );
        assert!(classify_supabase_key(&jwt(r#"{"role":"service_role"}"#)).is_ok());
        assert!(classify_supabase_key("sb_secret_abc123").is_ok());
        assert_eq!(
            classify_supabase_key("  ").unwrap_err().kind(),
            "invalid_input"
        );
    }

    #[test]
    fn pasted_api_paths_are_removed() {
        assert_eq!(
            project_url("https://abc.supabase.co/auth/v1/").unwrap(),
            "https://abc.supabase.co"
        );
        assert_eq!(
            project_url("http://127.0.0.1:54321").unwrap(),
            "http://127.0.0.1:54321"
        );
        assert!(project_url("not a url").is_err());
    }
}
