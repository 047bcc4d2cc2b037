//! GoTrue routes: Supabase (supabase/auth) and Netlify (netlify/gotrue) semantics, plus the
//! Invite Desk Netlify Function emulation. Facts: docs/wire/gotrue.md.

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use crate::{
    email_problem, now, sign_hs256, verify_hs256, Credentials, Flavor, GUser, Mail, Reply, Req,
    Shared, State,
};

const SB_AUD: &str = "authenticated";
/// Netlify sites' tokens carry an empty `aud` unless `GOTRUE_JWT_AUD` is set.
const NG_AUD: &str = "";

pub(crate) fn api_versioned(req: &Req) -> bool {
    // docs/wire/gotrue.md §1a: the 2024-01-01 API version selects the `{code,message}` shape.
    req.header("x-supabase-api-version")
        .map(|v| v.trim() >= "2024-01-01" && v.trim().len() == 10)
        .unwrap_or(false)
}

/// A Supabase error in the shape the request asked for (docs/wire/gotrue.md §1a "Error bodies").
pub(crate) fn sb_err(req: &Req, status: u16, code: &str, msg: &str) -> Reply {
    let body = if api_versioned(req) {
        json!({"code": code, "message": msg})
    } else if status >= 500 {
        json!({"code": status, "error_code": code, "msg": msg, "error_id": uuid::Uuid::new_v4().to_string()})
    } else {
        json!({"code": status, "error_code": code, "msg": msg})
    };
    Reply::json(status, body).with("x-sb-error-code", code)
}

/// A netlify/gotrue error `{code,msg}` (docs/wire/gotrue.md §1b).
pub(crate) fn ng_err(status: u16, msg: &str) -> Reply {
    if status >= 500 {
        Reply::json(
            status,
            json!({"code": status, "msg": msg, "error_id": uuid::Uuid::new_v4().to_string()}),
        )
    } else {
        Reply::json(status, json!({"code": status, "msg": msg}))
    }
}

fn is_sb(sh: &Shared) -> bool {
    sh.config.flavor == Flavor::Supabase
}

fn err(sh: &Shared, req: &Req, status: u16, code: &str, msg: &str) -> Reply {
    if is_sb(sh) {
        sb_err(req, status, code, msg)
    } else {
        ng_err(status, msg)
    }
}

pub(crate) fn seed_netlify(st: &mut State, c: &Credentials) {
    for (email, pw, roles) in [
        (&c.owner_email, &c.owner_password, json!(["admin"])),
        (&c.member_email, &c.member_password, json!([])),
    ] {
        let id = st.uuid();
        let seq = st.next_seq();
        let t = now();
        st.users.push(GUser {
            id,
            seq,
            email: email.clone(),
            aud: NG_AUD.into(),
            role: String::new(),
            password: Some(pw.clone()),
            email_confirmed_at: Some(t),
            invited_at: None,
            confirmation_sent_at: None,
            last_sign_in_at: None,
            app_metadata: json!({"provider":"email","roles":roles}),
            user_metadata: json!({}),
            created_at: t,
            updated_at: t,
            deleted_at: None,
            token_hash: None,
            otp: None,
            token_sent_at: None,
            token_type: String::new(),
            is_super_admin: false,
        });
    }
}

/// The project owner's own login: a confirmed email+password user, as someone who signed up
/// to their own Supabase project would have. Not an admin: GoTrue's admin is a role claim.
pub(crate) fn seed_supabase(st: &mut State, c: &Credentials) {
    let mut u = new_user(st, &c.owner_email, SB_AUD, "authenticated", json!({}));
    let t = u.created_at;
    u.password = Some(c.owner_password.clone());
    u.email_confirmed_at = Some(t);
    st.users.push(u);
}

fn ts(t: &Option<DateTime<Utc>>) -> Option<String> {
    t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
}

/// The user JSON (docs/wire/gotrue.md §3 field lists, `?` = omitted when null).
pub(crate) fn user_json(sh: &Shared, u: &GUser, with_identities: bool) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(u.id));
    m.insert("aud".into(), json!(u.aud));
    m.insert("role".into(), json!(u.role));
    m.insert("email".into(), json!(u.email));
    let mut opt = |k: &str, v: Option<String>| {
        if let Some(v) = v {
            m.insert(k.into(), json!(v));
        }
    };
    if is_sb(sh) {
        opt("email_confirmed_at", ts(&u.email_confirmed_at));
        opt("invited_at", ts(&u.invited_at));
        opt("confirmation_sent_at", ts(&u.confirmation_sent_at));
        opt("confirmed_at", ts(&u.email_confirmed_at));
        opt("last_sign_in_at", ts(&u.last_sign_in_at));
        opt("deleted_at", ts(&u.deleted_at));
        m.insert("phone".into(), json!(""));
        m.insert("app_metadata".into(), u.app_metadata.clone());
        m.insert("user_metadata".into(), u.user_metadata.clone());
        let identities = if with_identities {
            json!([{
                "identity_id": u.id, "id": u.id, "user_id": u.id,
                "identity_data": {"email": u.email, "email_verified": u.email_confirmed_at.is_some(), "phone_verified": false, "sub": u.id},
                "provider": "email", "last_sign_in_at": ts(&Some(u.created_at)),
                "created_at": ts(&Some(u.created_at)), "updated_at": ts(&Some(u.updated_at)), "email": u.email
            }])
        } else {
            // docs/wire/gotrue.md §3: list rows are not eager-loaded (inferred `null`).
            Value::Null
        };
        m.insert("identities".into(), identities);
        m.insert("created_at".into(), json!(ts(&Some(u.created_at))));
        m.insert("updated_at".into(), json!(ts(&Some(u.updated_at))));
        m.insert("is_anonymous".into(), json!(false));
    } else {
        opt("confirmed_at", ts(&u.email_confirmed_at));
        opt("invited_at", ts(&u.invited_at));
        opt("last_sign_in_at", ts(&u.last_sign_in_at));
        m.insert("app_metadata".into(), u.app_metadata.clone());
        m.insert("user_metadata".into(), u.user_metadata.clone());
        m.insert("created_at".into(), json!(ts(&Some(u.created_at))));
        m.insert("updated_at".into(), json!(ts(&Some(u.updated_at))));
    }
    Value::Object(m)
}

// ---------------------------------------------------------------------------------------------
// Authorization

/// What the Kong gateway does on `/auth/v1` (docs/wire/gotrue.md §2 "apikey"): returns the Authorization
/// GoTrue sees, or the gateway's own error.
fn gateway(sh: &Shared, req: &Req) -> Result<Option<String>, Reply> {
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
fn bearer_of(sh: &Shared, auth: Option<&str>) -> Option<String> {
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
fn ng_issued_in_future(claims: &Value) -> bool {
    claims
        .get("iat")
        .and_then(Value::as_i64)
        .is_some_and(|iat| iat > Utc::now().timestamp())
}

/// `requireAdminCredentials` for both forks (docs/wire/gotrue.md §1a table, §2). Returns the request's
/// audience (what netlify/gotrue's `requestAud` gives; always `authenticated` on Supabase).
fn require_admin(sh: &Shared, req: &Req) -> Result<String, Reply> {
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
const NG_ADMIN_GROUP: &str = "admin";

/// netlify/gotrue `requestAud`: `X-JWT-AUD` header, else the token's `aud`, else the
/// configured aud (docs/wire/gotrue.md §2).
fn ng_request_aud(req: &Req, claims: Option<&Value>) -> String {
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
fn ng_body_aud(req: &Req) -> Result<Option<String>, Reply> {
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
fn go_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn constant_eq(a: &str, b: &str) -> bool {
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
fn check_session(sh: &Shared, req: &Req, claims: &Value, admin: bool) -> Result<(), Reply> {
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

// ---------------------------------------------------------------------------------------------
// Dispatch

pub(crate) fn dispatch(sh: &Shared, req: &Req, route: &str) -> Reply {
    if route.starts_with("/.netlify/functions/") {
        return function(sh, req, route);
    }
    let sb = is_sb(sh);
    let m = req.method.as_str();
    let r = match (m, route) {
        ("POST", "/invite") => invite(sh, req),
        ("GET", "/admin/users") => list_users(sh, req),
        ("POST", "/admin/users") => create_user(sh, req),
        ("GET", "/admin/users/{id}") => get_user(sh, req),
        ("DELETE", "/admin/users/{id}") => delete_user(sh, req),
        ("PUT", "/admin/users/{id}") => update_user(sh, req),
        ("POST", "/admin/generate_link") if sb => generate_link(sh, req),
        ("POST", "/token") => token(sh, req),
        ("GET", "/settings") => gateway(sh, req).map(|_| settings(sh)),
        ("GET", "/health") => gateway(sh, req).map(|_| health()),
        ("GET", "/verify") if sb => get_verify(sh, req),
        ("POST", "/verify") => post_verify(sh, req),
        ("GET", "/user") => get_user_self(sh, req),
        ("PUT", "/user") => put_user(sh, req),
        ("POST", "/logout") => gateway(sh, req).map(|_| Reply {
            status: 204,
            headers: vec![],
            body: vec![],
        }),
        _ => Err(if sb {
            sb_err(req, 405, "method_not_allowed", "Method Not Allowed")
        } else {
            ng_err(405, "Method Not Allowed")
        }),
    };
    r.unwrap_or_else(|e| e)
}

fn settings(sh: &Shared) -> Reply {
    if is_sb(sh) {
        Reply::json(
            200,
            json!({"external":{"anonymous_users":false,"apple":false,"azure":false,"bitbucket":false,"discord":false,"facebook":false,"figma":false,"fly":false,"github":false,"gitlab":false,"google":false,"keycloak":false,"kakao":false,"linkedin_oidc":false,"notion":false,"spotify":false,"slack_oidc":false,"workos":false,"twitch":false,"twitter":false,"zoom":false,"email":true,"phone":false},
            "disable_signup":false,"mailer_autoconfirm":false,"phone_autoconfirm":false,"sms_provider":"","saml_enabled":false,"saml_private_key_next_configured":false,"passkeys_enabled":false}),
        )
    } else {
        Reply::json(
            200,
            json!({"external":{"bitbucket":false,"github":false,"gitlab":false,"google":false,"facebook":false,"email":true,"saml":false},"external_labels":{},"disable_signup":false,"autoconfirm":false}),
        )
    }
}

fn health() -> Reply {
    Reply::json(
        200,
        json!({"version":"v2.196.0-sandbox","name":"GoTrue","description":"GoTrue is a user registration and authentication API"}),
    )
}

/// The body as a JSON object, or the parser's complaint.
fn json_object(req: &Req) -> Result<Value, String> {
    match serde_json::from_slice::<Value>(&req.body) {
        Ok(v) if v.is_object() => Ok(v),
        Ok(_) => Err("json: cannot unmarshal into Go value of type object".into()),
        Err(e) => Err(e.to_string()),
    }
}

fn parse_body(sh: &Shared, req: &Req, what: &str) -> Result<Value, Reply> {
    json_object(req).map_err(|e| bad_json(sh, req, what, &e))
}

/// Body of `POST /admin/users` and `PUT /admin/users/{id}`: netlify/gotrue's `getAdminParams`
/// answers `Could not decode admin user params: …` (docs/wire/gotrue.md §1b table, NG `api/admin.go`).
fn parse_admin_params(sh: &Shared, req: &Req, what: &str) -> Result<Value, Reply> {
    json_object(req).map_err(|e| {
        if is_sb(sh) {
            bad_json(sh, req, what, &e)
        } else {
            ng_err(400, &format!("Could not decode admin user params: {e}"))
        }
    })
}

fn bad_json(sh: &Shared, req: &Req, what: &str, e: &str) -> Reply {
    if is_sb(sh) {
        sb_err(
            req,
            400,
            "bad_json",
            &format!("Could not parse request body as JSON: {e}"),
        )
    } else {
        ng_err(400, &format!("Could not read {what} params: {e}"))
    }
}

fn str_field(v: &Value, k: &str) -> String {
    v.get(k).and_then(Value::as_str).unwrap_or("").to_string()
}

/// Supabase `validateEmail` (docs/wire/gotrue.md §1a rows) or Netlify's (§1b rows).
fn validate_email(sh: &Shared, req: &Req, raw: &str) -> Result<String, Reply> {
    let email = raw.trim().to_lowercase();
    if email.is_empty() {
        return Err(if is_sb(sh) {
            sb_err(
                req,
                400,
                "validation_failed",
                "An email address is required",
            )
        } else {
            ng_err(422, "An email address is required")
        });
    }
    if is_sb(sh) && email.len() > 255 {
        return Err(sb_err(
            req,
            400,
            "validation_failed",
            "An email address is too long",
        ));
    }
    if let Some(p) = email_problem(&email) {
        return Err(if is_sb(sh) {
            sb_err(
                req,
                400,
                "validation_failed",
                &format!("Unable to validate email address: {p}"),
            )
        } else {
            ng_err(422, &format!("Unable to validate email address: mail: {p}"))
        });
    }
    Ok(email)
}

/// Redirect per `GetReferrer` (docs/wire/gotrue.md §1a "Redirect"): header, then query, then Referer;
/// invalid ones fall back to the site URL.
fn redirect_for(sh: &Shared, req: &Req, body_value: Option<&str>) -> String {
    let cands = [
        body_value.map(str::to_string),
        req.header("redirect_to").map(str::to_string),
        req.q("redirect_to").map(str::to_string),
        req.header("referer").map(str::to_string),
    ];
    for c in cands.into_iter().flatten() {
        if !c.is_empty() && redirect_ok(sh, &c) {
            return c;
        }
    }
    sh.url.clone()
}

fn redirect_ok(sh: &Shared, cand: &str) -> bool {
    let Ok(u) = url::Url::parse(cand) else {
        return false;
    };
    let host = u.host_str().unwrap_or("");
    // Site URL is the sandbox (loopback): any loopback port is accepted.
    if matches!(host, "127.0.0.1" | "localhost" | "[::1]" | "::1")
        && matches!(u.scheme(), "http" | "https")
    {
        return true;
    }
    sh.config.uri_allow_list.iter().any(|g| glob(g, cand))
}

fn glob(pat: &str, s: &str) -> bool {
    // `**` matches anything, `*` anything but '/', '.'; enough for allow-list globs.
    fn go(p: &[u8], s: &[u8]) -> bool {
        match p.first() {
            None => s.is_empty(),
            Some(b'*') if p.get(1) == Some(&b'*') => (0..=s.len()).any(|i| go(&p[2..], &s[i..])),
            Some(b'*') => {
                let mut i = 0;
                loop {
                    if go(&p[1..], &s[i..]) {
                        return true;
                    }
                    if i >= s.len() || s[i] == b'/' || s[i] == b'.' {
                        return false;
                    }
                    i += 1;
                }
            }
            Some(c) => s.first() == Some(c) && go(&p[1..], &s[1..]),
        }
    }
    go(pat.as_bytes(), s.as_bytes())
}

fn api_base(sh: &Shared, req: &Req) -> String {
    if req.hosted {
        format!("{}/auth/v1", sh.url)
    } else {
        sh.url.clone()
    }
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Fixed window shared by all mail routes (docs/wire/gotrue.md §1a "Email rate limit").
fn email_budget(sh: &Shared, st: &mut State, req: &Req) -> Result<(), Reply> {
    let w = sh.config.email_window;
    if st.email_window_start.elapsed() >= w {
        st.email_window_start = std::time::Instant::now();
        st.email_count = 0;
    }
    if st.email_count >= sh.config.email_limit {
        let mut r = sb_err(
            req,
            429,
            "over_email_send_rate_limit",
            "email rate limit exceeded",
        );
        if sh.config.retry_after_header {
            // Whole seconds, rounded up as servers do: a client that waits this long is in
            // the next window.
            let left = w
                .saturating_sub(st.email_window_start.elapsed())
                .as_secs_f64()
                .ceil()
                .max(1.0) as u64;
            r = r.with("retry-after", left.to_string());
        }
        return Err(r);
    }
    st.email_count += 1;
    Ok(())
}

fn new_user(st: &mut State, email: &str, aud: &str, role: &str, data: Value) -> GUser {
    let t = now();
    let id = st.uuid();
    let seq = st.next_seq();
    GUser {
        id,
        seq,
        email: email.to_string(),
        aud: aud.into(),
        role: role.into(),
        password: None,
        email_confirmed_at: None,
        invited_at: None,
        confirmation_sent_at: None,
        last_sign_in_at: None,
        app_metadata: json!({"provider":"email","providers":["email"]}),
        user_metadata: if data.is_object() { data } else { json!({}) },
        created_at: t,
        updated_at: t,
        deleted_at: None,
        token_hash: None,
        otp: None,
        token_sent_at: None,
        token_type: String::new(),
        is_super_admin: false,
    }
}

fn live_user_idx(st: &State, email: &str) -> Option<usize> {
    st.users
        .iter()
        .position(|u| u.deleted_at.is_none() && u.email.eq_ignore_ascii_case(email))
}

/// The live user with this email in this audience (Supabase `LOWER(email)` + `aud`; Netlify
/// `FindUserByEmailAndAudience`).
fn live_user_in(st: &State, email: &str, aud: &str) -> Option<usize> {
    st.users
        .iter()
        .position(|u| u.deleted_at.is_none() && u.aud == aud && u.email.eq_ignore_ascii_case(email))
}

/// Supabase `checkEmailAddressAuthorization` (SA `api/mail.go`): with an authorized-address
/// list, a `+label` is ignored and addresses compare case-insensitively (docs/wire/gotrue.md §1a table).
fn mail_authorized(sh: &Shared, req: &Req, email: &str) -> Result<(), Reply> {
    let list = &sh.config.email_authorized_addresses;
    if list.is_empty() {
        return Ok(());
    }
    let normalized = match email.rsplit_once('@') {
        Some((local, domain)) => {
            let local = local.split_once('+').map_or(local, |(base, _)| base);
            format!("{local}@{domain}")
        }
        None => email.to_string(),
    };
    if list.iter().any(|a| a.eq_ignore_ascii_case(&normalized)) {
        return Ok(());
    }
    Err(sb_err(
        req,
        400,
        "email_address_not_authorized",
        &format!(
            "Email address {} cannot be used as it is not authorized",
            go_quote(email)
        ),
    ))
}

/// The static half of Supabase's extended email validation (SA `mailer/validateclient`), run
/// by the mailer when `GOTRUE_MAILER_EMAIL_VALIDATION_EXTENDED` is on: its lists of fake
/// addresses and reserved hosts, and Gmail's six-character minimum (docs/wire/gotrue.md §1a table,
/// `email_address_invalid`). The MX lookup is left out: the sandbox stays off the network.
fn mail_deliverable(sh: &Shared, req: &Req, email: &str) -> Result<(), Reply> {
    const FAKE_ADDRESSES: [&str; 4] = [
        "test@gmail.com",
        "example@gmail.com",
        "someone@gmail.com",
        "test@email.com",
    ];
    const FAKE_HOSTS: [&str; 13] = [
        "test",
        "example",
        "invalid",
        "local",
        "localhost",
        "test.com",
        "example.com",
        "example.net",
        "example.org",
        "gamil.com",
        "gamai.com",
        "anonymous.com",
        "email.com",
    ];
    const FAKE_SUFFIXES: [&str; 5] = [".test", ".example", ".invalid", ".local", ".localhost"];
    if !sh.config.email_validation_extended {
        return Ok(());
    }
    let (name, host) = email.rsplit_once('@').unwrap_or((email, ""));
    let invalid = FAKE_ADDRESSES.contains(&email)
        || FAKE_HOSTS.contains(&host)
        // Single-label hosts fail the real DNS step before any lookup.
        || !host.contains('.')
        || FAKE_SUFFIXES.iter().any(|s| host.ends_with(s))
        || (host == "gmail.com" && name.len() < 6);
    if invalid {
        return Err(sb_err(
            req,
            400,
            "email_address_invalid",
            &format!("Email address {} is invalid", go_quote(email)),
        ));
    }
    Ok(())
}

/// Go's `%q` for the printable addresses that reach it (a JSON string literal is the same).
fn go_quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

fn invite(sh: &Shared, req: &Req) -> Result<Reply, Reply> {
    let aud = require_admin(sh, req)?;
    let body = parse_body(sh, req, "Invite")?;
    let email = validate_email(sh, req, &str_field(&body, "email"))?;
    let data = body.get("data").cloned().unwrap_or(Value::Null);
    let sb = is_sb(sh);
    let redirect = redirect_for(sh, req, None);
    let base = api_base(sh, req);
    let mut st = sh.lock();
    let existing = live_user_in(&st, &email, &aud);
    if let Some(i) = existing {
        if !sb {
            return Err(ng_err(
                422,
                "Email address already registered by another user",
            ));
        }
        if st.users[i].email_confirmed_at.is_some() {
            return Err(sb_err(
                req,
                422,
                "email_exists",
                "A user with this email address has already been registered",
            ));
        }
    }
    if sb {
        // SA `sendEmail` order: authorized addresses, then the rate limit, then the mailer
        // (where extended validation runs). Whether a refused address still uses up budget is
        // not known (docs/wire/gotrue.md §1a); here it does not reach the budget at all, or uses it up
        // once it has.
        mail_authorized(sh, req, &email)?;
        email_budget(sh, &mut st, req)?;
        mail_deliverable(sh, req, &email)?;
    }
    if sh.config.smtp_failure {
        // The real servers roll the user back when the mail cannot be sent.
        return Err(if sb {
            sb_err(req, 500, "unexpected_failure", "Error sending invite email")
        } else {
            ng_err(500, "Error inviting user")
        });
    }
    let idx = match existing {
        Some(i) => i,
        None => {
            let u = if sb {
                new_user(&mut st, &email, SB_AUD, "authenticated", data)
            } else {
                let mut u = new_user(&mut st, &email, &aud, "", data);
                u.app_metadata = json!({"provider":"email"});
                u
            };
            st.users.push(u);
            st.users.len() - 1
        }
    };
    let hash = if sb { st.hex(56) } else { st.token(22) };
    let otp = format!("{:06}", (st.next_seq() * 104_729) % 1_000_000);
    let t = now();
    {
        let u = &mut st.users[idx];
        u.token_hash = Some(hash.clone());
        u.otp = Some(otp);
        u.token_sent_at = Some(t);
        u.token_type = "invite".into();
        u.invited_at = Some(t);
        if sb {
            // Netlify's /invite does not set confirmation_sent_at (docs/wire/gotrue.md §1b).
            u.confirmation_sent_at = Some(t);
        }
        u.updated_at = t;
    }
    let link = if sb {
        format!(
            "{base}/verify?token={hash}&type=invite&redirect_to={}",
            enc(&redirect)
        )
    } else {
        format!("{}/#invite_token={hash}", sh.url)
    };
    st.mail.push(Mail {
        to: email,
        kind: "invite".into(),
        subject: "You have been invited".into(),
        link,
        sent_at: t,
    });
    let u = st.users[idx].clone();
    drop(st);
    Ok(Reply::json(200, user_json(sh, &u, true)))
}

fn parse_page(sh: &Shared, req: &Req, k: &str, default: u64) -> Result<u64, Reply> {
    match req.q(k) {
        None | Some("") => Ok(default),
        Some(v) => v.parse::<u64>().map_err(|e| {
            err(
                sh,
                req,
                400,
                "validation_failed",
                &format!("Bad Pagination Parameters: strconv.ParseUint: parsing {v:?}: {e}"),
            )
        }),
    }
}

fn list_users(sh: &Shared, req: &Req) -> Result<Reply, Reply> {
    // Scoped to the request's audience (docs/wire/gotrue.md §3); on Netlify `X-JWT-AUD` picks it.
    let aud = require_admin(sh, req)?;
    let page = parse_page(sh, req, "page", 1)?.max(1);
    let per_page = parse_page(sh, req, "per_page", 50)?.max(1);
    let filter = req.q("filter").unwrap_or("").to_string();
    let asc = req
        .q("sort")
        .map(|s| s.to_ascii_lowercase().ends_with("asc"))
        .unwrap_or(false);
    let st = sh.lock();
    let mut rows: Vec<&GUser> = st
        .users
        .iter()
        .filter(|u| u.aud == aud)
        .filter(|u| {
            filter.is_empty()
                || u.email.contains(&filter)
                || u.user_metadata
                    .get("full_name")
                    .and_then(Value::as_str)
                    .map(|n| n.to_lowercase().contains(&filter.to_lowercase()))
                    .unwrap_or(false)
        })
        .collect();
    rows.sort_by_key(|u| (u.created_at, u.seq));
    if !asc {
        rows.reverse();
    }
    let total = rows.len() as u64;
    let start = (page - 1).saturating_mul(per_page);
    let users: Vec<Value> = rows
        .iter()
        .skip(usize::try_from(start).unwrap_or(usize::MAX))
        .take(usize::try_from(per_page).unwrap_or(usize::MAX))
        .map(|u| user_json(sh, u, false))
        .collect();
    drop(st);
    let total_pages = total.div_ceil(per_page);
    let link = link_header(sh, req, page, per_page, total_pages);
    Ok(Reply::json(200, json!({"users": users, "aud": aud}))
        .with("x-total-count", total.to_string())
        .with("link", link))
}

/// `Link` as `addPaginationHeaders` writes it (docs/wire/gotrue.md §3): path without the gateway prefix,
/// query keys sorted (Go `url.Values.Encode`), `rel` quoted; Supabase: next + last, Netlify adds prev.
fn link_header(sh: &Shared, req: &Req, page: u64, per_page: u64, total_pages: u64) -> String {
    let make = |p: u64| {
        let mut q: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        for (k, v) in &req.query {
            q.entry(k.clone()).or_default().push(v.clone());
        }
        q.insert("page".into(), vec![p.to_string()]);
        q.insert("per_page".into(), vec![per_page.to_string()]);
        let qs: Vec<String> = q
            .iter()
            .flat_map(|(k, vs)| vs.iter().map(move |v| format!("{}={}", enc(k), enc(v))))
            .collect();
        format!("<{}?{}>", req.path, qs.join("&"))
    };
    let mut parts = Vec::new();
    if total_pages > page {
        parts.push(format!("{}; rel=\"next\"", make(page + 1)));
    }
    if !is_sb(sh) && page > 1 {
        parts.push(format!("{}; rel=\"prev\"", make(page - 1)));
    }
    parts.push(format!("{}; rel=\"last\"", make(total_pages)));
    parts.join(", ")
}

fn user_id(sh: &Shared, req: &Req) -> Result<uuid::Uuid, Reply> {
    let raw = req
        .path
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or("");
    uuid::Uuid::parse_str(raw).map_err(|_| {
        if is_sb(sh) {
            sb_err(req, 404, "validation_failed", "user_id must be an UUID")
        } else {
            ng_err(400, "user_id must be an UUID")
        }
    })
}

fn not_found_user(sh: &Shared, req: &Req) -> Reply {
    err(sh, req, 404, "user_not_found", "User not found")
}

fn get_user(sh: &Shared, req: &Req) -> Result<Reply, Reply> {
    require_admin(sh, req)?;
    let id = user_id(sh, req)?;
    let st = sh.lock();
    let u = st
        .users
        .iter()
        .find(|u| u.id == id)
        .cloned()
        .ok_or_else(|| not_found_user(sh, req))?;
    drop(st);
    Ok(Reply::json(200, user_json(sh, &u, true)))
}

/// `PUT /admin/users/{id}` (docs/wire/gotrue.md admin routes): `user_metadata` and `app_metadata` are
/// merged key by key into what the user has (a `null` value removes the key), as GoTrue's
/// `UpdateUserMetaData` does; other fields are not needed by Invite Desk and are ignored.
fn update_user(sh: &Shared, req: &Req) -> Result<Reply, Reply> {
    require_admin(sh, req)?;
    let id = user_id(sh, req)?;
    let body = parse_admin_params(sh, req, "Update User")?;
    let mut st = sh.lock();
    let Some(u) = st.users.iter_mut().find(|u| u.id == id) else {
        return Err(not_found_user(sh, req));
    };
    // Both forks' admin params carry `role` (the DB role, not `app_metadata.roles`).
    if let Some(role) = body
        .get("role")
        .and_then(Value::as_str)
        .filter(|r| !r.is_empty())
    {
        u.role = role.to_string();
    }
    for (field, target) in [
        ("user_metadata", &mut u.user_metadata),
        ("app_metadata", &mut u.app_metadata),
    ] {
        if let Some(patch) = body.get(field).and_then(Value::as_object) {
            if !target.is_object() {
                *target = json!({});
            }
            if let Some(o) = target.as_object_mut() {
                for (k, v) in patch {
                    if v.is_null() {
                        o.remove(k);
                    } else {
                        o.insert(k.clone(), v.clone());
                    }
                }
            }
        }
    }
    u.updated_at = now();
    let u = u.clone();
    drop(st);
    Ok(Reply::json(200, user_json(sh, &u, true)))
}

fn delete_user(sh: &Shared, req: &Req) -> Result<Reply, Reply> {
    require_admin(sh, req)?;
    let id = user_id(sh, req)?;
    let mut soft = false;
    if is_sb(sh) && !req.body.iter().all(u8::is_ascii_whitespace) {
        let v = parse_body(sh, req, "Delete")?;
        soft = v
            .get("should_soft_delete")
            .and_then(Value::as_bool)
            .unwrap_or(false);
    }
    let mut st = sh.lock();
    let Some(i) = st.users.iter().position(|u| u.id == id) else {
        return Err(not_found_user(sh, req));
    };
    if soft {
        let t = now();
        let u = &mut st.users[i];
        u.email = format!("{}@deleted.invalid", u.id.simple());
        u.deleted_at = Some(t);
        u.token_hash = None;
        u.otp = None;
        u.password = None;
        u.updated_at = t;
    } else {
        st.users.remove(i);
    }
    Ok(Reply::json(200, json!({})))
}

fn create_user(sh: &Shared, req: &Req) -> Result<Reply, Reply> {
    let request_aud = require_admin(sh, req)?;
    let body = parse_admin_params(sh, req, "Create User")?;
    let email = validate_email(sh, req, &str_field(&body, "email"))?;
    // netlify/gotrue `adminUserCreate`: a body `aud` overrides the request's.
    let aud = match body.get("aud").and_then(Value::as_str) {
        Some(a) if !is_sb(sh) && !a.is_empty() => a.to_string(),
        _ => request_aud,
    };
    let mut st = sh.lock();
    if live_user_in(&st, &email, &aud).is_some() {
        return Err(if is_sb(sh) {
            sb_err(
                req,
                422,
                "email_exists",
                "A user with this email address has already been registered",
            )
        } else {
            ng_err(422, "Email address already registered by another user")
        });
    }
    let data = body
        .get("user_metadata")
        .or_else(|| body.get("data"))
        .cloned()
        .unwrap_or(Value::Null);
    let default_role = if is_sb(sh) { "authenticated" } else { "" };
    let role = body
        .get("role")
        .and_then(Value::as_str)
        .filter(|r| !r.is_empty())
        .unwrap_or(default_role);
    let mut u = new_user(&mut st, &email, &aud, role, data);
    u.password = body
        .get("password")
        .and_then(Value::as_str)
        .map(str::to_string);
    let confirm = body
        .get("email_confirm")
        .or_else(|| body.get("confirm"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if confirm {
        u.email_confirmed_at = Some(now());
    }
    if let Some(am) = body.get("app_metadata").and_then(Value::as_object) {
        if let Some(o) = u.app_metadata.as_object_mut() {
            for (k, v) in am {
                o.insert(k.clone(), v.clone());
            }
        }
    }
    st.users.push(u.clone());
    drop(st);
    Ok(Reply::json(200, user_json(sh, &u, true)))
}

fn generate_link(sh: &Shared, req: &Req) -> Result<Reply, Reply> {
    require_admin(sh, req)?;
    let body = parse_body(sh, req, "Generate Link")?;
    let typ = str_field(&body, "type");
    const TYPES: [&str; 6] = [
        "signup",
        "invite",
        "magiclink",
        "recovery",
        "email_change_current",
        "email_change_new",
    ];
    if !TYPES.contains(&typ.as_str()) {
        return Err(sb_err(
            req,
            400,
            "validation_failed",
            &format!("Invalid email action link type requested: {typ}"),
        ));
    }
    let email = validate_email(sh, req, &str_field(&body, "email"))?;
    let body_redirect = body.get("redirect_to").and_then(Value::as_str);
    let redirect = redirect_for(sh, req, body_redirect);
    let base = api_base(sh, req);
    let data = body.get("data").cloned().unwrap_or(Value::Null);
    let mut st = sh.lock();
    let idx = match live_user_idx(&st, &email) {
        Some(i) => {
            if matches!(typ.as_str(), "invite" | "signup")
                && st.users[i].email_confirmed_at.is_some()
            {
                return Err(sb_err(
                    req,
                    422,
                    "email_exists",
                    "A user with this email address has already been registered",
                ));
            }
            i
        }
        None if matches!(typ.as_str(), "invite" | "signup") => {
            let mut u = new_user(&mut st, &email, SB_AUD, "authenticated", data);
            u.password = body
                .get("password")
                .and_then(Value::as_str)
                .map(str::to_string);
            st.users.push(u);
            st.users.len() - 1
        }
        None => {
            return Err(sb_err(
                req,
                404,
                "user_not_found",
                "User with this email not found",
            ))
        }
    };
    let hash = st.hex(56);
    let otp = format!("{:06}", (st.next_seq() * 104_729) % 1_000_000);
    let t = now();
    {
        let u = &mut st.users[idx];
        u.token_hash = Some(hash.clone());
        u.otp = Some(otp.clone());
        u.token_sent_at = Some(t);
        u.token_type = typ.clone();
        u.confirmation_sent_at = Some(t);
        if typ == "invite" {
            u.invited_at = Some(t);
        }
        u.updated_at = t;
    }
    let u = st.users[idx].clone();
    drop(st);
    let mut v = user_json(sh, &u, true);
    if let Some(o) = v.as_object_mut() {
        o.insert(
            "action_link".into(),
            json!(format!(
                "{base}/verify?token={hash}&type={typ}&redirect_to={}",
                enc(&redirect)
            )),
        );
        o.insert("email_otp".into(), json!(otp));
        o.insert("hashed_token".into(), json!(hash));
        o.insert("verification_type".into(), json!(typ));
        o.insert("redirect_to".into(), json!(redirect));
    }
    Ok(Reply::json(200, v))
}

// ---------------------------------------------------------------------------------------------
// Invitee side

fn session_for(sh: &Shared, st: &mut State, idx: usize) -> Value {
    let ttl = sh.config.access_ttl.as_secs() as i64;
    let t = now();
    let sid = st.uuid().to_string();
    let refresh = st.token(12);
    st.sessions.insert(sid.clone(), t);
    let u = st.users[idx].clone();
    st.refresh_tokens.insert(refresh.clone(), u.id);
    let exp = t.timestamp() + ttl;
    if is_sb(sh) {
        let claims = json!({"iss": format!("{}/auth/v1", sh.url), "sub": u.id, "aud": u.aud, "exp": exp, "iat": t.timestamp(),
            "email": u.email, "phone": "", "app_metadata": u.app_metadata, "user_metadata": u.user_metadata,
            "role": u.role, "aal": "aal1", "amr": [{"method":"otp","timestamp":t.timestamp()}], "session_id": sid, "is_anonymous": false});
        let at = sign_hs256(&sh.creds.jwt_secret, &claims, None);
        json!({"access_token": at, "token_type":"bearer", "expires_in": ttl, "expires_at": exp,
            "refresh_token": refresh, "user": user_json(sh, &u, true)})
    } else {
        let claims = json!({"sub": u.id, "aud": u.aud, "exp": exp, "email": u.email,
            "app_metadata": u.app_metadata, "user_metadata": u.user_metadata});
        let at = sign_hs256(&sh.creds.jwt_secret, &claims, Some("nf-ident"));
        json!({"access_token": at, "token_type":"bearer", "expires_in": ttl, "refresh_token": refresh})
    }
}

fn token(sh: &Shared, req: &Req) -> Result<Reply, Reply> {
    gateway(sh, req)?;
    if is_sb(sh) {
        let form: Vec<(String, String)> = url::form_urlencoded::parse(&req.body)
            .into_owned()
            .collect();
        let grant = req
            .q("grant_type")
            .map(str::to_string)
            .or_else(|| {
                form.iter()
                    .find(|(k, _)| k == "grant_type")
                    .map(|(_, v)| v.clone())
            })
            .unwrap_or_default();
        if grant != "password" {
            return Err(sb_err(
                req,
                400,
                "invalid_credentials",
                "unsupported_grant_type",
            ));
        }
        let body = parse_body(sh, req, "Token")?;
        let email = str_field(&body, "email").to_lowercase();
        let pw = str_field(&body, "password");
        if email.is_empty() {
            return Err(sb_err(
                req,
                400,
                "validation_failed",
                "missing email or phone",
            ));
        }
        let mut st = sh.lock();
        let Some(i) = live_user_idx(&st, &email)
            .filter(|&i| st.users[i].password.as_deref() == Some(pw.as_str()) && !pw.is_empty())
        else {
            return Err(sb_err(
                req,
                400,
                "invalid_credentials",
                "Invalid login credentials",
            ));
        };
        if st.users[i].email_confirmed_at.is_none() {
            return Err(sb_err(
                req,
                400,
                "email_not_confirmed",
                "Email not confirmed",
            ));
        }
        st.users[i].last_sign_in_at = Some(now());
        let s = session_for(sh, &mut st, i);
        Ok(Reply::json(200, s))
    } else {
        let form: Vec<(String, String)> = url::form_urlencoded::parse(&req.body)
            .into_owned()
            .collect();
        let get = |k: &str| form.iter().find(|(a, _)| a == k).map(|(_, v)| v.clone());
        if get("grant_type").as_deref() == Some("refresh_token") {
            // netlify/gotrue api/token.go: a refresh token is single-use and yields a new pair.
            let mut st = sh.lock();
            let token = get("refresh_token").unwrap_or_default();
            let user = st.refresh_tokens.remove(&token);
            let Some(i) = user.and_then(|id| st.users.iter().position(|u| u.id == id)) else {
                return Err(Reply::json(
                    400,
                    json!({"error":"invalid_grant","error_description":"Invalid Refresh Token"}),
                ));
            };
            let s = session_for(sh, &mut st, i);
            return Ok(Reply::json(200, s));
        }
        if get("grant_type").as_deref() != Some("password") {
            return Err(Reply::json(400, json!({"error":"unsupported_grant_type"})));
        }
        let email = get("username").unwrap_or_default().to_lowercase();
        let pw = get("password").unwrap_or_default();
        let mut st = sh.lock();
        let bad = || {
            Reply::json(
                400,
                json!({"error":"invalid_grant","error_description":"No user found with that email, or password invalid."}),
            )
        };
        let Some(i) = live_user_idx(&st, &email) else {
            return Err(bad());
        };
        if st.users[i].password.as_deref() != Some(pw.as_str()) || pw.is_empty() {
            return Err(bad());
        }
        if st.users[i].email_confirmed_at.is_none() {
            return Err(Reply::json(
                400,
                json!({"error":"invalid_grant","error_description":"Email not confirmed"}),
            ));
        }
        st.users[i].last_sign_in_at = Some(now());
        let s = session_for(sh, &mut st, i);
        Ok(Reply::json(200, s))
    }
}

/// Finds the user holding a live token. `Err(true)` = expired, `Err(false)` = unknown.
fn find_token(sh: &Shared, st: &State, hash: &str) -> Result<usize, bool> {
    let i = st
        .users
        .iter()
        .position(|u| u.deleted_at.is_none() && u.token_hash.as_deref() == Some(hash))
        .ok_or(false)?;
    let sent = st.users[i].token_sent_at.unwrap_or_else(now);
    let ttl = chrono::Duration::from_std(sh.config.otp_ttl).unwrap_or(chrono::Duration::MAX);
    if is_sb(sh) && sent + ttl < now() {
        return Err(true);
    }
    Ok(i)
}

fn confirm(st: &mut State, i: usize, pw: Option<String>, random: String) {
    let t = now();
    let u = &mut st.users[i];
    u.email_confirmed_at.get_or_insert(t);
    u.last_sign_in_at = Some(t);
    u.token_hash = None;
    u.otp = None;
    u.password = Some(pw.unwrap_or(random));
    u.updated_at = t;
}

fn post_verify(sh: &Shared, req: &Req) -> Result<Reply, Reply> {
    gateway(sh, req)?;
    // NG words it `Could not read verification params: …` (NG `api/verify.go`).
    let body = parse_body(sh, req, "verification")?;
    let typ = str_field(&body, "type");
    if is_sb(sh) {
        if typ.is_empty() {
            return Err(sb_err(
                req,
                400,
                "validation_failed",
                "Verify requires a verification type",
            ));
        }
        let hash = str_field(&body, "token_hash");
        let otp = str_field(&body, "token");
        let email = str_field(&body, "email").to_lowercase();
        if hash.is_empty() && otp.is_empty() {
            return Err(sb_err(
                req,
                400,
                "validation_failed",
                "Verify requires either a token or a token hash",
            ));
        }
        let mut st = sh.lock();
        let found = if !hash.is_empty() {
            find_token(sh, &st, &hash).ok()
        } else {
            live_user_idx(&st, &email)
                .filter(|&i| st.users[i].otp.as_deref() == Some(otp.as_str()))
                .and_then(|i| {
                    let h = st.users[i].token_hash.clone().unwrap_or_default();
                    find_token(sh, &st, &h).ok()
                })
        };
        let Some(i) = found.filter(|&i| token_type_ok(&st.users[i].token_type, &typ)) else {
            let msg = if hash.is_empty() {
                "Token has expired or is invalid"
            } else {
                "Email link is invalid or has expired"
            };
            return Err(sb_err(req, 403, "otp_expired", msg));
        };
        let random = st.token(64);
        confirm(&mut st, i, None, random);
        let s = session_for(sh, &mut st, i);
        Ok(Reply::json(200, s))
    } else {
        // NG `api/verify.go` order: token (blank = missing), then the type switch, then the
        // lookup. `signup` is how invites are accepted (docs/wire/gotrue.md §5); `recovery` looks up a
        // recovery token, which the sandbox never issues, so it only ever finds nobody.
        let tok = str_field(&body, "token");
        if tok.trim().is_empty() {
            return Err(ng_err(422, "Verify requires a token"));
        }
        match typ.as_str() {
            "signup" => {}
            "recovery" => return Err(ng_err(404, "User not found")),
            _ => return Err(ng_err(422, "Verify requires a verification type")),
        }
        let pw = str_field(&body, "password");
        let mut st = sh.lock();
        let Ok(i) = find_token(sh, &st, &tok) else {
            return Err(ng_err(404, "User not found"));
        };
        if st.users[i].invited_at.is_some() && pw.is_empty() {
            return Err(ng_err(422, "Invited users must specify a password"));
        }
        let random = st.token(64);
        confirm(&mut st, i, Some(pw).filter(|p| !p.is_empty()), random);
        let s = session_for(sh, &mut st, i);
        Ok(Reply::json(200, s))
    }
}

fn token_type_ok(stored: &str, asked: &str) -> bool {
    stored == asked
        || (stored == "signup" && asked == "email")
        || (stored == "invite" && asked == "email")
        || (stored == "magiclink" && asked == "email")
}

fn get_verify(sh: &Shared, req: &Req) -> Result<Reply, Reply> {
    let hash = req.q("token").unwrap_or("").to_string();
    let typ = req.q("type").unwrap_or("").to_string();
    let redirect = redirect_for(sh, req, None);
    let mut st = sh.lock();
    let found = find_token(sh, &st, &hash)
        .ok()
        .filter(|&i| token_type_ok(&st.users[i].token_type, &typ));
    let location = match found {
        Some(i) => {
            let random = st.token(64);
            confirm(&mut st, i, None, random);
            let s = session_for(sh, &mut st, i);
            format!(
                "{redirect}#access_token={}&expires_at={}&expires_in={}&refresh_token={}&sb=&token_type=bearer&type={}",
                s["access_token"].as_str().unwrap_or(""),
                s["expires_at"],
                s["expires_in"],
                s["refresh_token"].as_str().unwrap_or(""),
                enc(&typ)
            )
        }
        None => format!(
            "{redirect}#error=access_denied&error_code=otp_expired&error_description=Email+link+is+invalid+or+has+expired&sb="
        ),
    };
    Ok(Reply {
        status: 303,
        headers: vec![("location".into(), location)],
        body: vec![],
    })
}

/// A user's own token (PUT/GET /user).
fn user_from_token(sh: &Shared, req: &Req) -> Result<usize, Reply> {
    let auth = gateway(sh, req)?;
    let Some(tok) = bearer_of(sh, auth.as_deref()) else {
        return Err(if is_sb(sh) {
            sb_err(
                req,
                401,
                "no_authorization",
                "This endpoint requires a valid Bearer token",
            )
        } else {
            ng_err(401, "This endpoint requires a Bearer token")
        });
    };
    let claims = verify_hs256(&sh.creds.jwt_secret, &tok).map_err(|e| {
        if is_sb(sh) {
            sb_err(
                req,
                403,
                "bad_jwt",
                &format!("invalid JWT: unable to parse or verify signature, {e}"),
            )
        } else {
            ng_err(401, &format!("Invalid token: {e}"))
        }
    })?;
    if is_sb(sh) {
        check_session(sh, req, &claims, false)?;
    }
    let sub = claims.get("sub").and_then(Value::as_str).unwrap_or("");
    let st = sh.lock();
    st.users
        .iter()
        .position(|u| u.id.to_string() == sub && u.deleted_at.is_none())
        .ok_or_else(|| {
            if is_sb(sh) {
                sb_err(
                    req,
                    403,
                    "user_not_found",
                    "User from sub claim in JWT does not exist",
                )
            } else {
                ng_err(404, "User not found")
            }
        })
}

fn get_user_self(sh: &Shared, req: &Req) -> Result<Reply, Reply> {
    let i = user_from_token(sh, req)?;
    let st = sh.lock();
    let u = st
        .users
        .get(i)
        .cloned()
        .ok_or_else(|| not_found_user(sh, req))?;
    drop(st);
    Ok(Reply::json(200, user_json(sh, &u, true)))
}

fn put_user(sh: &Shared, req: &Req) -> Result<Reply, Reply> {
    let i = user_from_token(sh, req)?;
    let body = parse_body(sh, req, "User Update")?;
    let mut st = sh.lock();
    let Some(u) = st.users.get_mut(i) else {
        return Err(not_found_user(sh, req));
    };
    if let Some(pw) = body.get("password").and_then(Value::as_str) {
        if pw.chars().count() < 6 {
            return Err(if is_sb(sh) {
                sb_err(
                    req,
                    422,
                    "weak_password",
                    "Password should be at least 6 characters.",
                )
            } else {
                ng_err(422, "Password should be at least 6 characters")
            });
        }
        u.password = Some(pw.to_string());
    }
    if let Some(d) = body.get("data").and_then(Value::as_object) {
        if let Some(o) = u.user_metadata.as_object_mut() {
            for (k, v) in d {
                o.insert(k.clone(), v.clone());
            }
        }
    }
    u.updated_at = now();
    let u = u.clone();
    drop(st);
    Ok(Reply::json(200, user_json(sh, &u, true)))
}

/// `/__sandbox/accept`: the invitee's side through the same logic as the public routes.
pub(crate) fn accept(sh: &Shared, link: &str, password: &str) -> Result<String, String> {
    let token = if is_sb(sh) {
        let u = url::Url::parse(link).map_err(|e| format!("bad link: {e}"))?;
        u.query_pairs()
            .find(|(k, _)| k == "token")
            .map(|(_, v)| v.to_string())
            .ok_or("link has no token")?
    } else {
        link.split_once("#invite_token=")
            .map(|(_, t)| t.to_string())
            .ok_or("link has no invite_token")?
    };
    let mut st = sh.lock();
    let i = find_token(sh, &st, &token).map_err(|expired| {
        if expired {
            "link has expired".to_string()
        } else {
            "link is invalid or was already used".to_string()
        }
    })?;
    confirm(&mut st, i, Some(password.to_string()), String::new());
    Ok(st.users[i].email.clone())
}

// ---------------------------------------------------------------------------------------------
// The Invite Desk Netlify Function (netlify/functions/invite-desk.mjs), answer for answer.
//
// The file is the reference: every status, code and message below is the one it sends.
// Netlify verifies the caller's JWT before the function runs and hands it the claims as
// `clientContext.user` (absent when the token is missing or invalid); the function then calls
// Identity with the admin token Netlify gives it, here the operator token.

/// Where the function is served.
pub(crate) const FUNCTION_BASE: &str = "/.netlify/functions/invite-desk";

/// The function's 401 when Netlify passed it no user.
pub(crate) const FN_NO_USER: &str =
    "Sign in with your Netlify Identity account: this request had no valid user token.";

/// The path after [`FUNCTION_BASE`] when `path` is the function's (`""`, `/…`), else `None`
/// (so `/.netlify/functions/invite-desk-old` is another function).
pub(crate) fn invite_desk_rest(path: &str) -> Option<&str> {
    path.strip_prefix(FUNCTION_BASE)
        .filter(|rest| rest.is_empty() || rest.starts_with('/'))
}

fn ferr(status: u16, code: &str, msg: &str) -> Reply {
    Reply::json(status, json!({"error":{"code":code,"message":msg}}))
}

/// JavaScript truthiness, for the function's `a || b` and `if (!x)` on JSON values.
fn truthy(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0 && !f.is_nan()),
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(_) | Value::Object(_)) => true,
    }
}

/// JavaScript `String(v)` for the scalars that reach a message.
fn js_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `decodeURIComponent`, or `None` where it would throw (`URIError`).
fn decode_uri_component(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The function's `ID_RE`: a UUID (`8-4-4-4-12` hex digits, either case).
fn id_ok(id: &str) -> bool {
    id.len() == 36
        && id.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// The function's `MAX_PER_PAGE`.
const FN_MAX_PER_PAGE: u32 = 100;

/// The function's `cappedPerPage`: whole numbers above the cap become the cap; anything else is
/// passed on for Identity to judge.
fn capped_per_page(v: &str) -> String {
    let whole = !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit());
    if whole
        && v.parse::<f64>()
            .is_ok_and(|n| n > f64::from(FN_MAX_PER_PAGE))
    {
        FN_MAX_PER_PAGE.to_string()
    } else {
        v.to_string()
    }
}

/// The function's `metaText`: a non-blank string of `user_metadata`, else null.
fn meta_text(u: &Value, key: &str) -> Value {
    u.get("user_metadata")
        .filter(|m| m.is_object())
        .and_then(|m| m.get(key))
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .map_or(Value::Null, |s| json!(s))
}

/// The function's `slimUser`: only what Invite Desk shows of a user.
fn slim_user(u: &Value) -> Value {
    let field = |k: &str| {
        u.as_object()
            .and_then(|o| o.get(k))
            .cloned()
            .unwrap_or(Value::Null)
    };
    let time = |k: &str| {
        let v = field(k);
        if v.is_string() {
            v
        } else {
            Value::Null
        }
    };
    let name = match meta_text(u, "full_name") {
        Value::Null => meta_text(u, "name"),
        n => n,
    };
    json!({
        "id": field("id"),
        "email": field("email"),
        "name": name,
        "invited_at": time("invited_at"),
        "confirmed_at": time("confirmed_at"),
        "created_at": time("created_at"),
    })
}

/// The function's `nextPage(link)`: the `page` of the first `rel=next` part, if a positive
/// integer.
fn next_page_of(link: Option<&str>) -> Value {
    let Some(link) = link.filter(|l| !l.is_empty()) else {
        return Value::Null;
    };
    for part in link.split(',') {
        let Some((target, params)) = part.split_once('>') else {
            continue;
        };
        let Some(target) = target.trim_start().strip_prefix('<') else {
            continue;
        };
        let params = params.trim_start();
        let Some(params) = params.strip_prefix(';') else {
            continue;
        };
        let rel_next = params
            .to_ascii_lowercase()
            .split(';')
            .filter_map(|p| p.split_once('='))
            .any(|(k, v)| k.trim().ends_with("rel") && v.trim().trim_matches('"') == "next");
        if !rel_next {
            continue;
        }
        let page = url::Url::parse("http://link.invalid/")
            .and_then(|base| base.join(target))
            .ok()
            .and_then(|u| {
                u.query_pairs()
                    .find(|(k, _)| k == "page")
                    .map(|(_, v)| v.trim().to_string())
            })
            .and_then(|p| p.parse::<f64>().ok())
            .filter(|p| p.fract() == 0.0 && *p > 0.0 && *p <= 9_007_199_254_740_991.0);
        return page.map_or(Value::Null, |p| json!(p as u64));
    }
    Value::Null
}

fn function(sh: &Shared, req: &Req, route: &str) -> Reply {
    if invite_desk_rest(route).is_none() {
        return ferr(404, "not_found", "No such function");
    }
    // Netlify drops a token it cannot verify: the function sees no user either way.
    let user = req
        .bearer()
        .and_then(|t| verify_hs256(&sh.creds.jwt_secret, &t).ok());
    let Some(user) = user.filter(|u| truthy(u.get("sub"))) else {
        return ferr(401, "unauthorized", FN_NO_USER);
    };
    let roles: Vec<Value> = user
        .pointer("/app_metadata/roles")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let allowed = &sh.config.invite_desk_roles;
    if !roles
        .iter()
        .any(|r| r.as_str().is_some_and(|r| allowed.iter().any(|a| a == r)))
    {
        let who = user
            .get("email")
            .filter(|e| truthy(Some(e)))
            .map_or_else(|| "This user".to_string(), js_string);
        return ferr(
            403,
            "forbidden",
            &format!(
                "{who} lacks a role allowed to invite ({}). Add it under Identity → user → Roles.",
                allowed.join(", ")
            ),
        );
    }

    // `identityCall`: the function's own request to Identity, with the admin token.
    let admin_req = |method: &str, path: &str, query: Vec<(String, String)>, body: Vec<u8>| {
        let mut headers = hyper::header::HeaderMap::new();
        if let Ok(v) = format!("Bearer {}", sh.creds.operator_token).parse() {
            headers.insert("authorization", v);
        }
        Req {
            method: method.into(),
            path: path.into(),
            query,
            headers,
            body: body.into(),
            hosted: true,
            peer: req.peer,
        }
    };
    // How `identityCall` reports Identity's errors: 404 on a read is the function's own
    // not_found; anything else passes through as identity_error with Identity's status.
    let pass = |method: &str, r: Reply| -> Reply {
        let data = serde_json::from_slice::<Value>(&r.body).ok();
        let message = ["msg", "message", "error_description", "error"]
            .iter()
            .find_map(|k| {
                data.as_ref()
                    .and_then(|d| d.get(*k))
                    .filter(|v| truthy(Some(v)))
            })
            .map(js_string)
            .or_else(|| {
                Some(String::from_utf8_lossy(&r.body).into_owned()).filter(|t| !t.is_empty())
            })
            .unwrap_or_else(|| {
                hyper::StatusCode::from_u16(r.status)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                    .unwrap_or("")
                    .to_string()
            });
        if r.status == 404 && method != "POST" {
            return ferr(404, "not_found", &message);
        }
        Reply::json(
            r.status,
            json!({"error":{"code":"identity_error","status":r.status,"message":message}}),
        )
    };

    let method = req.method.to_ascii_uppercase();
    let rest = invite_desk_rest(req.path.trim_end_matches('/')).unwrap_or("");
    let route = if rest.is_empty() { "/" } else { rest };
    match (method.as_str(), route) {
        ("GET", "/check") => Reply::json(
            200,
            json!({"ok":true,"email":user.get("email").filter(|e| truthy(Some(e))),"roles":roles}),
        ),
        ("POST", "/invite") => {
            // `readBody`: no body reads as `{}`.
            let body = if req.body.is_empty() {
                json!({})
            } else {
                match serde_json::from_str::<Value>(&String::from_utf8_lossy(&req.body)) {
                    Ok(v) => v,
                    Err(e) => {
                        // The message after the colon is V8's in the real function.
                        return ferr(
                            400,
                            "bad_request",
                            &format!("The request body is not JSON: {e}"),
                        );
                    }
                }
            };
            let Value::Object(body) = body else {
                return ferr(
                    400,
                    "bad_request",
                    "The request body must be a JSON object {\"email\", \"data\"}.",
                );
            };
            let email = body
                .get("email")
                .and_then(Value::as_str)
                .map_or("", str::trim);
            let mut payload = json!({ "email": email });
            if let Some(d) = body.get("data").filter(|d| d.is_object()) {
                payload["data"] = d.clone();
            }
            let r = admin_req(
                "POST",
                "/invite",
                vec![],
                serde_json::to_vec(&payload).unwrap_or_default(),
            );
            let out = invite(sh, &r).unwrap_or_else(|e| e);
            if out.status >= 300 {
                return pass("POST", out);
            }
            Reply::json(
                200,
                serde_json::from_slice(&out.body).unwrap_or(Value::Null),
            )
        }
        ("GET", "/users") => {
            // Passed on as given (empty = absent): Identity judges them, not the function.
            let q: Vec<(String, String)> = ["page", "per_page", "filter"]
                .iter()
                .filter_map(|k| {
                    req.q(k).filter(|v| !v.is_empty()).map(|v| {
                        let v = if *k == "per_page" {
                            capped_per_page(v)
                        } else {
                            v.to_string()
                        };
                        (k.to_string(), v)
                    })
                })
                .collect();
            let r =
                list_users(sh, &admin_req("GET", "/admin/users", q, vec![])).unwrap_or_else(|e| e);
            if r.status >= 300 {
                return pass("GET", r);
            }
            let header = |name: &str| {
                r.headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.as_str())
            };
            let users: Vec<Value> = serde_json::from_slice::<Value>(&r.body)
                .ok()
                .and_then(|v| v.get("users").and_then(Value::as_array).cloned())
                .unwrap_or_default();
            let total = header("x-total-count")
                .and_then(|t| t.trim().parse::<u64>().ok())
                .map_or_else(|| json!(users.len()), |t| json!(t));
            let users: Vec<Value> = users.iter().map(slim_user).collect();
            Reply::json(
                200,
                json!({"users":users,"total":total,"next_page":next_page_of(header("link"))}),
            )
        }
        (m @ ("GET" | "DELETE"), r)
            if r.strip_prefix("/users/")
                .is_some_and(|id| !id.is_empty() && !id.contains('/')) =>
        {
            let raw = &r["/users/".len()..];
            // A malformed escape makes `decodeURIComponent` throw in the real function; no id
            // can then match, so the sandbox answers as it does for any unusable id.
            let id = decode_uri_component(raw).unwrap_or_default();
            if !id_ok(&id) {
                return ferr(404, "not_found", "No user has that id.");
            }
            // Read first, for DELETE too: only a pending invitation may be deleted.
            let path = format!("/admin/users/{id}");
            let out = get_user(sh, &admin_req("GET", &path, vec![], vec![])).unwrap_or_else(|e| e);
            if out.status >= 300 {
                // A well-formed id that is not a user gets Identity's 404, the function's own
                // not_found.
                return pass("GET", out);
            }
            let u = serde_json::from_slice::<Value>(&out.body)
                .ok()
                .filter(Value::is_object)
                .unwrap_or_else(|| json!({}));
            if m == "GET" {
                let mut slim = slim_user(&u);
                slim["message"] = meta_text(&u, "invite_message");
                return Reply::json(200, slim);
            }
            let who = u
                .get("email")
                .filter(|e| truthy(Some(e)))
                .map_or_else(|| "This user".to_string(), js_string);
            if truthy(u.get("confirmed_at")) {
                return ferr(
                    409,
                    "not_pending",
                    &format!(
                        "{who} has accepted the invitation and is a member. This function deletes only pending \
                         invitations; remove members in the Netlify dashboard."
                    ),
                );
            }
            if !truthy(u.get("invited_at")) {
                return ferr(
                    409,
                    "not_pending",
                    &format!(
                        "{who} signed up by themselves and was never invited. This function deletes only \
                         pending invitations; remove users in the Netlify dashboard."
                    ),
                );
            }
            let out =
                delete_user(sh, &admin_req("DELETE", &path, vec![], vec![])).unwrap_or_else(|e| e);
            if out.status >= 300 {
                return pass("DELETE", out);
            }
            Reply::json(200, json!({}))
        }
        (m, r) => ferr(404, "not_found", &format!("No route {m} {r}.")),
    }
}
