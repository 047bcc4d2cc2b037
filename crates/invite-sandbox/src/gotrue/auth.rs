//! Who may call: the gateway's keys (Supabase), Bearer tokens, admin rights, audiences and sessions.

use super::*;

/// What the Kong gateway does on `/auth/v1` (docs/wire/gotrue.md §2 "apikey"): returns the Authorization
/// GoTrue sees, or the gateway's own error.
pub(super) fn gateway(sh: &Shared, req: &Req) -> Result<Option<String>, Reply> {
    if !req.hosted || !is_sb(sh) {
        return Ok(req.header("authorization").map(str::to_string));
    }
    let open = req.path == "/verify" || req.path == "/callback" || req.path == "/authorize";
    let c = &sh.creds;
    let apikey = req.header("apikey").map(str::to_string);
    let valid = |k: &str| {
        k == c.anon_key || k == c.service_role_key || k == c.secret_key || k == c.publishable_key
    };
    match &apikey {
        None if !open => {
            return Err(Reply::json(
                401,
                json!({"message":"No API key found in request"}),
            ))
        }
        Some(k) if !open && !valid(k) => {
            return Err(Reply::json(
                401,
                json!({"message":"Invalid authentication credentials"}),
            ))
        }
        _ => {}
    }
    let auth = req.header("authorization").map(str::to_string);
    let keep = auth
        .as_deref()
        .map(|a| !a.starts_with("Bearer sb_"))
        .unwrap_or(false);
    if keep {
        return Ok(auth);
    }
    let key = match (&auth, &apikey) {
        (Some(a), _) if a.starts_with("Bearer sb_") => a.trim_start_matches("Bearer ").to_string(),
        (_, Some(k)) => k.clone(),
        _ => return Ok(auth),
    };
    Ok(Some(if key == c.secret_key {
        format!("Bearer {}", c.service_role_key)
    } else if key == c.publishable_key {
        format!("Bearer {}", c.anon_key)
    } else {
        format!("Bearer {key}")
    }))
}

/// The token of an `Authorization` header, or `None` when the header does not match the
/// fork's pattern: Supabase `(?i)^bearer (\S+$)` (docs/wire/gotrue.md §1a table), Netlify
/// `^(?:B|b)earer (\S+$)` — exactly `Bearer` or `bearer` (docs/wire/gotrue.md §1b table).
pub(super) fn bearer_of(sh: &Shared, auth: Option<&str>) -> Option<String> {
    let h = auth?;
    let (scheme, rest) = h.split_once(' ')?;
    let scheme_ok = if is_sb(sh) {
        scheme.eq_ignore_ascii_case("bearer")
    } else {
        scheme == "Bearer" || scheme == "bearer"
    };
    if !scheme_ok || rest.is_empty() || rest.contains(char::is_whitespace) {
        return None;
    }
    Some(rest.to_string())
}

/// netlify/gotrue checks a token's standard claims with jwt-go, which refuses an `iat` later
/// than the server's clock, with no leeway ("Token used before issued"). Supabase's fork
/// (golang-jwt v5, no `WithIssuedAt`) does not look at `iat`.
pub(super) fn ng_issued_in_future(claims: &Value) -> bool {
    claims
        .get("iat")
        .and_then(Value::as_i64)
        .is_some_and(|iat| iat > Utc::now().timestamp())
}

/// `requireAdminCredentials` for both forks (docs/wire/gotrue.md §1a table, §2). Returns the request's
/// audience (what netlify/gotrue's `requestAud` gives; always `authenticated` on Supabase).
pub(super) fn require_admin(sh: &Shared, req: &Req) -> Result<String, Reply> {
    let auth = gateway(sh, req)?;
    if is_sb(sh) {
        let Some(tok) = bearer_of(sh, auth.as_deref()) else {
            return Err(sb_err(
                req,
                401,
                "no_authorization",
                "This endpoint requires a valid Bearer token",
            ));
        };
        let claims = verify_hs256(&sh.creds.jwt_secret, &tok).map_err(|e| {
            sb_err(
                req,
                403,
                "bad_jwt",
                &format!("invalid JWT: unable to parse or verify signature, {e}"),
            )
        })?;
        check_session(sh, req, &claims, true)?;
        let role = claims.get("role").and_then(Value::as_str).unwrap_or("");
        if sh.config.admin_roles.iter().any(|r| r == role) {
            Ok(SB_AUD.to_string())
        } else {
            Err(sb_err(req, 403, "not_admin", "User not allowed"))
        }
    } else {
        let Some(tok) = bearer_of(sh, auth.as_deref()) else {
            return Err(ng_err(401, "This endpoint requires a Bearer token"));
        };
        if constant_eq(&tok, &sh.creds.operator_token) {
            // The operator path returns before the admin check, so it never reads the body.
            return Ok(ng_request_aud(req, None));
        }
        let claims = verify_hs256(&sh.creds.jwt_secret, &tok)
            .map_err(|e| ng_err(401, &format!("Invalid token: {e}")))?;
        if ng_issued_in_future(&claims) {
            return Err(ng_err(401, "Invalid token: Token used before issued"));
        }
        let aud = ng_request_aud(req, Some(&claims));
        // `getUserFromClaims` first: sub "0" or the nil UUID is the system user, a super admin
        // (docs/wire/gotrue.md §2); any other sub must be a user in the database.
        let sub = claims.get("sub").and_then(Value::as_str).unwrap_or("");
        let user = if sub == "0" || sub == "00000000-0000-0000-0000-000000000000" {
            None
        } else {
            let st = sh.lock();
            let u = st
                .users
                .iter()
                .find(|u| u.id.to_string() == sub && u.deleted_at.is_none())
                .map(|u| (u.aud.clone(), u.role.clone(), u.is_super_admin));
            Some(u.ok_or_else(|| ng_err(401, "Invalid admin user"))?)
        };
        // Then any body on a non-GET request is decoded for an `aud` that overrides the
        // request's for this check only (docs/wire/gotrue.md §2, §1b table).
        let check_aud = match ng_body_aud(req)? {
            Some(body_aud) if !body_aud.is_empty() => body_aud,
            // `isAdmin`: an empty aud means the configured one (`GOTRUE_JWT_AUD`, empty here).
            _ if aud.is_empty() => NG_AUD.to_string(),
            _ => aud.clone(),
        };
        let Some((user_aud, role, super_admin)) = user else {
            return Ok(aud);
        };
        if super_admin || (user_aud == check_aud && role == NG_ADMIN_GROUP) {
            Ok(aud)
        } else {
            Err(ng_err(401, "User not allowed"))
        }
    }
}

/// netlify/gotrue `GOTRUE_JWT_ADMIN_GROUP_NAME` default (docs/wire/gotrue.md §2).
pub(super) const NG_ADMIN_GROUP: &str = "admin";

/// netlify/gotrue `requestAud`: `X-JWT-AUD` header, else the token's `aud`, else the
/// configured aud (docs/wire/gotrue.md §2).
pub(super) fn ng_request_aud(req: &Req, claims: Option<&Value>) -> String {
    if let Some(h) = req.header("x-jwt-aud").filter(|h| !h.is_empty()) {
        return h.to_string();
    }
    claims
        .and_then(|c| c.get("aud"))
        .and_then(Value::as_str)
        .filter(|a| !a.is_empty())
        .unwrap_or(NG_AUD)
        .to_string()
}

/// The `aud` of the body as netlify/gotrue's admin check decodes it (`adminCheckParams`):
/// only the first JSON value is read (Go's `json.Decoder`), keys match case-insensitively (Go
/// `encoding/json`), `null` decodes to nothing. Errors are the
/// `Could not decode admin user params: …` row (docs/wire/gotrue.md §1b table).
pub(super) fn ng_body_aud(req: &Req) -> Result<Option<String>, Reply> {
    if req.method == "GET" || req.body.is_empty() {
        return Ok(None);
    }
    let bad = |e: &str| ng_err(400, &format!("Could not decode admin user params: {e}"));
    let first = serde_json::Deserializer::from_slice(&req.body)
        .into_iter::<Value>()
        .next();
    let v = match first {
        None => return Err(bad("EOF")),
        Some(Err(e)) => return Err(bad(&e.to_string())),
        Some(Ok(v)) => v,
    };
    match v {
        Value::Null => Ok(None),
        Value::Object(m) => match m.iter().find(|(k, _)| k.eq_ignore_ascii_case("aud")) {
            None | Some((_, Value::Null)) => Ok(None),
            Some((_, Value::String(a))) => Ok(Some(a.clone())),
            Some((_, other)) => Err(bad(&format!(
                "json: cannot unmarshal {} into Go struct field adminCheckParams.aud of type string",
                go_kind(other)
            ))),
        },
        other => Err(bad(&format!(
            "json: cannot unmarshal {} into Go value of type api.adminCheckParams",
            go_kind(&other)
        ))),
    }
}

/// How Go's `encoding/json` names a JSON value's kind in its unmarshal errors.
pub(super) fn go_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

pub(super) fn constant_eq(a: &str, b: &str) -> bool {
    if a.len() != b.len() || b.is_empty() {
        return false;
    }
    a.bytes()
        .zip(b.bytes())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// The `session_id` claim's session must exist (docs/wire/gotrue.md §1a table, `session_not_found`);
/// on admin routes it must also still be valid (`session_expired`), which supabase/auth checks
/// in `requireAdminCredentials` only — `/user` merely loads the session. A nil id means none.
pub(super) fn check_session(
    sh: &Shared,
    req: &Req,
    claims: &Value,
    admin: bool,
) -> Result<(), Reply> {
    let Some(sid) = claims.get("session_id").and_then(Value::as_str) else {
        return Ok(());
    };
    if sid.is_empty() || sid == "00000000-0000-0000-0000-000000000000" {
        return Ok(());
    }
    let Some(started) = sh.lock().sessions.get(sid).copied() else {
        return Err(sb_err(
            req,
            403,
            "session_not_found",
            "Session from session_id claim in JWT does not exist",
        ));
    };
    if let Some(timebox) = sh.config.session_timebox.filter(|_| admin) {
        let timebox = chrono::Duration::from_std(timebox).unwrap_or(chrono::Duration::MAX);
        if started + timebox <= now() {
            return Err(sb_err(
                req,
                403,
                "session_expired",
                "Session is no longer valid",
            ));
        }
    }
    Ok(())
}
