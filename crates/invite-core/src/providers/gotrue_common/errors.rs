//! Error answers of GoTrue servers and of the Invite Desk Netlify Function, turned into the
//! core's [`Error`] kinds (`docs/wire/gotrue.md` §1a, §1b, §4, §6).

use super::bodies::{ErrorAnswer, ErrorField};
use super::wire::clip;
use crate::error::{Error, Result};
use crate::http::{body_text, rate_limited};
use crate::providers::lenient;
use reqwest::header::HeaderMap;
use reqwest::Response;

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
    let Some(answer) = lenient::parse_object::<ErrorAnswer>(body) else {
        return out;
    };
    let ErrorAnswer {
        error,
        error_description,
        error_code,
        code,
        msg,
        message,
    } = answer;
    match error {
        Some(ErrorField::Function(inner)) => {
            out.recognised = true;
            out.code = inner.code;
            out.message = inner.message.unwrap_or_default();
            if out.code_is("identity_error") {
                out.code = None;
                if let Some(s) = inner.status.and_then(|s| u16::try_from(s).ok()) {
                    out.status = s;
                }
            }
        }
        Some(ErrorField::Code(err)) => {
            out.recognised = true;
            out.message = error_description.unwrap_or_else(|| err.clone());
            out.code = Some(err);
        }
        None => {
            if let Some(code) = error_code.or(code) {
                out.recognised = true;
                out.code = Some(code);
                out.message = msg.or(message).unwrap_or_default();
            } else if let Some(words) = msg.or(message) {
                out.recognised = true;
                out.message = words;
            }
        }
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;
    use std::time::Duration;

    fn hints(bad_token: Option<&str>) -> Hints {
        Hints {
            not_admin: "use the admin key".into(),
            bad_token: bad_token.map(str::to_string),
            wrong_server: "not GoTrue".into(),
        }
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
}
