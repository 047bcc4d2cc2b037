//! The flows: what an owner does, step by step, with a screenshot of each step.

use std::path::Path;

use fantoccini::Locator;
use serde_json::Value;

use crate::driver::{Ctx, Driver, Res, Session};
use crate::Env;

/// Starts the app with its own data folder (and extra environment) and opens a session.
pub(crate) async fn open(
    env: &Env,
    name: &str,
    extra: &[(&str, String)],
) -> Res<(Driver, Session)> {
    let data = env.data_dir(name)?;
    let mut vars = vec![
        ("INVITE_DESK_DATA_DIR", data.to_string_lossy().into_owned()),
        ("INVITE_DESK_RECORD_IPC", "1".to_string()),
    ];
    vars.extend(extra.iter().map(|(k, v)| (*k, v.clone())));
    let driver = Driver::start(&vars)?;
    let session = driver.session(&env.app, &env.shots).await?;
    Ok((driver, session))
}

/// Starts the app again on the data folder an earlier `open` made (a restart).
async fn reopen(env: &Env, name: &str) -> Res<(Driver, Session)> {
    let data = env.home.join("invite-desk-e2e").join(name);
    let vars = vec![
        ("INVITE_DESK_DATA_DIR", data.to_string_lossy().into_owned()),
        ("INVITE_DESK_RECORD_IPC", "1".to_string()),
    ];
    let driver = Driver::start(&vars)?;
    let session = driver.session(&env.app, &env.shots).await?;
    Ok((driver, session))
}

/// No uncaught error or console.error happened in the page.
pub(crate) async fn no_page_errors(s: &Session) -> Res<()> {
    let v = s.js("return window.__inviteDeskErrors || []").await?;
    match v.as_array() {
        Some(a) if a.is_empty() => Ok(()),
        _ => Err(format!("the page reported errors: {v}")),
    }
}

const TABS: [(&str, &str); 4] = [
    ("invite", "Invite"),
    ("invitations", "Invitations"),
    ("workspaces", "Workspaces"),
    ("history", "History"),
];

/// Issue 2: the first screen, its title, the empty state and every tab.
pub async fn first_screen(env: &Env) -> Res<()> {
    let (_driver, s) = open(env, "first-screen", &[]).await?;
    let title = s.client.title().await.map_err(|e| e.to_string())?;
    if title != "Invite Desk" {
        return Err(format!("window title is {title:?}"));
    }
    s.wait_visible("#view-empty", 5).await?;
    s.wait_text("#view-empty", "Add a workspace", 2).await?;
    s.wait_text("#view-empty", "Try the demo workspace", 2)
        .await?;
    s.shot("first-screen-empty").await?;
    for (id, label) in TABS {
        s.click(&format!("#nav-{id}")).await?;
        let current = s
            .js(&format!(
                "return document.querySelector('#nav-{id}').getAttribute('aria-current')"
            ))
            .await?;
        if current != "page" {
            return Err(format!("tab {label} is not marked current after a click"));
        }
        if id == "workspaces" {
            s.wait_visible("#workspaces-title", 5).await?;
            s.wait_text("#view-workspaces", "Add workspace", 5).await?;
        } else {
            // Screens that need a workspace show the empty state until there is one.
            s.wait_visible("#view-empty", 5).await?;
        }
        s.shot(&format!("tab-{id}-empty")).await?;
    }
    // The Add-workspace flow: service choice, then only that service's fields; Esc closes it.
    s.click("#nav-workspaces").await?;
    s.click("#ws-add").await?;
    s.wait_visible("#add-choose", 5).await?;
    s.wait_text("#add-dialog", "Self-hosted GoTrue", 2).await?;
    s.shot("add-workspace-choose").await?;
    s.click("#add-next").await?;
    s.wait_visible("#secret-secret_key", 5).await?;
    s.wait_text("#add-dialog", "Project Settings", 2).await?;
    s.shot("add-workspace-supabase").await?;
    s.click("#add-form .btn.left").await?; // Back
    s.click("#svc-netlify").await?;
    s.click("#add-next").await?;
    s.wait_text("#fn-code", "export", 10).await?;
    s.wait_text("#add-dialog", "deprecated", 2).await?;
    s.shot("add-workspace-netlify").await?;
    s.click("#fn-save").await?;
    s.wait_text("#add-dialog", "Saved to", 5).await?;
    // Esc, pressed for real, closes the dialog.
    s.client
        .find(Locator::Css("#add-dialog button"))
        .await
        .ctx("a button in the dialog")?
        .send_keys("\u{E00C}")
        .await
        .ctx("Escape")?;
    s.wait_js("return !document.getElementById('add-dialog')?.open", 3)
        .await?;
    // Keyboard: Alt+1 goes back to Invite.
    s.js("document.dispatchEvent(new KeyboardEvent('keydown', {key: '1', altKey: true}))")
        .await?;
    s.wait_js(
        "return document.querySelector('#nav-invite').getAttribute('aria-current') === 'page'",
        3,
    )
    .await?;
    no_page_errors(&s).await?;
    s.close().await
}

/// The same first screen in the dark theme (INVITE_DESK_THEME=dark, the documented switch).
pub async fn dark(env: &Env) -> Res<()> {
    let (_driver, s) = open(env, "dark", &[("INVITE_DESK_THEME", "dark".into())]).await?;
    s.wait_visible("#view-empty", 5).await?;
    let bg = s
        .js("return getComputedStyle(document.body).backgroundColor")
        .await?;
    let bg = bg.as_str().unwrap_or_default().to_string();
    if !bg.starts_with("rgb(20, 23, 28") {
        return Err(format!("dark theme not applied: body background is {bg}"));
    }
    s.shot("first-screen-dark").await?;
    s.click("#nav-workspaces").await?;
    s.wait_visible("#workspaces-title", 5).await?;
    s.shot("workspaces-dark").await?;
    no_page_errors(&s).await?;
    s.close().await
}

/// No keychain (no D-Bus session for the app): the banner says what is missing and how to fix
/// it, and "Use for this session only" switches to memory, saying so.
pub async fn no_keychain(env: &Env) -> Res<()> {
    let (_driver, s) = open(
        env,
        "no-keychain",
        &[
            ("DBUS_SESSION_BUS_ADDRESS", String::new()),
            ("XDG_RUNTIME_DIR", "/nonexistent".into()),
        ],
    )
    .await?;
    s.wait_visible("#keychain-banner", 10).await?;
    s.wait_text("#keychain-banner", "can’t use your system keychain", 2)
        .await?;
    s.wait_text("#keychain-banner", "GNOME Keyring", 2).await?;
    s.shot("no-keychain-banner").await?;
    s.click("#use-session").await?;
    s.wait_text("#keychain-banner", "this session only", 5)
        .await?;
    s.shot("no-keychain-session-only").await?;
    no_page_errors(&s).await?;
    s.close().await
}

/// The demo workspace's base URL and id, read from the app (the test may call IPC directly).
async fn demo_workspace(s: &Session) -> Res<(String, String)> {
    let v = s
        .wait_js(
            "return window.__TAURI__.core.invoke('list_workspaces').then(r => JSON.stringify(r.workspaces.find(w => w.demo) || null))",
            5,
        )
        .await?;
    let w: Value = serde_json::from_str(v.as_str().unwrap_or("null")).ctx("workspace list")?;
    let url = w["baseUrl"]
        .as_str()
        .ok_or("no demo workspace in the list")?
        .to_string();
    let id = w["id"].as_str().unwrap_or_default().to_string();
    Ok((url, id))
}

/// Sets a form control's value as a person choosing it would (an `input` and a `change` event).
async fn set_value(s: &Session, id: &str, value: &str) -> Res<()> {
    s.js(&format!(
        "const e = document.getElementById({}); e.value = {}; \
         e.dispatchEvent(new Event('input', {{bubbles: true}})); \
         e.dispatchEvent(new Event('change', {{bubbles: true}})); return e.value",
        serde_json::to_string(id).unwrap_or_default(),
        serde_json::to_string(value).unwrap_or_default()
    ))
    .await
    .map(|_| ())
}

async fn count(s: &Session, css: &str) -> Res<u64> {
    let v = s
        .js(&format!(
            "return document.querySelectorAll({}).length",
            serde_json::to_string(css).unwrap_or_default()
        ))
        .await?;
    Ok(v.as_u64().unwrap_or(0))
}

async fn wait_count(s: &Session, css: &str, n: u64, secs: u64) -> Res<()> {
    let script = format!(
        "return document.querySelectorAll({}).length === {n}",
        serde_json::to_string(css).unwrap_or_default()
    );
    s.wait_js(&script, secs)
        .await
        .map(|_| ())
        .map_err(|e| format!("expected {n} × {css}: {e}"))
}

/// The error box in `dialog` is wholly in sight: below the dialog's top and above its sticky
/// action bar (which once covered the bottom of a refusal).
async fn error_in_sight(s: &Session, dialog: &str) -> Res<()> {
    let script = format!(
        "const d = document.querySelector({}); const e = d && d.querySelector('.error-box'); \
         const bar = d && d.querySelector('.dialog-actions'); if (!e || !bar) return 'no error box or bar'; \
         const b = e.getBoundingClientRect(), a = bar.getBoundingClientRect(), r = d.getBoundingClientRect(); \
         return b.bottom <= a.top + 1 && b.top >= r.top - 1 ? true : `error ${{b.top}}..${{b.bottom}}, bar at ${{a.top}}, dialog top ${{r.top}}`;",
        serde_json::to_string(dialog).unwrap_or_default()
    );
    match s.js(&script).await? {
        Value::Bool(true) => Ok(()),
        other => {
            let _ = s.shot("failure-error-hidden").await;
            Err(format!(
                "the error in {dialog} is not wholly in sight: {other}"
            ))
        }
    }
}

/// Requests that would carry a credential to a Supabase-flavor sandbox.
fn credential_calls(sb: &invite_sandbox::Sandbox) -> u64 {
    [
        "GET /admin/users",
        "POST /invite",
        "GET /settings",
        "GET /user",
    ]
    .iter()
    .map(|r| sb.calls(r))
    .sum()
}

/// The demo workspace's own secret key, as the app keeps it.
fn demo_secrets(env: &Env, demo_id: &str) -> Res<Vec<String>> {
    // The demo's control routes answer only the app (they need its token), so its key is read
    // where the app keeps it: the keychain.
    let account = format!("{demo_id}/secret_key");
    match keychain_lookup(env, &account)? {
        Some(k) => Ok(vec![k]),
        None => Err(format!("the demo's key {account} is not in the keychain")),
    }
}

/// Mail the sandbox holds for `to`.
/// The addresses of every user the sandbox's GoTrue has, read with its service key.
async fn server_users(http: &reqwest::Client, base: &str) -> Res<Vec<String>> {
    let root = sandbox_root(base);
    let creds: Value = http
        .get(format!("{root}/__sandbox/credentials"))
        .send()
        .await
        .ctx("sandbox credentials")?
        .json()
        .await
        .ctx("sandbox credentials body")?;
    let key = creds["service_role_key"]
        .as_str()
        .ok_or("the sandbox gave no service key")?;
    let users: Value = http
        .get(format!("{root}/auth/v1/admin/users?per_page=1000"))
        .header("apikey", key)
        .bearer_auth(key)
        .send()
        .await
        .ctx("listing users")?
        .json()
        .await
        .ctx("users body")?;
    Ok(users["users"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|u| u["email"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default())
}

async fn mail_for(http: &reqwest::Client, base: &str, to: &str) -> Res<Vec<Value>> {
    let v: Value = http
        .get(format!("{}/__sandbox/mail", sandbox_root(base)))
        .send()
        .await
        .ctx("reading the sandbox mailbox")?
        .json()
        .await
        .ctx("mailbox JSON")?;
    let list = v
        .as_array()
        .cloned()
        .or_else(|| v["mail"].as_array().cloned())
        .unwrap_or_default();
    Ok(list
        .into_iter()
        .filter(|m| m["to"].as_str().is_some_and(|t| t.eq_ignore_ascii_case(to)))
        .collect())
}

/// The sandbox's own routes live at the root of its port, whatever the flavor's prefix.
fn sandbox_root(base: &str) -> String {
    match reqwest::Url::parse(base) {
        Ok(mut u) => {
            u.set_path("");
            u.as_str().trim_end_matches('/').to_string()
        }
        Err(_) => base.to_string(),
    }
}

/// Issue 7's proof flow: nothing → demo workspace → paste 6 (one invalid, one duplicate) →
/// 4 invited → 4 pending → resend → cancel → accept → Accepted → 503 fault, plain error, retry
/// → add a Supabase sandbox by hand, wrong key then right key. Ends with the leak check.
pub async fn demo(env: &Env) -> Res<()> {
    // The demo's control routes answer only with its token: this run gives the app its own.
    let token = invite_sandbox::random_control_token();
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        invite_sandbox::CONTROL_TOKEN_HEADER,
        token.parse().ctx("the control token")?,
    );
    let http = reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .ctx("an HTTP client")?;
    let (_driver, s) = open(env, "demo", &[("INVITE_DESK_DEMO_TOKEN", token.clone())]).await?;
    let mut secrets: Vec<String> = Vec::new();
    let notified_before = env.notifications.all().len();

    // 1. Nothing → demo workspace.
    s.wait_visible("#view-empty", 5).await?;
    s.click("#empty-demo").await?;
    s.wait_visible("#invite-title", 20).await?;
    s.wait_visible("#switcher", 5).await?;
    s.wait_text("#invite-sub", "Demo", 5).await?;
    let (demo_url, demo_id) = demo_workspace(&s).await?;
    // Without the token the demo's control routes (its keys, its mailbox) are refused.
    let r = reqwest::Client::new()
        .get(format!("{}/__sandbox/credentials", sandbox_root(&demo_url)))
        .send()
        .await
        .ctx("asking the demo for its keys without the token")?;
    if r.status() != reqwest::StatusCode::UNAUTHORIZED {
        return Err(format!(
            "the demo answered {} to a request without its token",
            r.status()
        ));
    }
    // The demo's own server key: the app holds it in the keychain, and it must not leak either.
    secrets.extend(demo_secrets(env, &demo_id)?);
    s.shot("demo-invite-screen").await?;

    // 2. Paste six: one invalid, one duplicate.
    let paste = "ann@example.com, bob@example.com\nCarol Jones <carol@example.com>; dave@example.com\nnot-an-address\nANN@example.com";
    s.type_into("#invite-text", paste).await?;
    s.wait_text("#chip-summary", "4 addresses to invite", 10)
        .await?;
    wait_count(&s, "#chips .chip", 6, 5).await?;
    wait_count(&s, "#chips .chip.invalid", 1, 2).await?;
    wait_count(&s, "#chips .chip.duplicate", 1, 2).await?;
    s.wait_text("#invite-send", "Invite 4 people", 2).await?;
    s.shot("demo-chips").await?;

    // 3. Ctrl+Enter sends; four results.
    let e = s
        .client
        .find(Locator::Css("#invite-text"))
        .await
        .ctx("textarea")?;
    e.send_keys("\u{E009}\u{E007}\u{E000}")
        .await
        .ctx("Ctrl+Enter")?;
    s.wait_visible("#results", 10).await?;
    wait_count(&s, "#results li[data-state=invited]", 4, 30).await?;
    s.wait_text("#progress-counts", "4 of 4 done", 10).await?;
    s.shot("demo-results").await?;

    // 4. Invitations shows four pending.
    s.click("#nav-invitations").await?;
    s.wait_js(
        "return document.querySelector('[data-count=pending]')?.textContent === '4'",
        15,
    )
    .await?;
    wait_count(&s, "#inv-table tbody tr[data-status=pending]", 4, 5).await?;
    s.shot("demo-invitations-pending").await?;
    // Search as you type; sort by address.
    s.type_into("#inv-search", "bo").await?;
    s.wait_js("const r = document.querySelectorAll('#inv-table tbody tr'); return r.length === 1 && r[0].dataset.email === 'bob@example.com'", 5).await?;
    set_value(&s, "inv-search", "").await?;
    wait_count(&s, "#inv-table tbody tr", 4, 5).await?;
    set_value(&s, "inv-sort", "emailAsc").await?;
    s.wait_js("const r = [...document.querySelectorAll('#inv-table tbody tr')].map(t => t.dataset.email); return r.join() === 'ann@example.com,bob@example.com,carol@example.com,dave@example.com'", 5).await?;
    set_value(&s, "inv-sort", "newestFirst").await?;

    // 5. Resend one: the mailbox holds a second email for it.
    let before = mail_for(&http, &demo_url, "bob@example.com").await?.len();
    s.click("tr[data-email='bob@example.com'] [data-action=resend]")
        .await?;
    s.wait_text(
        "#inv-status",
        "Sent the invitation to bob@example.com again",
        15,
    )
    .await?;
    let after = mail_for(&http, &demo_url, "bob@example.com").await?.len();
    if after != before + 1 || after < 2 {
        return Err(format!(
            "bob's mailbox had {before} emails before the resend and {after} after"
        ));
    }
    s.shot("demo-resent").await?;

    // 6. Cancel one (confirm names the address): gone on the server.
    s.click("tr[data-email='carol@example.com'] [data-action=cancel]")
        .await?;
    s.wait_text("#confirm-dialog", "carol@example.com", 5)
        .await?;
    s.shot("demo-cancel-confirm").await?;
    s.click("#confirm-ok").await?;
    s.wait_text(
        "#inv-status",
        "Cancelled the invitation to carol@example.com",
        15,
    )
    .await?;
    s.click("#inv-refresh").await?;
    s.click("#inv-tab-all").await?;
    s.wait_js(
        "return document.querySelector('[data-count=all]')?.textContent === '3'",
        15,
    )
    .await?;
    if count(&s, "#inv-table tr[data-email='carol@example.com']").await? != 0 {
        return Err("carol is still listed after a refresh from the server".into());
    }
    // ...and gone on the server itself, asked with the server's own admin API.
    let users = server_users(&http, &demo_url).await?;
    if users.iter().any(|u| u == "carol@example.com")
        || !users.iter().any(|u| u == "bob@example.com")
    {
        return Err(format!("after cancelling carol the server has: {users:?}"));
    }

    // 7. Accept one through its mailbox link → Accepted.
    s.click("#nav-workspaces").await?;
    s.wait_visible(
        "[data-mailbox] li[data-to='dave@example.com'] [data-action=accept]",
        10,
    )
    .await?;
    s.shot("demo-mailbox").await?;
    s.click("[data-mailbox] li[data-to='dave@example.com'] [data-action=accept]")
        .await?;
    s.wait_text("#toast", "accepted", 15).await?;
    s.click("#nav-invitations").await?;
    s.click("#inv-refresh").await?;
    s.click("#inv-tab-accepted").await?;
    s.wait_js("return document.querySelector('#inv-table tr[data-email=\"dave@example.com\"][data-status=accepted]') !== null", 15).await?;
    s.shot("demo-accepted").await?;
    // Pasting them again: who is already invited or a member is marked, not counted again.
    s.click("#nav-invite").await?;
    s.type_into(
        "#invite-text",
        "ann@example.com, dave@example.com, newbie@example.com",
    )
    .await?;
    wait_count(&s, "#chips .chip.invited", 1, 10).await?;
    wait_count(&s, "#chips .chip.member", 1, 2).await?;
    s.wait_text("#chip-summary", "1 address to invite", 5)
        .await?;
    s.shot("demo-chips-known").await?;
    set_value(&s, "invite-text", "").await?;
    s.click("#nav-invitations").await?;

    // 8. A 503 fault: the plain error, then Try again succeeds.
    let fault = serde_json::json!({"count": 3, "action": {"type": "status", "status": 503}});
    let r = http
        .post(format!("{}/__sandbox/faults", sandbox_root(&demo_url)))
        .json(&fault)
        .send()
        .await
        .ctx("injecting a fault")?;
    if !r.status().is_success() {
        return Err(format!("the sandbox refused the fault: {}", r.status()));
    }
    s.click("#inv-refresh").await?;
    s.wait_js(
        "return document.querySelector('#inv-status .error-box[data-kind=server]') !== null",
        20,
    )
    .await?;
    s.wait_text("#inv-status", "The server had a problem", 2)
        .await?;
    s.shot("demo-fault-503").await?;
    s.click("#inv-status [data-action=retry]").await?;
    s.wait_js("return document.querySelector('#inv-status .error-box') === null && document.querySelector('[data-count=all]')?.textContent === '3'", 20).await?;
    s.shot("demo-fault-retried").await?;

    // 9. Add a Supabase-flavor sandbox by hand: wrong key (plain error), then the right one.
    let other = start_supabase_sandbox().await?;
    secrets.push(other.key.clone());
    s.click("#nav-workspaces").await?;
    s.click("#ws-add").await?;
    s.click("#svc-supabase").await?;
    s.click("#add-next").await?;
    s.type_into("#ws-name", "Acme").await?;
    s.type_into("#ws-url", &other.url).await?;
    s.type_into("#secret-secret_key", &other.wrong_key).await?;
    s.click("#add-test").await?;
    s.wait_js(
        "return document.querySelector('#add-answer .error-box[data-kind=wrong_key]') !== null",
        20,
    )
    .await?;
    // The plain sentence and the next step, not a status code.
    s.wait_text("#add-answer", "anon (public) key, which can't invite", 2)
        .await?;
    s.wait_text("#add-answer", "service_role key", 2).await?;
    s.shot("add-wrong-key").await?;
    s.type_into("#secret-secret_key", &other.key).await?;
    s.click("#add-test").await?;
    s.wait_visible("#add-ok", 20).await?;
    s.shot("add-right-key-tested").await?;
    // 9b. The passed test stands for the connection, not the whole form: another address drops
    // it (the key is asked again), the same address brings it back, and a new name and a default
    // redirect keep it: Save goes without the key typed again.
    let kept_js = "const f = document.getElementById('add-form'); \
                   const k = document.getElementById('secret-secret_key'); \
                   return f.dataset.checked === 'kept' && k.value === '' && !k.required \
                     && k.placeholder.startsWith('Checked and kept') && !!document.getElementById('add-ok')";
    s.type_into("#ws-url", "https://elsewhere.supabase.co")
        .await?;
    s.wait_js(
        "const f = document.getElementById('add-form'); \
         const k = document.getElementById('secret-secret_key'); \
         return f.dataset.checked === 'changed' && k.required && !k.placeholder.startsWith('Checked') \
           && !!document.getElementById('add-changed')",
        10,
    )
    .await
    .map_err(|e| format!("another address kept the passed test: {e}"))?;
    s.shot("add-test-dropped-by-new-address").await?;
    s.type_into("#ws-url", &other.url).await?;
    s.wait_js(kept_js, 10).await?;
    s.type_into("#ws-name", "Acme (sandbox)").await?;
    s.click("#add-form details summary").await?;
    s.type_into("#opt-redirect", "https://app.example.com/welcome")
        .await?;
    // Every answer to the edits is in (each edit asks Rust), and the check still stands.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    s.wait_js(kept_js, 5)
        .await
        .map_err(|e| format!("a rename dropped the passed test: {e}"))?;
    s.shot("add-renamed-after-test").await?;
    s.click("#add-save").await?;
    s.wait_js("return !document.getElementById('add-dialog').open", 20)
        .await
        .map_err(|e| format!("Save after a rename did not go through: {e}"))?;
    let added = s
        .js("return window.__TAURI__.core.invoke('list_workspaces').then(r => JSON.stringify(r.workspaces.find(w => !w.demo)))")
        .await?;
    let added: Value =
        serde_json::from_str(added.as_str().unwrap_or("null")).ctx("the added workspace")?;
    if added["name"] != "Acme (sandbox)"
        || added["options"]["defaultRedirectUrl"] != "https://app.example.com/welcome"
    {
        return Err(format!("saved after the rename as {added}"));
    }
    s.wait_js(
        "return document.querySelectorAll('#workspace-select option').length === 2",
        10,
    )
    .await?;
    s.wait_text("#ws-list-box", "Acme (sandbox)", 5).await?;
    s.shot("workspaces-two").await?;

    // 10. Invite someone to the new workspace (now the current one): the key in the keychain works.
    s.click("#nav-invite").await?;
    s.wait_text("#invite-sub", "Acme (sandbox)", 10).await?;
    s.type_into("#invite-text", "zoe@example.com").await?;
    s.wait_text("#invite-send", "Invite 1 person", 10).await?;
    s.click("#invite-send").await?;
    wait_count(&s, "#results li[data-state=invited]", 1, 30).await?;
    if other.mail_to("zoe@example.com") != 1 {
        return Err("zoe did not get exactly one email from the added workspace".into());
    }

    // 11. Replace its key: a wrong one is refused (and changes nothing), the right one works.
    s.click("#nav-workspaces").await?;
    let acme = "[data-action=credentials]"; // the demo has no key to replace
    s.wait_visible(acme, 10).await?;
    s.click(acme).await?;
    s.type_into("#prompt-input", &other.wrong_key).await?;
    s.shot("replace-key-dialog").await?;
    s.click("#prompt-ok").await?;
    s.wait_js(
        "return document.querySelector('#ws-status .error-box') !== null",
        20,
    )
    .await?;
    s.shot("replace-key-refused").await?;
    s.click(acme).await?;
    s.type_into("#prompt-input", &other.key).await?;
    s.click("#prompt-ok").await?;
    s.wait_text("#toast", "works again", 20).await?;

    // 11b. Its queue paused (as a sign-out pauses it): an invitation waits, and says so.
    let acme_id = s
        .js("return window.__TAURI__.core.invoke('list_workspaces').then(r => r.workspaces.find(w => !w.demo).id)")
        .await?
        .as_str()
        .unwrap_or_default()
        .to_string();
    s.js(&format!(
        "return window.__TAURI__.core.invoke('pause_workspace', {{ workspaceId: '{acme_id}' }})"
    ))
    .await?;
    s.click("#nav-invite").await?;
    s.type_into("#invite-text", "yan@example.com").await?;
    s.wait_text("#invite-send", "Invite 1 person", 10).await?;
    s.click("#invite-send").await?;
    let paused_at = std::time::Instant::now();
    wait_count(&s, "#results li[data-state=paused]", 1, 20).await?;
    s.wait_text("#banners", "Paused: 1 invitation for Acme (sandbox)", 10)
        .await?;
    s.shot("paused-invitation").await?;
    if other.mail_to("yan@example.com") != 0 {
        return Err("a paused invitation was sent".into());
    }

    // 11c. Rename the demo, and switch workspaces from the header (then back).
    s.click("#nav-workspaces").await?;
    s.click(&format!("li[data-ws='{demo_id}'] [data-action=rename]"))
        .await?;
    s.type_into("#prompt-input", "Demo for Acme").await?;
    s.click("#prompt-ok").await?;
    s.wait_js("return [...document.querySelectorAll('#workspace-select option')].some(o => o.textContent === 'Demo for Acme')", 10).await?;
    set_value(&s, "workspace-select", &demo_id).await?;
    s.click("#nav-invite").await?;
    s.wait_text("#invite-sub", "Demo for Acme", 10).await?;
    set_value(&s, "workspace-select", &acme_id).await?;
    s.wait_text("#invite-sub", "Acme (sandbox)", 10).await?;

    // 12. History lists what was sent.
    s.click("#nav-history").await?;
    s.wait_js(
        "return document.querySelectorAll('#hist-table tbody tr').length >= 5",
        10,
    )
    .await?;
    s.shot("history").await?;
    // The filters are the core's: one result, then one workspace; the export takes the filter.
    let choose = |id: &str, pick: &str| {
        format!(
            "const s = document.getElementById('{id}'); \
             s.value = [...s.options].find(o => {pick}).value; \
             s.dispatchEvent(new Event('change')); return s.value"
        )
    };
    s.js(&choose("hist-result", "o.value === 'paused'")).await?;
    s.wait_js("const r = document.querySelectorAll('#hist-table tbody tr'); return r.length === 1 && r[0].dataset.email === 'yan@example.com'", 10).await?;
    s.js(&choose("hist-result", "o.value === ''")).await?;
    s.js(&choose("hist-ws", "o.textContent.startsWith('Demo')"))
        .await?;
    s.wait_js("const r = [...document.querySelectorAll('#hist-table tbody tr')]; return r.length === 4 && r.every(t => t.textContent.includes('Demo'))", 10).await?;
    s.shot("history-filtered").await?;
    // The native Save dialog (answered by the debug build's test seam) replaces the name prompt.
    s.click("#hist-export").await?;
    let saved = s.wait_text("#hist-status", "Saved ", 10).await?;
    let path = saved.trim().trim_start_matches("Saved ").trim();
    let csv = std::fs::read_to_string(path).ctx("reading the exported CSV")?;
    // UTF-8 with a BOM, so Excel shows accented names.
    let csv = csv
        .strip_prefix('\u{FEFF}')
        .ok_or("the export does not start with a UTF-8 BOM")?;
    let lines: Vec<&str> = csv.lines().collect();
    if lines.len() != 5
        || !lines[0].starts_with("sent_at,workspace,email,result")
        || csv.contains("yan@example.com")
    {
        return Err(format!("the export of the Demo filter holds:\n{csv}"));
    }
    // Diagnostics for support: its answer goes through the leak check below.
    s.click("#nav-workspaces").await?;
    s.click("#ws-diagnostics").await?;
    s.wait_js("return document.querySelector('#toast')?.textContent.includes('Diagnostics') || document.querySelector('#ws-status')?.textContent.includes('clipboard')", 10).await?;
    no_page_errors(&s).await?;
    let ipc = s.ipc_log().await?;
    s.close().await?;
    drop(_driver);

    // 13. Restart the app on the same data: the workspace is still there and still works, its
    // key read back from the keychain (a second process, secret-tool, finds it too).
    let account = format!("{acme_id}/secret_key");
    if keychain_lookup(env, &account)?.as_deref() != Some(other.key.as_str()) {
        return Err(format!(
            "secret-tool does not find {account} in the keychain"
        ));
    }
    let (driver, s) = reopen(env, "demo").await?;
    s.wait_js(
        "return document.querySelectorAll('#workspace-select option').length === 2",
        10,
    )
    .await?;
    // A restart gives the demo a fresh server with fresh keys: search for those too.
    let (_, revived_id) = demo_workspace(&s).await?;
    secrets.extend(demo_secrets(env, &revived_id)?);
    s.click("#nav-invitations").await?;
    s.wait_text("#view-invitations", "zoe@example.com", 20)
        .await?;
    s.shot("after-restart-invitations").await?;

    // 13b. The paused invitation survived the restart; Resume on the banner sends it, once.
    s.wait_text("#banners", "Paused: 1 invitation for Acme (sandbox)", 15)
        .await?;
    s.shot("after-restart-paused-banner").await?;
    // A batch that outlasts the core's NOTICE_AFTER (20 s) is announced on the desktop even
    // while the window is in front: by then the owner has turned to something else.
    let waited = paused_at.elapsed();
    if waited < std::time::Duration::from_secs(21) {
        tokio::time::sleep(std::time::Duration::from_secs(21) - waited).await;
    }
    s.click("#banners .banner[data-batch] .banner-actions button:first-child")
        .await?;
    s.wait_js(
        "return !document.querySelector('#banners .banner[data-batch]')",
        20,
    )
    .await?;
    if other.mail_to("yan@example.com") != 1 {
        return Err("the resumed invitation was not sent exactly once".into());
    }
    let shown = env
        .notifications
        .wait_for("Invitations sent for Acme (sandbox)", 15)
        .await?;
    if (shown.app_name.as_str(), shown.body.as_str()) != ("Invite Desk", "The invitation is done.")
    {
        return Err(format!("unexpected desktop notification {shown:?}"));
    }
    // The quick batches before it finished in front of the owner (the window has the focus):
    // no notification for those.
    let during = env.notifications.all().split_off(notified_before);
    if during != [shown] {
        return Err(format!("expected one desktop notification, got {during:?}"));
    }

    // 13c. Acme moves to another server (another port: another origin). The kept key is never
    // sent there: Save asks for the key in a required field, refuses without it in plain words
    // and changes nothing; with the new server's own key, it saves.
    let third = start_supabase_sandbox().await?;
    secrets.push(third.key.clone());
    let acme_url = format!(
        "return window.__TAURI__.core.invoke('list_workspaces').then(r => r.workspaces.find(w => w.id === '{acme_id}').baseUrl)"
    );
    s.click("#nav-workspaces").await?;
    s.click(&format!("[data-ws='{acme_id}'] [data-action=settings]"))
        .await?;
    s.type_into("#set-url", &third.url).await?;
    s.click("#settings-save").await?;
    s.wait_js(
        "return document.querySelector('#settings-dialog .error-box[data-kind=secret_needed]') !== null",
        20,
    )
    .await?;
    s.wait_visible("#set-secret", 5).await?;
    s.wait_js("return document.getElementById('set-secret').required", 2)
        .await
        .map_err(|e| format!("the key for the new address is not a required field: {e}"))?;
    error_in_sight(&s, "#settings-dialog").await?;
    s.shot("settings-new-address-asks-key").await?;
    // Save again with the field empty: the same plain refusal.
    s.js("document.querySelector('#settings-dialog .error-box').remove()")
        .await?;
    s.click("#settings-save").await?;
    s.wait_js(
        "return document.querySelector('#settings-dialog .error-box[data-kind=secret_needed]') !== null",
        20,
    )
    .await?;
    s.wait_text("#settings-dialog", "another server", 2).await?;
    error_in_sight(&s, "#settings-dialog").await?;
    s.shot("settings-new-address-refused").await?;
    let url_now = s.js(&acme_url).await?;
    if url_now.as_str().map(|u| u.trim_end_matches('/')) != Some(other.url.trim_end_matches('/')) {
        return Err(format!("a refused move changed the address to {url_now}"));
    }
    if keychain_lookup(env, &account)?.as_deref() != Some(other.key.as_str()) {
        return Err("a refused move changed the key in the keychain".into());
    }
    if credential_calls(&third.sandbox) != 0 {
        return Err("the kept key was sent to the new address".into());
    }
    // With the new server's key: checked there, then saved with the address.
    s.type_into("#set-secret", &third.key).await?;
    s.click("#settings-save").await?;
    s.wait_js("return !document.getElementById('settings-dialog')", 20)
        .await?;
    let url_now = s.js(&acme_url).await?;
    if url_now.as_str().map(|u| u.trim_end_matches('/')) != Some(third.url.trim_end_matches('/')) {
        return Err(format!(
            "the move with the new key left the address at {url_now}"
        ));
    }
    if keychain_lookup(env, &account)?.as_deref() != Some(third.key.as_str()) {
        return Err("the new server's key did not replace the kept one".into());
    }

    // 14. Remove it: gone from the list and from the keychain.
    s.click("#nav-workspaces").await?;
    s.click(&format!("[data-ws='{acme_id}'] [data-action=remove]"))
        .await?;
    s.wait_text("#confirm-dialog", "Acme (sandbox)", 5).await?;
    s.click("#confirm-ok").await?;
    s.wait_js(
        "return document.querySelectorAll('#workspace-select option').length === 1",
        10,
    )
    .await?;
    s.shot("after-remove").await?;
    if keychain_lookup(env, &account)?.is_some() {
        return Err(format!("{account} is still in the keychain after removal"));
    }
    // 15. The leak check over everything both runs wrote and every IPC answer.
    close_and_check_leaks(env, s, driver, &secrets, ipc).await?;
    drop(other);
    drop(third);
    Ok(())
}

/// What a second process finds in the keychain for `account` (the debug build's service).
/// The session tokens the app keeps for its workspaces (read from the keychain, where only they
/// are): the leak check searches for them too, though the test never typed them.
async fn kept_tokens(env: &Env, s: &Session) -> Res<Vec<String>> {
    let ids = s
        .js("return window.__TAURI__.core.invoke('list_workspaces').then(r => r.workspaces.map(w => w.id))")
        .await?;
    let mut out = Vec::new();
    for id in ids
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        for name in ["access_token", "refresh_token"] {
            if let Some(t) = keychain_lookup(env, &format!("{id}/{name}"))? {
                out.push(t);
            }
        }
    }
    if out.is_empty() {
        return Err("no session token in the keychain to search for".into());
    }
    Ok(out)
}

fn keychain_lookup(env: &Env, account: &str) -> Res<Option<String>> {
    let out = std::process::Command::new("secret-tool")
        .args([
            "lookup",
            "service",
            env.keychain_service.as_str(),
            "username",
            account,
        ])
        .output()
        .ctx("running secret-tool")?;
    let v = String::from_utf8_lossy(&out.stdout).trim().to_string();
    Ok((out.status.success() && !v.is_empty()).then_some(v))
}

/// A Supabase-flavor sandbox run by the test itself, with its right key and a wrong one.
struct OtherSandbox {
    url: String,
    key: String,
    wrong_key: String,
    /// Dropping the sandbox stops it: keep it for the flow's lifetime.
    sandbox: invite_sandbox::Sandbox,
}

impl OtherSandbox {
    /// How many emails the sandbox sent to `to`.
    fn mail_to(&self, to: &str) -> usize {
        self.sandbox
            .mail()
            .iter()
            .filter(|m| m.to.eq_ignore_ascii_case(to))
            .count()
    }
}

async fn start_supabase_sandbox() -> Res<OtherSandbox> {
    let sb = invite_sandbox::Sandbox::start(invite_sandbox::Config::new(
        invite_sandbox::Flavor::Supabase,
    ))
    .await
    .map_err(|e| format!("starting a sandbox: {e}"))?;
    let creds = sb.credentials();
    Ok(OtherSandbox {
        url: sb.url(),
        key: creds.service_role_key.clone(),
        wrong_key: creds.anon_key.clone(),
        sandbox: sb,
    })
}

/// A sandbox of `flavor` run by the test itself (dropping it stops it).
async fn sandbox(flavor: invite_sandbox::Flavor) -> Res<invite_sandbox::Sandbox> {
    invite_sandbox::Sandbox::start(invite_sandbox::Config::new(flavor))
        .await
        .map_err(|e| format!("starting a sandbox: {e}"))
}

/// Ends a flow: no page errors, the app closed, then the leak check (issue 6) over every file
/// under HOME and every IPC answer of this run (`ipc` holds those of earlier runs).
async fn close_and_check_leaks(
    env: &Env,
    s: Session,
    driver: Driver,
    secrets: &[String],
    mut ipc: Vec<String>,
) -> Res<()> {
    no_page_errors(&s).await?;
    let last = s.ipc_log().await?;
    if last.is_empty() {
        return Err("the last app session recorded no IPC answer".into());
    }
    ipc.extend(last);
    s.close().await?;
    drop(driver);
    let logs = crate::leak::logs_written(&env.home)?;
    // The wrapper kept the app's output: the check must read it, not miss it.
    for name in ["stdout.log", "stderr.log"] {
        let p = env.home.join("app-output").join(name);
        if !p.is_file() {
            return Err(format!(
                "the app's output was not captured: no {}",
                p.display()
            ));
        }
    }
    let scope = crate::leak::Scope {
        home: env.home.clone(),
        since: env.started,
    };
    let (files, answers) = crate::leak::check(&scope, secrets, &ipc)?;
    println!(
        "    leak check: {files} files ({logs} app logs) and {answers} IPC answers hold no secret"
    );
    Ok(())
}

/// How a flow hands its list to the Invite screen.
enum Entry<'a> {
    /// A CSV chosen with "Choose a file…" (the file is written at this path).
    ChosenFile(&'a Path),
    /// A CSV dropped on the paste box.
    Dropped,
}

/// Invites two addresses to the current workspace from an Excel-style CSV (BOM, semicolons,
/// CRLF), sees them pending, cancels one: the shared middle of the Netlify and Royalti flows.
/// Returns after the cancel is confirmed.
async fn invite_two_cancel_one(
    s: &Session,
    sandbox: &invite_sandbox::Sandbox,
    tag: &str,
    entry: Entry<'_>,
) -> Res<()> {
    let (a, b) = (
        format!("{tag}-ann@example.com"),
        format!("{tag}-bob@example.com"),
    );
    let csv = format!("\u{FEFF}Name;Email\r\nAnn Lee;{a}\r\nBob Roe;{b}\r\n");
    s.click("#nav-invite").await?;
    match entry {
        Entry::ChosenFile(path) => {
            std::fs::write(path, &csv).ctx("writing the CSV")?;
            s.choose_file("#invite-file", path).await?;
        }
        Entry::Dropped => s.drop_file("#drop-zone", "people.csv", &csv).await?,
    }
    s.wait_text("#toast", "2 addresses", 10).await?;
    s.wait_text("#invite-send", "Invite 2 people", 10).await?;
    let pasted = s
        .js("return document.querySelector('#invite-text').value")
        .await?;
    if pasted.as_str() != Some(format!("Ann Lee <{a}>\nBob Roe <{b}>").as_str()) {
        return Err(format!("the CSV became {pasted} in the paste box"));
    }
    s.shot(&format!("{tag}-from-csv")).await?;
    s.click("#invite-send").await?;
    wait_count(s, "#results li[data-state=invited]", 2, 30).await?;
    s.shot(&format!("{tag}-results")).await?;
    let mail = sandbox.mail();
    for to in [&a, &b] {
        let n = mail
            .iter()
            .filter(|m| m.to.eq_ignore_ascii_case(to))
            .count();
        if n != 1 {
            return Err(format!("{to} got {n} emails, expected 1"));
        }
    }
    s.click("#nav-invitations").await?;
    s.click("#inv-refresh").await?;
    wait_count(s, "#inv-table tbody tr[data-status=pending]", 2, 20).await?;
    s.shot(&format!("{tag}-invitations")).await?;
    s.click(&format!("tr[data-email='{b}'] [data-action=cancel]"))
        .await?;
    s.wait_text("#confirm-dialog", &b, 5).await?;
    s.click("#confirm-ok").await?;
    s.wait_text(
        "#inv-status",
        &format!("Cancelled the invitation to {b}"),
        20,
    )
    .await?;
    wait_count(s, "#inv-table tbody tr[data-status=pending]", 1, 20).await?;
    Ok(())
}

/// Issue 7, Netlify: add a Netlify Identity site through the Add flow (a user without the admin
/// role is refused in plain words; the owner gets in), invite two, cancel one. Then the leak check.
pub async fn netlify(env: &Env) -> Res<()> {
    let sandbox = sandbox(invite_sandbox::Flavor::Netlify).await?;
    let c = sandbox.credentials().clone();
    let mut secrets = vec![c.owner_password.clone(), c.member_password.clone()];
    let (driver, s) = open(env, "netlify", &[]).await?;
    s.click("#empty-add").await?;
    s.click("#svc-netlify").await?;
    s.click("#add-next").await?;
    s.wait_visible("#fn-code", 5).await?;
    s.type_into("#ws-name", "Acme site").await?;
    s.type_into("#ws-url", &sandbox.url()).await?;
    s.type_into("#opt-email", &c.member_email).await?;
    s.type_into("#secret-password", &c.member_password).await?;
    s.click("#add-test").await?;
    s.wait_text("#add-answer", "admin", 20).await?;
    s.shot("netlify-member-refused").await?;
    s.type_into("#opt-email", &c.owner_email).await?;
    s.type_into("#secret-password", &c.owner_password).await?;
    s.click("#add-test").await?;
    s.wait_visible("#add-ok", 20).await?;
    s.wait_text("#add-ok", "deprecated", 2).await?;
    s.shot("netlify-connected").await?;
    s.click("#add-save").await?;
    s.wait_js("return !document.getElementById('add-dialog').open", 20)
        .await?;
    invite_two_cancel_one(
        &s,
        &sandbox,
        "nf",
        Entry::ChosenFile(&env.home.join("people.csv")),
    )
    .await?;

    // Settings: an out-of-range value is refused in plain words, a good one is saved.
    s.click("#nav-workspaces").await?;
    s.click("[data-action=settings]").await?;
    s.type_into("#set-concurrency", "99").await?;
    s.click("#settings-save").await?;
    s.wait_text("#settings-dialog", "choose a number from 1 to 16", 10)
        .await?;
    error_in_sight(&s, "#settings-dialog").await?;
    s.shot("netlify-settings-refused").await?;
    s.type_into("#set-concurrency", "2").await?;
    s.click("#settings-save").await?;
    s.wait_text("#toast", "Saved the settings", 10).await?;
    let saved = s
        .js("return window.__TAURI__.core.invoke('list_workspaces').then(r => r.workspaces[0].options.concurrency)")
        .await?;
    if saved != serde_json::json!(2) {
        return Err(format!("concurrency saved as {saved}"));
    }
    // The connection can be corrected after saving, but only to one that works: a function path
    // with nothing deployed is refused with the plain reason, and nothing changes.
    s.click("[data-action=settings]").await?;
    s.type_into("#set-fn", "/.netlify/functions/not-deployed")
        .await?;
    s.click("#settings-save").await?;
    s.wait_text("#settings-dialog", "function is not deployed", 20)
        .await?;
    error_in_sight(&s, "#settings-dialog").await?;
    s.shot("netlify-connection-refused").await?;
    let kept = s
        .js("return window.__TAURI__.core.invoke('list_workspaces').then(r => r.workspaces[0].options.functionPath || null)")
        .await?;
    if !kept.is_null() {
        return Err(format!("a refused function path was saved: {kept}"));
    }
    s.type_into("#set-fn", "/.netlify/functions/invite-desk")
        .await?;
    s.click("#settings-save").await?;
    s.wait_js("return !document.getElementById('settings-dialog')", 20)
        .await?;

    // A known email limit: 3 an hour, two already sent. One more goes, the next one waits and
    // says why; after a restart the owner sees it resuming.
    s.click("[data-action=settings]").await?;
    s.type_into("#set-emails", "3").await?;
    s.click("#settings-save").await?;
    s.wait_js("return !document.getElementById('settings-dialog')", 20)
        .await?;
    s.click("#nav-invite").await?;
    s.type_into("#invite-text", "nf-cat@example.com\nnf-dan@example.com")
        .await?;
    s.wait_text("#invite-send", "Invite 2 people", 10).await?;
    s.click("#invite-send").await?;
    wait_count(&s, "#results li[data-state=invited]", 1, 30).await?;
    wait_count(&s, "#results li[data-state=waiting]", 1, 10).await?;
    s.wait_text(
        "#results",
        "Waiting for the server’s email limit — next try",
        5,
    )
    .await?;
    s.shot("nf-email-limit-waiting").await?;
    let sent: usize = ["nf-cat@example.com", "nf-dan@example.com"]
        .iter()
        .map(|to| sandbox.mail().iter().filter(|m| m.to == *to).count())
        .sum();
    if sent != 1 {
        return Err(format!("{sent} emails went out past a limit of 3 an hour"));
    }
    secrets.extend(kept_tokens(env, &s).await?);
    let mut ipc = s.ipc_log().await?;
    s.close().await?;
    drop(driver);
    let (driver, s) = reopen(env, "netlify").await?;
    s.wait_text("#banners", "Resuming 1 invitation for Acme site", 15)
        .await?;
    s.shot("nf-resuming-after-restart").await?;
    ipc.extend(s.ipc_log().await?);
    close_and_check_leaks(env, s, driver, &secrets, ipc).await
}

/// Issue 7, Royalti: sign in once, see three workspaces (the one where the owner is a plain
/// user greyed out with the reason), add two, invite two to the current one, cancel one.
pub async fn royalti(env: &Env) -> Res<()> {
    let sandbox = sandbox(invite_sandbox::Flavor::Royalti).await?;
    let c = sandbox.credentials().clone();
    let mut secrets = vec![c.owner_password.clone(), c.api_key.clone()];
    let (driver, s) = open(env, "royalti", &[]).await?;
    s.click("#empty-add").await?;
    s.click("#svc-royalti").await?;
    s.click("#add-next").await?;
    s.type_into("#opt-email", &c.owner_email).await?;
    s.type_into("#secret-password", "not-the-password-123")
        .await?;
    s.click("#add-form details summary").await?; // "More options" holds the server address
    s.type_into("#ws-url", &sandbox.url()).await?;
    s.click("#add-test").await?;
    s.wait_js(
        "const b = document.querySelector('#add-answer .error-box[data-kind=invalid_input]'); \
         return b !== null && /email (and|or) password/.test(b.textContent)",
        20,
    )
    .await?;
    s.shot("royalti-wrong-password").await?;
    s.type_into("#secret-password", &c.owner_password).await?;
    s.click("#add-test").await?;
    s.wait_visible("#royalti-pick", 20).await?;
    wait_count(&s, "#royalti-pick .remote-list li", 3, 5).await?;
    wait_count(&s, "#royalti-pick input:disabled", 1, 2).await?;
    s.wait_text("#royalti-pick", "only owners and admins can invite", 2)
        .await?;
    s.js("for (const i of document.querySelectorAll('#royalti-pick .remote-list input:not(:disabled)')) i.checked = true")
        .await?;
    s.shot("royalti-pick").await?;
    s.click("#royalti-add").await?;
    s.wait_js("return !document.getElementById('add-dialog').open", 20)
        .await?;
    s.wait_js(
        "return document.querySelectorAll('#workspace-select option').length === 2",
        10,
    )
    .await?;
    invite_two_cancel_one(&s, &sandbox, "ry", Entry::Dropped).await?;

    // Stop, then Retry: with the queue paused the batch waits, Stop keeps it from being sent,
    // Retry brings it back (still held), and Resume on the results sends it, once.
    s.js("return window.__TAURI__.core.invoke('list_workspaces').then(r => window.__TAURI__.core.invoke('pause_workspace', { workspaceId: r.currentId }))")
        .await?;
    s.click("#nav-invite").await?;
    s.type_into("#invite-text", "ry-stop@example.com").await?;
    s.wait_text("#invite-send", "Invite 1 person", 10).await?;
    s.click("#invite-send").await?;
    wait_count(&s, "#results li[data-state=paused]", 1, 20).await?;
    s.click("#invite-stop").await?;
    wait_count(&s, "#results li[data-state=cancelled]", 1, 20).await?;
    s.wait_text("#results", "Stopped: not sent", 5).await?;
    s.shot("ry-stopped").await?;
    s.click("#results li[data-state=cancelled] [data-action=retry]")
        .await?;
    wait_count(&s, "#results li[data-state=paused]", 1, 20).await?;
    s.click("#results li[data-state=paused] [data-action=resume]")
        .await?;
    wait_count(&s, "#results li[data-state=invited]", 1, 30).await?;
    let sent = sandbox
        .mail()
        .iter()
        .filter(|m| m.to == "ry-stop@example.com")
        .count();
    if sent != 1 {
        return Err(format!(
            "the stopped, retried, resumed invitation was sent {sent} times"
        ));
    }
    s.shot("ry-retried-sent").await?;
    secrets.extend(kept_tokens(env, &s).await?);
    close_and_check_leaks(env, s, driver, &secrets, Vec::new()).await
}

// ------------------------------------------------------------------------------------------------
// Desktop manners

/// Reads the X clipboard as another program would (xclip, under the test's Xvfb).
fn read_clipboard() -> Res<String> {
    let out = std::process::Command::new("xclip")
        .args(["-o", "-selection", "clipboard"])
        .output()
        .ctx("running xclip (scripts/install-deps.sh installs it)")?;
    if !out.status.success() {
        return Err(format!(
            "xclip could not read the clipboard: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The window's outer size as the page sees it.
async fn window_size(s: &Session) -> Res<(u64, u64)> {
    let v = s
        .js("return [window.outerWidth, window.outerHeight]")
        .await?;
    Ok((
        v[0].as_u64().unwrap_or_default(),
        v[1].as_u64().unwrap_or_default(),
    ))
}

/// The app behaves like a desktop app: its size is remembered across a restart, a second launch
/// hands over to the running window and exits, "Copy link" puts a working link on the system
/// clipboard, an export goes through the Save dialog (answered by the debug-build seam, as a
/// native dialog can't be driven through WebDriver) and "Show in folder" asks the desktop's file
/// manager to reveal the file, a UTF-16 "Unicode Text" file imports with its accents, and an
/// error's next step speaks of the workspace's own service.
pub async fn desktop(env: &Env) -> Res<()> {
    let revealed = crate::filemanager::serve()?;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .ctx("http client")?;
    let (driver, s) = open(env, "desktop", &[]).await?;
    let data = env.home.join("invite-desk-e2e").join("desktop");

    // 1. Size remembered: resize, and the saved state follows without waiting for an exit.
    s.client
        .set_window_size(900, 640)
        .await
        .ctx("resizing the window")?;
    let state_file = data.join("window-state.json");
    let mut saved = Value::Null;
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        if let Ok(text) = std::fs::read_to_string(&state_file) {
            saved = serde_json::from_str(&text).unwrap_or(Value::Null);
            if saved["main"]["width"].as_u64() == Some(900) {
                break;
            }
        }
    }
    if saved["main"]["width"].as_u64() != Some(900) || saved["main"]["height"].as_u64() != Some(640)
    {
        return Err(format!(
            "after resizing to 900×640 the window state file holds {saved}"
        ));
    }
    let before = window_size(&s).await?;
    s.close().await?;
    drop(driver);
    let (driver, s) = reopen(env, "desktop").await?;
    let after = window_size(&s).await?;
    s.shot("desktop-size-remembered").await?;
    if after != before || after.0 == 1100 {
        return Err(format!(
            "the window was {before:?} before the restart and {after:?} after"
        ));
    }

    // 2. A second launch on the same session hands over and exits; the first window is brought
    // to the front and keeps working.
    let mut second = std::process::Command::new(&env.app)
        .env("INVITE_DESK_DATA_DIR", &data)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ctx("starting a second copy")?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let status = loop {
        if let Some(st) = second.try_wait().ctx("waiting for the second copy")? {
            break st;
        }
        if std::time::Instant::now() > deadline {
            let _ = second.kill();
            let _ = second.wait();
            return Err("a second launch was still running after 20 s (two copies open)".into());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    if !status.success() {
        return Err(format!("the second launch ended with {status}"));
    }
    let logs = data.join("logs");
    let mut handed_over = false;
    for _ in 0..50 {
        let text: String = std::fs::read_dir(&logs)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| std::fs::read_to_string(e.path()).ok())
            .collect();
        if text.contains("second launch: bringing the window to the front") {
            handed_over = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    if !handed_over {
        return Err("the running copy never heard of the second launch".into());
    }
    s.wait_js(
        "return document.hasFocus() && document.visibilityState === 'visible'",
        5,
    )
    .await
    .map_err(|e| format!("the window is not in front after a second launch: {e}"))?;

    // 3. Copy link: Rust fetches the link and writes the clipboard; another program reads it
    // and the server accepts it.
    s.wait_visible("#view-empty", 5).await?;
    s.click("#empty-demo").await?;
    s.wait_visible("#invite-title", 20).await?;
    // At 900 px the header keeps the workspace picker whole, inside the window.
    s.wait_visible("#workspace-select", 5).await?;
    let fits = s
        .js("const h = document.querySelector('.app-header'); const p = document.getElementById('workspace-select').getBoundingClientRect(); \
             const tabs = [...document.querySelectorAll('.nav-tab')].map(t => t.getBoundingClientRect()); \
             return [window.innerWidth, h.scrollWidth <= h.clientWidth, p.left >= 0 && p.right <= window.innerWidth && p.width >= 120, \
                     tabs.every(t => t.right <= p.left || t.top >= p.bottom || t.bottom <= p.top)]")
        .await?;
    s.shot("desktop-header-900").await?;
    if fits[0].as_u64().is_none_or(|w| w > 900)
        || fits[1] != true
        || fits[2] != true
        || fits[3] != true
    {
        return Err(format!(
            "at 900 px the header clips or overlaps the workspace picker: [width, no overflow, picker inside, tabs clear] = {fits}"
        ));
    }
    s.type_into("#invite-text", "lin@example.com").await?;
    s.wait_text("#invite-send", "Invite 1 person", 10).await?;
    s.click("#invite-send").await?;
    wait_count(&s, "#results li[data-state=invited]", 1, 30).await?;
    s.click("#nav-invitations").await?;
    s.wait_visible("tr[data-email='lin@example.com'] [data-action=link]", 15)
        .await?;
    s.click("tr[data-email='lin@example.com'] [data-action=link]")
        .await?;
    s.wait_text("#toast", "Link for lin@example.com copied", 15)
        .await?;
    let link = read_clipboard()?;
    if !link.starts_with("http") || !link.contains("/verify?token=") {
        return Err(format!(
            "the clipboard holds {link:?}, not an invitation link"
        ));
    }
    let answer = http
        .get(link.trim())
        .send()
        .await
        .ctx("opening the copied link")?;
    let location = answer
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    if !location.contains("access_token=") {
        return Err(format!(
            "the copied link was refused: {} → {location}",
            answer.status()
        ));
    }

    // 4. Export through the Save dialog: a dated name, UTF-8 with a BOM, and "Show in folder"
    // asks the file manager for exactly that file.
    s.click("#nav-history").await?;
    s.wait_js(
        "return document.querySelectorAll('#hist-table tbody tr').length > 0",
        15,
    )
    .await?;
    s.click("#hist-export").await?;
    s.wait_visible("#toast .toast-action", 10).await?;
    s.shot("desktop-export-toast").await?;
    let shown = s.wait_text("#hist-status", "Saved ", 10).await?;
    let path = std::path::PathBuf::from(shown.trim().trim_start_matches("Saved ").trim());
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !name.starts_with("invite-desk-history-20") || !name.ends_with(".csv") {
        return Err(format!("the Save dialog suggested {name:?}"));
    }
    let bytes = std::fs::read(&path).ctx("reading the export")?;
    if !bytes.starts_with(&[0xEF, 0xBB, 0xBF])
        || !String::from_utf8_lossy(&bytes).contains("lin@example.com")
    {
        return Err(format!(
            "the export is not UTF-8 with a BOM holding lin: {:?}",
            String::from_utf8_lossy(&bytes[..bytes.len().min(80)])
        ));
    }
    s.click("#toast .toast-action").await?;
    revealed
        .wait_for(&format!("file://{}", path.display()), 10)
        .await?;

    // 5. Excel's "Unicode Text" (UTF-16 LE, tabs) imports with its accents.
    s.click("#nav-invite").await?;
    s.wait_visible("#invite-title", 10).await?;
    let fixture = crate::root().join("crates/invite-core/tests/fixtures/encodings/utf16le-bom.txt");
    s.choose_file("#invite-file", &fixture).await?;
    s.wait_text("#toast", "4 addresses", 10).await?;
    s.wait_js(
        "return document.getElementById('invite-text').value.includes('Renée O’Brien <renee@example.com>')",
        5,
    )
    .await?;
    s.shot("desktop-utf16-import").await?;

    // 6. The next step under an error speaks of the workspace's service.
    let hints = s
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             import('./js/errors.js').then(m => done([
               m.explain({kind: 'not_admin', message: 'x'}, 'netlify').next,
               m.explain({kind: 'not_admin', message: 'x'}, 'supabase').next,
               m.explain({kind: 'not_admin', message: 'x'}, 'royalti').next,
             ])).catch(e => done(['failed: ' + e]));",
            vec![],
        )
        .await
        .ctx("loading errors.js")?;
    let hint = |i: usize| hints[i].as_str().unwrap_or_default().to_string();
    if hint(0).contains("Supabase")
        || hint(0).contains("service_role")
        || !hint(0).contains("Identity")
        || !hint(1).contains("service_role")
        || hint(2).contains("service_role")
    {
        return Err(format!("the next steps per service are {hints}"));
    }
    no_page_errors(&s).await?;
    s.close().await?;
    drop(driver);
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Benchmark (not in the default run): a links batch driven through the window

/// PSS in KiB of the app's processes (the app and every process under it: WebKit's).
fn app_pss_kib(app: &Path) -> u64 {
    let procs: Vec<(u32, u32)> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let after = stat.rsplit_once(')')?.1;
            let ppid = after.split_whitespace().nth(1)?.parse().ok()?;
            Some((pid, ppid))
        })
        .collect();
    let roots: Vec<u32> = procs
        .iter()
        .filter(|(pid, _)| {
            std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|exe| exe == app)
        })
        .map(|(pid, _)| *pid)
        .collect();
    let mut tree = roots.clone();
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        tree.extend(
            procs
                .iter()
                .filter(|(_, pp)| *pp == parent)
                .map(|(p, _)| *p),
        );
        i += 1;
    }
    tree.iter()
        .filter_map(|pid| std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok())
        .filter_map(|s| {
            s.lines()
                .find(|l| l.starts_with("Pss:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .sum()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// 2,000 addresses as links on the demo workspace, through the window: wall time, the page's
/// answer time to a trivial script during the batch (median, p95), and memory at the end
/// against idle. `BENCH_INVITES` changes the count.
pub async fn bench_links(env: &Env) -> Res<()> {
    let n: usize = std::env::var("BENCH_INVITES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let (driver, s) = open(env, "bench-links", &[]).await?;
    s.wait_visible("#view-empty", 5).await?;
    s.click("#empty-demo").await?;
    s.wait_visible("#invite-title", 20).await?;
    s.wait_visible("#delivery-link", 10).await?;
    s.click("#delivery-link").await?;
    let list: String = (0..n).map(|i| format!("person{i}@example.com\n")).collect();
    set_value(&s, "invite-text", &list).await?;
    s.wait_text("#invite-send", &format!("Invite {n} people"), 30)
        .await?;
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let idle = app_pss_kib(&env.binary);
    let started = std::time::Instant::now();
    s.click("#invite-send").await?;
    let done_text = format!("{n} of {n} done");
    let mut lags = Vec::new();
    loop {
        let t = std::time::Instant::now();
        let counts = s
            .js("return document.getElementById('progress-counts')?.textContent || ''")
            .await?;
        lags.push(t.elapsed().as_secs_f64() * 1000.0);
        if counts.as_str().is_some_and(|c| c.contains(&done_text)) {
            break;
        }
        if started.elapsed() > std::time::Duration::from_secs(900) {
            return Err(format!("the batch did not finish in 15 min: {counts}"));
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let wall = started.elapsed();
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let end = app_pss_kib(&env.binary);
    s.shot("bench-links-done").await?;
    lags.sort_by(|a, b| a.total_cmp(b));
    println!(
        "links batch through the window: {n} addresses in {:.2} s ({:.0}/s)",
        wall.as_secs_f64(),
        n as f64 / wall.as_secs_f64()
    );
    println!(
        "  page lag (trivial script round trip, {} samples): median {:.1} ms, p95 {:.1} ms (target p95 < 50 ms)",
        lags.len(),
        percentile(&lags, 0.5),
        percentile(&lags, 0.95)
    );
    println!(
        "  memory (PSS, app + WebKit): idle {:.1} MiB, at the end {:.1} MiB, growth {:.1} MiB (target < 40 MiB)",
        idle as f64 / 1024.0,
        end as f64 / 1024.0,
        (end as f64 - idle as f64) / 1024.0
    );
    s.close().await?;
    drop(driver);
    Ok(())
}
