//! Serving: the accept loop, each request's checks (host, control token, faults, latency)
//! and routing, and the control routes.

use crate::*;

pub(crate) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stop.changed() => return,
        };
        let Ok((stream, peer)) = accepted else {
            continue;
        };
        let shared = shared.clone();
        let mut stop = stop.clone();
        tokio::spawn(async move {
            let kill = Arc::new(Notify::new());
            let kill2 = kill.clone();
            let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
                let shared = shared.clone();
                let kill = kill2.clone();
                async move { Ok::<_, std::convert::Infallible>(handle(shared, kill, peer, req).await) }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(hyper_util::rt::TokioIo::new(stream), svc);
            // Dropping `conn` closes the socket with no answer: that is how Drop faults work.
            tokio::select! {
                _ = conn => {}
                _ = kill.notified() => {}
                _ = stop.changed() => {}
            }
        });
    }
}

pub(crate) async fn handle(
    shared: Arc<Shared>,
    kill: Arc<Notify>,
    peer: SocketAddr,
    req: Request<Incoming>,
) -> Response<Body> {
    let (parts, body) = req.into_parts();
    // DNS rebinding: a web page whose host name now points at 127.0.0.1 reaches this port with
    // its own name in `Host`. Only requests addressed to this very loopback address are served.
    let mut ports = std::iter::once(shared.port).chain(shared.config.front_ports.iter().copied());
    if !ports.any(|p| host_allowed(&parts.headers, &parts.uri, p)) {
        return Reply::json(
            403,
            json!({"error":"host_not_allowed","message":format!(
                "This sandbox answers only requests addressed to 127.0.0.1:{0} or localhost:{0}.",
                shared.port
            )}),
        )
        .into_response();
    }
    let body = match axum::body::to_bytes(Body::new(body), 8 * 1024 * 1024).await {
        Ok(b) => b,
        Err(_) => {
            return Reply::json(413, json!({"code":413,"msg":"Request body too large"}))
                .into_response()
        }
    };
    let raw_path = parts.uri.path().to_string();
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let method = parts.method.as_str().to_string();

    // No CORS headers, on purpose: a web page in a browser must not read the sandbox's
    // answers (its control routes hand out keys), and a preflight gets no approval.
    if let Some(ctl) = raw_path.strip_prefix("/__sandbox/") {
        if !control_allowed(&shared.config, &parts.headers) {
            return Reply::json(
                401,
                json!({"ok":false,"error":format!(
                    "this sandbox's control routes need its token in the {CONTROL_TOKEN_HEADER} header"
                )}),
            )
            .into_response();
        }
        return control(&shared, &method, ctl, &body).await.into_response();
    }

    let flavor = shared.config.flavor;
    let in_flight = InFlight::enter(&shared);
    let (path, hosted) = match flavor {
        Flavor::Supabase => match raw_path.strip_prefix("/auth/v1") {
            Some(p) if p.is_empty() || p.starts_with('/') => (p.to_string(), true),
            _ => (raw_path.clone(), false),
        },
        Flavor::Netlify => match raw_path.strip_prefix("/.netlify/identity") {
            Some(p) if p.is_empty() || p.starts_with('/') => (p.to_string(), true),
            _ => (raw_path.clone(), false),
        },
        Flavor::Royalti => (raw_path.clone(), false),
    };
    let req = Req {
        method,
        path,
        query,
        headers: parts.headers,
        body,
        hosted,
        peer: peer.ip(),
    };
    let route = route_of(flavor, &req);
    let route_key = format!(
        "{} {}",
        req.method,
        route.clone().unwrap_or_else(|| req.path.clone())
    );

    let fault = {
        let mut st = shared.lock();
        *st.calls.entry(route_key.clone()).or_insert(0) += 1;
        take_fault(&mut st.faults, &route_key)
    };
    if in_flight.is_none() {
        return fault_status(flavor, &req, 429, None).into_response();
    }
    if !shared.config.latency.is_zero() {
        tokio::time::sleep(shared.config.latency).await;
    }
    let mut after: Option<FaultAction> = None;
    if let Some(action) = fault {
        match action {
            FaultAction::Status {
                status,
                retry_after,
            } => return fault_status(flavor, &req, status, retry_after).into_response(),
            FaultAction::Delay { ms } => tokio::time::sleep(Duration::from_millis(ms)).await,
            FaultAction::Drop => {
                kill.notify_one();
                std::future::pending::<()>().await;
            }
            FaultAction::ExpiredToken => return expired_token(flavor, &req).into_response(),
            FaultAction::RawRetryAfter { status, value } => {
                return fault_body(flavor, &req, status)
                    .with("retry-after", value)
                    .into_response()
            }
            FaultAction::EndlessBody => return endless_body(),
            a @ (FaultAction::StatusAfter { .. }
            | FaultAction::DropAfter
            | FaultAction::Malformed
            | FaultAction::Truncated) => after = Some(a),
        }
    }

    let reply = match route {
        None => not_found(flavor, &req),
        Some(r) => match flavor {
            Flavor::Supabase | Flavor::Netlify => gotrue::dispatch(&shared, &req, &r),
            Flavor::Royalti => royalti::dispatch(&shared, &req, &r),
        },
    };
    let reply = if gotrue::api_versioned(&req) && flavor == Flavor::Supabase {
        reply.with("x-supabase-api-version", "2024-01-01")
    } else {
        reply
    };
    match after {
        Some(FaultAction::StatusAfter {
            status,
            retry_after,
        }) => {
            // The work is done (users made, mail sent); only the answer is replaced.
            drop(reply);
            fault_status(flavor, &req, status, retry_after).into_response()
        }
        Some(FaultAction::DropAfter) => {
            kill.notify_one();
            std::future::pending::<()>().await;
            reply.into_response()
        }
        Some(FaultAction::Malformed) => {
            let mut r = reply;
            r.status = 200;
            r.body = b"{\"users\": [{\"id\": <html>oops".to_vec();
            r.into_response()
        }
        Some(FaultAction::Truncated) => {
            let mut r = reply;
            let n = r.body.len() / 2;
            r.body.truncate(n.max(1).min(r.body.len()));
            r.into_response()
        }
        _ => reply.into_response(),
    }
}

/// True when the request is addressed to the loopback address this sandbox serves:
/// `127.0.0.1:PORT` or `localhost:PORT` (a missing port means 80), in `Host` and in an
/// absolute-form target if there is one.
pub(crate) fn host_allowed(headers: &HeaderMap, uri: &hyper::Uri, port: u16) -> bool {
    let ok = |host: &str| {
        let host = host.trim();
        let (name, p) = match host.rsplit_once(':') {
            Some((n, p)) => (n, p.parse::<u16>().ok()),
            None => (host, Some(80)),
        };
        p == Some(port) && (name == "127.0.0.1" || name.eq_ignore_ascii_case("localhost"))
    };
    let header = headers
        .get(hyper::header::HOST)
        .map(|h| h.to_str().is_ok_and(ok));
    let target = uri.authority().map(|a| ok(a.as_str()));
    match (header, target) {
        (None, None) => false,
        (h, t) => h.unwrap_or(true) && t.unwrap_or(true),
    }
}

/// True when the control routes are open, or the request carries their token. Compared in
/// constant time, so the answer's timing says nothing about how much of a guess was right.
pub(crate) fn control_allowed(config: &Config, headers: &HeaderMap) -> bool {
    let Some(want) = config.control_token.as_deref() else {
        return true;
    };
    let Some(got) = headers.get(CONTROL_TOKEN_HEADER).map(|v| v.as_bytes()) else {
        return false;
    };
    if want.is_empty() {
        return false; // an empty token would let an empty header in
    }
    // The length is not secret (every token has the same); the bytes are.
    got.len() == want.len()
        && got
            .iter()
            .zip(want.as_bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// The action of the first armed fault that hits this request, if any. Every matching fault
/// counts the request (so `every` keeps its rhythm), but only one acts on it.
pub(crate) fn take_fault(faults: &mut Vec<Armed>, route_key: &str) -> Option<FaultAction> {
    let mut hit = None;
    for (i, a) in faults.iter_mut().enumerate() {
        let f = &a.spec.fault;
        let matches = f.route.as_deref().is_none_or(|r| r == route_key);
        if f.count == 0 || !matches {
            continue;
        }
        a.seen = a.seen.saturating_add(1);
        let every = a.spec.every.unwrap_or(1).max(1);
        if hit.is_none() && a.seen % every == 0 {
            hit = Some(i);
        }
    }
    let i = hit?;
    let f = &mut faults[i].spec.fault;
    let action = f.action.clone();
    f.count -= 1;
    if f.count == 0 {
        faults.remove(i);
    }
    Some(action)
}

pub(crate) fn route_of(flavor: Flavor, req: &Req) -> Option<String> {
    let segs: Vec<&str> = req.path.trim_end_matches('/').split('/').skip(1).collect();
    match flavor {
        Flavor::Supabase | Flavor::Netlify => {
            if flavor == Flavor::Netlify {
                if let Some(rest) = gotrue::invite_desk_rest(&req.path) {
                    let s: Vec<&str> = rest.trim_end_matches('/').split('/').skip(1).collect();
                    let base = gotrue::FUNCTION_BASE;
                    return Some(match s.as_slice() {
                        ["users", _] => format!("{base}/users/{{id}}"),
                        _ => req.path.trim_end_matches('/').to_string(),
                    });
                }
                if req.path.starts_with("/.netlify/functions/") {
                    return Some(req.path.clone());
                }
            }
            Some(match segs.as_slice() {
                ["invite"] => "/invite".into(),
                ["admin", "users"] => "/admin/users".into(),
                ["admin", "users", _] => "/admin/users/{id}".into(),
                ["admin", "generate_link"] => "/admin/generate_link".into(),
                ["token"] => "/token".into(),
                ["settings"] => "/settings".into(),
                ["health"] => "/health".into(),
                ["verify"] => "/verify".into(),
                ["user"] => "/user".into(),
                ["logout"] => "/logout".into(),
                _ => return None,
            })
        }
        Flavor::Royalti => Some(match segs.as_slice() {
            ["auth", "login"] => "/auth/login".into(),
            ["auth", "authtoken"] => "/auth/authtoken".into(),
            ["auth", "invite"] => "/auth/invite".into(),
            ["user", "invites"] => "/user/invites".into(),
            ["user", "invites", _, "resend"] => "/user/invites/{id}/resend".into(),
            ["user", "invites", _, "cancel"] => "/user/invites/{id}/cancel".into(),
            _ => return None,
        }),
    }
}

pub(crate) fn not_found(flavor: Flavor, req: &Req) -> Reply {
    match flavor {
        Flavor::Supabase => gotrue::sb_err(req, 404, "not_found", "Not Found"),
        Flavor::Netlify => gotrue::ng_err(404, "Not Found"),
        Flavor::Royalti => royalti::err(404, "NOT_FOUND", "Route not found"),
    }
}

pub(crate) fn fault_status(
    flavor: Flavor,
    req: &Req,
    status: u16,
    retry_after: Option<u64>,
) -> Reply {
    let r = fault_body(flavor, req, status);
    match retry_after {
        Some(s) => r.with("retry-after", s.to_string()),
        None => r,
    }
}

pub(crate) fn fault_body(flavor: Flavor, req: &Req, status: u16) -> Reply {
    let (code, msg) = match status {
        429 => ("over_request_rate_limit", "Request rate limit reached"),
        s if s >= 500 => ("unexpected_failure", "Unexpected failure (injected)"),
        _ => ("unexpected_failure", "Injected failure"),
    };
    if flavor == Flavor::Netlify && req.path.starts_with("/.netlify/functions/") {
        return Reply::json(status, json!({"error":{"code":"internal","message":msg}}));
    }
    match flavor {
        Flavor::Supabase => gotrue::sb_err(req, status, code, msg),
        Flavor::Netlify => gotrue::ng_err(status, msg),
        Flavor::Royalti => royalti::err(status, "INJECTED", msg),
    }
}

/// A 200 whose body never ends: 64 KiB chunks of JSON-looking text, for as long as the client
/// reads (hyper only asks for the next chunk once the last one is written).
pub(crate) fn endless_body() -> Response<Body> {
    struct Endless(Bytes);
    impl hyper::body::Body for Endless {
        type Data = Bytes;
        type Error = std::convert::Infallible;
        fn poll_frame(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
            std::task::Poll::Ready(Some(Ok(hyper::body::Frame::data(self.0.clone()))))
        }
    }
    let chunk: Vec<u8> =
        br#"{"email":"endless@example.com"},"#.iter().copied().cycle().take(64 * 1024).collect();
    let mut r = Response::new(Body::new(Endless(Bytes::from(chunk))));
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    r
}

pub(crate) fn expired_token(flavor: Flavor, req: &Req) -> Reply {
    if flavor == Flavor::Netlify && req.path.starts_with("/.netlify/functions/") {
        // Netlify drops a token it cannot verify, so the function sees no user at all.
        return Reply::json(
            401,
            json!({"error":{"code":"unauthorized","message":gotrue::FN_NO_USER}}),
        );
    }
    match flavor {
        Flavor::Supabase => gotrue::sb_err(
            req,
            403,
            "bad_jwt",
            "invalid JWT: unable to parse or verify signature, token has invalid claims: token is expired",
        ),
        Flavor::Netlify => gotrue::ng_err(401, "Invalid token: token is expired"),
        Flavor::Royalti => royalti::err(401, "UNAUTHORIZED", "Token expired"),
    }
}

// ---------------------------------------------------------------------------------------------
// Control routes

pub(crate) async fn control(shared: &Arc<Shared>, method: &str, path: &str, body: &Bytes) -> Reply {
    match (method, path.trim_end_matches('/')) {
        ("GET", "health") => Reply::json(
            200,
            json!({"ok":true,"flavor":shared.config.flavor.to_string(),"url":shared.url}),
        ),
        ("GET", "mail") => Reply::json(200, json!(shared.lock().mail)),
        ("GET", "calls") => Reply::json(200, json!(shared.lock().calls)),
        ("GET", "credentials") => Reply::json(200, json!(shared.creds)),
        ("POST", "reset") => {
            reset(shared);
            Reply::json(200, json!({"ok":true}))
        }
        ("POST", "faults") => match SpreadFault::list_from_json(body) {
            Ok(fs) => {
                let n = fs.len();
                shared.lock().faults.extend(fs.into_iter().map(Armed::from));
                Reply::json(200, json!({"ok":true,"armed":n}))
            }
            Err(e) => Reply::json(400, json!({"ok":false,"error":e.to_string()})),
        },
        // Test aid, not an API of the real services: makes a GoTrue invitation look `seconds`
        // older (its `invited_at` and `confirmation_sent_at`), so expiry can be seen without
        // waiting a day. The link itself keeps working as before.
        ("POST", "age") => {
            #[derive(Deserialize)]
            struct Age {
                email: String,
                seconds: i64,
            }
            let a: Age = match serde_json::from_slice(body) {
                Ok(a) => a,
                Err(e) => {
                    return Reply::json(400, json!({"ok":false,"error":format!("bad body: {e}")}))
                }
            };
            let by = chrono::Duration::seconds(a.seconds.clamp(0, 10 * 365 * 86400));
            let mut st = shared.lock();
            let mut aged = 0;
            for u in st
                .users
                .iter_mut()
                .filter(|u| u.email.eq_ignore_ascii_case(&a.email))
            {
                u.invited_at = u.invited_at.map(|t| t - by);
                u.confirmation_sent_at = u.confirmation_sent_at.map(|t| t - by);
                aged += 1;
            }
            Reply::json(200, json!({"ok":true,"aged":aged}))
        }
        ("POST", "accept") => {
            #[derive(Deserialize)]
            struct A {
                link: String,
                #[serde(default)]
                password: Option<String>,
            }
            let a: A = match serde_json::from_slice(body) {
                Ok(a) => a,
                Err(e) => {
                    return Reply::json(400, json!({"ok":false,"error":format!("bad body: {e}")}))
                }
            };
            let pw = a.password.unwrap_or_else(|| "sandbox-password-1".into());
            let r = match shared.config.flavor {
                Flavor::Supabase | Flavor::Netlify => gotrue::accept(shared, &a.link, &pw),
                Flavor::Royalti => royalti::accept(shared, &a.link),
            };
            match r {
                Ok(email) => Reply::json(200, json!({"ok":true,"email":email})),
                Err(e) => Reply::json(400, json!({"ok":false,"error":e})),
            }
        }
        _ => Reply::json(404, json!({"ok":false,"error":"unknown sandbox route"})),
    }
}
