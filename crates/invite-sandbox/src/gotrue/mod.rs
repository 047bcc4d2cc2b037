//! GoTrue routes: Supabase (supabase/auth) and Netlify (netlify/gotrue) semantics, plus the
//! Invite Desk Netlify Function emulation. Facts: docs/wire/gotrue.md.

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use crate::{
    email_problem, now, sign_hs256, verify_hs256, Credentials, Flavor, GUser, Mail, Reply, Req,
    Shared, State,
};

mod admin;
mod auth;
mod function;
mod invitee;

use admin::*;
use auth::*;
use function::function;
pub(crate) use function::{invite_desk_rest, FN_NO_USER, FUNCTION_BASE};
pub(crate) use invitee::accept;
use invitee::*;

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
