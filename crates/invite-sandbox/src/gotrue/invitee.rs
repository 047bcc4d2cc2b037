//! The invitee's side: the link, the token exchange, verify, and the user's own record.

use super::*;

pub(super) fn session_for(sh: &Shared, st: &mut State, idx: usize) -> Value {
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

pub(super) fn token(sh: &Shared, req: &Req) -> Result<Reply, Reply> {
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
pub(super) fn find_token(sh: &Shared, st: &State, hash: &str) -> Result<usize, bool> {
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

pub(super) fn confirm(st: &mut State, i: usize, pw: Option<String>, random: String) {
    let t = now();
    let u = &mut st.users[i];
    u.email_confirmed_at.get_or_insert(t);
    u.last_sign_in_at = Some(t);
    u.token_hash = None;
    u.otp = None;
    u.password = Some(pw.unwrap_or(random));
    u.updated_at = t;
}

pub(super) fn post_verify(sh: &Shared, req: &Req) -> Result<Reply, Reply> {
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

pub(super) fn token_type_ok(stored: &str, asked: &str) -> bool {
    stored == asked
        || (stored == "signup" && asked == "email")
        || (stored == "invite" && asked == "email")
        || (stored == "magiclink" && asked == "email")
}

pub(super) fn get_verify(sh: &Shared, req: &Req) -> Result<Reply, Reply> {
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
pub(super) fn user_from_token(sh: &Shared, req: &Req) -> Result<usize, Reply> {
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

pub(super) fn get_user_self(sh: &Shared, req: &Req) -> Result<Reply, Reply> {
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

pub(super) fn put_user(sh: &Shared, req: &Req) -> Result<Reply, Reply> {
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
