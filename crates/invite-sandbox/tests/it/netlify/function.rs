//! The Invite Desk function in front of Identity: its contract and its answers, as the
//! real file gives them.

use super::*;

#[tokio::test]
async fn function_contract() {
    let s = start(Flavor::Netlify).await;
    let c = s.credentials().clone();
    let owner = login(&s, &c.owner_email, &c.owner_password).await.1["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let member = login(&s, &c.member_email, &c.member_password).await.1["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let call = |m: reqwest::Method, p: &str, tok: Option<&str>, body: Option<&str>| {
        let mut r = client().request(m, format!("{}{FN}{p}", s.url()));
        if let Some(t) = tok {
            r = r.bearer_auth(t);
        }
        if let Some(b) = body {
            r = r.body(b.to_string());
        }
        r.send()
    };
    use reqwest::Method as M;
    let (st, _, b) = parts(call(M::GET, "/check", None, None).await.unwrap()).await;
    assert_eq!(
        (st, b["error"]["code"].as_str().unwrap()),
        (401, "unauthorized")
    );
    let (st, _, b) = parts(call(M::GET, "/check", Some("x.y.z"), None).await.unwrap()).await;
    assert_eq!(
        (st, b["error"]["code"].as_str().unwrap()),
        (401, "unauthorized")
    );
    let exp = sign_jwt(
        &s,
        json!({"sub":"1","exp":1000,"app_metadata":{"roles":["admin"]}}),
    );
    let (st, _, _) = parts(call(M::GET, "/check", Some(&exp), None).await.unwrap()).await;
    assert_eq!(st, 401);
    let (st, _, b) = parts(call(M::GET, "/check", Some(&member), None).await.unwrap()).await;
    assert_eq!(
        (st, b["error"]["code"].as_str().unwrap()),
        (403, "forbidden")
    );
    let (st, _, b) = parts(call(M::GET, "/check", Some(&owner), None).await.unwrap()).await;
    assert_eq!(
        (st, b),
        (
            200,
            json!({"ok":true,"email":c.owner_email,"roles":["admin"]})
        )
    );
    let (st, _, u) = parts(
        call(
            M::POST,
            "/invite",
            Some(&owner),
            Some(r#"{"email":"f@example.com","data":{"full_name":"F"}}"#),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!((st, u["email"].as_str().unwrap()), (200, "f@example.com"));
    assert_eq!(u["user_metadata"]["full_name"], "F");
    let (st, _, b) = parts(
        call(
            M::POST,
            "/invite",
            Some(&owner),
            Some(r#"{"email":"f@example.com"}"#),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(
        (st, b),
        (
            422,
            json!({"error":{"code":"identity_error","status":422,"message":"Email address already registered by another user"}})
        )
    );
    let (st, _, b) = parts(
        call(M::POST, "/invite", Some(&owner), Some("{bad"))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (st, b["error"]["code"].as_str().unwrap()),
        (400, "bad_request")
    );
    let (st, _, b) = parts(
        call(
            M::POST,
            "/invite",
            Some(&member),
            Some(r#"{"email":"g@example.com"}"#),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(
        (st, b["error"]["code"].as_str().unwrap()),
        (403, "forbidden")
    );
    let (st, _, b) = parts(
        call(M::GET, "/users?page=1&per_page=2", Some(&owner), None)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(
        (b["total"].as_u64(), b["next_page"].as_u64()),
        (Some(3), Some(2))
    );
    assert_eq!(b["users"].as_array().unwrap().len(), 2);
    let (_, _, b) = parts(
        call(M::GET, "/users?page=2&per_page=2", Some(&owner), None)
            .await
            .unwrap(),
    )
    .await;
    assert!(b["next_page"].is_null());
    let (_, _, b) = parts(
        call(M::GET, "/users?filter=f%40", Some(&owner), None)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(b["total"], 1);
    let id = u["id"].as_str().unwrap();
    let (st, _, g) = parts(
        call(M::GET, &format!("/users/{id}"), Some(&owner), None)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((st, g["email"].as_str().unwrap()), (200, "f@example.com"));
    let (st, _, b) = parts(
        call(M::DELETE, &format!("/users/{id}"), Some(&owner), None)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((st, b), (200, json!({})));
    let (st, _, b) = parts(
        call(M::GET, &format!("/users/{id}"), Some(&owner), None)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (st, b["error"]["code"].as_str().unwrap()),
        (404, "not_found")
    );
    // An id that is not a UUID names no user: the function's own 404, Identity is not asked.
    let (st, _, b) = parts(
        call(M::GET, "/users/not-a-uuid", Some(&owner), None)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (st, b),
        (
            404,
            json!({"error":{"code":"not_found","message":"No user has that id."}})
        )
    );
    let (st, _, b) = parts(
        call(M::GET, "/elsewhere", Some(&owner), None)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (st, b["error"]["code"].as_str().unwrap()),
        (404, "not_found")
    );
    assert_eq!(s.calls("POST /.netlify/functions/invite-desk/invite"), 4);
    assert_eq!(s.calls("GET /.netlify/functions/invite-desk/users/{id}"), 3);
}

#[tokio::test]
async fn function_answers_as_the_real_file() {
    let s = start_with(Flavor::Netlify, |c| {
        c.invite_desk_roles = invite_sandbox::parse_roles("editor, admin")
    })
    .await;
    let c = s.credentials().clone();
    let owner = login(&s, &c.owner_email, &c.owner_password).await.1["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let member = login(&s, &c.member_email, &c.member_password).await.1["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let call = |m: &str, p: &str, tok: Option<&str>, body: Option<&str>| {
        let mut r = client().request(m.parse().unwrap(), format!("{}{FN}{p}", s.url()));
        if let Some(t) = tok {
            r = r.bearer_auth(t);
        }
        if let Some(b) = body {
            r = r.body(b.to_string());
        }
        async move { parts(r.send().await.unwrap()).await }
    };
    let no_user = json!({"error":{"code":"unauthorized","message":"Sign in with your Netlify Identity account: this request had no valid user token."}});
    let expired = sign_jwt(
        &s,
        json!({"sub":"1","exp":1000,"app_metadata":{"roles":["admin"]}}),
    );
    let no_sub = sign_jwt(
        &s,
        json!({"exp":4_000_000_000u64,"app_metadata":{"roles":["admin"]}}),
    );
    for tok in [
        None,
        Some("x.y.z"),
        Some(expired.as_str()),
        Some(no_sub.as_str()),
    ] {
        let (st, _, b) = call("GET", "/check", tok, None).await;
        assert_eq!((st, &b), (401, &no_user), "{tok:?}");
    }
    let (st, _, b) = call("GET", "/check", Some(&member), None).await;
    assert_eq!(
        (st, b),
        (
            403,
            json!({"error":{"code":"forbidden","message":"member@example.com lacks a role allowed to invite (editor, admin). Add it under Identity → user → Roles."}})
        )
    );
    let anon = sign_jwt(
        &s,
        json!({"sub":"7","exp":4_000_000_000u64,"app_metadata":{"roles":["editor"]}}),
    );
    let (st, _, b) = call("GET", "/check", Some(&anon), None).await;
    assert_eq!(
        (st, b),
        (200, json!({"ok":true,"email":null,"roles":["editor"]}))
    );
    // Bodies: none reads as {} (Identity then wants an email), non-objects are refused.
    let (st, _, b) = call("POST", "/invite", Some(&owner), None).await;
    assert_eq!(
        (st, b),
        (
            422,
            json!({"error":{"code":"identity_error","status":422,"message":"An email address is required"}})
        )
    );
    for body in ["null", "[1]", "7", "\"a@b.co\""] {
        let (st, _, b) = call("POST", "/invite", Some(&owner), Some(body)).await;
        assert_eq!(
            (st, b),
            (
                400,
                json!({"error":{"code":"bad_request","message":"The request body must be a JSON object {\"email\", \"data\"}."}})
            ),
            "{body}"
        );
    }
    let (st, _, b) = call("POST", "/invite", Some(&owner), Some("{bad")).await;
    assert_eq!(st, 400);
    assert!(b["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("The request body is not JSON: "));
    // The email is trimmed; a non-object `data` is left out; other keys are not passed on.
    let (st, _, u) = call(
        "POST",
        "/invite",
        Some(&owner),
        Some(r#"{"email":"  spaced@example.com ","data":[1],"aud":"x"}"#),
    )
    .await;
    assert_eq!(
        (st, u["email"].as_str().unwrap()),
        (200, "spaced@example.com")
    );
    assert_eq!(
        (u["user_metadata"].clone(), u["aud"].as_str().unwrap()),
        (json!({}), "")
    );
    // Paging values go to Identity as given, and its 400 comes back.
    let (st, _, b) = call("GET", "/users?page=x", Some(&owner), None).await;
    assert_eq!(
        (st, b["error"]["code"].as_str().unwrap()),
        (400, "identity_error")
    );
    assert!(b["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("Bad Pagination Parameters: "));
    let (st, _, b) = call("GET", "/users/", Some(&owner), None).await;
    assert_eq!(
        (st, b["total"].as_u64()),
        (200, Some(3)),
        "a trailing slash is dropped"
    );
    // Ids the function refuses itself, and routes it does not have.
    for id in ["bad_id!", "%zz", &"a".repeat(65)] {
        let (st, _, b) = call("GET", &format!("/users/{id}"), Some(&owner), None).await;
        assert_eq!(
            (st, b),
            (
                404,
                json!({"error":{"code":"not_found","message":"No user has that id."}})
            ),
            "{id}"
        );
    }
    let id = u["id"].as_str().unwrap();
    for (m, p, msg) in [
        (
            "PUT",
            format!("/users/{id}"),
            format!("No route PUT /users/{id}."),
        ),
        (
            "GET",
            "/users/a/b".into(),
            "No route GET /users/a/b.".into(),
        ),
        ("GET", String::new(), "No route GET /.".into()),
        ("POST", "/check".into(), "No route POST /check.".into()),
    ] {
        let (st, _, b) = call(m, &p, Some(&owner), None).await;
        assert_eq!(
            (st, b),
            (404, json!({"error":{"code":"not_found","message":msg}})),
            "{m} {p}"
        );
    }
    // Another function's path is not this one.
    let r = client()
        .get(format!("{}{FN}-old/check", s.url()))
        .bearer_auth(&owner)
        .send()
        .await
        .unwrap();
    let (st, _, b) = parts(r).await;
    assert_eq!(
        (st, b["error"]["message"].as_str().unwrap()),
        (404, "No such function")
    );
    // Nobody is let in when the list has no roles at all, as the function reads " , ".
    let none = start_with(Flavor::Netlify, |c| {
        c.invite_desk_roles = invite_sandbox::parse_roles(" , ")
    })
    .await;
    let c = none.credentials().clone();
    let t = login(&none, &c.owner_email, &c.owner_password).await.1["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let r = client()
        .get(format!("{}{FN}/check", none.url()))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    let (st, _, b) = parts(r).await;
    assert_eq!(
        (st, b["error"]["message"].as_str().unwrap()),
        (
            403,
            "owner@example.com lacks a role allowed to invite (). Add it under Identity → user → Roles."
        )
    );
}
