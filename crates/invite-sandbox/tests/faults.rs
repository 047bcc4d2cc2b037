//! Fault injection, latency, calls and shutdown over real HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use std::time::{Duration, Instant};

use common::*;
use invite_sandbox::{Fault, FaultAction, Flavor, Sandbox};
use serde_json::json;

fn invite_req(s: &Sandbox, email: &str) -> reqwest::RequestBuilder {
    client()
        .post(format!("{}/invite", s.url()))
        .bearer_auth(&s.credentials().service_role_key)
        .json(&json!({"email": email}))
}

fn fault(route: Option<&str>, count: u32, action: FaultAction) -> Fault {
    Fault {
        route: route.map(str::to_string),
        count,
        action,
    }
}

async fn user_count(s: &Sandbox) -> String {
    let r = client()
        .get(format!("{}/admin/users", s.url()))
        .bearer_auth(&s.credentials().service_role_key)
        .send()
        .await
        .unwrap();
    h(r.headers(), "x-total-count").to_string()
}

#[tokio::test]
async fn status_faults_with_retry_after_and_count() {
    let s = start(Flavor::Supabase).await;
    s.inject(fault(
        Some("POST /invite"),
        2,
        FaultAction::Status {
            status: 503,
            retry_after: Some(7),
        },
    ));
    for _ in 0..2 {
        let (st, hd, b) = parts(invite_req(&s, "a@example.com").send().await.unwrap()).await;
        assert_eq!((st, h(&hd, "retry-after")), (503, "7"));
        assert_eq!(b["error_code"], "unexpected_failure");
    }
    // other routes are untouched, and the third invite goes through
    assert_eq!(user_count(&s).await, "0");
    assert_eq!(
        invite_req(&s, "a@example.com")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(s.calls("POST /invite"), 3);
    // via HTTP, a list, any route
    let r = client()
        .post(format!("{}/__sandbox/faults", s.url()))
        .json(&json!([{"count":1,"action":{"type":"status","status":429,"retry_after":3}}, {"route":"GET /admin/users","action":{"type":"status","status":500}}]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = client()
        .get(format!("{}/health", s.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        (r.status().as_u16(), h(r.headers(), "retry-after")),
        (429, "3")
    );
    let r = client()
        .get(format!("{}/admin/users", s.url()))
        .bearer_auth(&s.credentials().service_role_key)
        .send()
        .await
        .unwrap();
    let (st, _, b) = parts(r).await;
    assert_eq!(st, 500);
    assert!(b["error_id"].is_string());
    let r = client()
        .post(format!("{}/__sandbox/faults", s.url()))
        .body("{nope")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn drop_and_drop_after() {
    let s = start(Flavor::Supabase).await;
    s.inject(fault(Some("POST /invite"), 1, FaultAction::Drop));
    let r = invite_req(&s, "d@example.com").send().await;
    assert!(r.is_err(), "client must see a broken connection, got {r:?}");
    assert_eq!(user_count(&s).await, "0", "Drop does nothing");
    assert!(s.mail().is_empty());
    s.inject(fault(Some("POST /invite"), 1, FaultAction::DropAfter));
    let r = invite_req(&s, "d@example.com").send().await;
    assert!(r.is_err(), "client must see a broken connection, got {r:?}");
    assert_eq!(
        user_count(&s).await,
        "1",
        "DropAfter carried out the request"
    );
    assert_eq!(s.mail().len(), 1);
    assert_eq!(s.calls("POST /invite"), 2);
}

#[tokio::test]
async fn malformed_truncated_expired_delay() {
    let s = start(Flavor::Supabase).await;
    s.inject(fault(None, 1, FaultAction::Malformed));
    let r = invite_req(&s, "m@example.com").send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(serde_json::from_str::<serde_json::Value>(&r.text().await.unwrap()).is_err());
    s.inject(fault(None, 1, FaultAction::Truncated));
    let r = client()
        .get(format!("{}/admin/users", s.url()))
        .bearer_auth(&s.credentials().service_role_key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let t = r.text().await.unwrap();
    assert!(
        !t.is_empty() && serde_json::from_str::<serde_json::Value>(&t).is_err(),
        "{t}"
    );
    s.inject(fault(None, 1, FaultAction::ExpiredToken));
    let (st, hd, b) = parts(invite_req(&s, "e@example.com").send().await.unwrap()).await;
    assert_eq!((st, h(&hd, "x-sb-error-code")), (403, "bad_jwt"));
    assert!(b["msg"].as_str().unwrap().contains("token is expired"));
    s.inject(fault(None, 1, FaultAction::Delay { ms: 300 }));
    let t0 = Instant::now();
    assert_eq!(
        invite_req(&s, "f@example.com")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert!(t0.elapsed() >= Duration::from_millis(300));
    let t0 = Instant::now();
    assert_eq!(
        invite_req(&s, "g@example.com")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert!(t0.elapsed() < Duration::from_millis(300), "delay used up");
}

#[tokio::test]
async fn per_flavor_fault_bodies() {
    let n = start(Flavor::Netlify).await;
    n.inject(fault(None, 1, FaultAction::ExpiredToken));
    let r = client()
        .get(format!("{}/.netlify/identity/admin/users", n.url()))
        .send()
        .await
        .unwrap();
    let (st, _, b) = parts(r).await;
    assert_eq!(
        (st, b),
        (
            401,
            json!({"code":401,"msg":"Invalid token: token is expired"})
        )
    );
    n.inject(fault(
        Some("POST /.netlify/functions/invite-desk/invite"),
        1,
        FaultAction::Status {
            status: 502,
            retry_after: None,
        },
    ));
    let r = client()
        .post(format!("{}/.netlify/functions/invite-desk/invite", n.url()))
        .send()
        .await
        .unwrap();
    let (st, _, b) = parts(r).await;
    assert_eq!(st, 502);
    assert!(b["error"]["message"].is_string());
    let r = start(Flavor::Royalti).await;
    r.inject(fault(
        Some("POST /auth/invite"),
        1,
        FaultAction::ExpiredToken,
    ));
    let x = client()
        .post(format!("{}/auth/invite", r.url()))
        .send()
        .await
        .unwrap();
    let (st, _, b) = parts(x).await;
    assert_eq!((st, b["success"].as_bool()), (401, Some(false)));
    r.inject(fault(Some("POST /auth/login"), 1, FaultAction::Drop));
    assert!(client()
        .post(format!("{}/auth/login", r.url()))
        .send()
        .await
        .is_err());
}

#[tokio::test]
async fn latency_and_config_faults_and_shutdown() {
    let s = start_with(Flavor::Supabase, |c| {
        c.latency = Duration::from_millis(150);
        c.faults = vec![Fault {
            route: Some("GET /health".into()),
            count: 1,
            action: FaultAction::Status {
                status: 500,
                retry_after: None,
            },
        }];
    })
    .await;
    let t0 = Instant::now();
    let r = client()
        .get(format!("{}/health", s.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    assert!(t0.elapsed() >= Duration::from_millis(150));
    let t0 = Instant::now();
    assert_eq!(
        client()
            .get(format!("{}/__sandbox/health", s.url()))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert!(
        t0.elapsed() < Duration::from_millis(150),
        "control routes have no latency"
    );
    let url = s.url();
    s.shutdown().await;
    assert!(client().get(format!("{url}/health")).send().await.is_err());
}

#[test]
fn fault_json_shape() {
    let f: Fault = serde_json::from_value(
        json!({"route":"POST /invite","count":2,"action":{"type":"drop_after"}}),
    )
    .unwrap();
    assert_eq!(f.action, FaultAction::DropAfter);
    let f: Fault =
        serde_json::from_value(json!({"action":{"type":"status","status":503}})).unwrap();
    assert_eq!((f.count, f.route), (1, None));
    assert_eq!(
        serde_json::to_value(FaultAction::Delay { ms: 5 }).unwrap(),
        json!({"type":"delay","ms":5})
    );
    assert_eq!("Netlify".parse::<Flavor>().unwrap(), Flavor::Netlify);
    assert!("x".parse::<Flavor>().is_err());
}

#[tokio::test]
async fn smtp_failure_and_cors() {
    let s = start_with(Flavor::Supabase, |c| c.smtp_failure = true).await;
    let (st, hd, b) = parts(invite_req(&s, "x@example.com").send().await.unwrap()).await;
    assert_eq!((st, h(&hd, "x-sb-error-code")), (500, "unexpected_failure"));
    assert_eq!(b["msg"], "Error sending invite email");
    assert!(b["error_id"].is_string());
    assert_eq!(user_count(&s).await, "0");
    let n = start_with(Flavor::Netlify, |c| c.smtp_failure = true).await;
    let r = client()
        .post(format!("{}/.netlify/identity/invite", n.url()))
        .bearer_auth(&n.credentials().operator_token)
        .json(&json!({"email":"x@example.com"}))
        .send()
        .await
        .unwrap();
    let (st, _, b) = parts(r).await;
    assert_eq!(
        (st, b["msg"].as_str().unwrap()),
        (500, "Error inviting user")
    );
    // CORS: preflight and exposed paging headers
    let r = client()
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/auth/v1/admin/users", s.url()),
        )
        .header("origin", "http://localhost:1420")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(
        h(r.headers(), "access-control-allow-origin"),
        "http://localhost:1420"
    );
    let r = client()
        .get(format!("{}/admin/users", s.url()))
        .header("origin", "http://localhost:1420")
        .bearer_auth(&s.credentials().service_role_key)
        .send()
        .await
        .unwrap();
    assert!(h(r.headers(), "access-control-expose-headers").contains("X-Total-Count, Link"));
}
