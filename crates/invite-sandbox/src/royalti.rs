//! Royalti routes (docs/wire/royalti.md).
//!
//! Error bodies: docs/wire/royalti.md §A.2 says the shape is unverified; the sandbox uses SKILL.md's
//! `{"success":false,"error":{"code","message"}}`, which clients parse via `error.message`.

use std::net::IpAddr;
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::{
    email_problem, now, sign_hs256, verify_hs256, Credentials, Mail, Reply, Req, Shared, State,
};

#[derive(Debug, Clone)]
pub(crate) struct Workspace {
    pub id: String,
    pub name: String,
    pub tenant_id: u64,
}

#[derive(Debug, Clone)]
pub(crate) struct Member {
    /// TenantUser id.
    pub id: String,
    pub user_id: String,
    pub workspace: String,
    pub email: String,
    pub role: String,
    pub first_name: String,
    pub last_name: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Invite {
    pub id: String,
    pub tenant_user_id: String,
    pub workspace: String,
    pub status: String,
    pub message: String,
    pub code: String,
    pub redirect: String,
    pub joined_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub seq: u64,
}

#[derive(Debug, Clone)]
pub(crate) struct Account {
    pub id: String,
    pub email: String,
    pub password: String,
    pub name: String,
}

#[derive(Debug, Default)]
pub(crate) struct RState {
    pub workspaces: Vec<Workspace>,
    pub members: Vec<Member>,
    pub invites: Vec<Invite>,
    pub accounts: Vec<Account>,
    pub logins: Vec<(IpAddr, Instant)>,
}

pub(crate) fn err(status: u16, code: &str, msg: &str) -> Reply {
    Reply::json(
        status,
        json!({"success":false,"error":{"code":code,"message":msg}}),
    )
}

pub(crate) fn seed(st: &mut State, c: &Credentials, _url: &str) {
    let owner_id = st.uuid().to_string();
    let member_id = st.uuid().to_string();
    st.royalti.accounts.push(Account {
        id: owner_id.clone(),
        email: c.owner_email.clone(),
        password: c.owner_password.clone(),
        name: "Olivia Owner".into(),
    });
    st.royalti.accounts.push(Account {
        id: member_id.clone(),
        email: c.member_email.clone(),
        password: c.member_password.clone(),
        name: "Max Member".into(),
    });
    for (i, (name, role)) in [
        ("Acme Records", "owner"),
        ("Beta Music", "admin"),
        ("Gamma Sounds", "user"),
    ]
    .into_iter()
    .enumerate()
    {
        let id = st.uuid().to_string();
        st.royalti.workspaces.push(Workspace {
            id: id.clone(),
            name: name.into(),
            tenant_id: 101 + i as u64,
        });
        let mid = st.uuid().to_string();
        st.royalti.members.push(Member {
            id: mid,
            user_id: owner_id.clone(),
            workspace: id.clone(),
            email: c.owner_email.clone(),
            role: role.into(),
            first_name: "Olivia".into(),
            last_name: "Owner".into(),
        });
        if i == 0 {
            let mid = st.uuid().to_string();
            st.royalti.members.push(Member {
                id: mid,
                user_id: member_id.clone(),
                workspace: id,
                email: c.member_email.clone(),
                role: "user".into(),
                first_name: "Max".into(),
                last_name: "Member".into(),
            });
        }
    }
}

fn ts(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub(crate) fn dispatch(sh: &Shared, req: &Req, route: &str) -> Reply {
    let r = match (req.method.as_str(), route) {
        ("POST", "/auth/login") => login(sh, req),
        ("GET", "/auth/authtoken") => authtoken(sh, req),
        ("POST", "/auth/invite") => invite(sh, req),
        ("GET", "/user/invites") => list(sh, req),
        ("POST", "/user/invites/{id}/resend") => resend(sh, req),
        ("POST", "/user/invites/{id}/cancel") => cancel(sh, req),
        _ => Err(err(405, "METHOD_NOT_ALLOWED", "Method not allowed")),
    };
    r.unwrap_or_else(|e| e)
}

fn body_obj(req: &Req) -> Result<Value, Reply> {
    if req.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    match serde_json::from_slice::<Value>(&req.body) {
        Ok(v @ Value::Object(_)) => Ok(v),
        _ => Err(err(
            400,
            "VALIDATION_ERROR",
            "Request body must be a JSON object",
        )),
    }
}

fn login(sh: &Shared, req: &Req) -> Result<Reply, Reply> {
    // docs/wire/royalti.md §A.1: 20 requests per 3 minutes per IP.
    {
        let mut st = sh.lock();
        let window = std::time::Duration::from_secs(180);
        st.royalti.logins.retain(|(_, t)| t.elapsed() < window);
        let n = st
            .royalti
            .logins
            .iter()
            .filter(|(ip, _)| *ip == req.peer)
            .count();
        if n >= 20 {
            return Err(err(
                429,
                "RATE_LIMITED",
                "Too many login attempts, please try again later",
            ));
        }
        st.royalti.logins.push((req.peer, Instant::now()));
    }
    let b = body_obj(req)?;
    let email = b
        .get("email")
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim()
        .to_lowercase();
    let pw = b.get("password").and_then(Value::as_str).unwrap_or("");
    if email.is_empty() || pw.is_empty() {
        return Err(err(
            400,
            "VALIDATION_ERROR",
            "email and password are required",
        ));
    }
    let st = sh.lock();
    let Some(acc) = st
        .royalti
        .accounts
        .iter()
        .find(|a| a.email == email && a.password == pw)
        .cloned()
    else {
        return Err(err(401, "INVALID_CREDENTIALS", "Invalid email or password"));
    };
    let workspaces: Vec<Value> = st
        .royalti
        .members
        .iter()
        .filter(|m| m.user_id == acc.id)
        .filter_map(|m| {
            let w = st.royalti.workspaces.iter().find(|w| w.id == m.workspace)?;
            Some(json!({"workspaceId": w.id, "name": w.name, "status": "active", "userType": [["Artist"]], "role": m.role}))
        })
        .collect();
    drop(st);
    let t = now().timestamp();
    let refresh = sign_hs256(
        &sh.royalti_secret,
        &json!({"id": acc.id, "name": "refresh_token", "iat": t, "exp": t + sh.config.refresh_ttl.as_secs() as i64}),
        None,
    );
    Ok(Reply::json(
        200,
        json!({"message":"Successful","workspaces":workspaces,"refresh_token":refresh}),
    ))
}

fn claims(sh: &Shared, req: &Req) -> Result<Value, Reply> {
    let Some(tok) = req.bearer() else {
        return Err(err(401, "UNAUTHORIZED", "Authorization token is missing"));
    };
    if tok.starts_with("RWAK") {
        if tok == sh.creds.api_key {
            let st = sh.lock();
            let w = st
                .royalti
                .workspaces
                .first()
                .map(|w| w.id.clone())
                .unwrap_or_default();
            return Ok(json!({"apiKey": true, "activeWorkspace": w}));
        }
        return Err(err(401, "UNAUTHORIZED", "Invalid API key"));
    }
    verify_hs256(&sh.royalti_secret, &tok).map_err(|e| {
        if e.contains("expired") {
            err(401, "UNAUTHORIZED", "Token expired")
        } else {
            err(401, "UNAUTHORIZED", "Invalid token")
        }
    })
}

fn authtoken(sh: &Shared, req: &Req) -> Result<Reply, Reply> {
    let c = claims(sh, req)?;
    if c.get("name").and_then(Value::as_str) != Some("refresh_token") {
        return Err(err(401, "UNAUTHORIZED", "A refresh token is required"));
    }
    let uid = c
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    // docs/wire/royalti.md §A.1 documents only 200, 401, 404 and 500 here, so a missing or empty
    // `currentWorkspace` cannot be a 400: the server looks the workspace up and finds none,
    // which is its documented 404 (the same answer as an unknown id).
    let ws = req.q("currentWorkspace").unwrap_or("").to_string();
    let st = sh.lock();
    let Some(w) = st.royalti.workspaces.iter().find(|w| w.id == ws).cloned() else {
        return Err(err(404, "NOT_FOUND", "Workspace not found"));
    };
    if !st
        .royalti
        .members
        .iter()
        .any(|m| m.user_id == uid && m.workspace == ws)
    {
        return Err(err(404, "NOT_FOUND", "Workspace not found"));
    }
    let name = st
        .royalti
        .accounts
        .iter()
        .find(|a| a.id == uid)
        .map(|a| a.name.clone())
        .unwrap_or_default();
    drop(st);
    let t = now().timestamp();
    let access = sign_hs256(
        &sh.royalti_secret,
        &json!({"id": uid, "name": name, "activeWorkspace": ws, "iat": t, "exp": t + sh.config.access_ttl.as_secs() as i64}),
        None,
    );
    Ok(Reply::json(
        200,
        json!({"status":"success","message":format!("Access token generated for {}", w.name),"data":{"access_token":access}}),
    ))
}

/// Caller's workspace and role from an access token or RWAK key.
fn caller(sh: &Shared, req: &Req) -> Result<(String, String), Reply> {
    let c = claims(sh, req)?;
    let ws = c
        .get("activeWorkspace")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if c.get("apiKey").is_some() {
        // docs/wire/royalti.md §A.1: whether RWAK keys may invite is unverified; the sandbox lets a
        // workspace key act with admin rights in its workspace.
        return Ok((ws, "admin".into()));
    }
    if c.get("name").and_then(Value::as_str) == Some("refresh_token") || ws.is_empty() {
        return Err(err(401, "UNAUTHORIZED", "An access token is required"));
    }
    let uid = c.get("id").and_then(Value::as_str).unwrap_or("");
    let st = sh.lock();
    let role = st
        .royalti
        .members
        .iter()
        .find(|m| m.user_id == uid && m.workspace == ws)
        .map(|m| m.role.clone())
        .ok_or_else(|| err(401, "UNAUTHORIZED", "Not a member of this workspace"))?;
    Ok((ws, role))
}

fn require_admin(sh: &Shared, req: &Req) -> Result<String, Reply> {
    let (ws, role) = caller(sh, req)?;
    if matches!(
        role.as_str(),
        "admin" | "owner" | "super_admin" | "main_super_admin"
    ) {
        Ok(ws)
    } else {
        // docs/wire/royalti.md §A.3: "only available to workspace owners or admins" (403 per SKILL.md).
        Err(err(
            403,
            "FORBIDDEN",
            "Invitations are only available to workspace owners or admins",
        ))
    }
}

fn activation_link(sh: &Shared, redirect: &str, code: &str) -> String {
    let base = if redirect.is_empty() {
        format!("{}/email/activate", sh.url)
    } else {
        redirect.to_string()
    };
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}code={code}")
}

fn send(sh: &Shared, st: &mut State, to: &str, ws: &str, redirect: &str, code: &str) {
    let name = st
        .royalti
        .workspaces
        .iter()
        .find(|w| w.id == ws)
        .map(|w| w.name.clone())
        .unwrap_or_default();
    st.mail.push(Mail {
        to: to.to_string(),
        kind: "invite".into(),
        subject: format!("You have been invited to join {name} on Royalti"),
        link: activation_link(sh, redirect, code),
        sent_at: now(),
    });
}

fn invite(sh: &Shared, req: &Req) -> Result<Reply, Reply> {
    let ws = require_admin(sh, req)?;
    let b = body_obj(req)?;
    let email = b
        .get("email")
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim()
        .to_lowercase();
    if email.is_empty() {
        return Err(err(400, "VALIDATION_ERROR", "email is required"));
    }
    if email_problem(&email).is_some() {
        return Err(err(
            400,
            "VALIDATION_ERROR",
            "email must be a valid email address",
        ));
    }
    let send_email = b.get("sendEmail").and_then(Value::as_bool).unwrap_or(true);
    let message = b
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    // docs/wire/royalti.md §A.3: docs show both `redirectUrl` and `redirect_url`; accept both.
    let redirect = b
        .get("redirectUrl")
        .or_else(|| b.get("redirect_url"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let mut st = sh.lock();
    let member_idx = match req.q("userId").filter(|u| !u.is_empty()) {
        Some(uid) => Some(
            st.royalti
                .members
                .iter()
                .position(|m| m.id == uid && m.workspace == ws)
                .ok_or_else(|| err(404, "NOT_FOUND", "Tenant user not found"))?,
        ),
        None => st
            .royalti
            .members
            .iter()
            .position(|m| m.workspace == ws && m.email == email),
    };
    let tu_id = match member_idx {
        Some(i) => st.royalti.members[i].id.clone(),
        None => {
            let id = st.uuid().to_string();
            let first = b
                .get("firstName")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let last = b
                .get("lastName")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let role = b
                .get("role")
                .and_then(Value::as_str)
                .unwrap_or("user")
                .to_string();
            st.royalti.members.push(Member {
                id: id.clone(),
                user_id: String::new(),
                workspace: ws.clone(),
                email: email.clone(),
                role,
                first_name: first,
                last_name: last,
            });
            id
        }
    };
    let is_seeded_member = st
        .royalti
        .members
        .iter()
        .any(|m| m.id == tu_id && !m.user_id.is_empty());
    let existing = st
        .royalti
        .invites
        .iter()
        .position(|i| i.tenant_user_id == tu_id && i.status != "cancelled");
    let code = st.token(32);
    let t = now();
    let seq = st.next_seq();
    match existing {
        Some(i) if st.royalti.invites[i].status == "joined" => {
            return Err(err(
                409,
                "CONFLICT",
                "This user has already joined the workspace",
            ));
        }
        None if is_seeded_member => {
            return Err(err(
                409,
                "CONFLICT",
                "This user is already a member of the workspace",
            ));
        }
        Some(i) => {
            // One active invite per tenant user: a re-invite updates it (docs/wire/royalti.md §A.3).
            let inv = &mut st.royalti.invites[i];
            inv.code = code.clone();
            if !message.is_empty() {
                inv.message = message;
            }
            inv.redirect = redirect.clone();
            inv.updated_at = t;
            inv.seq = seq;
        }
        None => {
            let id = st.uuid().to_string();
            st.royalti.invites.push(Invite {
                id,
                tenant_user_id: tu_id,
                workspace: ws.clone(),
                status: "invited".into(),
                message,
                code: code.clone(),
                redirect: redirect.clone(),
                joined_at: None,
                created_at: t,
                updated_at: t,
                seq,
            });
        }
    }
    if send_email {
        send(sh, &mut st, &email, &ws, &redirect, &code);
    }
    Ok(Reply::json(
        201,
        json!({"message":"Successful, Email verification Instructions have been sent to your email"}),
    ))
}

fn invite_json(st: &State, i: &Invite) -> Value {
    let ws = st.royalti.workspaces.iter().find(|w| w.id == i.workspace);
    let m = st.royalti.members.iter().find(|m| m.id == i.tenant_user_id);
    json!({
        "id": i.id, "TenantUserId": i.tenant_user_id, "TenantId": ws.map(|w| w.tenant_id).unwrap_or(0),
        "status": i.status, "meta": {"message": i.message, "date": ts(&i.updated_at)},
        "JoinedAt": i.joined_at.as_ref().map(ts), "createdAt": ts(&i.created_at), "updatedAt": ts(&i.updated_at),
        "TenantUser": m.map(|m| json!({"id": m.id, "firstName": m.first_name, "lastName": m.last_name, "role": m.role,
            "User": {"email": m.email}})).unwrap_or(Value::Null)
    })
}

fn list(sh: &Shared, req: &Req) -> Result<Reply, Reply> {
    let (ws, _role) = caller(sh, req)?;
    let status = req.q("status").unwrap_or("");
    if !status.is_empty() && !matches!(status, "invited" | "joined" | "cancelled") {
        return Err(err(
            400,
            "VALIDATION_ERROR",
            "status must be one of invited, joined, cancelled",
        ));
    }
    let num = |k: &str, d: u64| -> Result<u64, Reply> {
        match req.q(k) {
            None | Some("") => Ok(d),
            Some(v) => v
                .parse::<u64>()
                .map_err(|_| err(400, "VALIDATION_ERROR", &format!("{k} must be a number"))),
        }
    };
    let page = num("page", 1)?.max(1);
    // docs/wire/royalti.md §A.2: size default 10, max 100 (SKILL.md).
    let size = num("size", 10)?.clamp(1, 100);
    // `q` as an email search: assumed from the global list conventions (docs/wire/royalti.md §A.4 unverified).
    let q = req
        .q("q")
        .or_else(|| req.q("search"))
        .unwrap_or("")
        .to_lowercase();
    let st = sh.lock();
    let mut all: Vec<&Invite> = st
        .royalti
        .invites
        .iter()
        .filter(|i| i.workspace == ws)
        .collect();
    let total = all.len();
    all.retain(|i| status.is_empty() || i.status == status);
    all.retain(|i| {
        q.is_empty()
            || st
                .royalti
                .members
                .iter()
                .any(|m| m.id == i.tenant_user_id && m.email.contains(&q))
    });
    all.sort_by_key(|i| std::cmp::Reverse((i.updated_at, i.seq)));
    let filtered = all.len() as u64;
    let invites: Vec<Value> = all
        .iter()
        .skip(usize::try_from((page - 1).saturating_mul(size)).unwrap_or(usize::MAX))
        .take(size as usize)
        .map(|i| invite_json(&st, i))
        .collect();
    Ok(Reply::json(
        200,
        json!({"totalItems": total, "filteredItems": filtered, "totalPages": filtered.div_ceil(size),
            "currentPage": page, "invites": invites}),
    ))
}

fn invite_idx(st: &State, req: &Req, ws: &str) -> Result<usize, Reply> {
    let id = req.path.split('/').nth(3).unwrap_or("");
    st.royalti
        .invites
        .iter()
        .position(|i| i.id == id && i.workspace == ws)
        .ok_or_else(|| err(404, "NOT_FOUND", "Invite not found"))
}

fn resend(sh: &Shared, req: &Req) -> Result<Reply, Reply> {
    let ws = require_admin(sh, req)?;
    let b = body_obj(req)?;
    let mut st = sh.lock();
    let i = invite_idx(&st, req, &ws)?;
    if st.royalti.invites[i].status != "invited" {
        // docs/wire/royalti.md §A.5: only `invited` rows; error code unverified, 400 chosen.
        return Err(err(
            400,
            "INVALID_STATUS",
            "Only invitations in the invited state can be resent",
        ));
    }
    let code = st.token(32);
    let seq = st.next_seq();
    let inv = &mut st.royalti.invites[i];
    if let Some(m) = b.get("message").and_then(Value::as_str) {
        inv.message = m.to_string();
    }
    if let Some(r) = b
        .get("redirectUrl")
        .or_else(|| b.get("redirect_url"))
        .and_then(Value::as_str)
    {
        inv.redirect = r.to_string();
    }
    inv.code = code.clone();
    inv.updated_at = now();
    inv.seq = seq;
    let (tu, redirect) = (inv.tenant_user_id.clone(), inv.redirect.clone());
    let email = st
        .royalti
        .members
        .iter()
        .find(|m| m.id == tu)
        .map(|m| m.email.clone())
        .unwrap_or_default();
    send(sh, &mut st, &email, &ws, &redirect, &code);
    Ok(Reply::json(
        200,
        json!({"message":"Invite resent successfully"}),
    ))
}

fn cancel(sh: &Shared, req: &Req) -> Result<Reply, Reply> {
    let ws = require_admin(sh, req)?;
    let mut st = sh.lock();
    let i = invite_idx(&st, req, &ws)?;
    if st.royalti.invites[i].status != "invited" {
        return Err(err(
            400,
            "INVALID_STATUS",
            "Only invitations in the invited state can be cancelled",
        ));
    }
    let seq = st.next_seq();
    let inv = &mut st.royalti.invites[i];
    inv.status = "cancelled".into();
    inv.code.clear();
    inv.updated_at = now();
    inv.seq = seq;
    // docs/wire/royalti.md §A.6: cancel response body unknown; a `{message}` like resend's is assumed.
    Ok(Reply::json(
        200,
        json!({"message":"Invite cancelled successfully"}),
    ))
}

pub(crate) fn accept(sh: &Shared, link: &str) -> Result<String, String> {
    let u = url::Url::parse(link).map_err(|e| format!("bad link: {e}"))?;
    let code = u
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.to_string())
        .ok_or("link has no code")?;
    let mut st = sh.lock();
    let i = st
        .royalti
        .invites
        .iter()
        .position(|i| i.status == "invited" && !i.code.is_empty() && i.code == code)
        .ok_or("link is invalid, cancelled or already used")?;
    let t = now();
    let seq = st.next_seq();
    let inv = &mut st.royalti.invites[i];
    inv.status = "joined".into();
    inv.joined_at = Some(t);
    inv.updated_at = t;
    inv.code.clear();
    inv.seq = seq;
    let tu = inv.tenant_user_id.clone();
    let email = st
        .royalti
        .members
        .iter()
        .find(|m| m.id == tu)
        .map(|m| m.email.clone())
        .unwrap_or_default();
    Ok(email)
}
