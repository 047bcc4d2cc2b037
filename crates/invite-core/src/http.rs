//! The one HTTP client and the retry policy every provider shares.
//!
//! The rule: retry what is safe. Reads are retried on network errors, 5xx and short 429s.
//! Writes are retried only when the request provably never left this machine (connection
//! refused, DNS failure); a write whose answer was lost becomes [`Error::Uncertain`] and is
//! looked up before anything is sent again (see the outbox).

use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{RequestBuilder, Response, StatusCode};

use crate::error::{Error, Result};

/// Longest `Retry-After` a read waits for in-line; longer waits go back to the caller.
const MAX_INLINE_WAIT: Duration = Duration::from_secs(10);
/// Attempts for a read (first try included).
const READ_ATTEMPTS: u32 = 3;

/// Shared HTTP client (rustls, timeouts, user agent, proxies). Cheap to clone.
///
/// Certificates: the bundled Mozilla roots and the operating system's trust store (reqwest's
/// `rustls-tls-native-roots`: the keychain on macOS, the Windows store, the system bundle on
/// Linux, where `SSL_CERT_FILE` / `SSL_CERT_DIR` are honoured), so a server behind a company's
/// own authority works once that authority is installed, without OpenSSL.
///
/// Proxies: loopback hosts always go direct; every other host follows the system's settings
/// (see [`system_proxy`]).
#[derive(Debug, Clone)]
pub struct Http {
    client: reqwest::Client,
}

impl Http {
    /// Builds the client with the app's timeouts.
    pub fn new() -> Result<Self> {
        Self::with_timeout(Duration::from_secs(30))
    }

    /// Builds the client with a custom overall request timeout (tests use short ones).
    pub fn with_timeout(timeout: Duration) -> Result<Self> {
        // Invite links and redirects are data to show, never to follow.
        Self::build(timeout, reqwest::redirect::Policy::none())
    }

    /// The client for update manifests and packages (GETs of public files only): it follows up
    /// to five redirects, because GitHub's release downloads answer with one to their storage
    /// host, but never to plain `http://` (except on this machine, for tests); the timeout
    /// allows a slow connection to fetch an installer.
    pub fn for_updates() -> Result<Self> {
        let policy = reqwest::redirect::Policy::custom(|attempt| {
            if attempt.previous().len() >= 5 {
                attempt.error("too many redirects")
            } else if attempt.url().scheme() != "https" && !is_loopback(attempt.url()) {
                attempt.error("redirected to an address without https")
            } else {
                attempt.follow()
            }
        });
        Self::build(Duration::from_secs(600), policy)
    }

    fn build(timeout: Duration, redirects: reqwest::redirect::Policy) -> Result<Self> {
        let client = reqwest::Client::builder()
            .use_rustls_tls()
            .proxy(system_proxy())
            .connect_timeout(Duration::from_secs(10))
            .timeout(timeout)
            .user_agent(concat!("InviteDesk/", env!("CARGO_PKG_VERSION")))
            .redirect(redirects)
            .build()
            .map_err(|e| Error::Network {
                detail: Some(e.to_string()),
            })?;
        Ok(Self { client })
    }

    /// The underlying client, to build requests with.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Sends a request that is safe to repeat (GET, or a write the server treats as idempotent).
    /// Retries network failures, 502/503/504 and 429s with a short `Retry-After`.
    pub async fn send_read(&self, rb: RequestBuilder) -> Result<Response> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let Some(this) = rb.try_clone() else {
                let resp = rb.send().await.map_err(|e| send_error(&e, false))?;
                return not_redirected(resp);
            };
            let last = attempt >= READ_ATTEMPTS;
            match this.send().await {
                Ok(resp) => {
                    let status = resp.status();
                    let wait = match status {
                        StatusCode::TOO_MANY_REQUESTS => match retry_after(resp.headers()) {
                            Some(d) if d <= MAX_INLINE_WAIT => Some(d),
                            _ => None,
                        },
                        StatusCode::BAD_GATEWAY
                        | StatusCode::SERVICE_UNAVAILABLE
                        | StatusCode::GATEWAY_TIMEOUT => Some(
                            retry_after(resp.headers())
                                .unwrap_or(backoff(attempt))
                                .min(MAX_INLINE_WAIT),
                        ),
                        _ => None,
                    };
                    match wait {
                        Some(d) if !last => tokio::time::sleep(d).await,
                        _ => return not_redirected(resp),
                    }
                }
                Err(e) if !last && !is_untrusted(&e) => {
                    tracing::debug!(error = %redact_error(&e), attempt, "read failed, retrying");
                    tokio::time::sleep(backoff(attempt)).await;
                }
                Err(e) => return Err(send_error(&e, false)),
            }
        }
    }

    /// Sends a write once. Retried only when the connection was never made.
    pub async fn send_write(&self, rb: RequestBuilder) -> Result<Response> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let Some(this) = rb.try_clone() else {
                let resp = rb.send().await.map_err(|e| send_error(&e, true))?;
                return not_redirected(resp);
            };
            match this.send().await {
                Ok(resp) => return not_redirected(resp),
                Err(e) if e.is_connect() && !is_untrusted(&e) && attempt < READ_ATTEMPTS => {
                    tokio::time::sleep(backoff(attempt)).await;
                }
                Err(e) => return Err(send_error(&e, true)),
            }
        }
    }
}

/// True for hosts on this machine: `localhost` (and `*.localhost`, RFC 6761), 127.0.0.0/8, ::1.
pub fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost")
        }
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => {
            ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
        None => false,
    }
}

/// The proxy policy: loopback never goes through a proxy (a dead `HTTP_PROXY` must not break the
/// demo or a server on this machine, and a proxy could not reach it anyway); every other host
/// follows the system's settings as reqwest's own default would: `HTTP_PROXY`, `HTTPS_PROXY`,
/// `ALL_PROXY` and `NO_PROXY` everywhere, plus the system proxy settings on macOS (System
/// Settings → Network) and Windows (Internet Options), read by hyper-util's
/// `client-proxy-system` feature. (Setting any proxy turns reqwest's automatic one off, so the
/// same matcher is used here, with the loopback rule in front.)
fn system_proxy() -> reqwest::Proxy {
    let system = hyper_util::client::proxy::matcher::Matcher::from_system();
    reqwest::Proxy::custom(move |url| {
        if is_loopback(url) {
            return None;
        }
        let uri: http::Uri = url.as_str().parse().ok()?;
        let hit = system.intercept(&uri)?;
        let mut target = reqwest::Url::parse(&hit.uri().to_string()).ok()?;
        // The matcher keeps credentials apart; reqwest takes them back from the proxy URL.
        if let Some((user, pass)) = hit
            .raw_auth()
            .map(|(u, p)| (u.to_string(), p.to_string()))
            .or_else(|| hit.basic_auth().and_then(decode_basic))
        {
            let _ = target.set_username(&user);
            let _ = target.set_password(Some(&pass));
        }
        Some(target)
    })
}

/// `Basic dXNlcjpwYXNz` → ("user", "pass").
fn decode_basic(v: &reqwest::header::HeaderValue) -> Option<(String, String)> {
    use base64::Engine as _;
    let b64 = v.to_str().ok()?.strip_prefix("Basic ")?;
    let raw = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (u, p) = text.split_once(':')?;
    Some((u.to_string(), p.to_string()))
}

/// A 3xx is never followed (a redirected POST could land anywhere): it becomes
/// [`Error::Redirected`], naming where the server points, because that is almost always the
/// address the owner meant (`https://` for `http://`, or a path left out).
fn not_redirected(resp: Response) -> Result<Response> {
    if !resp.status().is_redirection() || resp.status() == StatusCode::NOT_MODIFIED {
        return Ok(resp);
    }
    let url = resp.url();
    let from = url.origin().ascii_serialization();
    let location = resp
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|l| url.join(l.trim()).ok())
        .map(|mut l| {
            // Only where it points: a query could carry a token.
            l.set_query(None);
            l.set_fragment(None);
            let _ = l.set_password(None);
            let _ = l.set_username("");
            l.to_string()
        });
    Err(Error::Redirected {
        status: resp.status().as_u16(),
        from,
        location,
    })
}

/// True when the TLS handshake failed because the server's certificate is not trusted.
fn is_untrusted(e: &reqwest::Error) -> bool {
    untrusted_reason(e).is_some()
}

/// The TLS layer's reason when the peer's certificate was refused (unknown authority, expired,
/// wrong name…). The rustls error sits inside an `io::Error` somewhere down the source chain.
fn untrusted_reason(e: &reqwest::Error) -> Option<String> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        let tls = err.downcast_ref::<rustls::Error>().or_else(|| {
            err.downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        });
        if let Some(t @ rustls::Error::InvalidCertificate(_)) = tls {
            return Some(t.to_string());
        }
        // The connector may wrap the rustls error in a type of its own that hides it from
        // `downcast_ref`; rustls's words for this case are stable ("invalid peer certificate").
        let text = err.to_string();
        if text.starts_with("invalid peer certificate") {
            return Some(text);
        }
        cur = err.source();
    }
    None
}

/// 250 ms, 500 ms, 1 s, … capped at 8 s.
fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(250u64 << attempt.saturating_sub(1).min(5))
}

/// Maps a transport error. For a write, anything but a failed connect means the request may
/// have been received: [`Error::Uncertain`].
pub fn send_error(e: &reqwest::Error, write: bool) -> Error {
    let detail = Some(redact_error(e));
    // Refused during the handshake: nothing was sent, and retrying will not help.
    if let Some(reason) = untrusted_reason(e) {
        return Error::UntrustedCertificate {
            host: e
                .url()
                .and_then(|u| u.host_str())
                .unwrap_or_default()
                .to_string(),
            detail: Some(reason),
        };
    }
    if e.is_connect() || e.is_builder() {
        Error::Network { detail }
    } else if write {
        Error::Uncertain { detail }
    } else if e.is_decode() || e.is_body() {
        Error::BadResponse { detail }
    } else {
        Error::Network { detail }
    }
}

/// The error text without the URL's query string (which may hold tokens in some back ends),
/// and redacted (see [`crate::redact`]).
pub fn redact_error(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    if let Some(url) = e.url() {
        let full = url.as_str();
        let mut bare = url.clone();
        bare.set_query(None);
        text = text.replace(full, bare.as_str());
    }
    // reqwest's text names the source chain only in Debug; keep the chain's words too.
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let t = s.to_string();
        if !text.contains(&t) {
            text.push_str(": ");
            text.push_str(&t);
        }
        source = s.source();
    }
    crate::redact::clean(&text, &[])
}

/// Longest wait a server's `Retry-After` can impose. A broken or hostile answer (ten trillion
/// seconds, a date in year 9999) must not park a workspace's queue for ever, nor overflow the
/// date arithmetic that schedules the next try.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// A `Retry-After` header as Invite Desk acts on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryAfter {
    /// How long to wait, never more than [`MAX_RETRY_AFTER`]; `None` when the value could not be
    /// read (the caller's own backoff applies).
    pub wait: Option<Duration>,
    /// True when the server asked for more than [`MAX_RETRY_AFTER`] and the wait was cut.
    pub capped: bool,
    /// A sentence for the error's detail when the value was capped or unreadable, so the row
    /// says why it waits as it does.
    pub note: Option<String>,
}

/// Reads a `Retry-After` value: delay-seconds or an HTTP date (RFC 9110 §10.2.3), relative to
/// `now`. Never panics: over-long numbers and far dates are capped at [`MAX_RETRY_AFTER`],
/// dates in the past mean "now", and anything else (negative numbers, garbage) is unreadable.
pub fn parse_retry_after(raw: &str, now: chrono::DateTime<chrono::Utc>) -> RetryAfter {
    let v = raw.trim();
    let secs: Option<u64> = if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        // All digits but too long for u64 is still "very long": cap it, don't drop it.
        Some(v.parse::<u64>().unwrap_or(u64::MAX))
    } else if let Ok(at) = chrono::DateTime::parse_from_rfc2822(v) {
        // `signed_duration_since` cannot overflow for two valid dates; negative means past.
        let ahead = at.with_timezone(&chrono::Utc).signed_duration_since(now);
        Some(u64::try_from(ahead.num_seconds()).unwrap_or(0))
    } else {
        None
    };
    let shown: String = v.chars().take(40).collect();
    match secs {
        Some(s) if s > MAX_RETRY_AFTER.as_secs() => RetryAfter {
            wait: Some(MAX_RETRY_AFTER),
            capped: true,
            note: Some(format!(
                "The server asked to wait \"{shown}\"; Invite Desk waits at most {} and then tries again.",
                crate::error::human_duration(MAX_RETRY_AFTER)
            )),
        },
        Some(s) => RetryAfter {
            wait: Some(Duration::from_secs(s)),
            capped: false,
            note: None,
        },
        None => RetryAfter {
            wait: None,
            capped: false,
            note: Some(format!(
                "The server's Retry-After \"{shown}\" could not be read; Invite Desk waits as usual."
            )),
        },
    }
}

/// Reads `Retry-After` from `headers`, if present (see [`parse_retry_after`]).
pub fn read_retry_after(headers: &HeaderMap) -> Option<RetryAfter> {
    let v = headers.get(RETRY_AFTER)?;
    let text = String::from_utf8_lossy(v.as_bytes());
    Some(parse_retry_after(&text, chrono::Utc::now()))
}

/// The wait `Retry-After` asks for (seconds, or an HTTP date), capped at [`MAX_RETRY_AFTER`].
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    read_retry_after(headers).and_then(|r| r.wait)
}

/// A rate-limit error from a 429's headers. When the server's `Retry-After` was capped or
/// unreadable, the detail says so (the outbox stores the detail in the row).
pub fn rate_limited(headers: &HeaderMap, email_limit: bool, detail: Option<String>) -> Error {
    let ra = read_retry_after(headers);
    let note = ra.as_ref().and_then(|r| r.note.clone());
    let detail = match (detail, note) {
        (Some(d), Some(n)) => Some(format!("{d} ({n})")),
        (d, n) => d.or(n),
    };
    Error::RateLimited {
        retry_after: ra.and_then(|r| r.wait),
        email_limit,
        detail,
    }
}

/// The most of a response body Invite Desk reads. The largest real answer is a page of users
/// (a few hundred KiB); anything past this is a broken or hostile server.
pub const MAX_BODY: usize = 4 * 1024 * 1024;

/// Reads a response body as text, capped so a hostile server can't exhaust memory.
pub async fn body_text(resp: Response) -> Result<String> {
    let bytes = body_capped(resp, MAX_BODY).await?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Reads a response body chunk by chunk and stops at `cap` bytes: a longer body (or an endless
/// one) is never buffered whole, it ends with [`Error::ResponseTooLarge`] as soon as the cap is
/// passed. A body that breaks off mid-way is [`Error::Uncertain`].
pub async fn body_capped(mut resp: Response, cap: usize) -> Result<Vec<u8>> {
    let too_large = |resp: &Response| Error::ResponseTooLarge {
        host: resp.url().host_str().unwrap_or_default().to_string(),
        limit_bytes: u64::try_from(cap).unwrap_or(u64::MAX),
    };
    // A declared length over the cap: don't read a byte of it.
    let declared = resp.content_length().unwrap_or(0);
    if declared > u64::try_from(cap).unwrap_or(u64::MAX) {
        return Err(too_large(&resp));
    }
    let mut buf = Vec::with_capacity(usize::try_from(declared).unwrap_or(0).min(cap));
    loop {
        let chunk = resp.chunk().await.map_err(|e| Error::Uncertain {
            detail: Some(redact_error(&e)),
        })?;
        let Some(chunk) = chunk else {
            return Ok(buf);
        };
        if chunk.len() > cap.saturating_sub(buf.len()) {
            return Err(too_large(&resp));
        }
        buf.extend_from_slice(&chunk);
    }
}

/// Parses a JSON body or says plainly that the server's answer could not be read.
pub fn parse_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| Error::BadResponse {
        // An answer that is not the expected JSON may be anything, tokens included.
        detail: Some(crate::redact::clip(
            &crate::redact::redact(&format!("{e}: {text}"), &[]),
            200,
        )),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn retry_after_reads_seconds() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        h.insert(RETRY_AFTER, HeaderValue::from_static("nonsense"));
        assert_eq!(retry_after(&h), None);
    }

    fn at(text: &str) -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&chrono::Utc)
    }

    #[test]
    fn hostile_retry_after_values_are_capped_or_ignored() {
        let now = at("2026-12-01T12:00:00Z");
        let huge = parse_retry_after("10000000000000", now);
        assert_eq!(huge.wait, Some(MAX_RETRY_AFTER));
        assert!(huge.capped);
        assert!(huge.note.as_deref().unwrap().contains("at most 1 hour"));
        let longer_than_u64 = parse_retry_after("99999999999999999999999999", now);
        assert_eq!(longer_than_u64.wait, Some(MAX_RETRY_AFTER));
        let far = parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now);
        assert_eq!((far.wait, far.capped), (Some(MAX_RETRY_AFTER), true));
        let negative = parse_retry_after("-5", now);
        assert_eq!((negative.wait, negative.capped), (None, false));
        assert!(negative
            .note
            .as_deref()
            .unwrap()
            .contains("could not be read"));
        assert_eq!(parse_retry_after("soon, maybe", now).wait, None);
        assert_eq!(parse_retry_after("", now).wait, None);
        // A date in the past: go now. One ten minutes ahead: ten minutes.
        let past = parse_retry_after("Tue, 01 Dec 2026 11:00:00 GMT", now);
        assert_eq!((past.wait, past.note), (Some(Duration::ZERO), None));
        let soon = parse_retry_after("Tue, 01 Dec 2026 12:10:00 GMT", now);
        assert_eq!(soon.wait, Some(Duration::from_secs(600)));
        assert_eq!(parse_retry_after(" 3600 ", now).wait, Some(MAX_RETRY_AFTER));
        assert!(!parse_retry_after("3600", now).capped);
    }

    #[test]
    fn rate_limited_says_when_the_wait_was_capped() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("10000000000000"));
        let e = rate_limited(&h, false, Some("Too many requests".into()));
        assert_eq!(e.retry_after(), Some(MAX_RETRY_AFTER));
        let d = e.detail().unwrap();
        assert!(d.starts_with("Too many requests ("), "{d}");
        assert!(
            d.contains("10000000000000") && d.contains("at most 1 hour"),
            "{d}"
        );
        assert!(e.to_string().contains("in 1 hour"), "{e}");
        let e = rate_limited(&HeaderMap::new(), true, None);
        assert_eq!((e.retry_after(), e.detail()), (None, None));
    }

    proptest::proptest! {
        #[test]
        fn any_header_text_gives_a_bounded_wait(raw in "\\PC{0,60}", offset in proptest::num::i64::ANY) {
            // Any "now" chrono can hold, any text: no panic, never more than the cap.
            let now = chrono::DateTime::from_timestamp(offset % 8_000_000_000_000, 0)
                .unwrap_or_else(chrono::Utc::now);
            let r = parse_retry_after(&raw, now);
            proptest::prop_assert!(r.wait.is_none_or(|w| w <= MAX_RETRY_AFTER));
            proptest::prop_assert_eq!(r.capped, r.wait == Some(MAX_RETRY_AFTER) && r.note.is_some());
        }

        #[test]
        fn any_number_of_seconds_is_kept_up_to_the_cap(n in proptest::num::u64::ANY) {
            let r = parse_retry_after(&n.to_string(), chrono::Utc::now());
            proptest::prop_assert_eq!(r.wait, Some(Duration::from_secs(n.min(3600))));
            proptest::prop_assert_eq!(r.capped, n > 3600);
        }

        #[test]
        fn any_http_date_is_capped(ts in -2_208_988_800i64..253_402_300_799i64, now_ts in 0i64..4_102_444_800i64) {
            let date = chrono::DateTime::from_timestamp(ts, 0).unwrap();
            let now = chrono::DateTime::from_timestamp(now_ts, 0).unwrap();
            let text = date.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
            let r = parse_retry_after(&text, now);
            let expect = u64::try_from(ts - now_ts).unwrap_or(0).min(3600);
            proptest::prop_assert_eq!(r.wait, Some(Duration::from_secs(expect)), "{}", text);
        }
    }

    #[test]
    fn backoff_grows_and_caps() {
        assert_eq!(backoff(1), Duration::from_millis(250));
        assert_eq!(backoff(2), Duration::from_millis(500));
        assert_eq!(backoff(20), Duration::from_millis(8000));
    }
}
