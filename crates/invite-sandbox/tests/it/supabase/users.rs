//! The admin user routes: listing and paging, one user, deleting, generating links.

use super::*;

#[tokio::test]
async fn list_users_paging_link_and_total() {
    let s = start(Flavor::Supabase).await;
    for i in 0..250 {
        let r = client()
            .post(format!("{}/admin/generate_link", s.url()))
            .bearer_auth(admin(&s))
            .json(&json!({"type":"invite","email":format!("user{i:03}@example.com"),"data":{"full_name":format!("Name {i}")}}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let get = |q: &str| {
        client()
            .get(format!("{}/auth/v1/admin/users{q}", s.url()))
            .header("apikey", admin(&s))
            .bearer_auth(admin(&s))
            .send()
    };
    let (st, hd, b) = parts(get("?page=&per_page=").await.unwrap()).await;
    assert_eq!(st, 200);
    assert_eq!(b["aud"], "authenticated");
    assert_eq!(b["users"].as_array().unwrap().len(), 50);
    // 250 invited + the seeded owner login
    assert_eq!(h(&hd, "x-total-count"), "251");
    assert_eq!(
        h(&hd, "link"),
        r#"</admin/users?page=2&per_page=50>; rel="next", </admin/users?page=6&per_page=50>; rel="last""#
    );
    // newest first
    assert_eq!(b["users"][0]["email"], "user249@example.com");
    assert!(b["users"][0]["identities"].is_null());
    let (_, hd, b) = parts(get("?page=2&per_page=2").await.unwrap()).await;
    assert_eq!(b["users"][0]["email"], "user247@example.com");
    assert_eq!(
        h(&hd, "link"),
        r#"</admin/users?page=3&per_page=2>; rel="next", </admin/users?page=126&per_page=2>; rel="last""#
    );
    let (_, hd, b) = parts(get("?page=126&per_page=2").await.unwrap()).await;
    assert_eq!(b["users"].as_array().unwrap().len(), 1);
    assert_eq!(b["users"][0]["email"], s.credentials().owner_email.as_str());
    assert_eq!(
        h(&hd, "link"),
        r#"</admin/users?page=126&per_page=2>; rel="last""#
    );
    let (_, _, b) = parts(get("?page=127&per_page=2").await.unwrap()).await;
    assert_eq!(b["users"], json!([]));
    let (_, hd, b) = parts(get("?filter=user12").await.unwrap()).await;
    assert_eq!(h(&hd, "x-total-count"), "10"); // user120..user129
    assert_eq!(b["users"].as_array().unwrap().len(), 10);
    let (_, hd, _) = parts(get("?filter=name%2010").await.unwrap()).await; // full_name ILIKE
    assert_eq!(h(&hd, "x-total-count"), "11");
    let (_, _, b) = parts(get("?sort=created_at%20asc&per_page=2").await.unwrap()).await;
    assert_eq!(b["users"][0]["email"], s.credentials().owner_email.as_str());
    assert_eq!(b["users"][1]["email"], "user000@example.com");
    let (st, hd, e) = parts(get("?page=abc").await.unwrap()).await;
    assert_eq!((st, h(&hd, "x-sb-error-code")), (400, "validation_failed"));
    assert!(e["msg"]
        .as_str()
        .unwrap()
        .starts_with("Bad Pagination Parameters: "));
    // no mail for generate_link
    assert!(s.mail().is_empty());
}

#[tokio::test]
async fn get_and_delete_user() {
    let s = start(Flavor::Supabase).await;
    let (_, _, u) = invite(&s, "d@example.com").await;
    let id = u["id"].as_str().unwrap().to_string();
    let k = admin(&s);
    let (st, _, g) = send(
        client()
            .get(format!("{}/admin/users/{id}", s.url()))
            .bearer_auth(&k),
    )
    .await;
    assert_eq!((st, g["email"].as_str().unwrap()), (200, "d@example.com"));
    let (st, _, e) = send(
        client()
            .get(format!("{}/admin/users/not-a-uuid", s.url()))
            .bearer_auth(&k),
    )
    .await;
    assert_eq!(
        (
            st,
            e["error_code"].as_str().unwrap(),
            e["msg"].as_str().unwrap()
        ),
        (404, "validation_failed", "user_id must be an UUID")
    );
    let missing = uuid::Uuid::new_v4();
    let (st, _, e) = send(
        client()
            .get(format!("{}/admin/users/{missing}", s.url()))
            .bearer_auth(&k),
    )
    .await;
    assert_eq!(
        (
            st,
            e["error_code"].as_str().unwrap(),
            e["msg"].as_str().unwrap()
        ),
        (404, "user_not_found", "User not found")
    );
    // soft delete keeps the row
    let (st, _, b) = send(
        client()
            .delete(format!("{}/admin/users/{id}", s.url()))
            .bearer_auth(&k)
            .json(&json!({"should_soft_delete":true})),
    )
    .await;
    assert_eq!((st, b), (200, json!({})));
    let (_, _, g) = send(
        client()
            .get(format!("{}/admin/users/{id}", s.url()))
            .bearer_auth(&k),
    )
    .await;
    assert!(g["deleted_at"].is_string());
    assert_ne!(g["email"], "d@example.com");
    // the old link is dead
    let r = client().get(&s.mail()[0].link).send().await.unwrap();
    assert!(h(r.headers(), "location").contains("error_code=otp_expired"));
    // same address can be invited again
    let (st, _, u2) = invite(&s, "d@example.com").await;
    assert_eq!(st, 200);
    let id2 = u2["id"].as_str().unwrap();
    assert_ne!(id2, id);
    // hard delete, no body
    let (st, _, _) = send(
        client()
            .delete(format!("{}/admin/users/{id2}", s.url()))
            .bearer_auth(&k),
    )
    .await;
    assert_eq!(st, 200);
    let r = client()
        .delete(format!("{}/admin/users/{id2}", s.url()))
        .bearer_auth(&k)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = client()
        .delete(format!("{}/admin/users/{id}", s.url()))
        .bearer_auth(&k)
        .body("{bad")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn generate_link_rows() {
    let s = start(Flavor::Supabase).await;
    let k = admin(&s);
    let gl = |body: Value| {
        client()
            .post(format!(
                "{}/auth/v1/admin/generate_link?redirect_to=http%3A%2F%2F127.0.0.1%3A9%2Fcb",
                s.url()
            ))
            .header("apikey", &k)
            .bearer_auth(&k)
            .json(&body)
            .send()
    };
    let (st, _, b) = parts(
        gl(json!({"type":"invite","email":"g@example.com","data":{"a":1}}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(b["email"], "g@example.com");
    assert_eq!(b["verification_type"], "invite");
    assert_eq!(b["redirect_to"], "http://127.0.0.1:9/cb");
    assert_eq!(b["email_otp"].as_str().unwrap().len(), 6);
    let hash = b["hashed_token"].as_str().unwrap();
    assert_eq!(b["action_link"].as_str().unwrap(), format!("{}/auth/v1/verify?token={hash}&type=invite&redirect_to=http%3A%2F%2F127.0.0.1%3A9%2Fcb", s.url()));
    assert_eq!(b["user_metadata"], json!({"a":1}));
    let (st, _, e) = parts(
        gl(json!({"type":"bogus","email":"g@example.com"}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (st, e["msg"].as_str().unwrap()),
        (400, "Invalid email action link type requested: bogus")
    );
    // Verify by email + OTP
    let otp = b["email_otp"].as_str().unwrap();
    let (st, _, sess) = send(
        client()
            .post(format!("{}/verify", s.url()))
            .json(&json!({"type":"invite","email":"g@example.com","token":otp})),
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(sess["token_type"], "bearer");
    assert_eq!(sess["user"]["email"], "g@example.com");
    // now confirmed
    let (st, _, e) = parts(
        gl(json!({"type":"invite","email":"g@example.com"}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (st, e["error_code"].as_str().unwrap()),
        (422, "email_exists")
    );
    assert!(s.mail().is_empty());
}
