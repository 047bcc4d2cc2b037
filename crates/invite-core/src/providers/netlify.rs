//! Netlify Identity, through the Invite Desk Netlify Function (`netlify/functions/invite-desk.mjs`).
//!
//! Identity only lets an admin token invite, and Netlify hands that token to serverless functions
//! alone. So the owner deploys the function, signs in to Invite Desk with their own Identity email
//! and password, and the app calls the function with that user's access token; the function
//! admits only users with an allowed role and calls Identity with its admin token.
//!
//! Function contract (the sandbox's netlify flavor serves the same routes):
//! `GET <fn>/check`, `POST <fn>/invite`, `GET <fn>/users?page&per_page&filter`,
//! `GET|DELETE <fn>/users/{id}`; errors `{"error":{"code","message","status"?}}`.

use std::sync::Arc;

use async_trait::async_trait;
use reqwest::header::HeaderMap;
use reqwest::{Method, RequestBuilder};
use serde::Deserialize;
use serde_json::Value;

use super::gotrue_common::bodies::InviteBody;
use super::gotrue_common::{
    self as common, checked_id, map_error, parse_error, parse_user, read_ok, AdminApi, Dialect,
    ErrCtx, GotrueUser, Hints, UserPage,
};
use super::session::{Renewal, Sent, TokenSession};
use crate::error::{Error, Result};
use crate::http::{body_text, parse_json, Http};
use crate::model::{
    Capabilities, ConnectionReport, Invite, InvitePage, InviteRef, InviteRequest, Invited,
    ListQuery, ResendOptions, WorkspaceKind,
};
use crate::provider::Provider;
use crate::secret::{names, SecretStore, Sensitive};
use crate::workspace::{Workspace, WorkspaceConfig};

/// Where the function answers unless the workspace says otherwise.
pub const DEFAULT_FUNCTION_PATH: &str = "/.netlify/functions/invite-desk";

/// Netlify Identity's API under a site.
pub const IDENTITY_PATH: &str = "/.netlify/identity";

/// Renew an access token this long before it expires, so it does not expire in flight.
const EXPIRY_MARGIN_SECS: i64 = 60;

const DEPLOY_HINT: &str = "The Invite Desk function is not deployed on this site. Copy \
     netlify/functions/invite-desk.mjs into the site's repository (netlify/functions/), deploy, and try again \
     (see the Netlify setup page).";
const ROLE_HINT: &str = "Your Identity user needs the admin role: in the Netlify dashboard open Identity, select \
     your user, add the role \"admin\" under Roles, and sign in again. (Or list your role in the function's \
     INVITE_DESK_ROLES environment variable.)";
const DEPRECATION_NOTE: &str =
    "Netlify marks Identity as deprecated for new sites; sites that already use it \
     keep working, with security fixes only.";

/// Signs in to Netlify Identity with email and password (`POST <site>/.netlify/identity/token`,
/// form-encoded `grant_type=password`) and stores the access and refresh tokens in `secrets`
/// under `ws_id`. The password is not stored here: keeping it ("stay signed in") is the
/// caller's choice (`names::PASSWORD`).
pub async fn netlify_sign_in(
    http: &Http,
    site_url: &str,
    email: &str,
    password: &Sensitive<String>,
    secrets: &dyn SecretStore,
    ws_id: &str,
) -> Result<()> {
    let url = format!(
        "{}{IDENTITY_PATH}/token",
        site_url.trim().trim_end_matches('/')
    );
    let form = [
        ("grant_type", "password"),
        ("username", email.trim()),
        ("password", password.expose().as_str()),
    ];
    // A lost answer to a sign-in changes nothing that a second sign-in would not: safe to repeat.
    let resp = http.send_read(http.client().post(url).form(&form)).await?;
    let tokens = read_tokens(resp, TokenGrant::Password).await?;
    store_tokens(secrets, ws_id, &tokens)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TokenGrant {
    Password,
    Refresh,
}

/// Identity's `/token` answer as it arrives; wrapped into [`Tokens`] at once.
#[derive(Deserialize)]
struct WireTokens {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
}

/// The tokens of a sign-in, secret from the moment they are read.
#[derive(Debug)]
struct Tokens {
    access_token: Sensitive<String>,
    refresh_token: Option<Sensitive<String>>,
}

impl From<WireTokens> for Tokens {
    fn from(w: WireTokens) -> Self {
        Self {
            access_token: Sensitive::new(w.access_token),
            refresh_token: w
                .refresh_token
                .filter(|r| !r.is_empty())
                .map(Sensitive::new),
        }
    }
}

async fn read_tokens(resp: reqwest::Response, grant: TokenGrant) -> Result<Tokens> {
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = body_text(resp).await?;
    if status.is_success() {
        return parse_json::<WireTokens>(&body)
            .map(Tokens::from)
            .map_err(|_| Error::BadResponse {
                detail: Some(format!("Identity /token answered {status} without tokens")),
            });
    }
    let e = parse_error(status.as_u16(), &headers, &body);
    // Identity's /token never answers 404/405 itself: the address is not an Identity site.
    if matches!(status.as_u16(), 404 | 405) {
        return Err(Error::WrongServer {
            hint: "Netlify Identity does not answer on this site. Check the site address and that Identity is \
                   enabled (Site configuration → Identity)."
                .into(),
            detail: Some(e.detail()),
        });
    }
    match (status.as_u16(), grant) {
        (400 | 401 | 422, TokenGrant::Password) => Err(Error::invalid_input(
            "Email or password",
            format!(
                "Netlify Identity did not accept them ({})",
                if e.message.is_empty() {
                    "no reason given"
                } else {
                    &e.message
                }
            ),
        )),
        (400 | 401 | 422, TokenGrant::Refresh) => Err(Error::SignedOut {
            detail: Some(e.detail()),
        }),
        _ => {
            let hints = Hints {
                not_admin: ROLE_HINT.into(),
                bad_token: None,
                wrong_server: DEPLOY_HINT.into(),
            };
            Err(map_error(
                &e,
                &headers,
                &ErrCtx {
                    email: None,
                    write: false,
                    hints: &hints,
                },
            ))
        }
    }
}

fn store_tokens(secrets: &dyn SecretStore, ws_id: &str, t: &Tokens) -> Result<()> {
    secrets.set(ws_id, names::ACCESS_TOKEN, &t.access_token)?;
    if let Some(r) = &t.refresh_token {
        secrets.set(ws_id, names::REFRESH_TOKEN, r)?;
    }
    Ok(())
}

/// Netlify Identity through the Invite Desk function, as the signed-in owner.
#[derive(Debug)]
pub struct NetlifyProvider {
    http: Http,
    ws_id: String,
    site: String,
    function_url: String,
    account_email: Option<String>,
    secrets: Arc<dyn SecretStore>,
    /// The owner's tokens. Renewals are one at a time: Identity refresh tokens are single-use,
    /// so two racing renewals would sign the owner out.
    session: TokenSession,
}

impl NetlifyProvider {
    /// A provider for `ws` (`base_url` = the site). Tokens are read from `secrets` on every call
    /// and renewed there (refresh token; the kept password when `keep_signed_in`).
    pub fn new(http: Http, ws: &Workspace, secrets: Arc<dyn SecretStore>) -> Result<Self> {
        let WorkspaceConfig::Netlify(options) = &ws.config else {
            return Err(Error::invalid_input(
                "Workspace",
                "is not a Netlify Identity workspace",
            ));
        };
        let site = ws.base_url.trim().trim_end_matches('/').to_string();
        url::Url::parse(&site).map_err(|e| Error::InvalidUrl {
            reason: e.to_string(),
        })?;
        let path = options
            .function_path
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .unwrap_or(DEFAULT_FUNCTION_PATH);
        let path = format!("/{}", path.trim_matches('/'));
        let account_email = options
            .account_email
            .clone()
            .filter(|e| !e.trim().is_empty());
        Ok(Self {
            http,
            ws_id: ws.id.clone(),
            function_url: format!("{site}{path}"),
            site,
            session: TokenSession::new(
                &ws.id,
                secrets.clone(),
                EXPIRY_MARGIN_SECS,
                options.keep_signed_in,
                account_email.clone(),
            ),
            account_email,
            secrets,
        })
    }

    fn hints() -> Hints {
        Hints {
            not_admin: ROLE_HINT.into(),
            bad_token: None,
            wrong_server: DEPLOY_HINT.into(),
        }
    }

    fn build(
        &self,
        method: &Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&InviteBody<'_>>,
    ) -> RequestBuilder {
        let mut rb = self
            .http
            .client()
            .request(method.clone(), format!("{}{path}", self.function_url));
        if !query.is_empty() {
            rb = rb.query(query);
        }
        if let Some(b) = body {
            rb = rb.json(b);
        }
        rb
    }

    /// Calls the function as the owner. A 401 means the function acted on nothing, so even a
    /// write is sent once more after renewing the token.
    async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&InviteBody<'_>>,
        email: Option<&str>,
    ) -> Result<(HeaderMap, String)> {
        let write = method != Method::GET;
        let hints = Self::hints();
        let ctx = ErrCtx {
            email,
            write,
            hints: &hints,
        };
        let (resp, token) = self
            .session
            .send(self, |token| {
                let rb = self
                    .build(&method, path, query, body)
                    .bearer_auth(token.expose());
                async move {
                    let resp = if write {
                        self.http.send_write(rb).await?
                    } else {
                        self.http.send_read(rb).await?
                    };
                    Ok(if resp.status().as_u16() == 401 {
                        Sent::Unauthorized(resp)
                    } else {
                        Sent::Answer(resp)
                    })
                }
            })
            .await?;
        read_ok(resp, &ctx)
            .await
            .map_err(|e| e.redact(&[token.expose()]))
    }
}

/// Renewing the owner's session: Identity's refresh grant, then the kept password.
#[async_trait]
impl Renewal for NetlifyProvider {
    async fn refresh(&self, refresh_token: &Sensitive<String>) -> Result<Sensitive<String>> {
        let url = format!("{}{IDENTITY_PATH}/token", self.site);
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose().as_str()),
        ];
        // A refresh token is spent when used: never re-send one whose answer was lost.
        let resp = self
            .http
            .send_write(self.http.client().post(url).form(&form))
            .await?;
        let tokens = read_tokens(resp, TokenGrant::Refresh).await?;
        store_tokens(self.secrets.as_ref(), &self.ws_id, &tokens)?;
        Ok(tokens.access_token)
    }

    async fn sign_in_again(&self, email: &str, password: &Sensitive<String>) -> Result<()> {
        netlify_sign_in(
            &self.http,
            &self.site,
            email,
            password,
            self.secrets.as_ref(),
            &self.ws_id,
        )
        .await
    }

    /// A refresh whose answer was lost may have spent the refresh token: sign in again too.
    fn sign_in_again_after(&self, e: &Error) -> bool {
        matches!(e, Error::SignedOut { .. } | Error::Uncertain { .. })
    }

    fn session_ended(&self, cause: Error) -> Error {
        match cause {
            Error::Uncertain { detail } => Error::SignedOut { detail },
            other => other,
        }
    }
}

#[async_trait]
impl AdminApi for NetlifyProvider {
    fn dialect(&self) -> Dialect {
        Dialect::Netlify
    }

    async fn create_invite(
        &self,
        email: &str,
        data: Option<&Value>,
        _redirect: Option<&str>,
    ) -> Result<GotrueUser> {
        let body = InviteBody { email, data };
        let (_, text) = self
            .call(Method::POST, "/invite", &[], Some(&body), Some(email))
            .await?;
        parse_user(&text)
    }

    async fn generate_invite_link(
        &self,
        _: &str,
        _: Option<&Value>,
        _: Option<&str>,
    ) -> Result<(GotrueUser, String)> {
        Err(Error::Unsupported {
            what: "Copying an invitation link".into(),
        })
    }

    async fn list_users(&self, page: u32, per_page: u32, filter: Option<&str>) -> Result<UserPage> {
        let mut q = vec![
            ("page", page.to_string()),
            ("per_page", per_page.to_string()),
        ];
        if let Some(f) = filter {
            q.push(("filter", f.to_string()));
        }
        let (_, text) = self.call(Method::GET, "/users", &q, None, None).await?;
        #[derive(Deserialize)]
        struct Page {
            users: Vec<GotrueUser>,
            #[serde(default)]
            total: Option<u64>,
            #[serde(default)]
            next_page: Option<u32>,
        }
        let p: Page = parse_json(&text)?;
        Ok(UserPage {
            users: p.users,
            total: p.total,
            next_page: p.next_page,
        })
    }

    async fn get_user(&self, id: &str) -> Result<GotrueUser> {
        let path = format!("/users/{}", checked_id(id)?);
        let (_, text) = self.call(Method::GET, &path, &[], None, None).await?;
        parse_user(&text)
    }

    async fn delete_user(&self, id: &str) -> Result<()> {
        let path = format!("/users/{}", checked_id(id)?);
        self.call(Method::DELETE, &path, &[], None, None)
            .await
            .map(|_| ())
    }

    async fn update_user_metadata(&self, _: &str, _: &Value) -> Result<()> {
        Err(Error::Unsupported {
            what: "Changing an invitation's message".into(),
        })
    }
}

#[async_trait]
impl Provider for NetlifyProvider {
    fn kind(&self) -> WorkspaceKind {
        WorkspaceKind::Netlify
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            message: true,
            redirect: false,
            send_email_toggle: false,
            copy_link: false,
            resend: true,
            cancel: true,
            expiry: false,
        }
    }

    async fn check_connection(&self) -> Result<ConnectionReport> {
        // The function's /check route always exists once deployed: a 404 means it is not.
        let (_, text) = self
            .call(Method::GET, "/check", &[], None, None)
            .await
            .map_err(|e| match e {
                Error::NotFound { detail } => Error::WrongServer {
                    hint: DEPLOY_HINT.into(),
                    detail,
                },
                e => e,
            })?;
        #[derive(Deserialize)]
        struct Check {
            #[serde(default)]
            ok: bool,
            #[serde(default)]
            email: Option<String>,
            #[serde(default)]
            roles: Vec<String>,
        }
        // A site with a catch-all redirect answers a missing function with its index page (200).
        let c: Check = parse_json(&text).map_err(|_| Error::WrongServer {
            hint: DEPLOY_HINT.into(),
            detail: Some(format!(
                "the function path answered: {}",
                crate::redact::clip(&crate::redact::redact(&text, &[]), 200)
            )),
        })?;
        if !c.ok {
            return Err(Error::BadResponse {
                detail: Some(format!(
                    "the function's /check said: {}",
                    crate::redact::clean(&text, &[])
                )),
            });
        }
        let who = c
            .email
            .or_else(|| self.account_email.clone())
            .unwrap_or_else(|| "you".into());
        let roles = if c.roles.is_empty() {
            "no roles".to_string()
        } else {
            c.roles.join(", ")
        };
        Ok(ConnectionReport {
            summary: format!(
                "Signed in to {} as {who} ({roles}); the Invite Desk function is deployed and lets you invite.",
                self.site
            ),
            notes: vec![
                DEPRECATION_NOTE.to_string(),
                "Netlify Identity has no redirect option and no links to copy: invitations are emailed and link to \
                 the site."
                    .to_string(),
                "Resending deletes the pending user and invites again (Netlify refuses to re-invite an address)."
                    .to_string(),
            ],
        })
    }

    /// Invites by email. A redirect URL is ignored (Netlify has none; see capabilities).
    async fn invite(&self, req: &InviteRequest) -> Result<Invited> {
        common::invite(self, req, None).await
    }

    async fn list_page(&self, query: &ListQuery, page: u32) -> Result<InvitePage> {
        common::list_page(self, query, page, None).await
    }

    /// Deletes the still-pending user and invites again: the returned invitation has a new id.
    async fn resend(&self, invite: &InviteRef, opts: &ResendOptions) -> Result<Invite> {
        common::resend(self, invite, opts, None).await
    }

    async fn cancel(&self, invite: &InviteRef) -> Result<()> {
        common::cancel(self, invite, None).await
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use base64::Engine as _;

    fn token_with_exp(exp: i64) -> String {
        let b = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        format!(
            "{}.{}.sig",
            b(r#"{"alg":"HS256"}"#),
            b(&format!(r#"{{"exp":{exp}}}"#))
        )
    }

    fn expiring(token: &str) -> bool {
        super::super::session::expiring(token, EXPIRY_MARGIN_SECS)
    }

    #[test]
    fn tokens_about_to_expire_are_renewed_first() {
        let now = chrono::Utc::now().timestamp();
        assert!(expiring(&token_with_exp(now - 10)));
        assert!(expiring(&token_with_exp(now + 30)));
        assert!(!expiring(&token_with_exp(now + 3600)));
        assert!(!expiring("opaque"));
        // Hostile `exp` values: no overflow, the far past is expired, the far future is not.
        assert!(expiring(&token_with_exp(i64::MIN)));
        assert!(!expiring(&token_with_exp(i64::MAX)));
        assert!(!expiring(&token_with_exp_text("1e300")));
        assert!(!expiring(&token_with_exp_text("99999999999999999999999")));
    }

    fn token_with_exp_text(exp: &str) -> String {
        let b = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        format!(
            "{}.{}.sig",
            b(r#"{"alg":"HS256"}"#),
            b(&format!(r#"{{"exp":{exp}}}"#))
        )
    }

    #[test]
    fn token_debug_hides_values() {
        let t = Tokens::from(WireTokens {
            access_token: "secret".into(),
            refresh_token: Some("r".into()),
        });
        assert!(!format!("{t:?}").contains("secret"));
    }
}
