//! Random bodies, headers, methods and paths at every route of every flavor: the server never
//! panics or drops the connection, and every answer with a body is JSON.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::*;
use invite_sandbox::{Flavor, Sandbox};
use proptest::prelude::*;

const ROUTES: &[&str] = &[
    "/invite",
    "/admin/users",
    "/admin/users/00000000-0000-0000-0000-000000000001",
    "/admin/users/x",
    "/admin/generate_link",
    "/token?grant_type=password",
    "/token",
    "/settings",
    "/health",
    "/verify",
    "/verify?token=a&type=invite&redirect_to=%zz",
    "/user",
    "/logout",
    "/auth/v1/invite",
    "/auth/v1/admin/users?page=-1&per_page=99999999999999999999",
    "/auth/v1/verify",
    "/.netlify/identity/invite",
    "/.netlify/identity/admin/users?page=0",
    "/.netlify/identity/token",
    "/.netlify/identity/verify",
    "/.netlify/functions/invite-desk/check",
    "/.netlify/functions/invite-desk/invite",
    "/.netlify/functions/invite-desk/users?page=x",
    "/.netlify/functions/invite-desk/users/%00",
    "/.netlify/functions/other",
    "/auth/login",
    "/auth/authtoken?currentWorkspace=",
    "/auth/invite?userId=",
    "/user/invites?size=0&page=0",
    "/user/invites/abc/resend",
    "/user/invites/abc/cancel",
    "/",
    "/%2e%2e/x",
    "/__sandbox/accept",
    "/__sandbox/faults",
];
const METHODS: &[&str] = &["GET", "POST", "PUT", "DELETE", "PATCH"];

fn body_strategy() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..200),
        "\\PC{0,120}".prop_map(String::into_bytes),
        Just(br#"{"email":"a@b.co","data":{"x":[1,2,{}]},"type":"invite","token_hash":"x","password":"p"}"#.to_vec()),
        Just(br#"{"email":null,"data":"str","should_soft_delete":"yes"}"#.to_vec()),
        Just(br#"[1,2,3]"#.to_vec()),
        Just(br#"{"email":"\u0000@\u00ff.x","redirectUrl":5,"sendEmail":"no"}"#.to_vec()),
        Just(b"grant_type=password&username=a&password=b".to_vec()),
        Just(br#"{"link":"http://127.0.0.1:1/verify?token=x","password":""}"#.to_vec()),
        Just(br#"{"action":{"type":"delay","ms":0},"count":0}"#.to_vec()),
    ]
}

fn auth_strategy(s: &Sandbox) -> impl Strategy<Value = Option<String>> {
    let c = s.credentials().clone();
    prop_oneof![
        Just(None),
        Just(Some(format!("Bearer {}", c.service_role_key))),
        Just(Some(format!("Bearer {}", c.anon_key))),
        Just(Some(format!("Bearer {}", c.operator_token))),
        Just(Some(format!("Bearer {}", c.api_key))),
        Just(Some("Bearer".to_string())),
        "[ -~]{0,60}".prop_map(Some),
    ]
}

fn run(flavor: Flavor) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let s = rt.block_on(start(flavor));
    let c = client();
    let creds = s.credentials().clone();
    let cfg = ProptestConfig {
        cases: 300,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(cfg, |(route in proptest::sample::select(ROUTES), method in proptest::sample::select(METHODS),
                     body in body_strategy(), auth in auth_strategy(&s),
                     apikey in proptest::option::of(prop_oneof![Just(creds.anon_key.clone()), Just(creds.secret_key.clone()), "[ -~]{0,20}".prop_map(|x| x)]),
                     version in proptest::option::of(prop_oneof![Just("2024-01-01".to_string()), "[ -~]{0,12}".prop_map(|x| x)]),
                     ctype in proptest::option::of(prop_oneof![Just("application/json".to_string()), Just("application/x-www-form-urlencoded".to_string())]))| {
        let (status, ctype_out, text) = rt.block_on(async {
            let mut r = c.request(method.parse().unwrap(), format!("{}{}", s.url(), route)).body(body.clone());
            if let Some(a) = &auth { if let Ok(v) = reqwest::header::HeaderValue::from_str(a) { r = r.header("authorization", v); } }
            if let Some(k) = &apikey { if let Ok(v) = reqwest::header::HeaderValue::from_str(k) { r = r.header("apikey", v); } }
            if let Some(v) = &version { if let Ok(v) = reqwest::header::HeaderValue::from_str(v) { r = r.header("x-supabase-api-version", v); } }
            if let Some(t) = &ctype { r = r.header("content-type", t.as_str()); }
            let resp = r.send().await.expect("the server dropped the connection (panic?)");
            let st = resp.status().as_u16();
            let ct = h(resp.headers(), "content-type").to_string();
            (st, ct, resp.text().await.expect("body"))
        });
        prop_assert!(status < 500 || status == 500 && text.contains("error"), "{} {} -> {} {}", method, route, status, text);
        if !text.is_empty() {
            prop_assert!(serde_json::from_str::<serde_json::Value>(&text).is_ok(), "{} {} -> {} not JSON: {}", method, route, status, text);
            prop_assert!(ctype_out.starts_with("application/json"), "{}", ctype_out);
        } else {
            prop_assert!(matches!(status, 204 | 303), "{} {} -> {} with empty body", method, route, status);
        }
    });
    // Still alive and answering after the storm.
    let ok = rt.block_on(async {
        c.get(format!("{}/__sandbox/health", s.url()))
            .send()
            .await
            .map(|r| r.status().as_u16())
    });
    assert_eq!(ok.unwrap(), 200);
}

#[test]
fn fuzz_supabase() {
    run(Flavor::Supabase);
}

#[test]
fn fuzz_netlify() {
    run(Flavor::Netlify);
}

#[test]
fn fuzz_royalti() {
    run(Flavor::Royalti);
}
