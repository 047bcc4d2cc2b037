//! `/settings`, `/health`, unknown routes and the control API.

use super::*;

#[tokio::test]
async fn settings_health_unknown_and_control() {
    let s = start(Flavor::Supabase).await;
    let k = admin(&s);
    let (st, _, b) = send(
        client()
            .get(format!("{}/auth/v1/settings", s.url()))
            .header("apikey", &k),
    )
    .await;
    assert_eq!((st, b["external"]["email"].as_bool()), (200, Some(true)));
    assert!(b.get("mailer_autoconfirm").is_some());
    let (st, _, b) = send(client().get(format!("{}/health", s.url()))).await;
    assert_eq!((st, b["name"].as_str().unwrap()), (200, "GoTrue"));
    assert_eq!(
        b["description"],
        "GoTrue is a user registration and authentication API"
    );
    let (st, _, _) = send(client().get(format!("{}/nope", s.url()))).await;
    assert_eq!(st, 404);
    let (st, _, _) = send(client().patch(format!("{}/invite", s.url()))).await;
    assert_eq!(st, 405);
    let (st, _, b) = send(client().get(format!("{}/__sandbox/health", s.url()))).await;
    assert_eq!((st, b["flavor"].as_str().unwrap()), (200, "supabase"));
    invite(&s, "m@example.com").await;
    let (_, _, calls) = send(client().get(format!("{}/__sandbox/calls", s.url()))).await;
    assert_eq!(calls["POST /invite"], 1);
    assert_eq!(calls["GET /health"], 1);
    let (_, _, mail) = send(client().get(format!("{}/__sandbox/mail", s.url()))).await;
    assert_eq!(mail[0]["to"], "m@example.com");
    assert_eq!(mail[0]["kind"], "invite");
    let r = client()
        .post(format!("{}/__sandbox/reset", s.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(s.mail().is_empty());
    assert_eq!(s.calls("POST /invite"), 0);
    // Deterministic credentials per seed
    let a = start(Flavor::Supabase).await;
    assert_eq!(a.credentials().jwt_secret, s.credentials().jwt_secret);
    assert!(a.credentials().secret_key.starts_with("sb_secret_"));
    assert!(a
        .credentials()
        .publishable_key
        .starts_with("sb_publishable_"));
}
