//! `POST /invite`: hosted and root paths, bodies and emails, redirects and their allow
//! list, the email rate limit, and the mailer's restrictions.

use super::*;

#[tokio::test]
async fn invite_hosted_and_root_and_reinvite() {
    let s = start(Flavor::Supabase).await;
    let (st, _, u) = invite(&s, "Jane@Example.com").await;
    assert_eq!(st, 200);
    assert_eq!(u["email"], "jane@example.com");
    assert_eq!(u["aud"], "authenticated");
    assert_eq!(
        u["app_metadata"],
        json!({"provider":"email","providers":["email"]})
    );
    assert!(u["invited_at"].is_string() && u["confirmation_sent_at"].is_string());
    assert!(u.get("email_confirmed_at").is_none());
    assert_eq!(u["identities"][0]["provider"], "email");
    let m = s.mail();
    assert_eq!(m.len(), 1);
    assert!(
        m[0].link
            .starts_with(&format!("{}/auth/v1/verify?token=", s.url())),
        "{}",
        m[0].link
    );
    assert!(m[0].link.contains("&type=invite&redirect_to="));
    // Root (self-hosted): no apikey needed, link at root.
    let r = client()
        .post(format!(
            "{}/invite?redirect_to=http%3A%2F%2Flocalhost%3A3000%2Fwelcome",
            s.url()
        ))
        .bearer_auth(admin(&s))
        .json(&json!({"email":"jane@example.com","data":{"ignored":true}}))
        .send()
        .await
        .unwrap();
    let (st, _, u2) = parts(r).await;
    assert_eq!(st, 200);
    assert_eq!(u2["id"], u["id"], "re-invite reuses the unconfirmed user");
    let m = s.mail();
    assert_eq!(m.len(), 2);
    assert_ne!(m[0].link, m[1].link, "fresh link");
    assert!(m[1].link.starts_with(&format!("{}/verify?token=", s.url())));
    assert!(m[1]
        .link
        .ends_with("redirect_to=http%3A%2F%2Flocalhost%3A3000%2Fwelcome"));
    // Old link is dead, new one works.
    let old = client().get(&m[0].link).send().await.unwrap();
    assert_eq!(old.status(), 303);
    assert!(h(old.headers(), "location").contains("#error=access_denied&error_code=otp_expired"));
    let new = client().get(&m[1].link).send().await.unwrap();
    assert_eq!(new.status(), 303);
    let loc = h(new.headers(), "location").to_string();
    assert!(
        loc.starts_with("http://localhost:3000/welcome#access_token="),
        "{loc}"
    );
    assert!(
        loc.contains("&expires_in=3600&refresh_token=")
            && loc.ends_with("&sb=&token_type=bearer&type=invite")
    );
    // Now confirmed: 422 email_exists in both shapes.
    let (st, hd, e) = invite(&s, "jane@example.com").await;
    assert_eq!((st, h(&hd, "x-sb-error-code")), (422, "email_exists"));
    assert_eq!(
        e,
        json!({"code":422,"error_code":"email_exists","msg":"A user with this email address has already been registered"})
    );
    let r = client()
        .post(format!("{}/invite", s.url()))
        .bearer_auth(admin(&s))
        .header("X-Supabase-Api-Version", "2024-01-01")
        .json(&json!({"email":"jane@example.com"}))
        .send()
        .await
        .unwrap();
    let (st, hd, e) = parts(r).await;
    assert_eq!(st, 422);
    assert_eq!(h(&hd, "x-supabase-api-version"), "2024-01-01");
    assert_eq!(
        e,
        json!({"code":"email_exists","message":"A user with this email address has already been registered"})
    );
    assert_eq!(s.calls("POST /invite"), 4);
    s.shutdown().await;
}

#[tokio::test]
async fn redirect_outside_allow_list_falls_back_to_site_url() {
    let s = start(Flavor::Supabase).await;
    client()
        .post(format!(
            "{}/invite?redirect_to=https%3A%2F%2Fevil.example%2F",
            s.url()
        ))
        .bearer_auth(admin(&s))
        .json(&json!({"email":"x@example.com"}))
        .send()
        .await
        .unwrap();
    let link = &s.mail()[0].link;
    assert!(
        link.ends_with(&format!("redirect_to={}", url_enc(&s.url()))),
        "{link}"
    );
}

#[tokio::test]
async fn invite_body_and_email_rows() {
    let s = start(Flavor::Supabase).await;
    let send = |body: &'static str| {
        client()
            .post(format!("{}/invite", s.url()))
            .bearer_auth(admin(&s))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let (st, hd, e) = parts(send("{nope").await.unwrap()).await;
    assert_eq!((st, h(&hd, "x-sb-error-code")), (400, "bad_json"));
    assert!(e["msg"]
        .as_str()
        .unwrap()
        .starts_with("Could not parse request body as JSON: "));
    let (st, _, e) = parts(send(r#"{"email":""}"#).await.unwrap()).await;
    assert_eq!(
        (
            st,
            e["error_code"].as_str().unwrap(),
            e["msg"].as_str().unwrap()
        ),
        (400, "validation_failed", "An email address is required")
    );
    let (st, _, e) = parts(send(r#"{"email":"not-an-email"}"#).await.unwrap()).await;
    assert_eq!(st, 400);
    assert!(e["msg"]
        .as_str()
        .unwrap()
        .starts_with("Unable to validate email address: "));
    let long = format!(r#"{{"email":"{}@example.com"}}"#, "a".repeat(250));
    let r = client()
        .post(format!("{}/invite", s.url()))
        .bearer_auth(admin(&s))
        .body(long)
        .send()
        .await
        .unwrap();
    let (st, _, e) = parts(r).await;
    assert_eq!(
        (st, e["msg"].as_str().unwrap()),
        (400, "An email address is too long")
    );
    // Extra keys and null data are ignored (python client sends nulls).
    let (st, _, _) = parts(
        send(r#"{"email":"ok@example.com","data":null,"extra":1}"#)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, 200);
}

#[tokio::test]
async fn email_rate_limit() {
    let s = start_with(Flavor::Supabase, |c| c.email_limit = 2).await;
    assert_eq!(invite(&s, "a1@example.com").await.0, 200);
    assert_eq!(invite(&s, "a2@example.com").await.0, 200);
    let (st, hd, e) = invite(&s, "a3@example.com").await;
    assert_eq!(
        (st, h(&hd, "x-sb-error-code")),
        (429, "over_email_send_rate_limit")
    );
    assert_eq!(e["msg"], "email rate limit exceeded");
    assert!(
        hd.get("retry-after").is_none(),
        "real GoTrue documents no Retry-After"
    );
    // refused invite did not create the user
    let r = client()
        .get(format!("{}/admin/users?filter=a3", s.url()))
        .bearer_auth(admin(&s))
        .send()
        .await
        .unwrap();
    assert_eq!(h(r.headers(), "x-total-count"), "0");
    // generate_link is not rate limited and sends nothing
    let r = client()
        .post(format!("{}/admin/generate_link", s.url()))
        .bearer_auth(admin(&s))
        .json(&json!({"type":"invite","email":"a4@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(s.mail().len(), 2);

    let z = start_with(Flavor::Supabase, |c| {
        c.email_limit = 0;
        c.retry_after_header = true;
        c.email_window = std::time::Duration::from_secs(120);
    })
    .await;
    let (st, hd, _) = invite(&z, "a@example.com").await;
    assert_eq!(st, 429);
    let ra: u64 = h(&hd, "retry-after").parse().unwrap();
    assert!((1..=120).contains(&ra));

    let w = start_with(Flavor::Supabase, |c| {
        c.email_limit = 1;
        c.email_window = std::time::Duration::from_millis(3_000);
    })
    .await;
    assert_eq!(invite(&w, "a@example.com").await.0, 200);
    assert_eq!(invite(&w, "b@example.com").await.0, 429);
    tokio::time::sleep(std::time::Duration::from_millis(3_100)).await;
    assert_eq!(invite(&w, "b@example.com").await.0, 200, "window resets");
}

#[tokio::test]
async fn authorized_addresses_limit_the_mailer() {
    let s = start_with(Flavor::Supabase, |c| {
        c.email_authorized_addresses = vec!["Boss@Example.com".into()];
        c.email_limit = 1;
    })
    .await;
    let (st, hd, e) = invite(&s, "other@example.com").await;
    assert_eq!(
        (st, h(&hd, "x-sb-error-code")),
        (400, "email_address_not_authorized")
    );
    assert_eq!(
        e,
        json!({"code":400,"error_code":"email_address_not_authorized","msg":"Email address \"other@example.com\" cannot be used as it is not authorized"})
    );
    // A refused address creates nobody, sends nothing and uses no email budget (limit 1).
    assert!(s.mail().is_empty());
    // A `+label` is ignored and case does not matter.
    let (st, _, u) = invite(&s, "boss+team@example.com").await;
    assert_eq!(
        (st, u["email"].as_str().unwrap()),
        (200, "boss+team@example.com")
    );
    let r = client()
        .get(format!("{}/admin/users?filter=other", s.url()))
        .bearer_auth(admin(&s))
        .send()
        .await
        .unwrap();
    assert_eq!(h(r.headers(), "x-total-count"), "0");
}

#[tokio::test]
async fn extended_validation_refuses_fake_addresses() {
    let s = start_with(Flavor::Supabase, |c| c.email_validation_extended = true).await;
    for email in [
        "a@example.com",
        "a@foo.test",
        "a@corp.invalid",
        "test@gmail.com",
        "abc@gmail.com",
        "a@localhost",
    ] {
        let (st, hd, e) = invite(&s, email).await;
        // `a@localhost` already fails the basic format check (no dot in the domain).
        if email == "a@localhost" {
            assert_eq!(
                (st, e["error_code"].as_str().unwrap()),
                (400, "validation_failed")
            );
            continue;
        }
        assert_eq!(
            (st, h(&hd, "x-sb-error-code")),
            (400, "email_address_invalid"),
            "{email}"
        );
        assert_eq!(e["msg"], format!("Email address \"{email}\" is invalid"));
    }
    assert!(s.mail().is_empty());
    assert_eq!(invite(&s, "abcdef@gmail.com").await.0, 200);
    assert_eq!(invite(&s, "jane@company.io").await.0, 200);
    // Off by default: the other tests invite @example.com all the time.
    let d = start(Flavor::Supabase).await;
    assert_eq!(invite(&d, "a@example.com").await.0, 200);
}

#[tokio::test]
async fn uri_allow_list_globs_let_redirects_through() {
    let s = start_with(Flavor::Supabase, |c| {
        c.uri_allow_list = vec!["https://*.example.org/**".into()]
    })
    .await;
    for (target, kept) in [
        ("https://app.example.org/welcome/x", true),
        ("https://example.org/welcome", false),
        ("https://evil.example/", false),
    ] {
        let r = client()
            .post(format!("{}/invite", s.url()))
            .query(&[("redirect_to", target)])
            .bearer_auth(admin(&s))
            .json(&json!({"email": format!("u{}@example.com", s.mail().len())}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let link = s.mail().last().unwrap().link.clone();
        let to = url::Url::parse(&link)
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == "redirect_to")
            .unwrap()
            .1
            .to_string();
        assert_eq!(to == target, kept, "{target} -> {to}");
        if !kept {
            assert_eq!(to, s.url(), "falls back to the site URL");
        }
    }
}
