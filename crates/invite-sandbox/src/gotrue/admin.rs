//! The admin routes: invite, list, read, update, delete and create users, generate links.

use super::*;

/// Go's `%q` for the printable addresses that reach it (a JSON string literal is the same).
pub(super) fn go_quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

pub(super) fn invite(sh: &Shared, req: &Req) -> Result<Reply, Reply> {
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

pub(super) fn parse_page(sh: &Shared, req: &Req, k: &str, default: u64) -> Result<u64, Reply> {
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

pub(super) fn list_users(sh: &Shared, req: &Req) -> Result<Reply, Reply> {
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
pub(super) fn link_header(
    sh: &Shared,
    req: &Req,
    page: u64,
    per_page: u64,
    total_pages: u64,
) -> String {
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

pub(super) fn user_id(sh: &Shared, req: &Req) -> Result<uuid::Uuid, Reply> {
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

pub(super) fn not_found_user(sh: &Shared, req: &Req) -> Reply {
    err(sh, req, 404, "user_not_found", "User not found")
}

pub(super) fn get_user(sh: &Shared, req: &Req) -> Result<Reply, Reply> {
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
pub(super) fn update_user(sh: &Shared, req: &Req) -> Result<Reply, Reply> {
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

pub(super) fn delete_user(sh: &Shared, req: &Req) -> Result<Reply, Reply> {
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

pub(super) fn create_user(sh: &Shared, req: &Req) -> Result<Reply, Reply> {
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

pub(super) fn generate_link(sh: &Shared, req: &Req) -> Result<Reply, Reply> {
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
