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

/// Shared HTTP client (rustls, timeouts, user agent). Cheap to clone.
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
        let client = reqwest::Client::builder()
            .use_rustls_tls()
            .connect_timeout(Duration::from_secs(10))
            .timeout(timeout)
            .user_agent(concat!("InviteDesk/", env!("CARGO_PKG_VERSION")))
            // Invite links and redirects are data to show, never to follow.
            .redirect(reqwest::redirect::Policy::none())
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
                return rb.send().await.map_err(|e| send_error(&e, false));
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
                        _ => return Ok(resp),
                    }
                }
                Err(e) if !last => {
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
                return rb.send().await.map_err(|e| send_error(&e, true));
            };
            match this.send().await {
                Ok(resp) => return Ok(resp),
                Err(e) if e.is_connect() && attempt < READ_ATTEMPTS => {
                    tokio::time::sleep(backoff(attempt)).await;
                }
                Err(e) => return Err(send_error(&e, true)),
            }
        }
    }
}

/// 250 ms, 500 ms, 1 s, … capped at 8 s.
fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(250u64 << attempt.saturating_sub(1).min(5))
}

/// Maps a transport error. For a write, anything but a failed connect means the request may
/// have been received: [`Error::Uncertain`].
pub fn send_error(e: &reqwest::Error, write: bool) -> Error {
    let detail = Some(redact_error(e));
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

/// The error text without the URL's query string (which may hold tokens in some back ends).
pub fn redact_error(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    if let Some(url) = e.url() {
        let full = url.as_str();
        let mut bare = url.clone();
        bare.set_query(None);
        text = text.replace(full, bare.as_str());
    }
    text
}

/// Reads `Retry-After` (seconds, or an HTTP date).
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let secs = (at.timestamp() - chrono::Utc::now().timestamp()).max(0);
    Some(Duration::from_secs(u64::try_from(secs).unwrap_or(0)))
}

/// Reads a response body as text, capped so a hostile server can't exhaust memory.
pub async fn body_text(resp: Response) -> Result<String> {
    const CAP: usize = 4 * 1024 * 1024;
    let bytes = resp.bytes().await.map_err(|e| Error::Uncertain {
        detail: Some(redact_error(&e)),
    })?;
    let bytes = &bytes[..bytes.len().min(CAP)];
    Ok(String::from_utf8_lossy(bytes).into_owned())
}

/// Parses a JSON body or says plainly that the server's answer could not be read.
pub fn parse_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| Error::BadResponse {
        detail: Some(format!(
            "{e}: {}",
            text.chars().take(200).collect::<String>()
        )),
    })
}

#[cfg(test)]
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

    #[test]
    fn backoff_grows_and_caps() {
        assert_eq!(backoff(1), Duration::from_millis(250));
        assert_eq!(backoff(2), Duration::from_millis(500));
        assert_eq!(backoff(20), Duration::from_millis(8000));
    }
}
