//! Real back ends through the window: a Netlify site and a Royalti workspace.

use super::*;

/// What a second process finds in the keychain for `account` (the debug build's service).
/// The session tokens the app keeps for its workspaces (read from the keychain, where only they
/// are): the leak check searches for them too, though the test never typed them.
pub(super) async fn kept_tokens(env: &Env, s: &Session) -> Res<Vec<String>> {
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

pub(super) fn keychain_lookup(env: &Env, account: &str) -> Res<Option<String>> {
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
pub(super) struct OtherSandbox {
    pub(super) url: String,
    pub(super) key: String,
    pub(super) wrong_key: String,
    /// Dropping the sandbox stops it: keep it for the flow's lifetime.
    pub(super) sandbox: invite_sandbox::Sandbox,
}

impl OtherSandbox {
    /// How many emails the sandbox sent to `to`.
    pub(super) fn mail_to(&self, to: &str) -> usize {
        self.sandbox
            .mail()
            .iter()
            .filter(|m| m.to.eq_ignore_ascii_case(to))
            .count()
    }
}

pub(super) async fn start_supabase_sandbox() -> Res<OtherSandbox> {
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
pub(super) async fn sandbox(flavor: invite_sandbox::Flavor) -> Res<invite_sandbox::Sandbox> {
    invite_sandbox::Sandbox::start(invite_sandbox::Config::new(flavor))
        .await
        .map_err(|e| format!("starting a sandbox: {e}"))
}

/// Ends a flow: no page errors, the app closed, then the leak check (issue 6) over every file
/// under HOME and every IPC answer of this run (`ipc` holds those of earlier runs).
pub(super) async fn close_and_check_leaks(
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
pub(super) enum Entry<'a> {
    /// A CSV chosen with "Choose a file…" (the file is written at this path).
    ChosenFile(&'a Path),
    /// A CSV dropped on the paste box.
    Dropped,
}

/// Invites two addresses to the current workspace from an Excel-style CSV (BOM, semicolons,
/// CRLF), sees them pending, cancels one: the shared middle of the Netlify and Royalti flows.
/// Returns after the cancel is confirmed.
pub(super) async fn invite_two_cancel_one(
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
    // The toast says the click reached the button (a click beside it reports success too).
    s.click_confirmed("#invite-stop", "Stopped").await?;
    wait_count(&s, "#results li[data-state=cancelled]", 1, 20).await?;
    s.wait_text("#results", "Stopped: not sent", 5).await?;
    // Stop brings the results into view: the stopped row, not the form above it.
    s.wait_js(
        "const h = document.getElementById('results-title').getBoundingClientRect();
         const top = document.querySelector('header').getBoundingClientRect().bottom;
         const row = document.querySelector('#results li[data-state=cancelled]').getBoundingClientRect();
         return h.top >= top - 1 && row.bottom <= window.innerHeight",
        5,
    )
    .await?;
    s.shot("ry-stopped").await?;
    s.click_confirmed(
        "#results li[data-state=cancelled] [data-action=retry]",
        "back in the queue",
    )
    .await?;
    wait_count(&s, "#results li[data-state=paused]", 1, 20).await?;
    s.click_confirmed(
        "#results li[data-state=paused] [data-action=resume]",
        "Resumed",
    )
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
