//! The admin calls the shared operations need ([`AdminApi`]), and their implementation over
//! GoTrue's REST API ([`RestAdmin`]).

use async_trait::async_trait;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, RequestBuilder};
use serde_json::Value;

use super::bodies::{DeleteUserBody, GenerateLinkBody, InviteBody, UpdateUserBody, UsersAnswer};
use super::errors::{read_ok, ErrCtx, Hints};
use super::wire::{
    checked_id, clip, next_page_from_link, parse_link_answer, parse_user, total_count, Dialect,
    GotrueUser, UserPage,
};
use crate::error::{Error, Result};
use crate::http::Http;

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
/// headers that authorise this one call (built per call: a key replaced in the keychain is used
/// within seconds, see `desk::secrets::SECRET_READ_TTL`; minted tokens are short-lived).
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
        let body = InviteBody { email, data };
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
        let body = GenerateLinkBody {
            link_type: "invite",
            email,
            data,
            redirect_to: redirect,
        };
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
        let users = crate::http::parse_json::<UsersAnswer>(&text)?
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
            rb = rb.json(&DeleteUserBody {
                should_soft_delete: false,
            });
        }
        self.write(rb, None).await.map(|_| ())
    }

    async fn update_user_metadata(&self, id: &str, data: &Value) -> Result<()> {
        let path = format!("/admin/users/{}", checked_id(id)?);
        let rb = self.request(Method::PUT, &path).json(&UpdateUserBody {
            user_metadata: data,
        });
        self.write(rb, None).await.map(|_| ())
    }
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
}
