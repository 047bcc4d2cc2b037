//! Helpers shared by the sandbox's integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use invite_sandbox::{Config, Flavor, Sandbox};
use serde_json::Value;

pub async fn start(flavor: Flavor) -> Sandbox {
    start_with(flavor, |_| {}).await
}

pub async fn start_with(flavor: Flavor, f: impl FnOnce(&mut Config)) -> Sandbox {
    let mut c = Config::new(flavor);
    c.seed = 7;
    f(&mut c);
    Sandbox::start(c).await.unwrap()
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .unwrap()
}

/// Status, headers, parsed JSON body (the body MUST be JSON unless empty).
pub async fn parts(r: reqwest::Response) -> (u16, reqwest::header::HeaderMap, Value) {
    let s = r.status().as_u16();
    let h = r.headers().clone();
    let t = r.text().await.unwrap();
    let v = if t.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&t).unwrap_or_else(|e| panic!("not JSON ({e}): {t}"))
    };
    (s, h, v)
}

pub fn h<'a>(h: &'a reqwest::header::HeaderMap, k: &str) -> &'a str {
    h.get(k).map(|v| v.to_str().unwrap()).unwrap_or("")
}

/// Sends a request and returns its [`parts`]: the one way the suites call the sandbox.
pub async fn send(request: reqwest::RequestBuilder) -> (u16, reqwest::header::HeaderMap, Value) {
    parts(request.send().await.unwrap()).await
}

/// A JWT signed with the sandbox's JWT secret (HS256), as GoTrue and Identity mint them.
pub fn sign_jwt(s: &Sandbox, claims: Value) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(s.credentials().jwt_secret.as_bytes()),
    )
    .unwrap()
}
