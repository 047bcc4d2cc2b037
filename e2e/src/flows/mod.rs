//! The flows: what an owner does, step by step, with a screenshot of each step.

use std::path::Path;

use fantoccini::Locator;
use serde_json::Value;

use crate::driver::{Ctx, Driver, Res, Session};
use crate::Env;

mod backends;
mod bench;
mod demo;
mod desktop;
mod start;

use backends::*;
pub use backends::{netlify, royalti};
pub use bench::bench_links;
pub use demo::demo;
pub use desktop::desktop;
pub use start::{dark, first_screen, no_keychain};

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

/// Starts the app again on the data folder an earlier `open` made (a restart), once the copy
/// before it has gone: a copy still closing holds the single-instance lock, and the new one would
/// first try to hand over to it (the app copes, src-tauri/desktop.rs; the `desktop` flow tests
/// that on purpose).
async fn reopen(env: &Env, name: &str) -> Res<(Driver, Session)> {
    wait_app_gone(env, 15).await?;
    let data = env.home.join("invite-desk-e2e").join(name);
    let vars = vec![
        ("INVITE_DESK_DATA_DIR", data.to_string_lossy().into_owned()),
        ("INVITE_DESK_RECORD_IPC", "1".to_string()),
    ];
    let driver = Driver::start(&vars)?;
    let session = driver.session(&env.app, &env.shots).await?;
    Ok((driver, session))
}

/// Waits until no process runs the app binary under test.
async fn wait_app_gone(env: &Env, secs: u64) -> Res<()> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        let pids = app_tree(&env.binary);
        if pids.is_empty() {
            return Ok(());
        }
        if std::time::Instant::now() > deadline {
            return Err(format!(
                "the app was still running {secs} s after its window was closed (pids {pids:?})"
            ));
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// The app's processes: every process running `app`, and every process under them (WebKit's).
pub(super) fn app_tree(app: &Path) -> Vec<u32> {
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
    let mut tree: Vec<u32> = procs
        .iter()
        .filter(|(pid, _)| {
            std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|exe| exe == app)
        })
        .map(|(pid, _)| *pid)
        .collect();
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
    tree
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
    match s.wait_js(&script, secs).await {
        Ok(_) => Ok(()),
        Err(e) => {
            // What the results list shows instead says which step went wrong.
            let rows = s
                .js("const r = document.getElementById('results'); return r ? [...r.querySelectorAll('li')]
                       .map(li => li.innerText.replace(/\\s+/g, ' ').trim()).join(' | ') : ''")
                .await
                .unwrap_or_default();
            let rows = rows.as_str().unwrap_or_default();
            let seen = s
                .js("const t = document.getElementById('toast'); \
                     const boxes = [...document.querySelectorAll('#results-card .error-box')].map(b => b.innerText); \
                     return `toast: ${t ? t.textContent : ''}; error boxes: [${boxes.join(' | ')}]; \
                       page errors: [${(window.__inviteDeskErrors || []).join(' | ')}]`")
                .await
                .unwrap_or_default();
            let _ = s.shot("failure").await;
            Err(format!(
                "expected {n} × {css}: {e}; the results list shows: [{rows}]; {}",
                seen.as_str().unwrap_or_default()
            ))
        }
    }
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
