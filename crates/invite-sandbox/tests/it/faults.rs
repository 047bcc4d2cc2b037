//! Fault injection, latency, calls and shutdown over real HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use crate::common::*;
use invite_sandbox::{Fault, FaultAction, Flavor, Sandbox, SpreadFault};
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

/// Users with an invitation (the seeded owner login has none).
async fn invited(s: &Sandbox) -> usize {
    let r = client()
        .get(format!("{}/admin/users?per_page=1000", s.url()))
        .bearer_auth(&s.credentials().service_role_key)
        .send()
        .await
        .unwrap();
    let (st, _, b) = parts(r).await;
    assert_eq!(st, 200);
    b["users"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["invited_at"].is_string())
        .count()
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
    assert_eq!(invited(&s).await, 0);
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
    assert_eq!(invited(&s).await, 0, "Drop does nothing");
    assert!(s.mail().is_empty());
    s.inject(fault(Some("POST /invite"), 1, FaultAction::DropAfter));
    let r = invite_req(&s, "d@example.com").send().await;
    assert!(r.is_err(), "client must see a broken connection, got {r:?}");
    assert_eq!(invited(&s).await, 1, "DropAfter carried out the request");
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
    // A delay far above what a busy machine adds, so "used up" is not mistaken for "still on"
    // (3 s: under Wine on a loaded machine one plain request once took over 1.5 s).
    s.inject(fault(None, 1, FaultAction::Delay { ms: 3_000 }));
    let t0 = Instant::now();
    assert_eq!(
        invite_req(&s, "f@example.com")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert!(t0.elapsed() >= Duration::from_millis(3_000));
    let t0 = Instant::now();
    assert_eq!(
        invite_req(&s, "g@example.com")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert!(t0.elapsed() < Duration::from_millis(3_000), "delay used up");
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
        // Long enough that a busy machine (every sandbox test runs in this one program) cannot
        // make a control call look as slow as a delayed one.
        c.latency = Duration::from_millis(1_500);
        c.faults = vec![Fault {
            route: Some("GET /health".into()),
            count: 1,
            action: FaultAction::Status {
                status: 500,
                retry_after: None,
            },
        }
        .into()];
    })
    .await;
    let t0 = Instant::now();
    let r = client()
        .get(format!("{}/health", s.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    assert!(t0.elapsed() >= Duration::from_millis(1_500));
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
        t0.elapsed() < Duration::from_millis(1_500),
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
    // `carried_out` rides on the status action; without it (or false) nothing changes.
    let status = |v: serde_json::Value| serde_json::from_value::<FaultAction>(v).unwrap();
    assert_eq!(
        status(json!({"type":"status","status":502,"carried_out":true})),
        FaultAction::StatusAfter {
            status: 502,
            retry_after: None
        }
    );
    assert_eq!(
        status(json!({"type":"status","status":502,"carried_out":false,"retry_after":3})),
        FaultAction::Status {
            status: 502,
            retry_after: Some(3)
        }
    );
    assert_eq!(
        serde_json::to_value(FaultAction::StatusAfter {
            status: 502,
            retry_after: Some(1)
        })
        .unwrap(),
        json!({"type":"status","status":502,"retry_after":1,"carried_out":true})
    );
    assert_eq!(
        serde_json::to_value(FaultAction::Status {
            status: 503,
            retry_after: None
        })
        .unwrap(),
        json!({"type":"status","status":503,"retry_after":null}),
        "old shape, no carried_out key"
    );
    // `every` sits beside the fault's own keys and is left out when absent.
    let spread = SpreadFault::from_json(
        r#"{"route":"POST /invite","count":3,"every":10,"action":{"type":"drop"}}"#,
    )
    .unwrap();
    assert_eq!(
        spread,
        Fault::new(Some("POST /invite"), 3, FaultAction::Drop).every(10)
    );
    assert_eq!(
        serde_json::to_value(&spread).unwrap(),
        json!({"route":"POST /invite","count":3,"every":10,"action":{"type":"drop"}})
    );
    let plain = SpreadFault::from_json(r#"{"action":{"type":"drop"}}"#).unwrap();
    assert_eq!(plain.every, None);
    assert!(serde_json::to_value(&plain).unwrap().get("every").is_none());
    let e = SpreadFault::from_json(r#"{"every":0,"action":{"type":"drop"}}"#).unwrap_err();
    assert!(e.to_string().contains("\"every\" must be 1 or more"), "{e}");
    assert!(SpreadFault::from_json(r#"{"every":-1,"action":{"type":"drop"}}"#).is_err());
    assert_eq!("Netlify".parse::<Flavor>().unwrap(), Flavor::Netlify);
    assert!("x".parse::<Flavor>().is_err());
}

#[tokio::test]
async fn every_spreads_a_fault_over_a_run() {
    let s = start(Flavor::Supabase).await;
    s.inject(
        Fault::new(
            Some("POST /invite"),
            2,
            FaultAction::Status {
                status: 503,
                retry_after: None,
            },
        )
        .every(3),
    );
    let mut got = Vec::new();
    for i in 0..10 {
        let r = invite_req(&s, &format!("e{i}@example.com"))
            .send()
            .await
            .unwrap();
        got.push(r.status().as_u16());
        // Other routes neither trigger the fault nor count toward its rhythm.
        assert_eq!(invited(&s).await, got.iter().filter(|c| **c == 200).count());
    }
    assert_eq!(got, [200, 200, 503, 200, 200, 503, 200, 200, 200, 200]);
    assert_eq!(
        s.mail().len(),
        8,
        "a plain status fault does not carry the request out"
    );
}

#[tokio::test]
async fn carried_out_status_does_the_work_then_answers_the_status() {
    let s = start(Flavor::Supabase).await;
    let r = client()
        .post(format!("{}/__sandbox/faults", s.url()))
        .json(&json!({"route":"POST /invite","count":2,"every":2,
            "action":{"type":"status","status":502,"retry_after":4,"carried_out":true}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let mut got = Vec::new();
    for i in 0..5 {
        let (st, hd, b) = parts(
            invite_req(&s, &format!("c{i}@example.com"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        if st == 502 {
            assert_eq!(h(&hd, "retry-after"), "4");
            assert_eq!(b["error_code"], "unexpected_failure");
        }
        got.push(st);
    }
    assert_eq!(got, [200, 502, 200, 502, 200]);
    // Every invite was carried out: five users, five emails, five calls.
    assert_eq!(invited(&s).await, 5);
    assert_eq!(s.mail().len(), 5);
    assert_eq!(s.calls("POST /invite"), 5);
    // The same on Netlify, where a second invite of the address shows the first one happened.
    let n = start(Flavor::Netlify).await;
    n.inject(Fault::new(
        Some("POST /invite"),
        1,
        FaultAction::StatusAfter {
            status: 504,
            retry_after: None,
        },
    ));
    let send = || {
        client()
            .post(format!("{}/.netlify/identity/invite", n.url()))
            .bearer_auth(&n.credentials().operator_token)
            .json(&json!({"email":"lost@example.com"}))
            .send()
    };
    let (st, _, b) = parts(send().await.unwrap()).await;
    assert_eq!((st, b["code"].as_u64()), (504, Some(504)));
    let (st, _, b) = parts(send().await.unwrap()).await;
    assert_eq!(
        (st, b["msg"].as_str().unwrap()),
        (422, "Email address already registered by another user")
    );
    // `every: 0` names no request: refused, nothing armed.
    let r = client()
        .post(format!("{}/__sandbox/faults", s.url()))
        .json(&json!([{"every":0,"action":{"type":"drop"}}]))
        .send()
        .await
        .unwrap();
    let (st, _, b) = parts(r).await;
    assert_eq!((st, b["ok"].as_bool()), (400, Some(false)));
    assert!(b["error"].as_str().unwrap().contains("every"), "{b}");
    assert_eq!(
        invite_req(&s, "after@example.com")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn each_fault_counts_requests_even_when_another_takes_them() {
    let s = start(Flavor::Supabase).await;
    let status = |status| FaultAction::Status {
        status,
        retry_after: None,
    };
    // Armed first: every 2nd invite, once. Armed second: the next invite, once.
    s.inject(Fault::new(Some("POST /invite"), 1, status(501)).every(2));
    s.inject(Fault::new(Some("POST /invite"), 1, status(502)));
    let mut got = Vec::new();
    for i in 0..3 {
        got.push(
            invite_req(&s, &format!("x{i}@example.com"))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16(),
        );
    }
    // 1st: only the plain fault wants it; 2nd: the spread fault's turn, though it saw the 1st
    // while the other fault acted on it.
    assert_eq!(got, [502, 501, 200]);
}

#[tokio::test]
async fn smtp_failure_and_cors() {
    let s = start_with(Flavor::Supabase, |c| c.smtp_failure = true).await;
    let (st, hd, b) = parts(invite_req(&s, "x@example.com").send().await.unwrap()).await;
    assert_eq!((st, h(&hd, "x-sb-error-code")), (500, "unexpected_failure"));
    assert_eq!(b["msg"], "Error sending invite email");
    assert!(b["error_id"].is_string());
    assert_eq!(invited(&s).await, 0);
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
    // No CORS: see tests/control.rs.
}

#[tokio::test]
async fn raw_retry_after_sends_each_hostile_value_as_is() {
    let s = start(Flavor::Supabase).await;
    let values = [
        "10000000000000",
        "-5",
        "Fri, 31 Dec 9999 23:59:59 GMT",
        "soon-ish garbage",
    ];
    // Armed through the control route, as JSON: the form `--fault` and scripts use.
    for v in values {
        let r = client()
            .post(format!("{}/__sandbox/faults", s.url()))
            .json(&json!({"route":"POST /invite","action":{"type":"raw_retry_after","status":429,"value":v}}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.status());
    }
    for v in values {
        let (st, hd, b) = parts(invite_req(&s, "a@example.com").send().await.unwrap()).await;
        assert_eq!((st, h(&hd, "retry-after")), (429, v));
        assert_eq!(b["error_code"], "over_request_rate_limit");
    }
    assert_eq!(invited(&s).await, 0, "a refused invite is not carried out");
    let (st, _, _) = parts(invite_req(&s, "a@example.com").send().await.unwrap()).await;
    assert_eq!(st, 200, "the faults are used up");
}

#[tokio::test]
async fn endless_body_keeps_streaming_until_the_client_hangs_up() {
    let s = start(Flavor::Supabase).await;
    s.inject(fault(Some("GET /admin/users"), 1, FaultAction::EndlessBody));
    let mut r = client()
        .get(format!("{}/admin/users", s.url()))
        .bearer_auth(&s.credentials().service_role_key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.content_length(), None, "no length: it never ends");
    let mut read = 0usize;
    while read < 8 * 1024 * 1024 {
        read += r.chunk().await.unwrap().expect("the body ended").len();
    }
    drop(r);
    // The fault is used up and the server still answers normally.
    let r = client()
        .get(format!("{}/admin/users", s.url()))
        .bearer_auth(&s.credentials().service_role_key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.content_length().is_some());
    let round_trip: FaultAction = serde_json::from_value(json!({"type":"endless_body"})).unwrap();
    assert_eq!(round_trip, FaultAction::EndlessBody);
}
