//! The Invite Desk Netlify Function (netlify/functions/invite-desk.mjs), answer for answer.
//!
//! The file is the reference: every status, code and message below is the one it sends.
//! Netlify verifies the caller's JWT before the function runs and hands it the claims as
//! `clientContext.user` (absent when the token is missing or invalid); the function then calls
//! Identity with the admin token Netlify gives it, here the operator token.

use super::*;

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

pub(super) fn ferr(status: u16, code: &str, msg: &str) -> Reply {
    Reply::json(status, json!({"error":{"code":code,"message":msg}}))
}

/// JavaScript truthiness, for the function's `a || b` and `if (!x)` on JSON values.
pub(super) fn truthy(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0 && !f.is_nan()),
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(_) | Value::Object(_)) => true,
    }
}

/// JavaScript `String(v)` for the scalars that reach a message.
pub(super) fn js_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `decodeURIComponent`, or `None` where it would throw (`URIError`).
pub(super) fn decode_uri_component(s: &str) -> Option<String> {
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
pub(super) fn id_ok(id: &str) -> bool {
    id.len() == 36
        && id.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// The function's `MAX_PER_PAGE`.
pub(super) const FN_MAX_PER_PAGE: u32 = 100;

/// The function's `cappedPerPage`: whole numbers above the cap become the cap; anything else is
/// passed on for Identity to judge.
pub(super) fn capped_per_page(v: &str) -> String {
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
pub(super) fn meta_text(u: &Value, key: &str) -> Value {
    u.get("user_metadata")
        .filter(|m| m.is_object())
        .and_then(|m| m.get(key))
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .map_or(Value::Null, |s| json!(s))
}

/// The function's `slimUser`: only what Invite Desk shows of a user.
pub(super) fn slim_user(u: &Value) -> Value {
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
pub(super) fn next_page_of(link: Option<&str>) -> Value {
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

pub(super) fn function(sh: &Shared, req: &Req, route: &str) -> Reply {
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
